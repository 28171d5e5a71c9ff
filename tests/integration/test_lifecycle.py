"""The whole 督办 lifecycle across tasks, notices and followups over the real Kafka broker and MongoDB server.

The three services run in this process (their Flask apps through test clients, their workers as threads)
so that one injected clock drives every deadline: the test moves time forward instead of sleeping.
"""
from __future__ import annotations

import uuid
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date

import pytest

from shared.auth import issue_token
from shared.clock import FixedClock
from shared.read_models import Listed
from shared.web import create_service_app
from shared.worker import Worker
from services.followups.bootstrap import bootstrap as bootstrap_followups
from services.followups.entrypoints.api import blp as followups_api
from services.notices.bootstrap import bootstrap as bootstrap_notices
from services.notices.entrypoints.api import blp as notices_api
from services.tasks.bootstrap import bootstrap as bootstrap_tasks
from services.tasks.entrypoints.api import plans as plans_api
from services.tasks.entrypoints.api import tasks as tasks_api
from tests.helpers import eventually

OFFICE_UNIT = "巴中市人民政府教育督导委员会办公室"
BAZHOU, ENYANG = "巴州区教育局", "恩阳区教育局"


@dataclass
class Caller:
    """One person: a Flask test client per service and their token."""

    clients: dict
    token: str

    def post(self, service: str, path: str, body: dict | None = None, **headers):
        return self.clients[service].post(path, json=body or {}, headers={"Authorization": f"Bearer {self.token}", **headers})

    def get(self, service: str, path: str, **params):
        return self.clients[service].get(path, query_string=params, headers={"Authorization": f"Bearer {self.token}"})


def person_factory(settings, contexts: dict):
    """A function giving a Caller (role, unit) with Flask test clients of the three services' APIs."""
    blueprints = {"tasks": [plans_api, tasks_api], "notices": [notices_api], "followups": [followups_api]}
    clients = {name: create_service_app(lambda c=context: c, name, blueprints[name]).test_client()
               for name, context in contexts.items()}

    def person(role: str, unit: str | None) -> Caller:
        return Caller(clients, issue_token(settings.jwt_secret, f"{role}-{uuid.uuid4().hex[:4]}", role, unit))

    return person


@contextmanager
def three_services(settings, clock: FixedClock):
    """The three services wired on the real servers with one clock, their workers running: {name: context}."""
    contexts = {name: bootstrap(settings, clock=clock) for name, bootstrap in
                (("tasks", bootstrap_tasks), ("notices", bootstrap_notices), ("followups", bootstrap_followups))}
    workers = [Worker(context) for context in contexts.values()]
    for worker in workers:
        worker.start()
    try:
        yield contexts
    finally:
        for worker in workers:
            worker.shutdown()


@pytest.fixture
def system(settings):
    """The three services with one fixed clock, and a way to act as a person."""
    settings = replace(settings, deadline_watch_seconds=0.2)
    clock = FixedClock(date(2020, 9, 30))
    with three_services(settings, clock) as contexts:
        yield clock, contexts, person_factory(settings, contexts)


def ok(response, status: int = 200) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()


def test_a_notice_with_three_problems_goes_from_issue_to_clearing_through_all_three_services(system):
    clock, contexts, person = system
    walk_a_notice_from_issue_to_clearing(clock, contexts, person)

    # 7. Read models are disposable: rebuilt from the event stores they are exactly what the live path built.
    for name, context in contexts.items():
        live = read_model_rows(context)
        assert context.rebuild_read_models() == context.store.count()
        assert read_model_rows(context) == live, f"{name}: rebuild differs from the live read models"


def walk_a_notice_from_issue_to_clearing(clock, contexts, person) -> str:
    """Issue → sign → plan/progress/report → failed and passed 复查 → overdue → extension → 销号 → 清零."""
    office = person("office_staff", OFFICE_UNIT)
    inspector = person("inspector", OFFICE_UNIT)
    bazhou, enyang = person("unit_handler", BAZHOU), person("unit_handler", ENYANG)
    auditor = person("auditor", None)

    plan = ok(office.post("tasks", "/plans", {
        "title": "2020年教育督导工作要点", "year": 2020, "issuer": OFFICE_UNIT,
        "tasks": [{"number": "3", "text": "开展校园安全专项督导", "lead_unit": "市教育局", "category": "督政"}]}), 201)
    [task_id] = plan["task_ids"]

    # 1. Issued on 2020-09-30: P1 is due in 5 working days, across the National Day holiday and the 10-10 make-up day.
    notice = ok(office.post("notices", "/notices", {
        "kind": "督办通知", "title": "关于校园安全隐患整改的督办通知", "doc_number": "巴教督〔2020〕7号",
        "issuer_unit": OFFICE_UNIT, "target_units": [BAZHOU, ENYANG], "related_task_ids": [task_id], "listed": True,
        "problems": [
            {"description": "部分学校消防通道堵塞", "requirement": "立即清理", "responsible_unit": BAZHOU,
             "responsible_person": "张三", "deadline_days": 5, "deadline_kind": "working"},
            {"description": "食堂从业人员健康证过期", "requirement": "全部更新", "responsible_unit": ENYANG,
             "deadline": "2020-10-20"},
            {"description": "D级危房未拆除", "requirement": "限期拆除", "responsible_unit": BAZHOU,
             "deadline": "2020-12-31"},
        ]}), 201)
    notice_id = notice["id"]
    assert [p["deadline"] for p in notice["problems"]] == ["2020-10-14", "2020-10-20", "2020-12-31"]
    p1, p2, p3 = (f"{notice_id}:P{n}" for n in (1, 2, 3))

    def three_open_cases():
        cases = ok(auditor.get("followups", "/cases", notice_id=notice_id))
        assert [c["id"] for c in cases] == [p3, p2, p1]  # newest first: the last problem's case was opened last
        return cases[::-1]

    cases = eventually(three_open_cases)
    assert {c["light"] for c in cases} == {"green"} and cases[0]["responsible_person"] == "张三"

    # 2. Both target units sign for it (签收); the notice is acknowledged once both have.
    assert ok(bazhou.post("notices", f"/notices/{notice_id}/signature"))["status"] == "issued"
    assert ok(enyang.post("notices", f"/notices/{notice_id}/signature"))["status"] == "acknowledged"

    # 3. P1: plan, progress, report; the inspector sends it back; it is reported again, passes and is closed.
    ok(bazhou.post("followups", f"/cases/{p1}/plan", {"plan": "三日内清理完毕", "measures": ["清理杂物", "设置标识"]}))
    ok(bazhou.post("followups", f"/cases/{p1}/progress", {"summary": "已清理两所学校", "evidence": ["现场照片12张"]}))
    ok(bazhou.post("followups", f"/cases/{p1}/completion", {"summary": "全部清理完毕"}))
    failed = ok(inspector.post("followups", f"/cases/{p1}/reinspection", {"passed": False, "findings": "一所学校仍有堵塞"}))
    assert failed["status"] == "rectifying" and failed["findings"] == "一所学校仍有堵塞"
    refused = inspector.post("followups", f"/cases/{p1}/close")
    assert refused.status_code == 409 and "复查" in refused.get_json()["message_zh"]
    ok(bazhou.post("followups", f"/cases/{p1}/completion", {"summary": "已全部整改", "evidence": ["复查照片"]}))
    ok(inspector.post("followups", f"/cases/{p1}/reinspection", {"passed": True, "findings": "整改到位"}))
    closed = ok(inspector.post("followups", f"/cases/{p1}/close"))
    assert closed["status"] == "closed" and closed["on_time"] is True and closed["light"] is None

    # 4. P2 misses 2020-10-20: the watcher flags it overdue once and raises the automatic 催办.
    clock.set(date(2020, 10, 21))

    def p2_overdue():
        case = ok(auditor.get("followups", f"/cases/{p2}"))
        assert case["overdue"] and case["light"] == "red" and case["escalation_level"] == "reminder"
        return case

    eventually(p2_overdue)
    assert [c["id"] for c in ok(auditor.get("followups", "/cases", light="red"))] == [p2]
    # the office extends the deadline (with reason and approver): no longer overdue
    extended = ok(office.post("followups", f"/cases/{p2}/extension", {
        "new_deadline": "2020-11-06", "reason": "健康证集中办理需排期", "approver": "李主任"}))
    assert extended["deadline"] == "2020-11-06" and extended["overdue"] is False and extended["light"] == "green"
    ok(enyang.post("followups", f"/cases/{p2}/plan", {"plan": "分批办理健康证"}))
    ok(enyang.post("followups", f"/cases/{p2}/completion", {"summary": "全部更新"}))
    ok(inspector.post("followups", f"/cases/{p2}/reinspection", {"passed": True, "findings": "核查无误"}))
    ok(inspector.post("followups", f"/cases/{p2}/close"))

    # 5. P3, then the notice is cleared (清零) by notices and the task shows every matter closed.
    ok(bazhou.post("followups", f"/cases/{p3}/plan", {"plan": "拆除并复垦"}))
    ok(bazhou.post("followups", f"/cases/{p3}/completion", {"summary": "已拆除"}))
    ok(inspector.post("followups", f"/cases/{p3}/reinspection", {"passed": True, "findings": "已拆除"}))
    ok(inspector.post("followups", f"/cases/{p3}/close"))

    def cleared():
        assert ok(auditor.get("notices", f"/notices/{notice_id}"))["status"] == "cleared"

    eventually(cleared)

    def task_counts():
        task = ok(auditor.get("tasks", f"/tasks/{task_id}"))
        assert task["counts"] == {"notices_issued": 1, "matters_supervised": 3, "matters_closed": 3, "completion_rate": 1.0}

    eventually(task_counts)

    # 6. The story can be proven: every stream verifies, and the overdue was raised exactly once.
    p2_events = [e.type for e in contexts["followups"].store.read_stream(p2)]
    assert p2_events.count("RectificationOverdue") == 1 and "DeadlineExtended" in p2_events
    for context in contexts.values():
        assert context.store.verify().ok
    return notice_id


def read_model_rows(context) -> dict:
    """Every row of the service's read models, without which process's tally counted it (not part of the view)."""
    return {document.__name__: sorted(({k: v for k, v in row.items() if k not in Listed.TALLY_FIELDS}
                                       for row in document._get_collection().find({})), key=lambda row: row["_id"])
            for document in context.projection.documents}


def test_a_notice_not_signed_for_by_its_sign_for_deadline_is_flagged_once_and_late_signing_is_recorded(system):
    clock, contexts, person = system
    office, bazhou, enyang = person("office_staff", OFFICE_UNIT), person("unit_handler", BAZHOU), person("unit_handler", ENYANG)
    auditor = person("auditor", None)
    notice = ok(office.post("notices", "/notices", {
        "kind": "工作提示函", "title": "关于做好国庆假期校园安全工作的提示函", "issuer_unit": OFFICE_UNIT,
        "target_units": [BAZHOU, ENYANG], "problems": []}), 201)
    assert notice["sign_for_deadline"] == "2020-10-12"  # 3 working days from 2020-09-30: 10-09, 10-10 (调休), 10-12
    ok(bazhou.post("notices", f"/notices/{notice['id']}/signature"))

    clock.set(date(2020, 10, 13))

    def flagged():
        row = ok(auditor.get("notices", f"/notices/{notice['id']}"))
        assert row["sign_overdue"] is True and row["status"] == "issued"
        assert notice["id"] in [n["id"] for n in ok(auditor.get("notices", "/notices", sign_overdue="true"))]

    eventually(flagged)
    signed = ok(enyang.post("notices", f"/notices/{notice['id']}/signature"))
    assert signed["status"] == "acknowledged"
    assert [(s["unit"], s["late"]) for s in signed["signatures"]] == [(BAZHOU, False), (ENYANG, True)]
    types = [e.type for e in contexts["notices"].store.read_stream(notice["id"])]
    assert types == ["NoticeIssued", "NoticeSigned", "NoticeSignOverdue", "NoticeSigned"]


def test_a_notice_issued_on_2026_12_30_gets_provisional_2027_deadlines_down_to_its_cases(system):
    # chinese-calendar knows 2026 last: the default 3-working-day 签收时限 and a 10-working-day problem run into 2027.
    clock, contexts, person = system
    clock.set(date(2026, 12, 30))
    office, auditor = person("office_staff", OFFICE_UNIT), person("auditor", None)

    notice = ok(office.post("notices", "/notices", {
        "kind": "督办通知", "title": "年末校舍安全隐患整改督办", "issuer_unit": OFFICE_UNIT, "target_units": [BAZHOU],
        "problems": [
            {"description": "校舍安全隐患未整改", "responsible_unit": BAZHOU, "deadline_days": 10, "deadline_kind": "working"},
            {"description": "台账不全", "responsible_unit": BAZHOU, "deadline": "2027-03-01"}]}), 201)

    assert (notice["sign_for_deadline"], notice["sign_for_deadline_provisional"]) == ("2027-01-05", True)
    counted, given = notice["problems"]
    assert (counted["deadline"], counted["deadline_provisional"]) == ("2027-01-14", True)  # 元旦 off, no 调休 known
    assert (given["deadline"], given["deadline_provisional"]) == ("2027-03-01", False)

    def cases_opened():
        rows = ok(auditor.get("followups", "/cases", notice_id=notice["id"]))
        assert len(rows) == 2, rows
        return {row["problem_id"]: (row["deadline"], row["deadline_provisional"]) for row in rows}

    assert eventually(cases_opened, timeout=60) == {"P1": ("2027-01-14", True), "P2": ("2027-03-01", False)}
