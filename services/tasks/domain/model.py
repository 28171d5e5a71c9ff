"""Work plans (工作要点) and the supervision tasks (督导任务) they contain."""
from __future__ import annotations

from datetime import date

from shared.aggregate import Aggregate
from shared.backfill import StepDate, latest_step_on, step_fields
from shared.deadlines import LAST_KNOWN_YEAR
from shared.holidays import LAST_PROVISIONAL_YEAR, published_arrangement
from shared.errors import IllegalTransition, InvalidInput, require_text
from shared.vocabulary import TASK_CATEGORIES, TaskStatus  # noqa: F401 - one vocabulary
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


def task_id_for(plan_id: str, index: int) -> str:
    """Deterministic, so re-running an interrupted RecordPlan completes it instead of duplicating."""
    return f"{plan_id}-T{index}"


class WorkPlan(Aggregate):  # 工作要点
    stream_type = "work_plan"

    def __init__(self, stream_id: str):
        super().__init__(stream_id)
        self.title: str | None = None
        self.task_ids: list[str] = []

    def record(self, *, title: str, year: int | None, issuer: str | None, doc_number: str | None,
               task_count: int) -> None:
        self._check_recordable(task_count)
        self._record(PlanRecorded(
            plan_id=self.id, title=title, year=year, issuer=issuer, doc_number=doc_number,
            task_ids=[task_id_for(self.id, i) for i in range(1, task_count + 1)],
        ))

    def import_from_document(self, *, title: str, year: int | None, issuer: str | None, doc_number: str | None,
                             document_date: str | None, source_sha256: str | None, task_count: int) -> None:
        self._check_recordable(task_count)
        self._record(PlanImported(
            plan_id=self.id, title=title, year=year, issuer=issuer, doc_number=doc_number,
            document_date=document_date, source_sha256=source_sha256,
            task_ids=[task_id_for(self.id, i) for i in range(1, task_count + 1)],
        ))

    def _check_recordable(self, task_count: int) -> None:
        if self.exists:
            raise IllegalTransition(f"plan {self.id} was already recorded", f"工作要点 {self.id} 已录入")
        if task_count == 0:
            raise InvalidInput("a plan needs at least one task", "工作要点至少包含一项任务", field="tasks")

    def apply(self, event) -> None:
        if isinstance(event, (PlanRecorded, PlanImported)):
            self.title = event.title
            self.task_ids = list(event.task_ids)


class Task(Aggregate):  # 督导任务
    stream_type = "task"

    def __init__(self, stream_id: str):
        super().__init__(stream_id)
        self.plan_id: str | None = None
        self.status: str | None = None
        self.lead_unit: str | None = None
        self.linked_notices: dict[str, list[str]] = {}  # notice id -> its matters
        self.withdrawn_notices: set[str] = set()
        self.closed_matters: set[str] = set()
        self.last_step_on: str | None = None  # the business date of the latest progress, completion or cancellation

    def create(self, *, plan_id: str, task: TaskInput) -> None:
        """Create the task; creating an existing one changes nothing (resumable plan recording)."""
        if self.exists:
            return
        if task.category is not None and task.category not in TASK_CATEGORIES:
            raise InvalidInput(f"unknown task category {task.category!r}", f"未知的任务类别：{task.category}",
                               field="category")
        due = task.due_date.isoformat() if isinstance(task.due_date, date) else task.due_date
        self._record(TaskCreated(
            task_id=self.id, plan_id=plan_id, number=task.number, text=task.text, lead_unit=task.lead_unit,
            partner_units=list(task.partner_units), due_date=due, category=task.category, targets=list(task.targets),
        ))

    # -- progress by the lead unit or the office --------------------------------------------------

    def record_progress(self, *, summary: str, percent: int | None, when: StepDate) -> None:
        self._require_open("record progress", "报告进展")
        require_text(summary, "summary", "进展情况")
        if percent is not None and not 0 <= percent <= 100:
            raise InvalidInput("percent must be between 0 and 100", "完成比例应在 0 到 100 之间", field="percent")
        self._record(TaskProgressRecorded(task_id=self.id, summary=summary, percent=percent,
                                          **step_fields(when, self.last_step_on)))

    def complete(self, *, summary: str, when: StepDate) -> None:
        self._require_open("complete it", "标记完成")
        require_text(summary, "summary", "完成情况")
        self._record(TaskCompleted(task_id=self.id, summary=summary, **step_fields(when, self.last_step_on)))

    def cancel(self, *, reason: str, when: StepDate) -> None:
        self._require_open("cancel it", "取消")
        require_text(reason, "reason", "取消理由")
        self._record(TaskCancelled(task_id=self.id, reason=reason, **step_fields(when, self.last_step_on)))

    # -- what other services report (idempotent: redeliveries add nothing) --------------------------

    def link_notice(self, *, notice_id: str, matter_ids: list[str]) -> None:
        if notice_id not in self.linked_notices:
            self._record(TaskNoticeLinked(task_id=self.id, notice_id=notice_id, matter_ids=list(matter_ids)))

    def unlink_withdrawn_notice(self, *, notice_id: str) -> None:
        if notice_id in self.linked_notices and notice_id not in self.withdrawn_notices:
            self._record(TaskNoticeWithdrawn(task_id=self.id, notice_id=notice_id))

    def record_matter_closed(self, *, notice_id: str, matter_id: str, closed_on: str, on_time: bool) -> None:
        if matter_id not in self.closed_matters:
            self._record(TaskMatterClosed(task_id=self.id, notice_id=notice_id, matter_id=matter_id,
                                          closed_on=closed_on, on_time=on_time))

    @property
    def counts(self) -> dict:
        """Notices issued about the task, matters supervised and closed, and the completion rate."""
        return task_counts(self.linked_notices, self.withdrawn_notices, self.closed_matters)

    def apply(self, event) -> None:
        self.last_step_on = latest_step_on(self.last_step_on, event)
        match event:
            case TaskCreated():
                self.plan_id, self.lead_unit = event.plan_id, event.lead_unit
                self.status = TaskStatus.PLANNED
            case TaskProgressRecorded():
                self.status = TaskStatus.IN_PROGRESS
            case TaskCompleted():
                self.status = TaskStatus.DONE
            case TaskCancelled():
                self.status = TaskStatus.CANCELLED
            case TaskNoticeLinked():
                self.linked_notices[event.notice_id] = list(event.matter_ids)
            case TaskNoticeWithdrawn():
                self.withdrawn_notices.add(event.notice_id)
            case TaskMatterClosed():
                self.closed_matters.add(event.matter_id)

    def _require_open(self, action_en: str, action_zh: str) -> None:
        if self.status not in TaskStatus.OPEN:
            label = TaskStatus.LABELS_ZH.get(self.status, self.status)
            raise IllegalTransition(f"cannot {action_en}: task {self.id} is {self.status}",
                                    f"督导任务当前状态为“{label}”，不能{action_zh}", state=self.status)


def task_counts(linked: dict[str, list[str]], withdrawn: set[str], closed: set[str]) -> dict:
    live = {notice: matters for notice, matters in linked.items() if notice not in withdrawn}
    supervised = {m for matters in live.values() for m in matters}
    done = supervised & closed
    return {
        "notices_issued": len(live),
        "matters_supervised": len(supervised),
        "matters_closed": len(done),
        "completion_rate": round(len(done) / len(supervised), 4) if supervised else None,
    }



def holiday_year_id(year: int) -> str:
    return f"holidays-{year}"


class HolidayYear(Aggregate):  # 某年的节假日安排
    """The State Council's published arrangement of one year, as an office records it; recording it again
    corrects it (a new version). Deadlines fixed before stay fixed: only later counting changes."""

    stream_type = "holiday_year"

    def record(self, *, year: int, holidays: list[date], workdays: list[date], source: str) -> None:
        if not LAST_KNOWN_YEAR < year <= LAST_PROVISIONAL_YEAR:
            raise InvalidInput(
                f"only years after {LAST_KNOWN_YEAR} (the official calendar's last) up to {LAST_PROVISIONAL_YEAR} "
                f"can be recorded, got {year}",
                f"只能录入 {LAST_KNOWN_YEAR + 1}–{LAST_PROVISIONAL_YEAR} 年的放假安排（{LAST_KNOWN_YEAR} 年及以前已内置）",
                field="year")
        require_text(source, "source", "发布文号")
        published_arrangement(year, holidays, workdays)  # refuses what cannot be a year's arrangement
        self._record(HolidayArrangementRecorded(year=year, holidays=sorted(d.isoformat() for d in set(holidays)),
                                                workdays=sorted(d.isoformat() for d in set(workdays)), source=source))

    def apply(self, event) -> None:
        pass  # every recording stands on its own; the stream keeps who recorded which version when
