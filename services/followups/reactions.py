"""How followups reacts to other services' events: each event becomes commands on its own bus."""
from __future__ import annotations

from shared.bus import CommandContext
from shared.consumer import EventHandler
from shared.contracts import NoticeIssued
from shared.envelope import Actor, EventEnvelope
from shared.service import ServiceContext
from services.followups.domain.commands import OpenRectification
from services.followups.domain.model import case_id_for

SYSTEM_ACTOR = Actor.system("followups")


def commands_for_notice_issued(event: NoticeIssued) -> list[OpenRectification]:
    """One rectification case per problem of the notice."""
    return [
        OpenRectification(
            case_id=case_id_for(event.notice_id, p["problem_id"]), notice_id=event.notice_id,
            problem_id=p["problem_id"], description=p["description"], responsible_unit=p["responsible_unit"],
            deadline=p.get("deadline"),
        )
        for p in event.problems
    ]


def notices_topic_handler(context: ServiceContext) -> EventHandler:
    def handle(envelope: EventEnvelope) -> None:
        if envelope.type != NoticeIssued.event_type():
            return
        event = NoticeIssued.from_data(envelope.data)
        command_context = CommandContext.caused_by(envelope, SYSTEM_ACTOR)
        for command in commands_for_notice_issued(event):
            context.bus.handle(command, command_context)

    return handle


def reactions(context: ServiceContext) -> dict[str, EventHandler]:
    return {"notices": notices_topic_handler(context)}
