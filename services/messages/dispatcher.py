"""Sending what is due: claim a message (an event: only one worker holds it), hand it to its channel, record the
outcome (sent with the gateway's answer, or failed with the error and when to retry).

Claims and outcomes are appended many at a time (a message's delivery costs two events, and one round trip per
group rather than per event). A worker killed between a gateway's acceptance and the record leaves a claim whose
lease runs out; the message is then sent again, carrying the same Message-ID / X-Duban-Message-Id so a receiver can
tell (at least once across a crash in that window, which holds at most IN_FLIGHT messages; exactly once otherwise:
claims keep two workers and a redelivered event from sending twice).
"""
from __future__ import annotations

import logging
import queue
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from shared.bus import CommandContext
from shared.clock import Clock
from shared.envelope import Actor
from shared.service import ServiceContext
from services.messages.adapters.channels import DEFAULT_TIMEOUT, Channel, DeliveryError, Outgoing
from services.messages.adapters.read_models import Sendable, waiting
from services.messages.domain.commands import ClaimDeliveries, RecordOutcomes
from services.messages.domain.model import DeliveryState, Outcome, Status, due_for_sending

log = logging.getLogger(__name__)

DISPATCHER = Actor.system("messages-dispatcher")
BATCH = 200  # messages looked at per pass; the rest wait for the next one
SENDERS = 4  # shares of the due messages handed to their channels at once (more only contend for two cores)
IN_FLIGHT = 2 * SENDERS  # messages sent and not yet recorded, at most (a kill may make a worker send these again)
# A message is handed to its channel only while its claim has at least this long to run (a send may take up to a
# channel's timeout, and its outcome must be recorded after): behind a slow gateway the rest of a share would
# otherwise be sent after their leases ran out, when another worker may have claimed and sent them too.
SEND_MARGIN = timedelta(seconds=2 * DEFAULT_TIMEOUT)


class Dispatcher:
    def __init__(self, context: ServiceContext, channels: dict[str, Channel], clock: Clock, portal_url: str,
                 senders: int = SENDERS, in_flight: int = IN_FLIGHT):
        self.context, self.channels, self.clock, self.senders = context, channels, clock, senders
        self.in_flight = in_flight
        self.portal_url = portal_url.rstrip("/")

    def due(self, now: datetime) -> list[Sendable]:
        """Up to BATCH queued and retrying messages whose time has come, and claims whose lease ran out, oldest
        first; each kind is read only until BATCH of it are found (about the order queued), not the whole queue."""
        def is_due(row: Sendable) -> bool:
            return due_for_sending(row.state.status, row.state.due, row.state.lease_until, now)

        rows = [row for status in (Status.QUEUED, Status.RETRYING, Status.SENDING)
                for row in waiting(status, is_due, BATCH)]
        return sorted(rows, key=lambda row: (row.state.due or now, row.queued_at))[:BATCH]

    def run_once(self) -> int:
        """One pass; returns how many messages were handed to a channel.

        The due messages are dealt out to a few senders. Each claims its share in one append and hands the
        messages to their channels one after another; one recorder meanwhile records the outcomes as they come, as
        many as have come in each append (a group commit). Several senders because each waits mostly on the
        database and the gateways; the claims keep every message to one sender however many threads (or workers)
        look at it; and at most ``in_flight`` messages are ever sent and not yet recorded — what a kill can make
        a worker send twice."""
        rows = self.due(self.clock.now())
        if not rows:
            return 0
        shares = [rows[n::self.senders] for n in range(min(self.senders, len(rows)))]
        outcomes: queue.Queue[Outcome | None] = queue.Queue()
        slots = threading.BoundedSemaphore(self.in_flight)
        with ThreadPoolExecutor(max_workers=len(shares), thread_name_prefix="message-sender") as pool:
            senders = [pool.submit(self._send_share, share, outcomes, slots) for share in shares]
            handed_over = self._record_as_they_come(outcomes, slots, len(senders))
            for sender in senders:
                sender.result()  # a sender's own failure was logged; this only waits for it
        return handed_over

    def _send_share(self, rows: list[Sendable], outcomes: queue.Queue, slots: threading.BoundedSemaphore) -> None:
        try:
            claimed = self.context.bus.handle(ClaimDeliveries(tuple(row.state for row in rows)),
                                              CommandContext.fresh(DISPATCHER))
            for row in rows:
                state = claimed.get(row.id)
                if state is None:  # sent, or taken by another worker, since the list was read
                    continue
                slots.acquire()
                if state.lease_until is None or state.lease_until - SEND_MARGIN <= self.clock.now():
                    slots.release()  # left to the next pass, which claims it afresh (another attempt)
                    log.warning("a claimed message was not sent: too little of its claim was left",
                                extra={"message_id": row.id, "lease_until": str(state.lease_until)})
                    continue
                outcomes.put(self._send(row, state))
        except Exception:  # noqa: BLE001 - one share's database trouble must not stop the others
            log.exception("a share of messages could not be claimed; they are tried again",
                          extra={"message_ids": [row.id for row in rows]})
        finally:
            outcomes.put(None)  # this sender is done

    def _record_as_they_come(self, outcomes: queue.Queue, slots: threading.BoundedSemaphore, senders: int) -> int:
        handed_over = 0
        while senders:
            group: list[Outcome] = []
            item = outcomes.get()
            while True:
                if item is None:
                    senders -= 1
                else:
                    group.append(item)
                try:
                    item = outcomes.get_nowait()
                except queue.Empty:
                    break
            if not group:
                continue
            try:
                self.context.bus.handle(RecordOutcomes(tuple(group)), CommandContext.fresh(DISPATCHER))
                handed_over += sum(1 for outcome in group if outcome.handed_over)
            except Exception:  # noqa: BLE001 - their claims run out and they are tried again
                log.exception("delivery outcomes could not be recorded; their claims run out and they are tried again",
                              extra={"message_ids": [outcome.state.message_id for outcome in group]})
            finally:
                for _ in group:
                    slots.release()
        return handed_over

    def _send(self, row: Sendable, state: DeliveryState) -> Outcome:
        channel = self.channels.get(row.channel)
        if channel is None:
            return Outcome(state, error=f"channel {row.channel} is not configured (DUBAN_MESSAGES_CONFIG)",
                           retryable=False, handed_over=False)
        message = Outgoing(message_id=row.id, channel=row.channel, recipient_name=row.recipient_name or "",
                           address=row.address or row.unit or "", subject=row.subject, body=row.body,
                           link=f"{self.portal_url}{row.link}" if row.link else None, mentions=row.mentions)
        try:
            return Outcome(state, answer=channel.send(message))
        except DeliveryError as error:
            return Outcome(state, error=str(error), retryable=error.retryable)
        except Exception as error:  # noqa: BLE001 - a channel's bug must not stop the others; tried again later
            log.exception("a channel failed unexpectedly", extra={"message_id": row.id, "channel": row.channel})
            return Outcome(state, error=f"{type(error).__name__}: {error}", retryable=True)
