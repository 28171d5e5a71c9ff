"""Command handlers of the messages service: load, decide, save."""
from __future__ import annotations

import logging

from shared.bus import CommandContext, Handler, UnitOfWork
from shared.clock import Clock
from shared.errors import ConcurrencyConflict
from services.messages.domain import commands as c
from services.messages.domain.model import DeliveryState, Message

log = logging.getLogger(__name__)


def queue_message(command: c.QueueMessage, uow: UnitOfWork, context: CommandContext) -> str | None:
    """The message's id if this call queued it; None if it was queued before (by this event earlier, or another
    worker): a message is queued once however often its cause arrives."""
    # Not read first: a new stream is appended at version 0, and a stream that exists refuses that append — one
    # round trip fewer for each of the many messages a finding asks for.
    message = Message(command.draft.message_id)
    message.queue(command.draft)
    try:
        uow.save(message, context)
    except ConcurrencyConflict:
        return None  # queued before (this event earlier, or another worker a moment ago)
    return message.id


def claim_delivery(command: c.ClaimDelivery, uow: UnitOfWork, context: CommandContext, clock: Clock) -> int | None:
    """The attempt number this worker now holds, or None (not due, sent meanwhile, or claimed by another worker)."""
    message = uow.load(Message, command.message_id, "message", "消息")
    attempt = message.claim(clock.now())
    if attempt is None:
        return None
    try:
        uow.save(message, context)
    except ConcurrencyConflict:
        return None  # another worker claimed it first: it sends, this one does not
    return attempt


def claim_deliveries(command: c.ClaimDeliveries, uow: UnitOfWork, context: CommandContext,
                     clock: Clock) -> dict[str, DeliveryState]:
    """Claim many messages in one append: each is decided from its read-model row's state and appended after the
    row's version; a message whose stream moved on since (the row is behind, or another worker claimed it) is
    decided again from its stream. Returns each claimed message's state after the claim (its attempt number
    included), for RecordOutcomes."""
    now = clock.now()
    known = [state for state in command.states if state.attempts_before_requeue is not None]
    wanted = [m for m in (Message.resume(state) for state in known) if m.claim(now) is not None]
    # Not projected here: the outcome's row update sets all the claim would (one update per delivery, not two);
    # a claim whose outcome never comes reaches the row from the topic, and its lease then runs out.
    saved = uow.save_each(wanted, context, project=False)
    claimed = [message for message, ok in zip(wanted, saved, strict=True) if ok]
    # the rest from their streams: those whose rows were behind, and those a row cannot tell (after a requeue)
    again = [m.id for m, ok in zip(wanted, saved, strict=True) if not ok]
    again += [state.message_id for state in command.states if state.attempts_before_requeue is None]
    for message_id in again:
        current = uow.load(Message, message_id, "message", "消息")
        if current.claim(now) is None:
            continue  # sent, or held by another worker
        try:
            uow.save(current, context)
        except ConcurrencyConflict:
            continue  # another worker claimed it first: it sends, this one does not
        claimed.append(current)
    return {m.id: m.state() for m in claimed}


def record_outcomes(command: c.RecordOutcomes, uow: UnitOfWork, context: CommandContext, clock: Clock) -> int:
    """Record what the channels made of the claimed messages, in one append; returns how many were recorded.

    A claim whose lease ran out and was taken over meanwhile is not recorded (the other worker sends it again,
    with the same Message-ID)."""
    now = clock.now()
    messages: list[Message] = []
    for outcome in command.outcomes:
        message = Message.resume(outcome.state)
        if outcome.error is None:
            message.sent(message.attempts, outcome.answer or "", now)
        else:
            message.failed(message.attempts, outcome.error, outcome.retryable, now)
        messages.append(message)
    recorded = uow.save_each(messages, context)
    for message, saved in zip(messages, recorded, strict=True):
        if not saved:
            log.warning("a delivery's claim was taken over before its outcome was recorded", extra={"message_id": message.id})
    return sum(recorded)


def record_sent(command: c.RecordSent, uow: UnitOfWork, context: CommandContext, clock: Clock) -> str:
    message = uow.load(Message, command.message_id, "message", "消息")
    message.sent(command.attempt, command.answer, clock.now())
    uow.save(message, context)
    return message.id


def record_failure(command: c.RecordFailure, uow: UnitOfWork, context: CommandContext, clock: Clock) -> str:
    message = uow.load(Message, command.message_id, "message", "消息")
    message.failed(command.attempt, command.error, command.retryable, clock.now())
    uow.save(message, context)
    return message.id


def requeue_message(command: c.RequeueMessage, uow: UnitOfWork, context: CommandContext) -> str:
    message = uow.load(Message, command.message_id, "message", "消息")
    message.requeue(command.reason)
    uow.save(message, context)
    return message.id


def mark_read(command: c.MarkRead, uow: UnitOfWork, context: CommandContext, clock: Clock) -> str:
    message = uow.load(Message, command.message_id, "message", "消息")
    message.read(context.actor.user_id, clock.now())
    uow.save(message, context)
    return message.id


HANDLERS: dict[type, Handler] = {
    c.QueueMessage: queue_message,
    c.ClaimDelivery: claim_delivery,
    c.ClaimDeliveries: claim_deliveries,
    c.RecordOutcomes: record_outcomes,
    c.RecordSent: record_sent,
    c.RecordFailure: record_failure,
    c.RequeueMessage: requeue_message,
    c.MarkRead: mark_read,
}
