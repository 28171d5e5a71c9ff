"""The rectification case (整改事项): every transition, legal and illegal, and the deadline watcher.

A case runs open → planned → rectifying → reported → verified → closed (销号); a failed re-inspection sends it
back to rectifying, and a withdrawn notice ends it as withdrawn. Dates are real ones around the 2020 National
Day holiday (1–8 October, with 27 September and 10 October as make-up workdays 调休), so working-day rules
that a naive calendar count would get wrong are visible.
"""
from __future__ import annotations

from datetime import date
from typing import Callable

import pytest

from shared.backfill import StepDate
from shared.deadlines import DayKind, Light, Period, TrafficLights, case_light
from shared.errors import IllegalTransition, InvalidInput
from shared.policy import OfficePolicy
from services.followups.domain.events import (
    DeadlineExtended,
    RectificationClosed,
    RectificationCommended,
    RectificationEscalated,
    RectificationOpened,
    RectificationOverdue,
    RectificationPlanSubmitted,
    RectificationProgressReported,
    RectificationReported,
    RectificationWithdrawn,
    ReinspectionFailed,
    ReinspectionPassed,
)
from services.followups.domain.model import (
    ACCOUNTABILITY_MEASURES,
    CaseStatus,
    EscalationLevel,
    RectificationCase,
    case_id_for,
)

CASE_ID = case_id_for("notice-1", "P1")
UNIT = "巴州区教育局"
DEADLINE = "2020-09-29"  # a Tuesday just before the National Day holiday
POLICY = OfficePolicy()  # warning_after_working_days=5, reinspection in 30 calendar days, yellow within 3 working days
REPORTED_ON = date(2020, 9, 20)  # the day the steps below report completion: before the deadline
ALL = CaseStatus.ALL


def on(day: date) -> StepDate:
    """A step recorded on the day it happened."""
    return StepDate.today(day)


EARLY = on(date(2020, 9, 1))  # plans, progress and escalations below happen before the report
LATE = on(date(2020, 9, 28))  # re-inspections and commendations after it


# -- building a case in a given status ---------------------------------------------------------------------

def _plan(case: RectificationCase) -> None:
    case.submit_plan(plan="拆除危房，设置警戒", measures=["封闭危房", "拆除"], planned_completion=date(2020, 9, 25), when=EARLY)


def _progress(case: RectificationCase) -> None:
    case.report_progress(summary="已封闭危房", evidence=["封闭照片"], when=EARLY)


def _complete(case: RectificationCase) -> None:
    case.report_completion(summary="危房已拆除", evidence=["拆除验收单"], when=on(REPORTED_ON), policy=POLICY)


def _pass(case: RectificationCase) -> None:
    case.reinspect(passed=True, findings="现场核查，已拆除", when=LATE)


def _close(case: RectificationCase) -> None:
    case.close(when=on(date(2020, 9, 28)))


def _withdraw(case: RectificationCase) -> None:
    case.withdraw(reason="通知撤回")


STEPS_TO: dict[str, list[Callable[[RectificationCase], None]]] = {
    CaseStatus.OPEN: [],
    CaseStatus.PLANNED: [_plan],
    CaseStatus.RECTIFYING: [_plan, _progress],
    CaseStatus.REPORTED: [_plan, _progress, _complete],
    CaseStatus.VERIFIED: [_plan, _progress, _complete, _pass],
    CaseStatus.CLOSED: [_plan, _progress, _complete, _pass, _close],
    CaseStatus.WITHDRAWN: [_withdraw],
}


def opened(deadline: str | None = DEADLINE) -> RectificationCase:
    case = RectificationCase(CASE_ID)
    case.open(notice_id="notice-1", problem_id="P1", description="教学楼存在危房", responsible_unit=UNIT,
              deadline=deadline, issuer_unit="巴中市教育督导室", related_task_ids=["plan-1-T1"])
    return case


def case_in(status: str, deadline: str | None = DEADLINE) -> RectificationCase:
    """A case that reached ``status`` by the real steps, as loaded from its stream (nothing pending)."""
    case = opened(deadline)
    for step in STEPS_TO[status]:
        step(case)
    loaded = RectificationCase.rehydrate(CASE_ID, case.pending)
    assert (loaded.status, loaded.pending, loaded.version) == (status, [], len(case.pending))
    return loaded


def recorded(case: RectificationCase, act: Callable[[RectificationCase], None]) -> list:
    """The events ``act`` records on the case."""
    before = len(case.pending)
    act(case)
    return case.pending[before:]


def assert_refused(case: RectificationCase, act: Callable[[RectificationCase], None]) -> IllegalTransition:
    """The command is an illegal transition that says why (in both languages) and records nothing."""
    status, version = case.status, case.version
    with pytest.raises(IllegalTransition) as refused:
        act(case)
    error = refused.value
    assert (error.status, error.code) == (409, "illegal_transition")
    assert error.message_en.startswith("cannot ") and f"case {CASE_ID} is {status}" in error.message_en
    assert f"当前状态为“{CaseStatus.LABELS_ZH[status]}”" in error.message_zh and "不能" in error.message_zh
    assert error.details["state"] == status
    assert (case.pending, case.status, case.version) == ([], status, version)
    return error


def types(events: list) -> list[type]:
    return [type(e) for e in events]


def legal(*statuses: str) -> list[str]:
    return [s for s in ALL if s in statuses]


def illegal(*statuses: str) -> list[str]:
    return [s for s in ALL if s not in statuses]


class TestTheStatusesOfACase:
    def test_every_status_has_a_chinese_label_and_the_clock_runs_only_while_the_unit_owes_work(self):
        assert set(ALL) == set(STEPS_TO)
        assert CaseStatus.CLOCK_RUNNING == ("open", "planned", "rectifying")
        assert CaseStatus.ENDED == ("closed", "withdrawn")


class TestOpeningACase:
    def test_opening_records_the_problem_its_unit_and_deadline(self):
        [event] = opened().pending
        assert isinstance(event, RectificationOpened)
        assert (event.case_id, event.notice_id, event.problem_id, event.responsible_unit, event.deadline) == (
            "notice-1:P1", "notice-1", "P1", UNIT, DEADLINE)
        assert event.related_task_ids == ["plan-1-T1"]

    def test_opening_an_existing_case_again_records_nothing(self):
        case = case_in(CaseStatus.RECTIFYING)
        assert recorded(case, lambda c: c.open(notice_id="notice-1", problem_id="P1", description="x",
                                               responsible_unit="别的单位", deadline="2030-01-01")) == []
        assert (case.responsible_unit, case.deadline) == (UNIT, DEADLINE)


class TestSubmittingARectificationPlan:
    @pytest.mark.parametrize("status", legal(CaseStatus.OPEN, CaseStatus.PLANNED))
    def test_a_plan_is_recorded_before_any_work_is_reported(self, status):
        case = case_in(status)
        [event] = recorded(case, _plan)
        assert isinstance(event, RectificationPlanSubmitted)
        assert (event.plan, event.measures, event.planned_completion) == (
            "拆除危房，设置警戒", ["封闭危房", "拆除"], "2020-09-25")
        assert case.status == CaseStatus.PLANNED

    @pytest.mark.parametrize("status", illegal(CaseStatus.OPEN, CaseStatus.PLANNED))
    def test_a_plan_is_refused_once_the_case_has_moved_on(self, status):
        assert_refused(case_in(status), _plan)

    def test_a_plan_without_a_completion_date_is_recorded_without_one(self):
        [event] = recorded(case_in(CaseStatus.OPEN), lambda c: c.submit_plan(
            plan="方案", measures=[], planned_completion=None, when=EARLY))
        assert (event.measures, event.planned_completion) == ([], None)

    @pytest.mark.parametrize("blank", ["", "   "])
    def test_a_blank_plan_is_refused(self, blank):
        case = case_in(CaseStatus.OPEN)
        with pytest.raises(InvalidInput) as refused:
            case.submit_plan(plan=blank, measures=[], planned_completion=None, when=EARLY)
        assert refused.value.details["field"] == "plan" and case.pending == []


class TestReportingProgress:
    @pytest.mark.parametrize("status", legal(CaseStatus.PLANNED, CaseStatus.RECTIFYING))
    def test_progress_is_recorded_once_a_plan_exists_and_the_case_is_rectifying(self, status):
        case = case_in(status)
        [event] = recorded(case, _progress)
        assert isinstance(event, RectificationProgressReported)
        assert (event.summary, event.evidence) == ("已封闭危房", ["封闭照片"])
        assert case.status == CaseStatus.RECTIFYING

    @pytest.mark.parametrize("status", illegal(CaseStatus.PLANNED, CaseStatus.RECTIFYING))
    def test_progress_is_refused_in_any_other_status(self, status):
        assert_refused(case_in(status), _progress)

    def test_progress_before_a_plan_is_refused_with_the_hint_to_submit_one(self):
        error = assert_refused(case_in(CaseStatus.OPEN), _progress)
        assert "submit the rectification plan first" in error.message_en and "请先提交整改方案" in error.message_zh

    def test_blank_progress_is_refused(self):
        with pytest.raises(InvalidInput) as refused:
            case_in(CaseStatus.PLANNED).report_progress(summary=" ", evidence=[], when=EARLY)
        assert refused.value.details["field"] == "summary"


class TestReportingCompletion:
    @pytest.mark.parametrize("status", legal(CaseStatus.PLANNED, CaseStatus.RECTIFYING))
    def test_the_report_is_recorded_with_its_date_and_the_reinspection_due_date(self, status):
        case = case_in(status)
        [event] = recorded(case, _complete)
        assert isinstance(event, RectificationReported)
        assert (event.summary, event.evidence) == ("危房已拆除", ["拆除验收单"])
        assert (event.reported_on, event.reinspection_due) == ("2020-09-20", "2020-10-20")  # 30 calendar days
        assert (case.status, case.reported_on) == (CaseStatus.REPORTED, "2020-09-20")

    @pytest.mark.parametrize("status", illegal(CaseStatus.PLANNED, CaseStatus.RECTIFYING))
    def test_the_report_is_refused_in_any_other_status(self, status):
        assert_refused(case_in(status), _complete)

    def test_a_report_before_a_plan_is_refused_with_the_hint_to_submit_one(self):
        error = assert_refused(case_in(CaseStatus.OPEN), _complete)
        assert "请先提交整改方案" in error.message_zh

    def test_the_reinspection_due_date_follows_the_offices_policy_in_working_days(self):
        policy = OfficePolicy(reinspection_period=Period(10, DayKind.WORKING))
        [event] = recorded(case_in(CaseStatus.RECTIFYING), lambda c: c.report_completion(
            summary="完成", evidence=[], when=on(date(2020, 9, 28)), policy=policy))
        assert event.reinspection_due == "2020-10-19"  # the holiday does not count

    def test_a_blank_report_is_refused(self):
        with pytest.raises(InvalidInput) as refused:
            case_in(CaseStatus.RECTIFYING).report_completion(summary="", evidence=[], when=on(REPORTED_ON), policy=POLICY)
        assert refused.value.details["field"] == "summary"


class TestReinspecting:
    @pytest.mark.parametrize("status", legal(CaseStatus.REPORTED))
    def test_a_passed_reinspection_verifies_the_reported_case(self, status):
        case = case_in(status)
        [event] = recorded(case, _pass)
        assert isinstance(event, ReinspectionPassed) and event.findings == "现场核查，已拆除"
        assert case.status == CaseStatus.VERIFIED

    @pytest.mark.parametrize("status", legal(CaseStatus.REPORTED))
    def test_a_failed_reinspection_sends_the_case_back_to_rectifying_with_the_findings(self, status):
        case = case_in(status)
        [event] = recorded(case, lambda c: c.reinspect(passed=False, findings="危房未完全拆除，存在安全隐患", when=LATE))
        assert isinstance(event, ReinspectionFailed) and event.findings == "危房未完全拆除，存在安全隐患"
        assert (case.status, case.reported_on) == (CaseStatus.RECTIFYING, None)

    @pytest.mark.parametrize("passed", [True, False])
    @pytest.mark.parametrize("status", illegal(CaseStatus.REPORTED))
    def test_a_reinspection_is_refused_unless_completion_was_reported(self, status, passed):
        assert_refused(case_in(status), lambda c: c.reinspect(passed=passed, findings="意见", when=LATE))

    def test_a_reinspection_before_the_report_says_the_unit_has_not_reported(self):
        error = assert_refused(case_in(CaseStatus.RECTIFYING), _pass)
        assert "has not reported completion" in error.message_en and "尚未提交整改报告" in error.message_zh

    def test_after_a_failed_reinspection_the_unit_reports_again_and_can_pass(self):
        case = case_in(CaseStatus.REPORTED)
        case.reinspect(passed=False, findings="未完成", when=on(date(2020, 9, 22)))
        case.report_progress(summary="继续整改", evidence=[], when=on(date(2020, 9, 24)))
        case.report_completion(summary="已全部完成", evidence=[], when=on(date(2020, 9, 28)), policy=POLICY)
        case.reinspect(passed=True, findings="通过", when=LATE)
        assert types(case.pending) == [ReinspectionFailed, RectificationProgressReported, RectificationReported,
                                       ReinspectionPassed]
        assert (case.status, case.reported_on) == (CaseStatus.VERIFIED, "2020-09-28")

    def test_a_reinspection_without_findings_is_refused(self):
        with pytest.raises(InvalidInput) as refused:
            case_in(CaseStatus.REPORTED).reinspect(passed=False, findings="  ", when=LATE)
        assert refused.value.details["field"] == "findings"


class TestClosingACase:
    @pytest.mark.parametrize("status", legal(CaseStatus.VERIFIED))
    def test_a_verified_case_is_closed_with_what_other_services_need(self, status):
        case = case_in(status)
        [event] = recorded(case, lambda c: c.close(when=on(date(2020, 9, 28))))
        assert isinstance(event, RectificationClosed)
        assert (event.case_id, event.notice_id, event.problem_id, event.closed_on, event.deadline) == (
            CASE_ID, "notice-1", "P1", "2020-09-28", DEADLINE)
        assert event.related_task_ids == ["plan-1-T1"] and event.on_time is True
        assert case.status == CaseStatus.CLOSED

    @pytest.mark.parametrize("status", illegal(CaseStatus.VERIFIED))
    def test_closing_is_refused_in_any_other_status(self, status):
        assert_refused(case_in(status), _close)

    def test_closing_before_the_reinspection_is_refused_with_the_hint(self):
        error = assert_refused(case_in(CaseStatus.REPORTED), _close)
        assert "only a case that passed re-inspection can be closed" in error.message_en
        assert "只有复查通过的事项才能销号" in error.message_zh

    def test_closing_an_ended_case_gives_no_hint_about_reinspection(self):
        error = assert_refused(case_in(CaseStatus.CLOSED), _close)
        assert "复查" not in error.message_zh


class TestWhetherACaseWasClosedOnTime:
    """on_time compares the date of the accepted report with the deadline, not the date of 销号."""

    @staticmethod
    def closed_after(*steps, deadline: str | None = DEADLINE, closed_on=date(2020, 10, 30)) -> RectificationClosed:
        case = case_in(CaseStatus.RECTIFYING, deadline=deadline)
        for step in steps:
            step(case)
        case.reinspect(passed=True, findings="通过", when=on(closed_on))
        case.close(when=on(closed_on))
        return case.pending[-1]

    @staticmethod
    def report_on(day: date):
        return lambda c: c.report_completion(summary="完成", evidence=[], when=on(day), policy=POLICY)

    @pytest.mark.parametrize("reported, on_time", [
        (date(2020, 9, 20), True), (date(2020, 9, 29), True), (date(2020, 9, 30), False)])
    def test_a_case_is_on_time_when_it_was_reported_by_the_deadline_even_if_closed_later(self, reported, on_time):
        assert self.closed_after(self.report_on(reported)).on_time is on_time

    def test_a_report_that_failed_reinspection_does_not_count_and_the_later_one_decides(self):
        event = self.closed_after(self.report_on(date(2020, 9, 20)), lambda c: c.reinspect(
            passed=False, findings="未完成", when=on(date(2020, 9, 21))),
                                  self.report_on(date(2020, 10, 9)))
        assert event.on_time is False

    def test_a_case_reported_by_its_extended_deadline_is_on_time(self):
        event = self.closed_after(lambda c: c.extend_deadline(new_deadline=date(2020, 10, 20), reason="汛期", approver="李主任",
                                                              when=on(date(2020, 9, 1))),
                                  self.report_on(date(2020, 10, 9)))
        assert (event.on_time, event.deadline) == (True, "2020-10-20")

    def test_a_case_without_a_deadline_is_always_on_time(self):
        assert self.closed_after(self.report_on(date(2021, 3, 1)), deadline=None,
                                 closed_on=date(2021, 3, 5)).on_time is True


class TestExtendingTheDeadline:
    @staticmethod
    def extend(new_deadline=date(2020, 10, 30), reason="受汛期影响无法施工", approver="市教育局分管领导"):
        return lambda c: c.extend_deadline(new_deadline=new_deadline, reason=reason, approver=approver, when=LATE)

    @pytest.mark.parametrize("status", illegal(*CaseStatus.ENDED))
    def test_an_approved_later_deadline_replaces_the_current_one(self, status):
        case = case_in(status)
        [event] = recorded(case, self.extend())
        assert isinstance(event, DeadlineExtended)
        assert (event.previous_deadline, event.new_deadline, event.reason, event.approver) == (
            DEADLINE, "2020-10-30", "受汛期影响无法施工", "市教育局分管领导")
        assert (case.deadline, case.status) == ("2020-10-30", status)

    @pytest.mark.parametrize("status", legal(*CaseStatus.ENDED))
    def test_an_ended_case_cannot_be_extended(self, status):
        assert_refused(case_in(status), self.extend())

    @pytest.mark.parametrize("new_deadline", [date(2020, 9, 29), date(2020, 9, 28)])
    def test_the_new_deadline_must_be_later_than_the_current_one(self, new_deadline):
        case = case_in(CaseStatus.RECTIFYING)
        with pytest.raises(InvalidInput) as refused:
            case.extend_deadline(new_deadline=new_deadline, reason="理由", approver="批准人", when=on(date(2020, 9, 1)))
        assert refused.value.details["field"] == "new_deadline" and refused.value.status == 422
        assert "2020-09-29" in refused.value.message_zh and case.pending == [] and case.deadline == DEADLINE

    def test_the_new_deadline_may_not_already_be_past(self):
        case = case_in(CaseStatus.RECTIFYING)
        with pytest.raises(InvalidInput) as refused:
            case.extend_deadline(new_deadline=date(2020, 10, 5), reason="理由", approver="批准人", when=on(date(2020, 10, 8)))
        assert refused.value.details["field"] == "new_deadline" and case.pending == []

    @pytest.mark.parametrize("reason, approver, field", [("", "批准人", "reason"), ("理由", " ", "approver")])
    def test_an_extension_needs_a_reason_and_an_approver(self, reason, approver, field):
        case = case_in(CaseStatus.PLANNED)
        with pytest.raises(InvalidInput) as refused:
            self.extend(reason=reason, approver=approver)(case)
        assert refused.value.details["field"] == field and case.pending == []

    def test_a_case_without_a_deadline_gets_its_first_one(self):
        [event] = recorded(case_in(CaseStatus.OPEN, deadline=None), self.extend(new_deadline=date(2020, 11, 1)))
        assert (event.previous_deadline, event.new_deadline) == (None, "2020-11-01")


class TestEscalating:
    @pytest.mark.parametrize("status", illegal(*CaseStatus.ENDED))
    def test_a_manual_reminder_is_recorded_against_the_current_deadline(self, status):
        case = case_in(status)
        [event] = recorded(case, lambda c: c.escalate(level=EscalationLevel.REMINDER, reason="进度滞后", when=LATE))
        assert isinstance(event, RectificationEscalated)
        assert (event.level, event.reason, event.automatic, event.deadline, event.target) == (
            "reminder", "进度滞后", False, DEADLINE, "unit")
        assert case.escalations == ["reminder"]

    @pytest.mark.parametrize("status", legal(*CaseStatus.ENDED))
    def test_an_ended_case_cannot_be_escalated(self, status):
        assert_refused(case_in(status), lambda c: c.escalate(level=EscalationLevel.REMINDER, reason="进度滞后", when=LATE))

    @pytest.mark.parametrize("level", [EscalationLevel.REMINDER, EscalationLevel.WARNING])
    def test_reminders_and_warnings_need_no_document(self, level):
        [event] = recorded(case_in(CaseStatus.OPEN), lambda c: c.escalate(level=level, reason="逾期", when=LATE))
        assert (event.level, event.doc_number) == (level, None)

    @pytest.mark.parametrize("level", EscalationLevel.NEEDS_DOCUMENT)
    @pytest.mark.parametrize("doc_number", [None, "", "  "])
    def test_interviews_circulations_and_accountability_need_a_document_number(self, level, doc_number):
        case = case_in(CaseStatus.RECTIFYING)
        with pytest.raises(InvalidInput) as refused:
            case.escalate(level=level, reason="逾期未整改", doc_number=doc_number, measure="约谈", when=LATE)
        assert refused.value.details["field"] == "doc_number"
        assert EscalationLevel.LABELS_ZH[level] in refused.value.message_zh and case.pending == []

    @pytest.mark.parametrize("level", [EscalationLevel.INTERVIEW, EscalationLevel.CIRCULATION])
    def test_an_interview_or_circulation_with_its_document_number_is_recorded(self, level):
        [event] = recorded(case_in(CaseStatus.RECTIFYING),
                           lambda c: c.escalate(level=level, reason="逾期未整改", doc_number="巴教督〔2020〕9号", when=LATE))
        assert (event.level, event.doc_number, event.measure) == (level, "巴教督〔2020〕9号", None)

    @pytest.mark.parametrize("target, measure", [(t, m) for t, measures in ACCOUNTABILITY_MEASURES.items() for m in measures])
    def test_accountability_with_a_measure_of_the_rules_for_its_target_is_recorded(self, target, measure):
        [event] = recorded(case_in(CaseStatus.RECTIFYING), lambda c: c.escalate(
            level=EscalationLevel.ACCOUNTABILITY, reason="整改不力", doc_number="巴教督〔2020〕10号", measure=measure,
            target=target, when=EARLY))
        assert (event.level, event.target, event.measure) == ("accountability", target, measure)

    @pytest.mark.parametrize("target, measure", [("unit", None), ("unit", "处分"), ("person", "行政处罚"), ("person", "罚款")])
    def test_accountability_with_a_measure_the_rules_do_not_give_for_its_target_is_refused(self, target, measure):
        case = case_in(CaseStatus.RECTIFYING)
        with pytest.raises(InvalidInput) as refused:
            case.escalate(level=EscalationLevel.ACCOUNTABILITY, reason="整改不力", doc_number="文号", measure=measure,
                          target=target, when=EARLY)
        assert refused.value.details["field"] == "measure" and "教育督导问责办法" in refused.value.message_zh
        assert case.pending == []

    @pytest.mark.parametrize("kwargs, field", [
        ({"level": "scolding"}, "level"), ({"target": "school"}, "target"), ({"reason": " "}, "reason")])
    def test_an_unknown_level_or_target_or_a_blank_reason_is_refused(self, kwargs, field):
        case = case_in(CaseStatus.OPEN)
        with pytest.raises(InvalidInput) as refused:
            case.escalate(**{"level": EscalationLevel.REMINDER, "reason": "逾期", **kwargs}, when=LATE)
        assert refused.value.details["field"] == field and case.pending == []


class TestCommending:
    @pytest.mark.parametrize("status", illegal(CaseStatus.WITHDRAWN))
    def test_a_commendation_is_recorded_in_any_status_but_withdrawn(self, status):
        case = case_in(status)
        [event] = recorded(case, lambda c: c.commend(reason="整改迅速、成效明显", doc_number="巴教督〔2020〕11号", when=LATE))
        assert isinstance(event, RectificationCommended)
        assert (event.reason, event.doc_number) == ("整改迅速、成效明显", "巴教督〔2020〕11号")
        assert case.status == status

    @pytest.mark.parametrize("status", legal(CaseStatus.WITHDRAWN))
    def test_a_withdrawn_case_cannot_be_commended(self, status):
        assert_refused(case_in(status), lambda c: c.commend(reason="整改迅速", doc_number=None, when=LATE))

    def test_a_commendation_needs_a_reason(self):
        with pytest.raises(InvalidInput) as refused:
            case_in(CaseStatus.CLOSED).commend(reason="", doc_number=None, when=LATE)
        assert refused.value.details["field"] == "reason"


class TestWithdrawingACase:
    @pytest.mark.parametrize("status", illegal(*CaseStatus.ENDED))
    def test_a_case_that_has_not_ended_is_withdrawn_with_the_reason(self, status):
        case = case_in(status)
        [event] = recorded(case, lambda c: c.withdraw(reason="督办通知已撤回"))
        assert isinstance(event, RectificationWithdrawn) and event.reason == "督办通知已撤回"
        assert case.status == CaseStatus.WITHDRAWN

    @pytest.mark.parametrize("status", legal(*CaseStatus.ENDED))
    def test_withdrawing_an_ended_case_changes_nothing_so_a_redelivered_withdrawal_is_harmless(self, status):
        # Not an error: withdrawal is a reaction to NoticeWithdrawn, and a closed case keeps its history as is.
        case = case_in(status)
        assert recorded(case, _withdraw) == [] and case.status == status

    def test_a_withdrawn_case_is_no_longer_watched(self):
        case = case_in(CaseStatus.WITHDRAWN)
        assert recorded(case, lambda c: c.check_deadline(today=date(2021, 1, 4), policy=POLICY)) == []


class TestCheckingTheDeadlineFromEveryStatus:
    @pytest.mark.parametrize("status", legal(*CaseStatus.CLOCK_RUNNING))
    def test_a_missed_deadline_is_flagged_while_the_unit_still_owes_work(self, status):
        case = case_in(status)
        events = recorded(case, lambda c: c.check_deadline(today=date(2020, 9, 30), policy=POLICY))
        assert types(events) == [RectificationOverdue, RectificationEscalated]
        assert case.status == status

    @pytest.mark.parametrize("status", illegal(*CaseStatus.CLOCK_RUNNING))
    def test_nothing_is_flagged_once_the_unit_has_reported_or_the_case_has_ended(self, status):
        case = case_in(status)
        for day in (date(2020, 9, 30), date(2020, 10, 13), date(2020, 12, 31)):
            assert recorded(case, lambda c, day=day: c.check_deadline(today=day, policy=POLICY)) == []


class TestTheDeadlineWatcher:
    """Missed deadline → 逾期 + automatic 催办 the next day; automatic 预警 after N working days; each once."""

    @staticmethod
    def check(case: RectificationCase, day: date, policy: OfficePolicy = POLICY) -> list:
        return recorded(case, lambda c: c.check_deadline(today=day, policy=policy))

    @pytest.mark.parametrize("day", [date(2020, 9, 1), date(2020, 9, 28), date(2020, 9, 29)])
    def test_nothing_happens_before_or_on_the_deadline(self, day):
        assert self.check(case_in(CaseStatus.OPEN), day) == []

    def test_the_day_after_the_deadline_the_case_is_overdue_and_reminded_automatically(self):
        case = case_in(CaseStatus.PLANNED)
        overdue, reminder = self.check(case, date(2020, 9, 30))
        assert isinstance(overdue, RectificationOverdue)
        assert (overdue.case_id, overdue.notice_id, overdue.deadline, overdue.detected_on) == (
            CASE_ID, "notice-1", "2020-09-29", "2020-09-30")
        assert isinstance(reminder, RectificationEscalated)
        assert (reminder.level, reminder.automatic, reminder.deadline) == ("reminder", True, "2020-09-29")
        assert "2020-09-29" in reminder.reason
        assert (case.overdue_flagged_for, case.escalations) == ("2020-09-29", ["reminder"])

    def test_repeated_checks_flag_the_missed_deadline_only_once(self):
        case = case_in(CaseStatus.OPEN)
        assert len(self.check(case, date(2020, 9, 30))) == 2
        assert self.check(case, date(2020, 9, 30)) == []
        assert self.check(case, date(2020, 10, 1)) == []

    def test_a_reloaded_case_remembers_the_flag(self):
        history = opened().pending
        flagged = self.check(RectificationCase.rehydrate(CASE_ID, history), date(2020, 9, 30))
        reloaded = RectificationCase.rehydrate(CASE_ID, [*history, *flagged])
        assert reloaded.overdue_flagged_for == "2020-09-29"
        assert self.check(reloaded, date(2020, 10, 9)) == []

    def test_the_warning_waits_for_five_working_days_and_the_national_day_holiday_does_not_count(self):
        case = case_in(CaseStatus.RECTIFYING)
        self.check(case, date(2020, 9, 30))  # 1 working day overdue
        # 1–8 October are holidays; 9 and 10 (a make-up Saturday) and 12 October bring it to 4 working days.
        for day in (date(2020, 10, 4), date(2020, 10, 8), date(2020, 10, 9), date(2020, 10, 10), date(2020, 10, 12)):
            assert self.check(case, day) == [], day
        [warning] = self.check(case, date(2020, 10, 13))  # the 5th working day overdue
        assert isinstance(warning, RectificationEscalated)
        assert (warning.level, warning.automatic, warning.deadline) == ("warning", True, "2020-09-29")
        assert "5" in warning.reason
        assert case.escalations == ["reminder", "warning"] and case.auto_warned_for == "2020-09-29"

    def test_the_warning_is_raised_only_once(self):
        case = case_in(CaseStatus.RECTIFYING)
        self.check(case, date(2020, 9, 30))
        assert len(self.check(case, date(2020, 10, 13))) == 1
        assert self.check(case, date(2020, 10, 14)) == []
        assert self.check(case, date(2020, 11, 30)) == []

    def test_a_first_check_long_after_the_deadline_raises_everything_at_once_and_then_nothing(self):
        case = case_in(CaseStatus.OPEN)
        events = self.check(case, date(2020, 10, 20))
        assert types(events) == [RectificationOverdue, RectificationEscalated, RectificationEscalated]
        assert [e.level for e in events[1:]] == ["reminder", "warning"]
        assert events[0].detected_on == "2020-10-20"
        assert self.check(case, date(2020, 10, 21)) == []

    def test_the_warning_follows_the_offices_own_number_of_working_days(self):
        policy = OfficePolicy(warning_after_working_days=2)
        case = case_in(CaseStatus.OPEN)
        self.check(case, date(2020, 9, 30), policy)
        assert self.check(case, date(2020, 10, 8), policy) == []  # still 1 working day
        [warning] = self.check(case, date(2020, 10, 9), policy)
        assert warning.level == "warning"

    def test_a_manual_warning_does_not_stop_the_automatic_one(self):
        case = case_in(CaseStatus.OPEN)
        case.escalate(level=EscalationLevel.WARNING, reason="人工预警", when=LATE)
        self.check(case, date(2020, 9, 30))
        assert [e.level for e in self.check(case, date(2020, 10, 13))] == ["warning"]

    def test_a_reminder_and_warning_the_office_sent_after_the_deadline_are_not_sent_again(self):
        case = case_in(CaseStatus.OPEN)  # e.g. entered from paper (补录) with the days they were sent
        case.escalate(level=EscalationLevel.REMINDER, reason="电话催办", when=on(date(2020, 9, 30)))
        case.escalate(level=EscalationLevel.WARNING, reason="书面预警", when=on(date(2020, 10, 12)))
        assert [type(e) for e in self.check(case, date(2020, 10, 14))] == [RectificationOverdue]
        assert self.check(case, date(2020, 10, 20)) == []

    def test_after_an_extension_a_newly_missed_deadline_is_flagged_and_warned_again(self):
        case = case_in(CaseStatus.RECTIFYING)
        self.check(case, date(2020, 9, 30))
        self.check(case, date(2020, 10, 13))
        case.extend_deadline(new_deadline=date(2020, 10, 20), reason="汛期", approver="李主任", when=on(date(2020, 9, 1)))
        assert self.check(case, date(2020, 10, 14)) == []
        assert self.check(case, date(2020, 10, 20)) == []
        overdue, reminder = self.check(case, date(2020, 10, 21))
        assert (overdue.deadline, overdue.detected_on, reminder.level, reminder.deadline) == (
            "2020-10-20", "2020-10-21", "reminder", "2020-10-20")
        assert self.check(case, date(2020, 10, 26)) == []  # 4 working days
        [warning] = self.check(case, date(2020, 10, 27))
        assert (warning.level, warning.deadline) == ("warning", "2020-10-20")
        assert self.check(case, date(2020, 10, 28)) == []

    def test_a_deadline_extended_before_it_was_missed_is_never_flagged(self):
        case = case_in(CaseStatus.OPEN)
        case.extend_deadline(new_deadline=date(2020, 10, 20), reason="汛期", approver="李主任", when=on(date(2020, 9, 1)))
        assert self.check(case, date(2020, 9, 30)) == []
        assert self.check(case, date(2020, 10, 13)) == []

    def test_the_clock_stops_while_reported_and_restarts_after_a_failed_reinspection(self):
        case = case_in(CaseStatus.REPORTED)  # reported on 20 September, before the deadline
        assert self.check(case, date(2020, 10, 13)) == []
        case.reinspect(passed=False, findings="未整改到位", when=LATE)
        overdue, reminder, warning = self.check(case, date(2020, 10, 14))
        assert (overdue.deadline, overdue.detected_on) == ("2020-09-29", "2020-10-14")
        # The days spent waiting for the re-inspection count as overdue: 6 working days, so 预警 comes at once.
        assert (reminder.level, warning.level) == ("reminder", "warning")

    @pytest.mark.parametrize("status", ALL)
    def test_a_case_without_a_deadline_is_never_overdue(self, status):
        assert recorded(case_in(status, deadline=None),
                        lambda c: c.check_deadline(today=date(2020, 12, 31), policy=POLICY)) == []


class TestTheTrafficLightOfACase:
    @pytest.mark.parametrize("today, light", [
        (date(2020, 9, 24), Light.GREEN),  # four working days left (25th, Sunday 27th 调休, 28th, 29th)
        (date(2020, 9, 25), Light.YELLOW),
        (date(2020, 9, 29), Light.YELLOW),
        (date(2020, 9, 30), Light.RED),
    ])
    @pytest.mark.parametrize("status", CaseStatus.CLOCK_RUNNING)
    def test_an_open_item_is_green_then_yellow_near_the_deadline_then_red(self, status, today, light):
        assert case_light(status, DEADLINE, TrafficLights(today, 3)) == light
        assert case_in(status).light(today, POLICY) == light

    @pytest.mark.parametrize("status", [CaseStatus.REPORTED, CaseStatus.VERIFIED])
    def test_a_reported_or_verified_case_is_green_even_past_its_deadline(self, status):
        assert case_in(status).light(date(2020, 12, 31), POLICY) == Light.GREEN

    @pytest.mark.parametrize("status", [*CaseStatus.ENDED, None])
    def test_an_ended_case_has_no_light(self, status):
        assert case_light(status, DEADLINE, TrafficLights(date(2020, 12, 31), 3)) is None

    def test_a_case_without_a_deadline_is_green(self):
        assert case_in(CaseStatus.OPEN, deadline=None).light(date(2020, 12, 31), POLICY) == Light.GREEN

    def test_the_yellow_window_is_the_offices_policy(self):
        case = case_in(CaseStatus.OPEN)
        assert case.light(date(2020, 9, 28), OfficePolicy(yellow_within_working_days=0)) == Light.GREEN
        assert case.light(date(2020, 9, 29), OfficePolicy(yellow_within_working_days=0)) == Light.YELLOW
        assert case.light(date(2020, 9, 1), OfficePolicy(yellow_within_working_days=30)) == Light.YELLOW
