"""Command handlers of the messages service: load, decide, save."""
from __future__ import annotations

from shared.bus import CommandContext, Handler, UnitOfWork
from shared.clock import Clock
from shared.errors import ConcurrencyConflict
from services.messages.domain import commands as c
from services.messages.domain.model import Message


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
    c.RecordSent: record_sent,
    c.RecordFailure: record_failure,
    c.RequeueMessage: requeue_message,
    c.MarkRead: mark_read,
}
