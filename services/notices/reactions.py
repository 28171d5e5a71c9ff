"""How notices reacts to other services' events (closures → 清零), and its sign-for deadline watcher."""
from __future__ import annotations

import logging

from shared.bus import CommandContext
from shared.clock import Clock
from shared.consumer import EventHandler
from shared.contracts import RectificationClosed
from shared.envelope import Actor, EventEnvelope
from shared.service import ServiceContext, Timer
from services.notices.domain.commands import CheckSignDeadline, RecordProblemClosed
from services.notices.domain.model import NoticeStatus

log = logging.getLogger(__name__)

SYSTEM_ACTOR = Actor.system("notices")
WATCHER_ACTOR = Actor.system("notices-sign-for-watcher")


def followups_topic_handler(context: ServiceContext) -> EventHandler:
    def handle(envelope: EventEnvelope) -> None:
        if envelope.type != RectificationClosed.event_type():
            return
        event = RectificationClosed.from_data(envelope.data)
        context.bus.handle(
            RecordProblemClosed(notice_id=event.notice_id, problem_id=event.problem_id, case_id=event.case_id,
                                closed_on=event.closed_on),
            CommandContext.caused_by(envelope, SYSTEM_ACTOR),
        )

    return handle


def reactions(context: ServiceContext) -> dict[str, EventHandler]:
    return {"followups": followups_topic_handler(context)}


def watch_sign_deadlines(context: ServiceContext, clock: Clock) -> int:
    """One pass: flag issued notices still not signed by every target unit after the sign-for deadline."""
    from services.notices.adapters.read_models import NoticeView

    today = clock.today().isoformat()
    late = NoticeView.objects(status=NoticeStatus.ISSUED, sign_overdue=False, sign_for_deadline__lt=today).only("id")
    flagged = sum(context.bus.handle(CheckSignDeadline(row.id), CommandContext.fresh(WATCHER_ACTOR)) for row in late)
    if flagged:
        log.info("sign-for watcher flagged notices", extra={"notices": flagged, "today": today})
    return flagged


def timers(context: ServiceContext) -> dict[str, Timer]:
    clock = context.dependencies["clock"]
    return {"sign-for-watcher": Timer(run=lambda: watch_sign_deadlines(context, clock),
                                      interval=context.settings.deadline_watch_seconds)}
