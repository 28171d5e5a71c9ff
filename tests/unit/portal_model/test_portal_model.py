"""The portal's model and queries over real events made by the services' own buses (no servers)."""
from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from shared.bus import CommandContext
from shared.clock import FixedClock
from shared.contracts import NoticeIssued
from shared.deadlines import lateness_in_working_days
from shared.envelope import Actor
from shared.eventstore.memory import InMemoryEventStore
from shared.policy import PolicyBook
from services.followups.bootstrap import bootstrap as bootstrap_followups
from services.followups.domain import commands as fc
from services.followups.reactions import commands_for_notice_issued
from services.notices.bootstrap import bootstrap as bootstrap_notices
from services.notices.domain.commands import IssueNotice, NoticeContent, ProblemInput, SignNotice
from services.portal.domain.model import PortalModel
from services.portal.domain.queries import LightRule, Period, Viewer, dashboard, statistics, status_table, timeline

OFFICE = CommandContext(Actor("wang", "office_staff", "巴中市教育督导室"), correlation_id="c1")
INSPECTOR = CommandContext(Actor("liu", "inspector", "巴中市教育督导室"), correlation_id="c1")
BAZHOU, ENYANG = "巴州区教育局", "恩阳区教育局"


def handler(unit: str) -> CommandContext:
    return CommandContext(Actor(f"h-{unit}", "unit_handler", unit), correlation_id="c1")


@pytest.fixture
def world():
    """A notice with two problems: P1 (巴州) closed late after a failed 复查, P2 (恩阳) left open past its deadline."""
    clock = FixedClock(date(2020, 9, 1))
    notice_store, case_store = InMemoryEventStore(), InMemoryEventStore()
    notices = bootstrap_notices(store=notice_store, clock=clock)
    followups = bootstrap_followups(store=case_store, clock=clock)
    notices.bus.handle(IssueNotice(NoticeContent(
        kind="督办通知", title="校园安全督办", issuer_unit="巴中市教育督导室", target_units=(BAZHOU, ENYANG),
        problems=(ProblemInput("消防通道堵塞", "清理", BAZHOU, date(2020, 9, 10), area="校园安全"),
                  ProblemInput("健康证过期", "更新", ENYANG, date(2020, 9, 20), area="食品安全"))), notice_id="n1"), OFFICE)
    [issued] = notice_store.read_stream("n1")
    for command in commands_for_notice_issued(NoticeIssued.from_data(issued.data)):
        followups.bus.handle(command, CommandContext.caused_by(issued, Actor.system("followups")))
    notices.bus.handle(SignNotice("n1"), handler(BAZHOU))
    followups.bus.handle(fc.SubmitRectificationPlan("n1:P1", "方案"), handler(BAZHOU))
    followups.bus.handle(fc.ReportCompletion("n1:P1", "完成"), handler(BAZHOU))
    followups.bus.handle(fc.Reinspect("n1:P1", False, "未到位"), INSPECTOR)
    clock.set(date(2020, 9, 15))
    followups.bus.handle(fc.ReportCompletion("n1:P1", "再次完成"), handler(BAZHOU))
    followups.bus.handle(fc.Reinspect("n1:P1", True, "到位"), INSPECTOR)
    followups.bus.handle(fc.CloseCase("n1:P1"), INSPECTOR)
    model = PortalModel()
    for service, store in (("notices", notice_store), ("followups", case_store)):
        for event in store.read_all():
            model.apply(service, event)
    return model, notice_store, case_store


class TestTheModelFollowsTheEvents:
    def test_records_reflect_the_notice_and_each_case(self, world):
        model, _, _ = world
        notice = model.notices["n1"]
        assert (notice.status, notice.signed_units, notice.issued_on) == ("issued", [BAZHOU], "2020-09-01")
        p1, p2 = model.cases_of("n1")
        assert (p1.status, p1.closed_on, p1.on_time, p1.target_units) == ("closed", "2020-09-15", False, [BAZHOU, ENYANG])
        assert (p2.status, p2.deadline, p2.area) == ("open", "2020-09-20", "食品安全")

    def test_a_redelivered_event_changes_nothing(self, world):
        model, notice_store, case_store = world
        before = model.digest()
        assert not any(model.apply("followups", e) for e in case_store.read_all())
        assert model.digest() == before

    def test_the_timeline_has_every_event_in_order_with_the_deadline_and_how_late(self, world):
        model, notice_store, case_store = world
        entries = timeline(model, "n1")
        assert len(entries) == len(list(notice_store.read_all())) + len(list(case_store.read_all()))
        assert entries[0].type == "NoticeIssued"
        closed = next(e for e in entries if e.type == "RectificationClosed")
        assert (closed.due, closed.happened_on) == ("2020-09-10", "2020-09-15")  # judged on the day it was reported
        assert lateness_in_working_days(closed.due, closed.happened_on) == 3  # Friday 11th, Monday 14th, Tuesday 15th
        signed = next(e for e in entries if e.type == "NoticeSigned")
        assert signed.due == model.notices["n1"].sign_for_deadline
        assert lateness_in_working_days(signed.due, signed.happened_on) < 0  # signed early

    def test_a_tampered_event_breaks_its_streams_chain_and_is_named(self, world):
        _, notice_store, case_store = world
        model = PortalModel()
        events = list(case_store.read_stream("n1:P1"))
        forged = replace(events[1], data={**events[1].data, "plan": "改过的方案"})
        for event in [events[0], forged, *events[2:]]:
            model.apply("followups", event)
        check = model.streams["n1:P1"]
        assert (check.ok, check.first_bad_event_id) == (False, forged.event_id) and "hash" in check.reason


class TestWhatEachViewerSees:
    def test_a_unit_handler_sees_only_its_own_cases_and_auditors_see_all(self, world):
        model, _, _ = world
        rule = LightRule(date(2020, 9, 25), PolicyBook())
        everything = dashboard(model, Viewer("a", "auditor"), Period(), rule)
        headline = (everything["matters"], everything["closed"], everything["overdue"], everything["completion_rate"])
        assert headline == (2, 1, 1, 0.5)
        assert everything["by_unit"] == [{"unit": ENYANG, "open": 1, "overdue": 1}]
        enyang = dashboard(model, Viewer("h", "unit_handler", "巴州区财政局"), Period(), rule)
        assert (enyang["notices_issued"], enyang["matters"]) == (0, 0)

    def test_status_by_unit_department_and_the_period(self, world):
        model, _, _ = world
        rule = LightRule(date(2020, 9, 25), PolicyBook())
        by_unit = {row["key"]: row for row in status_table(model, Viewer("a", "auditor"), Period(), "unit", rule)}
        assert (by_unit[BAZHOU]["closed"], by_unit[BAZHOU]["avg_days_to_close"]) == (1, 14.0)
        assert (by_unit[ENYANG]["open"], by_unit[ENYANG]["overdue"]) == (1, 1)
        by_department = status_table(model, Viewer("a", "auditor"), Period(), "department", rule)
        assert {row["key"]: row["total"] for row in by_department} == {BAZHOU: 2, ENYANG: 2}
        assert status_table(model, Viewer("a", "auditor"), Period(date(2021, 1, 1), None), "unit", rule) == []

    def test_statistics_speak_the_offices_language(self, world):
        model, _, _ = world
        figures = statistics(model, Viewer("a", "auditor"), Period(date(2020, 1, 1), date(2020, 12, 31)))
        first = figures["sentences"][0]
        assert first.startswith("下发督办通知及工作提示函共1份") and "督促整改落实督办事项2件（已销号1件）" in first
        assert "跟踪督办2个方面2个问题" in figures["sentences"][1] and "整改完成率50.0%" in figures["sentences"][1]


def test_the_portal_counts_on_a_year_an_office_recorded():
    from datetime import date as day

    from services.portal.adapters.feed import count_on_recorded_calendars
    from services.tasks.bootstrap import bootstrap as bootstrap_tasks
    from services.tasks.domain.commands import RecordHolidayArrangement
    from shared.deadlines import is_provisional, use_recorded_arrangements

    tasks = bootstrap_tasks(store=InMemoryEventStore(), clock=FixedClock(day(2026, 12, 30)), policies=PolicyBook())
    tasks.bus.handle(RecordHolidayArrangement(2027, (day(2027, 1, 1), day(2027, 1, 4)), (), "国办发明电〔2026〕99号"),
                     CommandContext.fresh(Actor("office", "office_staff", "巴中市教育督导室")))
    model = PortalModel()
    for event in tasks.store.read_all():
        model.apply("tasks", event)
    recorded = model.holiday_years[2027]
    assert (recorded["holidays"], recorded["workdays"], recorded["source"]) == (
        ["2027-01-01", "2027-01-04"], [], "国办发明电〔2026〕99号")
    assert recorded["unit"] == "巴中市教育督导室" and recorded["on"]  # the day it was typed in
    try:
        count_on_recorded_calendars(model)
        assert not is_provisional(day(2027, 1, 4))
    finally:
        use_recorded_arrangements([])
    assert is_provisional(day(2027, 1, 4))
