"""The supervision task (督导任务): planned → in_progress → done | cancelled, and what notices say about it."""
from __future__ import annotations

from datetime import date
from typing import Callable

import pytest

from shared.backfill import StepDate
from shared.errors import IllegalTransition, InvalidInput
from services.tasks.domain.commands import TaskInput
from services.tasks.domain.events import (
    HolidayArrangementRecorded,
    PlanImported,
    PlanRecorded,
    TaskCancelled,
    TaskCompleted,
    TaskCreated,
    TaskMatterClosed,
    TaskNoticeLinked,
    TaskNoticeWithdrawn,
    TaskProgressRecorded,
)
from services.tasks.domain.model import (
    TASK_CATEGORIES,
    HolidayYear,
    Task,
    TaskStatus,
    WorkPlan,
    holiday_year_id,
    task_counts,
    task_id_for,
)

ON = StepDate.today(date(2026, 3, 2))  # each step recorded on the day it happened

TASK_ID = task_id_for("plan-1", 1)
ALL = TaskStatus.ALL
TASK = TaskInput("1", "全面排查校舍安全隐患", lead_unit="巴州区教育局", partner_units=("巴州区住建局",),
                 due_date=date(2020, 12, 31), category="督政", targets=("危房拆除率达到100%",))


def recorded(task: Task, act: Callable[[Task], None]) -> list:
    before = len(task.pending)
    act(task)
    return task.pending[before:]


def _progress(task: Task) -> None:
    task.record_progress(summary="已完成排查", percent=40, when=ON)


def _complete(task: Task) -> None:
    task.complete(summary="隐患全部整改", when=ON)


def _cancel(task: Task) -> None:
    task.cancel(reason="任务合并", when=ON)


STEPS_TO = {
    TaskStatus.PLANNED: [],
    TaskStatus.IN_PROGRESS: [_progress],
    TaskStatus.DONE: [_progress, _complete],
    TaskStatus.CANCELLED: [_cancel],
}


def created(task_input: TaskInput = TASK) -> Task:
    task = Task(TASK_ID)
    task.create(plan_id="plan-1", task=task_input)
    return task


def task_in(status: str) -> Task:
    task = created()
    for step in STEPS_TO[status]:
        step(task)
    loaded = Task.rehydrate(TASK_ID, task.pending)
    assert (loaded.status, loaded.pending) == (status, [])
    return loaded


def assert_refused(task: Task, act: Callable[[Task], None]) -> None:
    status = task.status
    with pytest.raises(IllegalTransition) as refused:
        act(task)
    error = refused.value
    assert error.status == 409 and f"task {TASK_ID} is {status}" in error.message_en
    assert f"当前状态为“{TaskStatus.LABELS_ZH[status]}”" in error.message_zh and "不能" in error.message_zh
    assert (task.pending, task.status) == ([], status)


OPEN = [s for s in ALL if s in TaskStatus.OPEN]
CLOSED = [s for s in ALL if s not in TaskStatus.OPEN]


class TestCreatingATask:
    def test_a_task_is_created_planned_with_its_units_due_date_category_and_targets(self):
        task = created()
        [event] = task.pending
        assert isinstance(event, TaskCreated)
        assert (event.task_id, event.plan_id, event.number, event.text, event.lead_unit) == (
            "plan-1-T1", "plan-1", "1", "全面排查校舍安全隐患", "巴州区教育局")
        assert (event.partner_units, event.due_date, event.category, event.targets) == (
            ["巴州区住建局"], "2020-12-31", "督政", ["危房拆除率达到100%"])
        assert (task.status, task.lead_unit, task.plan_id) == (TaskStatus.PLANNED, "巴州区教育局", "plan-1")

    @pytest.mark.parametrize("category", [*TASK_CATEGORIES, None])
    def test_every_known_category_or_none_is_accepted(self, category):
        assert created(TaskInput("1", "措施", category=category)).pending[0].category == category

    @pytest.mark.parametrize("category", ["督导", "", "other"])
    def test_an_unknown_category_is_refused(self, category):
        task = Task(TASK_ID)
        with pytest.raises(InvalidInput) as refused:
            task.create(plan_id="plan-1", task=TaskInput("1", "措施", category=category))
        assert refused.value.details["field"] == "category" and task.pending == [] and not task.exists

    def test_creating_an_existing_task_again_records_nothing(self):
        task = task_in(TaskStatus.IN_PROGRESS)
        assert recorded(task, lambda t: t.create(plan_id="plan-2", task=TaskInput("9", "别的"))) == []
        assert task.plan_id == "plan-1"


class TestRecordingAPlan:
    def test_a_plan_names_one_deterministic_task_id_per_task(self):
        plan = WorkPlan("plan-1")
        plan.record(title="2020年工作要点", year=2020, issuer="省教育厅", doc_number="川教〔2020〕1号", task_count=2)
        [event] = plan.pending
        assert isinstance(event, PlanRecorded) and event.task_ids == ["plan-1-T1", "plan-1-T2"]

    def test_an_imported_plan_keeps_the_source_document(self):
        plan = WorkPlan("plan-1")
        plan.import_from_document(title="要点", year=2020, issuer=None, doc_number=None, document_date="2020-03-01",
                                  source_sha256="ab" * 32, task_count=1)
        [event] = plan.pending
        assert isinstance(event, PlanImported) and (event.document_date, event.task_ids) == ("2020-03-01", ["plan-1-T1"])

    def test_a_plan_is_recorded_only_once_and_needs_a_task(self):
        plan = WorkPlan("plan-1")
        with pytest.raises(InvalidInput):
            plan.record(title="空", year=None, issuer=None, doc_number=None, task_count=0)
        plan.record(title="要点", year=None, issuer=None, doc_number=None, task_count=1)
        with pytest.raises(IllegalTransition):
            plan.import_from_document(title="要点", year=None, issuer=None, doc_number=None, document_date=None,
                                      source_sha256=None, task_count=1)
        assert len(plan.pending) == 1


class TestRecordingProgress:
    @pytest.mark.parametrize("status", OPEN)
    def test_progress_on_an_open_task_puts_it_in_progress(self, status):
        task = task_in(status)
        [event] = recorded(task, _progress)
        assert isinstance(event, TaskProgressRecorded)
        assert (event.task_id, event.summary, event.percent) == (TASK_ID, "已完成排查", 40)
        assert task.status == TaskStatus.IN_PROGRESS

    @pytest.mark.parametrize("status", CLOSED)
    def test_progress_on_a_done_or_cancelled_task_is_refused(self, status):
        assert_refused(task_in(status), _progress)

    @pytest.mark.parametrize("percent", [0, 55, 100, None])
    def test_a_percentage_from_0_to_100_or_none_is_accepted(self, percent):
        [event] = recorded(task_in(TaskStatus.PLANNED), lambda t: t.record_progress(summary="进展", percent=percent, when=ON))
        assert event.percent == percent

    @pytest.mark.parametrize("percent", [-1, 101, 1000])
    def test_a_percentage_outside_0_to_100_is_refused(self, percent):
        task = task_in(TaskStatus.IN_PROGRESS)
        with pytest.raises(InvalidInput) as refused:
            task.record_progress(summary="进展", percent=percent, when=ON)
        assert refused.value.details["field"] == "percent" and task.pending == []

    def test_progress_needs_a_summary(self):
        with pytest.raises(InvalidInput) as refused:
            task_in(TaskStatus.PLANNED).record_progress(summary="  ", percent=10, when=ON)
        assert refused.value.details["field"] == "summary"


class TestCompletingATask:
    @pytest.mark.parametrize("status", OPEN)
    def test_an_open_task_is_completed(self, status):
        task = task_in(status)
        [event] = recorded(task, _complete)
        assert isinstance(event, TaskCompleted) and event.summary == "隐患全部整改"
        assert task.status == TaskStatus.DONE

    @pytest.mark.parametrize("status", CLOSED)
    def test_a_done_or_cancelled_task_cannot_be_completed(self, status):
        assert_refused(task_in(status), _complete)

    def test_completion_needs_a_summary(self):
        with pytest.raises(InvalidInput) as refused:
            task_in(TaskStatus.IN_PROGRESS).complete(summary="", when=ON)
        assert refused.value.details["field"] == "summary"


class TestCancellingATask:
    @pytest.mark.parametrize("status", OPEN)
    def test_an_open_task_is_cancelled_with_its_reason(self, status):
        task = task_in(status)
        [event] = recorded(task, _cancel)
        assert isinstance(event, TaskCancelled) and event.reason == "任务合并"
        assert task.status == TaskStatus.CANCELLED

    @pytest.mark.parametrize("status", CLOSED)
    def test_a_done_or_cancelled_task_cannot_be_cancelled(self, status):
        assert_refused(task_in(status), _cancel)

    def test_a_cancellation_needs_a_reason(self):
        with pytest.raises(InvalidInput) as refused:
            task_in(TaskStatus.PLANNED).cancel(reason=" ", when=ON)
        assert refused.value.details["field"] == "reason"


class TestFollowingTheNoticesAboutATask:
    """Reactions to other services' events: redeliveries add nothing, and the task's status does not matter."""

    @staticmethod
    def link(notice_id: str, *matters: str):
        return lambda t: t.link_notice(notice_id=notice_id, matter_ids=list(matters))

    @staticmethod
    def close(notice_id: str, matter: str, on_time: bool = True):
        return lambda t: t.record_matter_closed(notice_id=notice_id, matter_id=matter, closed_on="2020-10-20", on_time=on_time)

    @pytest.mark.parametrize("status", ALL)
    def test_a_notice_is_linked_once_with_its_matters(self, status):
        task = task_in(status)
        [event] = recorded(task, self.link("n1", "n1:P1", "n1:P2"))
        assert isinstance(event, TaskNoticeLinked) and (event.notice_id, event.matter_ids) == ("n1", ["n1:P1", "n1:P2"])
        assert recorded(task, self.link("n1", "n1:P1", "n1:P2")) == []
        assert task.status == status

    def test_a_withdrawn_notice_is_unlinked_once(self):
        task = task_in(TaskStatus.IN_PROGRESS)
        recorded(task, self.link("n1", "n1:P1"))
        [event] = recorded(task, lambda t: t.unlink_withdrawn_notice(notice_id="n1"))
        assert isinstance(event, TaskNoticeWithdrawn) and event.notice_id == "n1"
        assert recorded(task, lambda t: t.unlink_withdrawn_notice(notice_id="n1")) == []

    def test_withdrawing_a_notice_that_was_never_linked_records_nothing(self):
        assert recorded(task_in(TaskStatus.PLANNED), lambda t: t.unlink_withdrawn_notice(notice_id="n9")) == []

    def test_a_closed_matter_is_recorded_once_with_whether_it_was_on_time(self):
        task = task_in(TaskStatus.IN_PROGRESS)
        recorded(task, self.link("n1", "n1:P1"))
        [event] = recorded(task, self.close("n1", "n1:P1", on_time=False))
        assert isinstance(event, TaskMatterClosed)
        assert (event.notice_id, event.matter_id, event.closed_on, event.on_time) == ("n1", "n1:P1", "2020-10-20", False)
        assert recorded(task, self.close("n1", "n1:P1")) == []

    def test_the_counts_and_completion_rate_follow_linked_withdrawn_and_closed_matters(self):
        task = task_in(TaskStatus.IN_PROGRESS)
        assert task.counts == {"notices_issued": 0, "matters_supervised": 0, "matters_closed": 0, "completion_rate": None}
        for act in (self.link("n1", "n1:P1", "n1:P2"), self.link("n2", "n2:P1"), self.close("n1", "n1:P1")):
            act(task)
        assert task.counts == {"notices_issued": 2, "matters_supervised": 3, "matters_closed": 1, "completion_rate": 0.3333}
        task.record_matter_closed(notice_id="n2", matter_id="n2:P1", closed_on="2020-10-21", on_time=True)
        task.unlink_withdrawn_notice(notice_id="n2")  # its closed matter no longer counts
        assert task.counts == {"notices_issued": 1, "matters_supervised": 2, "matters_closed": 1, "completion_rate": 0.5}
        task.record_matter_closed(notice_id="n1", matter_id="n1:P2", closed_on="2020-10-22", on_time=True)
        assert task.counts["completion_rate"] == 1.0

    def test_the_counts_survive_reloading(self):
        task = created()
        for act in (self.link("n1", "n1:P1", "n1:P2"), self.close("n1", "n1:P2")):
            act(task)
        assert Task.rehydrate(TASK_ID, task.pending).counts == task.counts == {
            "notices_issued": 1, "matters_supervised": 2, "matters_closed": 1, "completion_rate": 0.5}

    def test_a_matter_closed_before_its_notice_was_linked_counts_once_it_is(self):
        counts = task_counts({"n1": ["n1:P1"]}, set(), {"n1:P1", "stray"})
        assert (counts["matters_closed"], counts["completion_rate"]) == (1, 1.0)


class TestRecordingAYearsHolidayArrangement:
    def test_a_later_year_is_recorded_with_its_source_and_sorted_dates(self):
        year = HolidayYear(holiday_year_id(2027))
        year.record(year=2027, holidays=[date(2027, 1, 4), date(2027, 1, 1)], workdays=[date(2027, 1, 10)],
                    source="国办发明电〔2026〕99号")
        [event] = year.pending
        assert isinstance(event, HolidayArrangementRecorded)
        assert (event.year, event.holidays, event.workdays) == (2027, ["2027-01-01", "2027-01-04"], ["2027-01-10"])
        assert year.id == "holidays-2027"

    @pytest.mark.parametrize("year, source, field", [
        (2026, "国办发明电〔2025〕7号", "year"),  # built in: chinese-calendar has it
        (2100, "国办发明电〔2099〕1号", "year"),
        (2027, "  ", "source"),
    ])
    def test_a_built_in_year_a_year_past_2099_or_no_source_is_refused(self, year, source, field):
        holiday_year = HolidayYear(holiday_year_id(year))
        with pytest.raises(InvalidInput) as refused:
            holiday_year.record(year=year, holidays=[date(year, 1, 1)], workdays=[], source=source)
        assert refused.value.details["field"] == field and holiday_year.pending == []


class TestBackfilledTaskSteps:
    """补录 of a task's steps: the day it happened, never before the task's previous step."""

    def test_progress_keeps_its_day_and_an_earlier_one_than_the_last_is_refused(self):
        task = task_in(TaskStatus.PLANNED)
        backfilled = StepDate(date(2026, 3, 10), date(2026, 11, 30), "纸质进展报告补录")
        [event] = recorded(task, lambda t: t.record_progress(summary="已完成排查", percent=40, when=backfilled))
        assert (event.occurred_on, event.backfill["reason"], event.backfill["recorded_on"]) == (
            "2026-03-10", "纸质进展报告补录", "2026-11-30")
        with pytest.raises(InvalidInput) as refused:
            task.complete(summary="完成", when=StepDate(date(2026, 3, 9), date(2026, 11, 30), "补录"))
        assert refused.value.details["field"] == "occurred_on" and "上一步骤" in refused.value.message_zh
