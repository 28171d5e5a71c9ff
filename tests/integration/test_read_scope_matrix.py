"""Who sees what, asked everywhere: every API list and detail and every portal page that lists or shows notices and
cases, as every role of two sibling units and of their parent, agree with one expectation (shared/scope.py).

The services run in this process on the real MongoDB-protocol server with a small unit tree; the portal's model is
fed the very events the three stores hold, and its pages are asked through the Flask test client.
"""
from __future__ import annotations

import csv
import io
import itertools
from datetime import date

import pytest

from shared import web
from shared.auth import Role, issue_token
from shared.bus import CommandContext
from shared.clock import FixedClock
from shared.contracts import NoticeIssued
from shared.envelope import Actor
from shared.scope import UnitTree
from shared.web import create_service_app
from services.followups.bootstrap import bootstrap as bootstrap_followups
from services.followups.entrypoints.api import blp as followups_api
from services.followups.reactions import commands_for_notice_issued
from services.notices.bootstrap import bootstrap as bootstrap_notices
from services.notices.entrypoints.api import blp as notices_api
from services.portal.context import bootstrap as bootstrap_portal
from services.portal.domain.model import PortalModel
from services.portal.domain.queries import Period, Viewer, dashboard, statistics
from services.portal.entrypoints.api import COOKIE
from services.portal.entrypoints.api import create_app as create_portal_app
from services.tasks.bootstrap import bootstrap as bootstrap_tasks
from services.tasks.entrypoints.api import plans as plans_api
from services.tasks.entrypoints.api import tasks as tasks_api

TODAY = date(2020, 9, 30)
OFFICE, PARENT, BAZHOU, ENYANG = "巴中市教育督导室", "巴中市教育局", "巴州区教育局", "恩阳区教育局"
TREE = UnitTree({OFFICE: None, PARENT: None, BAZHOU: PARENT, ENYANG: PARENT})
UNITS_UNDER = {PARENT: {PARENT, BAZHOU, ENYANG}, BAZHOU: {BAZHOU}, ENYANG: {ENYANG}}

# name -> (target units, 抄送 units, the responsible unit of each problem)
NOTICES = {
    "bazhou": ([BAZHOU], [], [BAZHOU]),
    "enyang": ([ENYANG], [], [ENYANG]),
    "both": ([BAZHOU, ENYANG], [], [BAZHOU, ENYANG]),  # the leak: one notice, each sibling its own problem
    "parent": ([PARENT], [], [PARENT]),
    "copied": ([ENYANG], [BAZHOU], [ENYANG]),  # 抄送 巴州区: not visible to it by that
    "for_a_child": ([PARENT], [], [BAZHOU]),  # 巴州区 is responsible for the problem, the notice went to its parent
}
# name -> (lead unit, partner units)
TASKS = {"bazhou": (BAZHOU, []), "enyang_with_bazhou": (ENYANG, [BAZHOU]), "parent": (PARENT, []),
         "enyang": (ENYANG, []), "nobody": (None, [])}

CALLERS = ([(role, unit) for unit in (BAZHOU, ENYANG, PARENT) for role in Role.ALL]
           + [(Role.OFFICE_STAFF, OFFICE), (Role.INSPECTOR, OFFICE), (Role.AUDITOR, None)])


def expected_units(role: str, unit: str | None) -> set[str] | None:
    """What the issue asks for, written out (None: everything); the code's rule is not consulted."""
    if role == Role.ADMIN:
        return None
    if role in (Role.UNIT_HANDLER, Role.DEPARTMENT_LIAISON):
        return {unit}
    if role == Role.UNIT_LEADER:
        return UNITS_UNDER[unit]
    # office staff, inspectors, auditors: a root unit (the city office, the parent bureau) or none sees everything
    return None if unit in (None, OFFICE, PARENT) else UNITS_UNDER[unit]


@pytest.fixture(scope="module")
def world(infra, session_prefix):
    from tests.conftest import Settings

    prefix = f"{session_prefix}_scope"
    settings = Settings(mongo_url=infra.mongo_url, kafka_bootstrap=infra.kafka_bootstrap, db_prefix=prefix,
                        topic_prefix=prefix, portal_users_file=None, policy_file=None)
    clock = FixedClock(TODAY)
    contexts = {name: bootstrap(settings, clock=clock, unit_tree=lambda: TREE) for name, bootstrap in
                (("tasks", bootstrap_tasks), ("notices", bootstrap_notices), ("followups", bootstrap_followups))}
    blueprints = {"tasks": [plans_api, tasks_api], "notices": [notices_api], "followups": [followups_api]}
    clients = {name: create_service_app(lambda c=ctx: c, name, blueprints[name]).test_client()
               for name, ctx in contexts.items()}
    office = {"Authorization": f"Bearer {issue_token(settings.jwt_secret, 'boss', Role.OFFICE_STAFF, OFFICE)}"}

    notices, cases = {}, {}  # name -> id; case id -> responsible unit
    for name, (targets, copied, responsible) in NOTICES.items():
        body = {"kind": "督办通知", "title": f"通知{name}", "issuer_unit": OFFICE, "target_units": targets,
                "copied_units": copied, "problems": [{"description": f"问题{name}{n}", "responsible_unit": unit,
                                                      "deadline": "2020-12-31"} for n, unit in enumerate(responsible)]}
        answer = clients["notices"].post("/notices", json=body, headers=office)
        assert answer.status_code == 201, answer.get_json()
        notice_id = notices[name] = answer.get_json()["id"]
        issued = contexts["notices"].store.read_stream(notice_id)[0]
        for command in commands_for_notice_issued(NoticeIssued.from_data(issued.data)):
            contexts["followups"].bus.handle(command, CommandContext.caused_by(issued, Actor.system("test")))
        cases.update({f"{notice_id}:P{n}": unit for n, unit in enumerate(responsible, start=1)})
    plan = clients["tasks"].post("/plans", headers=office, json={"title": "要点", "tasks": [
        {"number": str(n), "text": name, **({"lead_unit": lead} if lead else {}), "partner_units": partners}
        for n, (name, (lead, partners)) in enumerate(TASKS.items(), start=1)]})
    assert plan.status_code == 201, plan.get_json()
    tasks = dict(zip(TASKS, plan.get_json()["task_ids"], strict=True))

    model = PortalModel()  # fed the same events the topics would carry
    for name in ("tasks", "notices", "followups"):
        for event in contexts[name].store.read_all():
            model.apply(name, event)
    portal = bootstrap_portal(settings, clock=clock, start_feed=False, unit_tree=lambda: TREE)
    portal.model = model
    portal_app = create_portal_app(portal)
    return settings, clients, portal_app, notices, cases, tasks


def visible(units: set[str] | None, *item_units: str | None) -> bool:
    return units is None or any(unit in units for unit in item_units)


@pytest.mark.parametrize("max_unit_queries", [web.MAX_UNIT_QUERIES, 1], ids=["per-unit queries", "kept after fetching"])
def test_every_api_and_every_portal_page_shows_each_caller_exactly_what_the_rule_allows(world, monkeypatch,
                                                                                         max_unit_queries):
    monkeypatch.setattr(web, "MAX_UNIT_QUERIES", max_unit_queries)  # both ways of listing a scope of several units
    settings, clients, portal_app, notices, cases, tasks = world
    for (role, unit), n in zip(CALLERS, itertools.count()):
        units = expected_units(role, unit)
        who = f"{role}@{unit}"
        see_notices = {notice_id for name, notice_id in notices.items() if visible(units, *NOTICES[name][0])}
        see_cases = {case_id for case_id, responsible in cases.items() if visible(units, responsible)}
        see_tasks = {task_id for name, task_id in tasks.items() if visible(units, TASKS[name][0], *TASKS[name][1])}
        token = issue_token(settings.jwt_secret, f"user{n}", role, unit)
        assert_apis_agree(clients, token, who, notices, cases, tasks, see_notices, see_cases, see_tasks)
        assert_portal_agrees(portal_app, token, who, role, unit, notices, cases, see_notices, see_cases)


def assert_apis_agree(clients, token, who, notices, cases, tasks, see_notices, see_cases, see_tasks):
    headers = {"Authorization": f"Bearer {token}"}

    def ids(service: str, path: str) -> set[str]:
        answer = clients[service].get(path, headers=headers)
        assert answer.status_code == 200, (who, path, answer.get_json())
        return {row["id"] for row in answer.get_json()}

    assert ids("notices", "/notices?page_size=100") == see_notices, who
    assert ids("followups", "/cases?page_size=100") == see_cases, who
    assert ids("tasks", "/tasks?page_size=100") == see_tasks, who
    for unit in (BAZHOU, ENYANG, PARENT):  # a unit asked for: what of it is visible, nothing else
        assert ids("followups", f"/cases?page_size=100&unit={unit}") == {c for c in see_cases if cases[c] == unit}, who
        assert ids("notices", f"/notices?page_size=100&unit={unit}") == {
            n for name, n in notices.items() if n in see_notices and unit in NOTICES[name][0]}, who
    # the multi-page walk: page by page, the same rows, each once
    paged = [row["id"] for page in (1, 2, 3, 4) for row in clients["followups"].get(
        f"/cases?page_size=2&page={page}", headers=headers).get_json()]
    assert sorted(paged) == sorted(see_cases), who
    for service, path, items, seen in (("notices", "/notices", notices.values(), see_notices),
                                       ("followups", "/cases", cases, see_cases), ("tasks", "/tasks", tasks.values(), see_tasks)):
        for item in items:
            status = clients[service].get(f"{path}/{item}", headers=headers).status_code
            assert status == (200 if item in seen else 403), (who, path, item, status)
    for case_id in cases:  # 佐证材料 of a case: a file it does not hold is a 404 to whoever sees the case
        for files_path in ("files/" + "0" * 64, "files/" + "0" * 64 + "/thumbnail"):
            status = clients["followups"].get(f"/cases/{case_id}/{files_path}", headers=headers).status_code
            assert status == (404 if case_id in see_cases else 403), (who, case_id, files_path, status)


def assert_portal_agrees(portal_app, token, who, role, unit, notices, cases, see_notices, see_cases):
    client = portal_app.test_client()
    client.set_cookie(COOKIE, token)

    def page(path: str, status: int = 200) -> str:
        answer = client.get(path)
        assert answer.status_code == status, (who, path, answer.status_code)
        return answer.get_data(as_text=True)

    listed = page("/notices")
    assert {n for n in notices.values() if f"/notices/{n}\"" in listed} == see_notices, who
    for notice_id in notices.values():
        shown = notice_id in see_notices
        page(f"/notices/{notice_id}", 200 if shown else 403)
        timeline = page(f"/notices/{notice_id}/timeline?format=csv", 200 if shown else 403)
        document = client.get(f"/notices/{notice_id}/document.docx")  # 督办通知书 (.docx)
        assert document.status_code == (200 if shown else 403), (who, notice_id, document.status_code)
        if shown:  # the notice's story without the cases of units this caller does not see
            subjects = {row[3] for row in list(csv.reader(io.StringIO(timeline.lstrip("\ufeff"))))[1:]}
            assert subjects - {"督办通知"} == {f"问题{c.rsplit(':', 1)[1]}" for c in see_cases
                                           if c.startswith(f"{notice_id}:")}, (who, notice_id, subjects)
    for case_id in cases:
        page(f"/cases/{case_id}", 200 if case_id in see_cases else 403)
        report = client.get(f"/cases/{case_id}/report.docx")  # 整改情况报告 (.docx)
        assert report.status_code == (200 if case_id in see_cases else 403), (who, case_id, report.status_code)
        for files_path in ("files/" + "0" * 64, "files/" + "0" * 64 + "/thumbnail"):  # 佐证材料: a file it does not hold
            page(f"/cases/{case_id}/{files_path}", 404 if case_id in see_cases else 403)
    problems = {f"问题{name}{n}": f"{notices[name]}:P{n + 1}" for name, (_, _, responsible) in NOTICES.items()
                for n, _ in enumerate(responsible)}
    ledger = page("/ledger")
    assert {case for text, case in problems.items() if text in ledger} == see_cases, who
    exported = list(csv.reader(io.StringIO(page("/ledger?format=csv").lstrip("\ufeff"))))
    header = exported[0]
    assert {problems[row[header.index("问题")]] for row in exported[1:]} == see_cases, who
    # figures: the dashboard, the status table and the statistics count exactly the visible items
    viewer = Viewer(f"user-{who}", role, unit, tree=TREE)
    portal = portal_app.config["PORTAL"]
    figures = dashboard(portal.model, viewer, Period(), portal.light_rule())
    assert (figures["notices_issued"], figures["matters"]) == (len(see_notices), len(see_cases)), who
    assert sum(row["open"] for row in figures["by_unit"]) == len(see_cases), who
    assert statistics(portal.model, viewer, Period())["figures"]["problems"] == len(see_cases), who
    hidden_units = {BAZHOU, ENYANG, PARENT} - {cases[c] for c in see_cases} - {unit}
    for path in ("/", "/status?by=unit", "/statistics", "/evaluation", "/status/chart.svg?by=unit",
                 "/statistics/chart/on_time.svg", "/evaluation/chart.svg"):
        html = page(path)
        assert not [u for u in hidden_units if u in html], (who, path)
    assert f"下发督办通知及工作提示函共{len(see_notices)}份" in page("/statistics"), who
    assert f"{len(see_cases)}个问题" in page("/statistics"), who
