"""The notice (督办通知): draft → issued → acknowledged (签收) → cleared (清零) | withdrawn (撤回).

Deadlines are fixed on the day of issue, on the official working calendar: the 2020 National Day holiday
(1–8 October, with 10 October a make-up workday) is used so that working-day counts are visibly not calendar ones.
"""
from __future__ import annotations

import json
from datetime import date
from typing import Callable

import pytest

from shared.backfill import StepDate
from shared.deadlines import CalendarOutOfRange, DayKind, Period
from shared.errors import IllegalTransition, InvalidInput
from shared.policy import OfficePolicy
from services.notices.domain.commands import NoticeContent, ProblemInput
from services.notices.domain.events import (
    NoticeCleared,
    NoticeDrafted,
    NoticeIssued,
    NoticeProblemClosed,
    NoticeSigned,
    NoticeSignOverdue,
    NoticeWithdrawn,
)
from services.notices.domain.model import Notice, NoticeStatus, content_from_dict

NOTICE_ID = "notice-1"
OFFICE = "巴中市教育督导室"
BAZHOU, ENYANG = "巴州区人民政府", "恩阳区人民政府"
ISSUED_ON = date(2020, 9, 30)  # the day before the National Day holiday
POLICY = OfficePolicy()  # 30 calendar days to rectify, 3 working days to sign
ALL = NoticeStatus.ALL


def problem(**overrides) -> ProblemInput:
    fields = dict(description="教学楼存在危房", requirement="限期拆除", responsible_unit="巴州区教育局",
                  deadline=date(2020, 12, 31), responsible_person="张三")
    fields.update(overrides)
    return ProblemInput(**fields)


def content(**overrides) -> NoticeContent:
    fields = dict(
        kind="督办通知", title="关于校舍安全问题整改的督办通知", issuer_unit=OFFICE, target_units=(BAZHOU, ENYANG),
        problems=(problem(), problem(description="消防通道堵塞", requirement="立即清理", responsible_unit="恩阳区教育局",
                                     deadline=None, responsible_person=None, deadline_days=5, deadline_kind=DayKind.WORKING)),
        doc_number="巴教督办〔2020〕5号", related_task_ids=("plan-1-T1",), copied_units=("巴中市人民政府",),
    )
    fields.update(overrides)
    return NoticeContent(**fields)


def issued_event(notice: Notice) -> NoticeIssued:
    [event] = [e for e in notice.pending if isinstance(e, NoticeIssued)]
    return event


def late_2026() -> NoticeContent:
    """A notice issued late in 2026 whose problem is due in 2027."""
    return content(problems=(problem(deadline=date(2027, 3, 1)),))


def issue_now(notice: Notice, notice_content: NoticeContent | None = None, today: date = ISSUED_ON,
              policy: OfficePolicy = POLICY) -> list:
    return recorded(notice, lambda n: n.issue(notice_content, today=today, policy=policy))


def recorded(notice: Notice, act: Callable[[Notice], None]) -> list:
    before = len(notice.pending)
    act(notice)
    return notice.pending[before:]


def _draft(notice: Notice) -> None:
    notice.save_draft(content())


def _issue(notice: Notice) -> None:
    notice.issue(content(), today=ISSUED_ON, policy=POLICY)


def _sign_all(notice: Notice) -> None:
    for unit in (BAZHOU, ENYANG):
        notice.sign(unit=unit, when=StepDate.today(date(2020, 10, 9)))


def _close_all(notice: Notice) -> None:
    for problem_id in ("P1", "P2"):
        notice.record_problem_closed(problem_id=problem_id, case_id=f"{NOTICE_ID}:{problem_id}", closed_on="2020-10-20")


def _withdraw(notice: Notice) -> None:
    notice.withdraw(reason="通知内容有误")


STEPS_TO = {
    NoticeStatus.DRAFT: [_draft],
    NoticeStatus.ISSUED: [_issue],
    NoticeStatus.ACKNOWLEDGED: [_issue, _sign_all],
    NoticeStatus.CLEARED: [_issue, _sign_all, _close_all],
    NoticeStatus.WITHDRAWN: [_issue, _withdraw],
}


def notice_in(status: str, *steps: Callable[[Notice], None]) -> Notice:
    """A notice that reached ``status`` by the real steps (or by ``steps``), as loaded from its stream."""
    notice = Notice(NOTICE_ID)
    for step in steps or STEPS_TO[status]:
        step(notice)
    loaded = Notice.rehydrate(NOTICE_ID, notice.pending)
    assert (loaded.status, loaded.pending) == (status, [])
    return loaded


def assert_refused(notice: Notice, act: Callable[[Notice], None]) -> IllegalTransition:
    status, version = notice.status, notice.version
    with pytest.raises(IllegalTransition) as refused:
        act(notice)
    error = refused.value
    assert (error.status, error.code) == (409, "illegal_transition")
    assert error.message_en and error.message_zh and error.message_en != error.message_zh
    assert (notice.pending, notice.status, notice.version) == ([], status, version)
    return error


def assert_refused_for_status(notice: Notice, act: Callable[[Notice], None]) -> None:
    status = notice.status
    error = assert_refused(notice, act)
    assert f"notice {NOTICE_ID} is {status}" in error.message_en
    assert f"当前状态为“{NoticeStatus.LABELS_ZH[status]}”" in error.message_zh and "不能" in error.message_zh


class TestSavingADraft:
    def test_a_new_notice_is_saved_as_a_draft_that_reads_back_as_typed(self):
        notice = Notice(NOTICE_ID)
        [event] = recorded(notice, _draft)
        assert isinstance(event, NoticeDrafted) and event.notice_id == NOTICE_ID
        assert content_from_dict(event.content) == content()
        assert (notice.status, notice.draft) == (NoticeStatus.DRAFT, content())

    def test_a_draft_survives_the_round_trip_through_stored_data(self):
        [event] = recorded(Notice(NOTICE_ID), _draft)
        stored = NoticeDrafted.from_data(json.loads(json.dumps(event.to_data(), ensure_ascii=False)))
        assert content_from_dict(stored.content) == content()
        assert stored.content["problems"][0]["deadline"] == "2020-12-31"

    def test_a_draft_can_be_saved_again_and_the_last_version_counts(self):
        notice = notice_in(NoticeStatus.DRAFT)
        recorded(notice, lambda n: n.save_draft(content(title="修改后的标题")))
        assert notice.draft.title == "修改后的标题"

    @pytest.mark.parametrize("status", [s for s in ALL if s != NoticeStatus.DRAFT])
    def test_an_issued_or_ended_notice_cannot_go_back_to_draft(self, status):
        assert_refused_for_status(notice_in(status), _draft)

    @pytest.mark.parametrize("overrides, field", [
        ({"kind": "通知"}, "kind"), ({"target_units": ()}, "target_units"), ({"problems": ()}, "problems"),
        ({"problems": (problem(), problem(deadline=date(2020, 12, 1), deadline_days=10))}, "problems.1.deadline"),
    ])
    def test_an_incomplete_draft_is_refused(self, overrides, field):
        notice = Notice(NOTICE_ID)
        with pytest.raises(InvalidInput) as refused:
            notice.save_draft(content(**overrides))
        assert refused.value.details["field"] == field and notice.pending == [] and not notice.exists


class TestIssuingANotice:
    def test_a_notice_issued_directly_records_its_content_and_numbered_problems(self):
        notice = Notice(NOTICE_ID)
        [event] = issue_now(notice, content())
        assert isinstance(event, NoticeIssued)
        assert (event.notice_id, event.kind, event.title, event.doc_number, event.issuer_unit) == (
            NOTICE_ID, "督办通知", "关于校舍安全问题整改的督办通知", "巴教督办〔2020〕5号", OFFICE)
        assert (event.target_units, event.copied_units, event.related_task_ids, event.listed) == (
            [BAZHOU, ENYANG], ["巴中市人民政府"], ["plan-1-T1"], False)
        assert event.issued_on == "2020-09-30"
        expected = {"problem_id": "P1", "description": "教学楼存在危房", "requirement": "限期拆除",
                    "responsible_unit": "巴州区教育局", "responsible_person": "张三", "deadline": "2020-12-31",
                    "deadline_rule": None}
        assert {key: event.problems[0].get(key) for key in expected} == expected
        assert [p["problem_id"] for p in event.problems] == ["P1", "P2"]
        assert (notice.status, notice.problem_ids, notice.target_units) == (NoticeStatus.ISSUED, ["P1", "P2"], [BAZHOU, ENYANG])

    def test_a_draft_is_issued_as_saved_with_the_issue_day_as_the_start_of_its_deadlines(self):
        notice = notice_in(NoticeStatus.DRAFT)
        [event] = issue_now(notice, None)
        assert (event.title, event.issued_on) == ("关于校舍安全问题整改的督办通知", "2020-09-30")
        assert event.problems[1]["deadline"] == "2020-10-14"
        assert notice.status == NoticeStatus.ISSUED

    def test_a_draft_saved_earlier_counts_its_days_from_the_day_it_is_issued(self):
        notice = notice_in(NoticeStatus.DRAFT)
        [event] = issue_now(notice, None, today=date(2020, 10, 12))
        assert event.problems[1]["deadline"] == "2020-10-19"  # 5 working days from 12 October, not from saving

    def test_issuing_without_content_or_a_draft_is_refused(self):
        notice = Notice(NOTICE_ID)
        error = assert_refused(notice, lambda n: n.issue(None, today=ISSUED_ON, policy=POLICY))
        assert "没有可下发的草稿" in error.message_zh and not notice.exists

    @pytest.mark.parametrize("status", [NoticeStatus.ISSUED, NoticeStatus.ACKNOWLEDGED, NoticeStatus.CLEARED])
    def test_a_notice_cannot_be_issued_twice(self, status):
        error = assert_refused(notice_in(status), _issue)
        assert "已下发，不能重复下发" in error.message_zh and "already issued" in error.message_en

    @pytest.mark.parametrize("steps", [[_draft, _withdraw], [_issue, _withdraw]], ids=["withdrawn-draft", "withdrawn"])
    def test_a_withdrawn_notice_cannot_be_issued_and_is_not_said_to_be_issued_already(self, steps):
        notice = notice_in(NoticeStatus.WITHDRAWN, *steps)
        for notice_content in (content(), None):
            error = assert_refused(notice, lambda n, c=notice_content: n.issue(c, today=ISSUED_ON, policy=POLICY))
            assert "已撤回" in error.message_zh and "重复下发" not in error.message_zh

    @pytest.mark.parametrize("overrides, field", [
        ({"kind": "督办单"}, "kind"), ({"target_units": ()}, "target_units"), ({"problems": ()}, "problems")])
    def test_an_incomplete_notice_is_not_issued(self, overrides, field):
        notice = Notice(NOTICE_ID)
        with pytest.raises(InvalidInput) as refused:
            issue_now(notice, content(**overrides))
        assert refused.value.details["field"] == field and notice.pending == []


class TestDeadlinesAreFixedAtIssue:
    @staticmethod
    def deadline_of(the_problem: ProblemInput, policy: OfficePolicy = POLICY, today: date = ISSUED_ON) -> tuple:
        [event] = issue_now(Notice(NOTICE_ID), content(problems=(the_problem,)), today=today, policy=policy)
        entry = event.problems[0]
        return entry["deadline"], entry["deadline_rule"]

    def test_an_explicit_date_is_kept_and_has_no_rule(self):
        assert self.deadline_of(problem(deadline=date(2020, 11, 15))) == ("2020-11-15", None)

    def test_a_deadline_on_the_issue_day_itself_is_accepted(self):
        assert self.deadline_of(problem(deadline=ISSUED_ON)) == ("2020-09-30", None)

    def test_working_days_skip_the_national_day_holiday(self):
        assert self.deadline_of(problem(deadline=None, deadline_days=5, deadline_kind=DayKind.WORKING)) == (
            "2020-10-14", {"amount": 5, "kind": "working"})

    def test_calendar_days_count_every_day(self):
        assert self.deadline_of(problem(deadline=None, deadline_days=5, deadline_kind=DayKind.CALENDAR)) == (
            "2020-10-05", {"amount": 5, "kind": "calendar"})

    def test_without_a_deadline_the_offices_rectification_period_applies(self):
        assert self.deadline_of(problem(deadline=None)) == ("2020-10-30", {"amount": 30, "kind": "calendar"})
        working = OfficePolicy(rectification_period=Period(10, DayKind.WORKING))
        assert self.deadline_of(problem(deadline=None), working) == ("2020-10-21", {"amount": 10, "kind": "working"})

    def test_a_deadline_before_the_issue_date_is_refused_naming_the_problem(self):
        notice = Notice(NOTICE_ID)
        with pytest.raises(InvalidInput) as refused:
            issue_now(notice, content(problems=(problem(), problem(deadline=date(2020, 9, 29)))))
        assert refused.value.details["field"] == "problems.1.deadline"
        assert "第2个问题" in refused.value.message_zh and "2020-09-29" in refused.value.message_en
        assert notice.pending == []

    def test_a_working_day_deadline_into_an_unpublished_year_is_fixed_and_marked_provisional(self):
        [event] = issue_now(Notice(NOTICE_ID), content(problems=(
            problem(deadline=None, deadline_days=10, deadline_kind=DayKind.WORKING),
            problem(deadline=date(2027, 3, 1)))), today=date(2026, 12, 28))
        first, second = event.problems
        assert (first["deadline"], first["deadline_provisional"]) == ("2027-01-12", True)  # 元旦 off
        assert second["deadline_provisional"] is False, "a date given by the issuer is not counted"

    def test_a_working_day_deadline_past_every_calendar_is_refused_naming_the_problem(self):
        notice = Notice(NOTICE_ID)
        with pytest.raises(CalendarOutOfRange) as refused:
            issue_now(notice, content(problems=(problem(deadline=None, deadline_days=10, deadline_kind=DayKind.WORKING),)),
                      today=date(2099, 12, 28))
        error = refused.value
        assert isinstance(error, InvalidInput)
        assert (error.code, error.status, error.details["field"]) == ("calendar_out_of_range", 422, "problems.0.deadline")
        assert error.message_zh and error.message_en and notice.pending == []

    def test_a_calendar_day_deadline_beyond_the_official_calendar_is_fine(self):
        assert self.deadline_of(problem(deadline=None, deadline_days=10), today=date(2026, 12, 28))[0] == "2027-01-07"


class TestTheSignForDeadline:
    def test_by_default_it_is_the_offices_sign_for_period_in_working_days(self):
        [event] = issue_now(Notice(NOTICE_ID), content())
        assert event.sign_for_deadline == "2020-10-12"  # 9, 10 (调休) and 12 October

    def test_an_office_may_set_its_own_period(self):
        policy = OfficePolicy(sign_for_period=Period(5, DayKind.CALENDAR))
        [event] = issue_now(Notice(NOTICE_ID), content(), policy=policy)
        assert event.sign_for_deadline == "2020-10-05"

    def test_an_explicit_sign_for_deadline_is_kept(self):
        [event] = issue_now(Notice(NOTICE_ID), content(sign_for_deadline=date(2020, 10, 9)))
        assert event.sign_for_deadline == "2020-10-09"

    def test_a_sign_for_deadline_before_the_issue_date_is_refused(self):
        notice = Notice(NOTICE_ID)
        with pytest.raises(InvalidInput) as refused:
            issue_now(notice, content(sign_for_deadline=date(2020, 9, 29)))
        assert refused.value.details["field"] == "sign_for_deadline" and notice.pending == []

    def test_a_default_sign_for_deadline_into_2027_is_provisional(self):
        # 2026-12-30: 31 Dec, then 元旦 and the weekend, then 4 and 5 January 2027.
        [event] = issue_now(Notice(NOTICE_ID), late_2026(), today=date(2026, 12, 30))
        assert (event.sign_for_deadline, event.sign_for_deadline_provisional) == ("2027-01-05", True)

    def test_a_sign_for_deadline_on_the_published_calendar_is_not_provisional(self):
        [event] = issue_now(Notice(NOTICE_ID), late_2026(), today=date(2026, 12, 1))
        assert event.sign_for_deadline_provisional is False
        given_date = content(problems=late_2026().problems, sign_for_deadline=date(2027, 1, 8))
        [given] = issue_now(Notice(NOTICE_ID), given_date, today=date(2026, 12, 30))
        assert given.sign_for_deadline_provisional is False, "a date given by the issuer is not counted"

    def test_a_default_sign_for_deadline_past_every_calendar_names_its_field(self):
        with pytest.raises(CalendarOutOfRange) as refused:
            issue_now(Notice(NOTICE_ID), content(), today=date(2099, 12, 30))
        assert refused.value.details["field"] == "sign_for_deadline"


class TestSigning:
    def test_the_notice_is_acknowledged_only_when_every_target_unit_has_signed(self):
        notice = notice_in(NoticeStatus.ISSUED)
        [first] = recorded(notice, lambda n: n.sign(unit=BAZHOU, when=StepDate.today(date(2020, 10, 9))))
        assert isinstance(first, NoticeSigned)
        assert (first.notice_id, first.unit, first.signed_on, first.late) == (NOTICE_ID, BAZHOU, "2020-10-09", False)
        assert notice.status == NoticeStatus.ISSUED
        [second] = recorded(notice, lambda n: n.sign(unit=ENYANG, when=StepDate.today(date(2020, 10, 10))))
        assert second.unit == ENYANG and notice.status == NoticeStatus.ACKNOWLEDGED

    @pytest.mark.parametrize("day, late", [(date(2020, 9, 30), False), (date(2020, 10, 12), False), (date(2020, 10, 13), True)])
    def test_signing_after_the_sign_for_deadline_is_recorded_as_late(self, day, late):
        notice = notice_in(NoticeStatus.ISSUED)
        [event] = recorded(notice, lambda n: n.sign(unit=ENYANG, when=StepDate.today(day)))
        assert event.late is late

    @pytest.mark.parametrize("unit", ["通江县人民政府", "巴中市人民政府", None])
    def test_a_unit_that_is_not_a_target_may_not_sign(self, unit):
        error = assert_refused(notice_in(NoticeStatus.ISSUED), lambda n: n.sign(unit=unit, when=StepDate.today(ISSUED_ON)))
        assert "不是该通知的督办对象" in error.message_zh and error.details["unit"] == unit

    def test_a_unit_signs_only_once(self):
        notice = notice_in(NoticeStatus.ISSUED)
        notice.sign(unit=BAZHOU, when=StepDate.today(ISSUED_ON))
        signed = Notice.rehydrate(NOTICE_ID, [*recorded(Notice(NOTICE_ID), _issue), *notice.pending])
        error = assert_refused(signed, lambda n: n.sign(unit=BAZHOU, when=StepDate.today(date(2020, 10, 9))))
        assert "已签收过" in error.message_zh and signed.signed_units == [BAZHOU]

    def test_an_acknowledged_notice_refuses_further_signatures(self):
        notice = notice_in(NoticeStatus.ACKNOWLEDGED)
        error = assert_refused(notice, lambda n: n.sign(unit=ENYANG, when=StepDate.today(ISSUED_ON)))
        assert "已签收过" in error.message_zh

    @pytest.mark.parametrize("status", [NoticeStatus.DRAFT, NoticeStatus.WITHDRAWN, NoticeStatus.CLEARED])
    def test_a_draft_withdrawn_or_cleared_notice_cannot_be_signed_for(self, status):
        assert_refused_for_status(notice_in(status), lambda n: n.sign(unit=BAZHOU, when=StepDate.today(ISSUED_ON)))

    def test_a_notice_that_does_not_exist_cannot_be_signed_for(self):
        error = assert_refused(Notice(NOTICE_ID), lambda n: n.sign(unit=BAZHOU, when=StepDate.today(ISSUED_ON)))
        assert "不存在" in error.message_zh


class TestCheckingTheSignForDeadline:
    @staticmethod
    def check(notice: Notice, day: date) -> list:
        return recorded(notice, lambda n: n.check_sign_deadline(today=day))

    @pytest.mark.parametrize("day", [ISSUED_ON, date(2020, 10, 12)])
    def test_nothing_happens_until_the_deadline_has_passed(self, day):
        assert self.check(notice_in(NoticeStatus.ISSUED), day) == []

    def test_the_units_that_have_not_signed_are_flagged_once(self):
        notice = notice_in(NoticeStatus.ISSUED)
        notice.sign(unit=BAZHOU, when=StepDate.today(date(2020, 10, 9)))
        [event] = self.check(notice, date(2020, 10, 13))
        assert isinstance(event, NoticeSignOverdue)
        assert (event.notice_id, event.deadline, event.unsigned_units) == (NOTICE_ID, "2020-10-12", [ENYANG])
        assert self.check(notice, date(2020, 10, 13)) == []
        assert self.check(notice, date(2020, 10, 30)) == []

    def test_the_flag_survives_reloading(self):
        notice = Notice(NOTICE_ID)
        _issue(notice)
        notice.check_sign_deadline(today=date(2020, 10, 13))
        reloaded = Notice.rehydrate(NOTICE_ID, notice.pending)
        assert reloaded.sign_overdue_flagged and self.check(reloaded, date(2020, 10, 14)) == []

    def test_a_late_signature_after_the_flag_is_still_accepted_and_marked_late(self):
        notice = notice_in(NoticeStatus.ISSUED)
        self.check(notice, date(2020, 10, 13))
        signatures = recorded(notice, _sign_all)
        assert [e.late for e in signatures] == [False, False]  # _sign_all signs on 9 October, before the deadline
        late = recorded(notice_in(NoticeStatus.ISSUED), lambda n: n.sign(unit=BAZHOU, when=StepDate.today(date(2020, 10, 14))))
        assert late[0].late is True and notice.status == NoticeStatus.ACKNOWLEDGED

    @pytest.mark.parametrize("status", [s for s in ALL if s != NoticeStatus.ISSUED])
    def test_a_notice_that_is_not_waiting_for_signatures_is_not_flagged(self, status):
        assert self.check(notice_in(status), date(2020, 12, 31)) == []


class TestRecordingProblemClosures:
    @staticmethod
    def close(notice: Notice, problem_id: str, closed_on: str = "2020-10-20") -> list:
        return recorded(notice, lambda n: n.record_problem_closed(problem_id=problem_id, case_id=f"{NOTICE_ID}:{problem_id}",
                                                                  closed_on=closed_on))

    def test_a_closed_problem_is_recorded_and_the_notice_stays_open_while_others_remain(self):
        notice = notice_in(NoticeStatus.ACKNOWLEDGED)
        [event] = self.close(notice, "P1")
        assert isinstance(event, NoticeProblemClosed)
        assert (event.notice_id, event.problem_id, event.case_id, event.closed_on) == (
            NOTICE_ID, "P1", "notice-1:P1", "2020-10-20")
        assert notice.status == NoticeStatus.ACKNOWLEDGED

    def test_a_redelivered_closure_records_nothing(self):
        notice = notice_in(NoticeStatus.ACKNOWLEDGED)
        self.close(notice, "P1")
        assert self.close(notice, "P1") == []

    def test_the_last_closure_clears_the_notice(self):
        notice = notice_in(NoticeStatus.ACKNOWLEDGED)
        self.close(notice, "P2", "2020-10-15")
        closed, cleared = self.close(notice, "P1", "2020-10-20")
        assert isinstance(closed, NoticeProblemClosed) and isinstance(cleared, NoticeCleared)
        assert (cleared.notice_id, cleared.cleared_on, cleared.problem_ids) == (NOTICE_ID, "2020-10-20", ["P1", "P2"])
        assert notice.status == NoticeStatus.CLEARED

    def test_a_notice_not_yet_signed_by_everyone_is_still_cleared_when_all_problems_are_closed(self):
        notice = notice_in(NoticeStatus.ISSUED)
        self.close(notice, "P1")
        assert types(self.close(notice, "P2")) == [NoticeProblemClosed, NoticeCleared]

    def test_a_notice_whose_problems_are_all_closed_but_which_was_not_cleared_clears_itself(self):
        notice = Notice(NOTICE_ID)
        _issue(notice)
        history = [*notice.pending,
                   NoticeProblemClosed(notice_id=NOTICE_ID, problem_id="P1", case_id="notice-1:P1", closed_on="2020-10-15"),
                   NoticeProblemClosed(notice_id=NOTICE_ID, problem_id="P2", case_id="notice-1:P2", closed_on="2020-10-20")]
        crashed = Notice.rehydrate(NOTICE_ID, history)  # the process died between the two events
        assert crashed.status == NoticeStatus.ISSUED
        [cleared] = self.close(crashed, "P2", "2020-10-20")
        assert isinstance(cleared, NoticeCleared) and crashed.status == NoticeStatus.CLEARED

    def test_a_cleared_notice_records_nothing_for_a_redelivered_closure(self):
        notice = notice_in(NoticeStatus.CLEARED)
        assert self.close(notice, "P1") == [] and self.close(notice, "P2") == []

    def test_a_withdrawn_notice_records_no_closures(self):
        notice = notice_in(NoticeStatus.WITHDRAWN)
        assert self.close(notice, "P1") == [] and notice.status == NoticeStatus.WITHDRAWN

    @pytest.mark.parametrize("status", [NoticeStatus.ISSUED, NoticeStatus.DRAFT])
    def test_a_problem_the_notice_does_not_have_is_refused(self, status):
        notice = notice_in(status)
        with pytest.raises(InvalidInput) as refused:
            self.close(notice, "P9")
        assert "P9" in refused.value.message_zh and notice.pending == []


class TestWithdrawingANotice:
    @pytest.mark.parametrize("status, problem_ids, task_ids", [
        (NoticeStatus.DRAFT, [], []),
        (NoticeStatus.ISSUED, ["P1", "P2"], ["plan-1-T1"]),
        (NoticeStatus.ACKNOWLEDGED, ["P1", "P2"], ["plan-1-T1"]),
    ])
    def test_a_draft_or_live_notice_is_withdrawn_with_the_problems_whose_cases_end_with_it(self, status, problem_ids, task_ids):
        notice = notice_in(status)
        [event] = recorded(notice, lambda n: n.withdraw(reason="通知内容有误"))
        assert isinstance(event, NoticeWithdrawn)
        assert (event.notice_id, event.reason, event.problem_ids, event.related_task_ids) == (
            NOTICE_ID, "通知内容有误", problem_ids, task_ids)
        assert notice.status == NoticeStatus.WITHDRAWN

    @pytest.mark.parametrize("status", [NoticeStatus.CLEARED, NoticeStatus.WITHDRAWN])
    def test_a_cleared_or_withdrawn_notice_cannot_be_withdrawn(self, status):
        assert_refused_for_status(notice_in(status), _withdraw)

    @pytest.mark.parametrize("reason", ["", "   "])
    def test_a_withdrawal_needs_a_reason(self, reason):
        notice = notice_in(NoticeStatus.ISSUED)
        with pytest.raises(InvalidInput) as refused:
            notice.withdraw(reason=reason)
        assert refused.value.details["field"] == "reason" and notice.pending == []


def types(events: list) -> list[type]:
    return [type(e) for e in events]
