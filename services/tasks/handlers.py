"""Command handlers of the tasks service."""
from __future__ import annotations

import logging
import uuid

from shared.auth import Role, require_own_unit
from shared.backfill import StepDate, step_date
from shared.bus import CommandContext, Handler, UnitOfWork, check_expected_version
from shared.clock import Clock
from shared.errors import ConcurrencyConflict, RetryLater
from services.tasks.domain.commands import (
    CancelTask,
    CompleteTask,
    ImportPlan,
    LinkNotice,
    RecordMatterClosed,
    RecordHolidayArrangement,
    RecordPlan,
    RecordTaskProgress,
    TaskInput,
    UnlinkWithdrawnNotice,
)
from services.tasks.domain.model import HolidayYear, Task, WorkPlan, holiday_year_id

log = logging.getLogger(__name__)


def record_plan(command: RecordPlan, uow: UnitOfWork, context: CommandContext) -> str:
    """Record a plan typed in by hand, then one task stream per measure."""
    plan = uow.get(WorkPlan, command.plan_id or f"plan-{uuid.uuid4()}")
    plan.record(title=command.title, year=command.year, issuer=command.issuer, doc_number=command.doc_number,
                task_count=len(command.tasks))
    uow.save(plan, context)
    _create_tasks(plan, command.tasks, uow, context)
    return plan.id


def import_plan(command: ImportPlan, uow: UnitOfWork, context: CommandContext) -> str:
    """Record a plan confirmed from an imported document (PlanImported), then its tasks."""
    plan = uow.get(WorkPlan, command.plan_id or f"plan-{uuid.uuid4()}")
    plan.import_from_document(
        title=command.title, year=command.year, issuer=command.issuer, doc_number=command.doc_number,
        document_date=command.document_date.isoformat() if command.document_date else None,
        source_sha256=command.source_sha256, task_count=len(command.tasks),
    )
    uow.save(plan, context)
    _create_tasks(plan, command.tasks, uow, context)
    return plan.id


def _create_tasks(plan: WorkPlan, tasks: tuple[TaskInput, ...], uow: UnitOfWork, context: CommandContext) -> None:
    """Each task is its own stream and its own atomic write; ids are deterministic, so a rerun completes."""
    for task_id, task_input in zip(plan.task_ids, tasks, strict=True):
        task = uow.get(Task, task_id)
        task.create(plan_id=plan.id, task=task_input)
        uow.save(task, context)


def _load_task(uow: UnitOfWork, command, context: CommandContext) -> Task:
    task = uow.load(Task, command.task_id, "task", "督导任务")
    require_own_unit(context.actor, task.lead_unit, what_zh="该任务")  # a unit handler reports only on its own unit's tasks
    check_expected_version(task, command.expected_version)
    return task


def _when(command, context: CommandContext, clock: Clock) -> StepDate:
    """A task's steps are the lead unit's or the office's; backdating them is the office's (补录)."""
    return step_date(command.occurred_on, command.backfill_reason, today=clock.today(), actor=context.actor,
                     performers=(Role.OFFICE_STAFF, Role.UNIT_HANDLER))


def record_task_progress(command: RecordTaskProgress, uow: UnitOfWork, context: CommandContext, clock: Clock) -> str:
    task = _load_task(uow, command, context)
    task.record_progress(summary=command.summary, percent=command.percent, when=_when(command, context, clock))
    uow.save(task, context)
    return task.id


def complete_task(command: CompleteTask, uow: UnitOfWork, context: CommandContext, clock: Clock) -> str:
    task = _load_task(uow, command, context)
    task.complete(summary=command.summary, when=_when(command, context, clock))
    uow.save(task, context)
    return task.id


def cancel_task(command: CancelTask, uow: UnitOfWork, context: CommandContext, clock: Clock) -> str:
    task = _load_task(uow, command, context)
    task.cancel(reason=command.reason, when=_when(command, context, clock))
    uow.save(task, context)
    return task.id


def _react_on_task(uow: UnitOfWork, context: CommandContext, task_id: str, decide) -> None:
    """Apply another service's news to a task; an unknown task is logged (the notice named a wrong id)."""
    task = uow.get(Task, task_id)
    if not task.exists:
        log.warning("event names a task that does not exist", extra={"task_id": task_id})
        return
    decide(task)
    try:
        uow.save(task, context)
    except ConcurrencyConflict as conflict:
        # News about one task arrives from two topics at once: reload and decide again.
        raise RetryLater(f"task {task_id} changed meanwhile", "督导任务正在更新，稍后重试") from conflict


def link_notice(command: LinkNotice, uow: UnitOfWork, context: CommandContext) -> None:
    _react_on_task(uow, context, command.task_id,
                   lambda task: task.link_notice(notice_id=command.notice_id, matter_ids=list(command.matter_ids)))


def unlink_withdrawn_notice(command: UnlinkWithdrawnNotice, uow: UnitOfWork, context: CommandContext) -> None:
    _react_on_task(uow, context, command.task_id, lambda task: task.unlink_withdrawn_notice(notice_id=command.notice_id))


def record_matter_closed(command: RecordMatterClosed, uow: UnitOfWork, context: CommandContext) -> None:
    _react_on_task(uow, context, command.task_id, lambda task: task.record_matter_closed(
        notice_id=command.notice_id, matter_id=command.matter_id, closed_on=command.closed_on, on_time=command.on_time))


def record_holiday_arrangement(command: RecordHolidayArrangement, uow: UnitOfWork, context: CommandContext) -> str:
    year = uow.get(HolidayYear, holiday_year_id(command.year))
    check_expected_version(year, command.expected_version)
    year.record(year=command.year, holidays=list(command.holidays), workdays=list(command.workdays),
                source=command.source)
    uow.save(year, context)
    return year.id


HANDLERS: dict[type, Handler] = {
    RecordPlan: record_plan,
    ImportPlan: import_plan,
    RecordTaskProgress: record_task_progress,
    CompleteTask: complete_task,
    CancelTask: cancel_task,
    LinkNotice: link_notice,
    UnlinkWithdrawnNotice: unlink_withdrawn_notice,
    RecordMatterClosed: record_matter_closed,
    RecordHolidayArrangement: record_holiday_arrangement,
}
