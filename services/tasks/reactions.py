"""How tasks follows the notices and rectifications about its tasks (per-task counts and completion rate)."""
from __future__ import annotations

from shared.bus import CommandContext
from shared.consumer import EventHandler
from shared.contracts import NoticeIssued, NoticeWithdrawn, RectificationClosed
from shared.envelope import Actor, EventEnvelope
from shared.service import ServiceContext
from services.tasks.domain.commands import LinkNotice, RecordMatterClosed, UnlinkWithdrawnNotice

SYSTEM_ACTOR = Actor.system("tasks")


def matter_id(notice_id: str, problem_id: str) -> str:
    """A supervised matter (督办事项) is one problem of one notice."""
    return f"{notice_id}:{problem_id}"


def commands_for(envelope: EventEnvelope) -> list:
    if envelope.type == NoticeIssued.event_type():
        issued = NoticeIssued.from_data(envelope.data)
        matters = tuple(matter_id(issued.notice_id, p["problem_id"]) for p in issued.problems)
        return [LinkNotice(task_id, issued.notice_id, matters) for task_id in issued.related_task_ids]
    if envelope.type == NoticeWithdrawn.event_type():
        withdrawn = NoticeWithdrawn.from_data(envelope.data)
        return [UnlinkWithdrawnNotice(task_id, withdrawn.notice_id) for task_id in withdrawn.related_task_ids]
    if envelope.type == RectificationClosed.event_type():
        closed = RectificationClosed.from_data(envelope.data)
        return [RecordMatterClosed(task_id, closed.notice_id, matter_id(closed.notice_id, closed.problem_id),
                                   closed.closed_on, closed.on_time) for task_id in closed.related_task_ids]
    return []


def topic_handler(context: ServiceContext) -> EventHandler:
    def handle(envelope: EventEnvelope) -> None:
        command_context = CommandContext.caused_by(envelope, SYSTEM_ACTOR)
        for command in commands_for(envelope):
            context.bus.handle(command, command_context)

    return handle


def reactions(context: ServiceContext) -> dict[str, EventHandler]:
    handler = topic_handler(context)
    return {"notices": handler, "followups": handler}
