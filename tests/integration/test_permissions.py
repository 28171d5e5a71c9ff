"""Each role against each command, in and out of its unit's scope, on the real MongoDB-protocol server.

A refused command is a 403 and stores nothing; an allowed one is never a 403 (it may still be a 409 or
422 when the state or the body does not fit, which is not what this test is about).
"""
from __future__ import annotations

import itertools
import json
from datetime import date

import pytest

from shared.auth import Role, issue_token
from shared.bus import CommandContext
from shared.clock import FixedClock
from shared.contracts import NoticeIssued
from shared.envelope import Actor
from shared.web import create_service_app
from services.followups.bootstrap import bootstrap as bootstrap_followups
from services.followups.entrypoints.api import blp as followups_api
from services.followups.reactions import commands_for_notice_issued
from services.notices.bootstrap import bootstrap as bootstrap_notices
from services.notices.entrypoints.api import blp as notices_api
from services.tasks.bootstrap import bootstrap as bootstrap_tasks
from services.tasks.entrypoints.api import calendars_api
from services.tasks.entrypoints.api import plans as plans_api
from services.tasks.entrypoints.api import tasks as tasks_api

OFFICE_UNIT, OWN, OTHER = "巴中市教育督导室", "巴州区教育局", "恩阳区教育局"
NOTICE = {"kind": "督办通知", "title": "督办", "issuer_unit": OFFICE_UNIT, "target_units": [OWN],
          "problems": [{"description": "问题", "responsible_unit": OWN, "deadline": "2020-12-31"}]}

# (service, path template, body, roles allowed, unit-scoped: a unit handler only for its own unit)
COMMANDS = [
    ("notices", "/notices", NOTICE, {Role.OFFICE_STAFF}, False),
    ("notices", "/notices/drafts", NOTICE, {Role.OFFICE_STAFF}, False),
    ("notices", "/notices/{notice}/signature", {}, {Role.UNIT_HANDLER}, True),
    ("notices", "/notices/{notice}/withdrawal", {"reason": "误发"}, {Role.OFFICE_STAFF}, False),
    ("followups", "/cases/{case}/plan", {"plan": "方案"}, {Role.UNIT_HANDLER}, True),
    ("followups", "/cases/{case}/progress", {"summary": "进展"}, {Role.UNIT_HANDLER}, True),
    ("followups", "/cases/{case}/completion", {"summary": "完成"}, {Role.UNIT_HANDLER}, True),
    ("followups", "/cases/{case}/reinspection", {"passed": True, "findings": "到位"}, {Role.INSPECTOR}, False),
    ("followups", "/cases/{case}/close", {}, {Role.INSPECTOR}, False),
    ("followups", "/cases/{case}/extension", {"new_deadline": "2021-01-31", "reason": "r", "approver": "a"},
     {Role.OFFICE_STAFF}, False),
    ("followups", "/cases/{case}/escalations", {"level": "reminder", "reason": "催办"}, {Role.OFFICE_STAFF}, False),
    ("followups", "/cases/{case}/commendations", {"reason": "表彰"}, {Role.OFFICE_STAFF}, False),
    ("tasks", "/plans", {"title": "要点", "tasks": [{"number": "1", "text": "任务", "lead_unit": OWN}]},
     {Role.OFFICE_STAFF}, False),
    ("tasks", "/plans/preview", {"text": "一、工作目标\n1. 开展督导。"}, {Role.OFFICE_STAFF}, False),
    ("tasks", "/tasks/{task}/progress", {"summary": "进展"}, {Role.OFFICE_STAFF, Role.UNIT_HANDLER}, True),
    ("tasks", "/calendars/2099", {"holidays": ["2099-01-01"], "source": "国办发明电〔2098〕1号"}, {Role.OFFICE_STAFF},
     False),
]
# who asks: every role; unit handlers and liaisons once from the unit that owns the items and once from another
CALLERS = [(role, OWN) for role in Role.ALL] + [(Role.UNIT_HANDLER, OTHER), (Role.DEPARTMENT_LIAISON, OTHER)]


@pytest.fixture(scope="module")
def world(infra, session_prefix):
    """Three services in this process on the real servers, with one notice, its case and one task."""
    from tests.conftest import Settings

    prefix = f"{session_prefix}_perm"
    settings = Settings(mongo_url=infra.mongo_url, kafka_bootstrap=infra.kafka_bootstrap, db_prefix=prefix,
                        topic_prefix=prefix)
    clock = FixedClock(date(2020, 9, 30))
    contexts = {"tasks": bootstrap_tasks(settings, clock=clock), "notices": bootstrap_notices(settings, clock=clock),
                "followups": bootstrap_followups(settings, clock=clock)}
    blueprints = {"tasks": [plans_api, tasks_api, calendars_api], "notices": [notices_api],
                  "followups": [followups_api]}
    clients = {name: create_service_app(lambda c=ctx: c, name, blueprints[name]).test_client()
               for name, ctx in contexts.items()}
    office = {"Authorization": f"Bearer {issue_token(settings.jwt_secret, 'boss', Role.OFFICE_STAFF, OFFICE_UNIT)}"}
    task_id = clients["tasks"].post("/plans", json=COMMANDS[12][2], headers=office).get_json()["task_ids"][0]
    return settings, contexts, clients, task_id


def fresh_ids(world) -> dict:
    """A new issued notice and its open case (opened directly through followups' bus: no Kafka needed here)."""
    settings, contexts, clients, task_id = world
    office = {"Authorization": f"Bearer {issue_token(settings.jwt_secret, 'boss', Role.OFFICE_STAFF, OFFICE_UNIT)}"}
    notice = clients["notices"].post("/notices", json=NOTICE, headers=office).get_json()
    issued = contexts["notices"].store.read_stream(notice["id"])[0]
    for command in commands_for_notice_issued(NoticeIssued.from_data(issued.data)):
        contexts["followups"].bus.handle(command, CommandContext.caused_by(issued, Actor.system("test")))
    return {"notice": notice["id"], "case": f"{notice['id']}:P1", "task": task_id}


@pytest.mark.parametrize("service, path, body, allowed, scoped", COMMANDS, ids=[c[1] for c in COMMANDS])
def test_each_role_may_do_only_its_own_commands_and_a_unit_handler_only_for_its_own_unit(
        world, service, path, body, allowed, scoped):
    settings, contexts, clients, _ = world
    ids = fresh_ids(world)
    url = path.format(**ids)
    for (role, unit), n in zip(CALLERS, itertools.count()):
        token = issue_token(settings.jwt_secret, f"user{n}", role, unit)
        before = {name: ctx.store.count() for name, ctx in contexts.items()}
        response = clients[service].post(url, json=body, headers={"Authorization": f"Bearer {token}"})
        permitted = role == Role.ADMIN or (role in allowed and not (scoped and role == Role.UNIT_HANDLER and unit != OWN))
        if permitted:
            assert response.status_code in (200, 201, 409, 422), (role, unit, response.get_json())
        else:
            assert response.status_code == 403, (role, unit, response.get_json())
            assert response.get_json()["message_zh"]
            assert {name: ctx.store.count() for name, ctx in contexts.items()} == before, "a refused command wrote"


class TestReadScope:
    def test_a_unit_handler_or_liaison_reads_only_its_own_units_notices_and_cases(self, world):
        settings, _, clients, _ = world
        ids = fresh_ids(world)
        for role in (Role.UNIT_HANDLER, Role.DEPARTMENT_LIAISON):
            own = {"Authorization": f"Bearer {issue_token(settings.jwt_secret, 'u1', role, OWN)}"}
            other = {"Authorization": f"Bearer {issue_token(settings.jwt_secret, 'u2', role, OTHER)}"}
            assert clients["followups"].get(f"/cases/{ids['case']}", headers=own).status_code == 200
            assert clients["followups"].get(f"/cases/{ids['case']}", headers=other).status_code == 403
            assert clients["notices"].get(f"/notices/{ids['notice']}", headers=other).status_code == 403
            assert clients["followups"].get("/cases", headers=other).get_json() == []
            assert clients["notices"].get("/notices", headers=other).get_json() == []
            assert ids["case"] in [c["id"] for c in clients["followups"].get("/cases?page_size=100", headers=own).get_json()]

    def test_a_unit_handler_or_liaison_reads_the_tasks_its_unit_leads_or_partners_in_and_every_plan(self, world):
        settings, _, clients, _ = world
        office = {"Authorization": f"Bearer {issue_token(settings.jwt_secret, 'boss', Role.OFFICE_STAFF, OFFICE_UNIT)}"}
        plan = clients["tasks"].post("/plans", headers=office, json={"title": "要点", "tasks": [
            {"number": "1", "text": "牵头", "lead_unit": OWN}, {"number": "2", "text": "协办", "partner_units": [OWN]},
            {"number": "3", "text": "别的单位", "lead_unit": OTHER}, {"number": "4", "text": "无牵头单位"}]}).get_json()
        led, partnered, others, unassigned = plan["task_ids"]
        for role in (Role.UNIT_HANDLER, Role.DEPARTMENT_LIAISON):
            own = {"Authorization": f"Bearer {issue_token(settings.jwt_secret, 'u1', role, OWN)}"}
            other = {"Authorization": f"Bearer {issue_token(settings.jwt_secret, 'u2', role, OTHER)}"}
            listed = clients["tasks"].get(f"/tasks?plan_id={plan['id']}", headers=own).get_json()
            assert sorted(task["id"] for task in listed) == sorted([led, partnered])
            assert clients["tasks"].get(f"/tasks?plan_id={plan['id']}&lead_unit={OTHER}", headers=own).get_json() == []
            assert [t["id"] for t in clients["tasks"].get(f"/tasks?plan_id={plan['id']}", headers=other).get_json()] == [others]
            assert clients["tasks"].get(f"/tasks/{partnered}", headers=own).status_code == 200
            for task_id in (led, partnered, unassigned):
                assert clients["tasks"].get(f"/tasks/{task_id}", headers=other).status_code == 403
            # the work plan itself is a published document
            assert clients["tasks"].get(f"/plans/{plan['id']}", headers=other).get_json()["task_ids"] == plan["task_ids"]
        auditor = {"Authorization": f"Bearer {issue_token(settings.jwt_secret, 'a', Role.AUDITOR, OTHER)}"}
        assert len(clients["tasks"].get(f"/tasks?plan_id={plan['id']}", headers=auditor).get_json()) == 4
        assert clients["tasks"].get(f"/tasks/{unassigned}", headers=auditor).status_code == 200

    def test_auditors_and_inspectors_read_everything(self, world):
        settings, _, clients, _ = world
        ids = fresh_ids(world)
        for role in (Role.AUDITOR, Role.INSPECTOR, Role.OFFICE_STAFF):
            headers = {"Authorization": f"Bearer {issue_token(settings.jwt_secret, 'r', role, OTHER)}"}
            assert clients["followups"].get(f"/cases/{ids['case']}", headers=headers).status_code == 200
            assert clients["notices"].get(f"/notices/{ids['notice']}", headers=headers).status_code == 200


JUNK = [None, 0, -1, 10**30, 1.5, True, "", " ", "x" * 5000, [], [None], {}, {"a": {"b": []}}, "2020-13-45",
        "9999-12-31", "\ud800", "督办" * 3, ["\x00"], [{"description": None}]]


class TestNoInputEverGivesA500:
    def test_junk_in_every_field_of_every_command_is_refused_cleanly(self, world):
        settings, _, clients, _ = world
        admin = {"Authorization": f"Bearer {issue_token(settings.jwt_secret, 'root', Role.ADMIN, OWN)}"}
        ids = fresh_ids(world)
        seen = set()
        for service, path, body, _, _ in COMMANDS:
            url = path.format(**ids)
            bodies = [[], "text", 1, None] + [{**body, field: junk} for field in body for junk in JUNK]
            bodies += [{**body, "problems": [{**NOTICE["problems"][0], "deadline": junk}]} for junk in JUNK]
            for candidate in bodies:
                # json.dumps escapes the lone surrogate as \ud800, as a hostile client could send it
                response = clients[service].post(url, data=json.dumps(candidate), content_type="application/json",
                                                 headers=admin)
                assert response.status_code < 500, (url, candidate, response.get_json())
                seen.add(response.status_code)
        assert 422 in seen  # the junk really was looked at

    def test_junk_query_parameters_are_refused_cleanly(self, world):
        settings, _, clients, _ = world
        auditor = {"Authorization": f"Bearer {issue_token(settings.jwt_secret, 'a', Role.AUDITOR, None)}"}
        for service, path in (("followups", "/cases"), ("notices", "/notices"), ("tasks", "/tasks"), ("tasks", "/plans")):
            for query in ("page=-1", "page_size=100000", "light=purple", "deadline_from=yesterday", "status=%00",
                          "overdue=maybe", "issued_from=2020-02-30", "page=abc", "listed=2"):
                response = clients[service].get(f"{path}?{query}", headers=auditor)
                assert response.status_code in (200, 422), (path, query, response.get_json())
        for path in ("/cases/%00", "/cases/" + "x" * 3000):
            assert clients["followups"].get(path, headers=auditor).status_code == 404
