"""How followups reacts to other services' events, and its deadline watcher."""
from __future__ import annotations

import logging
from datetime import timedelta

from shared.bus import CommandContext
from shared.clock import Clock
from shared.consumer import EventHandler
from shared.contracts import NoticeIssued, NoticeWithdrawn
from shared.envelope import Actor, EventEnvelope
from shared.errors import DubanError
from shared.service import ServiceContext, Timer
from services.followups.domain.commands import CheckDeadline, OpenRectification, WithdrawCase
from services.followups.domain.model import CaseStatus, case_id_for

log = logging.getLogger(__name__)

SYSTEM_ACTOR = Actor.system("followups")
WATCHER_ACTOR = Actor.system("followups-deadline-watcher")
OPENING_DETAILS = ("requirement", "responsible_person", "area", "deadline_provisional")


def commands_for_notice_issued(event: NoticeIssued) -> list[OpenRectification]:
    """One rectification case per problem of the notice."""
    notice = {"issuer_unit": event.issuer_unit, "notice_title": event.title, "notice_kind": event.kind,
              "doc_number": event.doc_number, "listed": event.listed, "related_task_ids": list(event.related_task_ids),
              "issued_on": event.issued_on, "entered_on": event.entered_on}
    return [
        OpenRectification(
            case_id=case_id_for(event.notice_id, p["problem_id"]), notice_id=event.notice_id,
            problem_id=p["problem_id"], description=p["description"], responsible_unit=p["responsible_unit"],
            deadline=p.get("deadline"), details={**notice, **{k: p.get(k) for k in OPENING_DETAILS if k in p}},
        )
        for p in event.problems
    ]


def commands_for_notice_withdrawn(event: NoticeWithdrawn) -> list[WithdrawCase]:
    return [WithdrawCase(case_id=case_id_for(event.notice_id, problem_id), reason=event.reason)
            for problem_id in event.problem_ids]


def notices_topic_handler(context: ServiceContext) -> EventHandler:
    translate = {
        NoticeIssued.event_type(): lambda data: commands_for_notice_issued(NoticeIssued.from_data(data)),
        NoticeWithdrawn.event_type(): lambda data: commands_for_notice_withdrawn(NoticeWithdrawn.from_data(data)),
    }

    def handle(envelope: EventEnvelope) -> None:
        if envelope.type not in translate:
            return
        command_context = CommandContext.caused_by(envelope, SYSTEM_ACTOR)
        for command in translate[envelope.type](envelope.data):
            context.bus.handle(command, command_context)

    return handle


def reactions(context: ServiceContext) -> dict[str, EventHandler]:
    return {"notices": notices_topic_handler(context)}


def watch_deadlines(context: ServiceContext, clock: Clock) -> int:
    """One pass of the deadline watcher: every case whose clock runs and whose deadline has passed.

    Several workers may run this at once: each check appends at the version it read, so a missed
    deadline is flagged once and the losers simply find it done on their next pass.
    """
    from services.followups.adapters.read_models import CaseView

    today = clock.today().isoformat()
    due = CaseView.objects(status__in=CaseStatus.CLOCK_RUNNING, deadline__lt=today).only("id")
    appended = 0
    for row in due:
        try:
            appended += context.bus.handle(CheckDeadline(case_id=row.id), CommandContext.fresh(WATCHER_ACTOR))
        except DubanError as error:  # one case the rules cannot decide today must not stop the others
            log.warning("deadline check failed", extra={"case_id": row.id, "error": error.message_en})
    if appended:
        log.info("deadline watcher raised events", extra={"events": appended, "today": today})
    return appended


def sweep_unreferenced_evidence(context: ServiceContext, clock: Clock) -> list[str]:
    """Delete 佐证材料 uploaded but named by no step for ``evidence_unreferenced_days`` (abandoned forms)."""
    evidence = context.dependencies.get("evidence")
    if evidence is None:
        return []
    swept = evidence.sweep_unreferenced(clock.now() - timedelta(days=context.settings.evidence_unreferenced_days))
    if swept:
        log.info("deleted uploaded files no step named", extra={"files": swept, "count": len(swept)})
    return swept


def timers(context: ServiceContext) -> dict[str, Timer]:
    clock = context.dependencies["clock"]
    return {"deadline-watcher": Timer(run=lambda: watch_deadlines(context, clock),
                                      interval=context.settings.deadline_watch_seconds),
            "evidence-sweeper": Timer(run=lambda: sweep_unreferenced_evidence(context, clock),
                                      interval=context.settings.evidence_sweep_seconds)}
