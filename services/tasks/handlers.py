"""Command handlers of the tasks service."""
from __future__ import annotations

import uuid

from shared.bus import CommandContext, Handler, UnitOfWork
from services.tasks.domain.commands import RecordPlan
from services.tasks.domain.model import Task, WorkPlan


def record_plan(command: RecordPlan, uow: UnitOfWork, context: CommandContext) -> str:
    """Record the plan, then one task stream per measure (each append is its own atomic write)."""
    plan = uow.get(WorkPlan, command.plan_id or f"plan-{uuid.uuid4()}")
    plan.record(title=command.title, year=command.year, issuer=command.issuer, doc_number=command.doc_number,
                task_count=len(command.tasks))
    uow.save(plan, context)
    for task_id, task_input in zip(plan.task_ids, command.tasks, strict=True):
        task = uow.get(Task, task_id)
        task.create(plan_id=plan.id, task=task_input)
        uow.save(task, context)
    return plan.id


HANDLERS: dict[type, Handler] = {
    RecordPlan: record_plan,
}
