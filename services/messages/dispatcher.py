"""Sending what is due: claim a message (an event: only one worker holds it), hand it to its channel, record the
outcome (sent with the gateway's answer, or failed with the error and when to retry).

A worker killed between the gateway's acceptance and the record leaves a claim whose lease runs out; the message is
then sent again, carrying the same Message-ID / X-Duban-Message-Id so a receiver can tell (at least once across a
crash in that window; exactly once otherwise: claims keep two workers and a redelivered event from sending twice).
"""
from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from shared.bus import CommandContext
from shared.clock import Clock
from shared.envelope import Actor
from shared.service import ServiceContext
from services.messages.adapters.channels import Channel, DeliveryError, Outgoing
from services.messages.adapters.read_models import MessageView
from services.messages.domain.commands import ClaimDelivery, RecordFailure, RecordSent
from services.messages.domain.model import Status

log = logging.getLogger(__name__)

DISPATCHER = Actor.system("messages-dispatcher")
BATCH = 200  # messages looked at per pass; the rest wait for the next one
SENDERS = 8  # messages handed to their channels at once


def _at(moment: str) -> datetime:
    return datetime.fromisoformat(moment)


class Dispatcher:
    def __init__(self, context: ServiceContext, channels: dict[str, Channel], clock: Clock, portal_url: str,
                 senders: int = SENDERS):
        self.context, self.channels, self.clock, self.senders = context, channels, clock, senders
        self.portal_url = portal_url.rstrip("/")

    def due(self, now: datetime) -> list[MessageView]:
        """Queued and retrying messages whose time has come, and claims whose lease ran out, oldest first."""
        rows = [row for status in (Status.QUEUED, Status.RETRYING) for row in MessageView.objects(status=status)
                if not row.due_at or _at(row.due_at) <= now]
        rows += [row for row in MessageView.objects(status=Status.SENDING) if row.lease_until and _at(row.lease_until) <= now]
        return sorted(rows, key=lambda row: (_at(row.due_at) if row.due_at else now, row.queued_at))[:BATCH]

    def run_once(self) -> int:
        """One pass; returns how many messages were handed to a channel.

        Several at a time: each one waits mostly on the database and the gateway, and its claim keeps it to one
        sender however many threads (or workers) look at it."""
        rows = self.due(self.clock.now())
        if len(rows) <= 1 or self.senders <= 1:
            return sum(self.deliver(row) for row in rows)
        with ThreadPoolExecutor(max_workers=self.senders, thread_name_prefix="message-sender") as pool:
            return sum(pool.map(self._deliver_safely, rows))

    def _deliver_safely(self, row: MessageView) -> int:
        try:
            return self.deliver(row)
        except Exception:  # noqa: BLE001 - one message's database trouble must not lose the others' outcomes
            log.exception("a delivery could not be recorded; its claim runs out and it is tried again",
                          extra={"message_id": row.id})
            return 0

    def deliver(self, row: MessageView) -> int:
        bus, context = self.context.bus, CommandContext.fresh(DISPATCHER)
        attempt = bus.handle(ClaimDelivery(row.id), context)
        if attempt is None:
            return 0  # sent, or taken by another worker, since the list was read
        channel = self.channels.get(row.channel)
        if channel is None:
            bus.handle(RecordFailure(row.id, attempt, f"channel {row.channel} is not configured (DUBAN_MESSAGES_CONFIG)",
                                     retryable=False), context)
            return 0
        message = Outgoing(message_id=row.id, channel=row.channel, recipient_name=row.recipient_name or "",
                           address=row.address or row.unit or "", subject=row.subject, body=row.body,
                           link=f"{self.portal_url}{row.link}" if row.link else None, mentions=tuple(row.mentions or ()))
        try:
            answer = channel.send(message)
        except DeliveryError as error:
            bus.handle(RecordFailure(row.id, attempt, str(error), retryable=error.retryable), context)
            return 1
        except Exception as error:  # noqa: BLE001 - a channel's bug must not stop the others; tried again later
            log.exception("a channel failed unexpectedly", extra={"message_id": row.id, "channel": row.channel})
            bus.handle(RecordFailure(row.id, attempt, f"{type(error).__name__}: {error}", retryable=True), context)
            return 1
        bus.handle(RecordSent(row.id, attempt, answer), context)
        return 1
