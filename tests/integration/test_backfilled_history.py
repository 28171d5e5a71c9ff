"""补录 of a paper notice's whole life on the real Kafka broker and MongoDB server.

An office adopts duban on 2020-12-02 with a notice it issued on paper on 2020-03-02. Office staff enter the
notice and every later step with the day it really happened; the services, the watchers and the portal's
timeline, ledger and statistics then judge time by those days, not by the day they were typed.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from shared.clock import FixedClock
from services.portal.context import bootstrap as bootstrap_portal
from services.portal.domain.queries import CaseFilter, Period, Viewer, ledger, statistics, status_table, timeline
from services.portal.entrypoints.pages_notices import timeline_rows
from tests.helpers import eventually
from tests.integration.test_lifecycle import BAZHOU, OFFICE_UNIT, ok, person_factory, three_services

TODAY = date(2020, 12, 2)  # the day the office enters its paper history
REASON = "纸质台账补录，原件存档备查"


@pytest.fixture
def adopted(settings):
    """The three services and the portal on one fixed clock, their workers (and watchers) running."""
    settings = replace(settings, deadline_watch_seconds=0.2)
    clock = FixedClock(TODAY)
    portal = bootstrap_portal(settings, clock=clock)
    try:
        with three_services(settings, clock) as contexts:
            yield clock, contexts, person_factory(settings, contexts), portal
    finally:
        portal.stop()


def backfill(day: str, **body) -> dict:
    return {**body, "occurred_on": day, "backfill_reason": REASON}


def test_a_paper_notices_whole_life_is_entered_with_its_real_dates(adopted):
    clock, contexts, person, portal = adopted
    office, unit = person("office_staff", OFFICE_UNIT), person("unit_handler", BAZHOU)
    notice = ok(office.post("notices", "/notices", {
        "kind": "督办通知", "title": "关于校舍安全隐患整改的督办通知", "doc_number": "巴教督办〔2020〕3号",
        "issuer_unit": OFFICE_UNIT, "target_units": [BAZHOU], "issued_on": "2020-03-02",
        "problems": [{"description": "教学楼存在危房", "requirement": "限期拆除", "responsible_unit": BAZHOU,
                      "deadline": "2020-04-30", "area": "校园安全"}]}), 201)
    notice_id = notice["id"]
    assert (notice["issued_on"], notice["sign_for_deadline"]) == ("2020-03-02", "2020-03-05")
    case_id = f"{notice_id}:P1"
    eventually(lambda: ok(office.get("followups", f"/cases/{case_id}")))

    # 签收 on paper two days after issue: on time, although typed nine months later
    signed = ok(office.post("notices", f"/notices/{notice_id}/signature", backfill("2020-03-04", unit=BAZHOU)))
    [signature] = signed["signatures"]
    assert (signature["signed_on"], signature["late"], signature["backfill"]["reason"]) == ("2020-03-04", False, REASON)

    # only office staff backdate; a unit records its own steps on the day
    refused = unit.post("followups", f"/cases/{case_id}/plan", backfill("2020-03-10", plan="拆除方案"))
    assert refused.status_code == 403, refused.get_data(as_text=True)
    steps = [("plan", backfill("2020-03-10", plan="拆除危房，设置警戒")),
             ("progress", backfill("2020-03-25", summary="已封闭危房", evidence=["封闭照片"])),
             ("completion", backfill("2020-04-28", summary="危房已拆除", evidence=["拆除验收单"])),
             ("reinspection", backfill("2020-05-08", passed=True, findings="现场核查，已拆除"))]
    for action, body in steps:
        ok(office.post("followups", f"/cases/{case_id}/{action}", body))
    too_early = office.post("followups", f"/cases/{case_id}/close", backfill("2020-05-07"))
    assert too_early.status_code == 422 and too_early.get_json()["details"]["field"] == "occurred_on"
    future = office.post("followups", f"/cases/{case_id}/close", backfill("2020-12-03"))
    assert future.status_code == 422 and "晚于今天" in future.get_json()["message_zh"]
    closed = ok(office.post("followups", f"/cases/{case_id}/close", backfill("2020-05-10")))
    assert (closed["status"], closed["reported_on"], closed["closed_on"], closed["on_time"]) == (
        "closed", "2020-04-28", "2020-05-10", True)
    assert [entry["on"] for entry in closed["progress"]] == ["2020-03-25", "2020-04-28"]

    def cleared():
        seen = ok(office.get("notices", f"/notices/{notice_id}"))
        assert (seen["status"], seen["cleared_on"]) == ("cleared", "2020-05-10")

    eventually(cleared, timeout=30)

    # the entry day passes: nothing was ever missed, so the watchers raise nothing
    clock.set(date(2020, 12, 3))
    stored = sum(context.store.count() for context in contexts.values())

    def everything_arrived():
        assert portal.model.events_applied == stored

    eventually(everything_arrived, timeout=30)
    followup_types = [e.type for e in contexts["followups"].store.read_stream(case_id)]
    assert "RectificationOverdue" not in followup_types and "RectificationEscalated" not in followup_types
    assert "NoticeSignOverdue" not in [e.type for e in contexts["notices"].store.read_stream(notice_id)]

    with portal.lock:
        model = portal.model
        auditor = Viewer("audit", "auditor")
        rows = {row["entry"].type: row for row in timeline_rows(timeline(model, notice_id), model)}
        [(case, _light)] = ledger(model, auditor, CaseFilter(notice_id=notice_id), portal.light_rule())
        figures = statistics(model, auditor, Period(date(2020, 1, 1), date(2020, 12, 31)))["figures"]
        [by_unit] = status_table(model, auditor, Period(), "unit", portal.light_rule())

    # the timeline shows both days of a 补录 and judges it by the day it happened
    assert rows["RectificationClosed"]["time"].startswith("2020-05-10 发生 · ")
    assert rows["RectificationClosed"]["time"].endswith("补录") and rows["RectificationClosed"]["backfilled"]
    assert rows["NoticeSigned"]["timing"] == "提前1个工作日" and not rows["NoticeSigned"]["late"]
    assert rows["RectificationReported"]["timing"] == "提前2个工作日"
    assert f"补录说明：{REASON}（代{BAZHOU}登记）" in rows["RectificationPlanSubmitted"]["summary"]
    assert not rows["NoticeIssued"]["backfilled"]  # its issue date is a field of the notice, typed today
    # the ledger's 销号日期 and the statistics count on the business dates
    assert (case.closed_on, case.on_time, case.opened_on) == ("2020-05-10", True, "2020-03-02")
    assert (figures["closed"], figures["closed_on_time"], figures["reminders"]) == (1, 1, 0)
    assert by_unit["avg_days_to_close"] == 69.0  # 2020-03-02 → 2020-05-10
