"""Command handlers of the tasks service."""
from __future__ import annotations

import uuid

from shared.bus import CommandContext, Handler, UnitOfWork
from services.tasks.domain.commands import ImportPlan, RecordPlan, TaskInput
from services.tasks.domain.model import Task, WorkPlan


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


HANDLERS: dict[type, Handler] = {
    RecordPlan: record_plan,
    ImportPlan: import_plan,
}
