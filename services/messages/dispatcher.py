"""Sending what is due: claim a message (an event: only one worker holds it), hand it to its channel, record the
outcome (sent with the gateway's answer, or failed with the error and when to retry).

The due messages are dealt out in small chunks to a few sender threads; each takes the next chunk when it is done
with one: claims the chunk in one append, sends its messages, records their outcomes in one append (a message's
delivery costs two events, and two round trips per chunk rather than per event). A worker killed between a
gateway's acceptance and the record leaves a claim whose lease runs out; the message is then sent again, carrying
the same Message-ID / X-Duban-Message-Id so a receiver can tell (at least once across a crash in that window,
which holds at most IN_FLIGHT messages; exactly once otherwise: claims keep two workers and a redelivered event
from sending twice).
"""
from __future__ import annotations

import logging
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
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
BATCH = 200  # messages read at a time from what is waiting
# A pass takes no more batches after this many messages or seconds (the worker's timer, and a stop, wait for it)
PASS_LIMIT = 5 * BATCH
PASS_SECONDS = 10.0
SENDERS = 8  # threads handing messages to their channels at once: each waits mostly on a gateway or the database
CHUNK = 8  # messages claimed in one append, sent, and recorded in one append by one sender
IN_FLIGHT = SENDERS * CHUNK  # messages sent and not yet recorded, at most (a kill may make a worker send these again)
# A message is handed to its channel only while its claim has at least this long to run (a send may take up to a
# channel's timeout, and its outcome must be recorded after): behind a slow gateway the rest of a chunk would
# otherwise be sent after their leases ran out, when another worker may have claimed and sent them too.
SEND_MARGIN = timedelta(seconds=2 * DEFAULT_TIMEOUT)


class Dispatcher:
    def __init__(self, context: ServiceContext, channels: dict[str, Channel], clock: Clock, portal_url: str,
                 senders: int = SENDERS, chunk: int = CHUNK):
        self.context, self.channels, self.clock, self.senders, self.chunk = context, channels, clock, senders, chunk
        self.portal_url = portal_url.rstrip("/")

    def due(self, now: datetime, passed_over: frozenset[str] = frozenset()) -> list[Sendable]:
        """Up to BATCH queued and retrying messages whose time has come, and claims whose lease ran out, oldest
        first, but for those ``passed_over``; each kind is read only until BATCH of it are found (about the order
        queued), not the whole queue."""
        def is_due(row: Sendable) -> bool:
            return row.id not in passed_over and due_for_sending(row.state.status, row.state.due,
                                                                 row.state.lease_until, now)

        rows = [row for status in (Status.QUEUED, Status.RETRYING, Status.SENDING)
                for row in waiting(status, is_due, BATCH)]
        return sorted(rows, key=lambda row: (row.state.due or now, row.queued_at))[:BATCH]

    def run_once(self) -> int:
        """One pass over what is due (up to PASS_LIMIT messages or PASS_SECONDS); returns how many were handed to
        a channel.

        The due messages are dealt out in chunks; a sender that finishes one takes the next, so no thread idles
        while another works through a long share, and what a kill can make a worker send twice stays at most
        ``senders * chunk`` messages. Once every chunk read so far is being sent, the next BATCH is read (its
        reading overlaps their sending, instead of the senders waiting for it), passing over the messages this
        pass has taken: their rows say queued until their outcomes are recorded. Claims keep every message to
        one sender however many threads (or workers) look at it."""
        handed_over, taken, ends = 0, set(), time.monotonic() + PASS_SECONDS
        with ThreadPoolExecutor(max_workers=self.senders, thread_name_prefix="message-sender") as pool:
            running: set[Future[int]] = set()
            while len(taken) < PASS_LIMIT and time.monotonic() < ends:
                rows = self.due(self.clock.now(), frozenset(taken))
                if not rows:
                    break
                taken.update(row.id for row in rows)
                running.update(pool.submit(self._deliver, rows[start:start + self.chunk])
                               for start in range(0, len(rows), self.chunk))
                while len(running) > self.senders:  # chunks still waiting for a sender
                    done, running = wait(running, return_when=FIRST_COMPLETED)
                    handed_over += sum(future.result() for future in done)
            handed_over += sum(future.result() for future in running)
        return handed_over

    def _deliver(self, rows: list[Sendable]) -> int:
        """Claim, send and record one chunk; returns how many were handed to a channel."""
        try:
            claimed = self.context.bus.handle(ClaimDeliveries(tuple(row.state for row in rows)),
                                              CommandContext.fresh(DISPATCHER))
        except Exception:  # noqa: BLE001 - one chunk's database trouble must not stop the others
            log.exception("a chunk of messages could not be claimed; they are tried again",
                          extra={"message_ids": [row.id for row in rows]})
            return 0
        outcomes: list[Outcome] = []
        for row in rows:
            state = claimed.get(row.id)
            if state is None:  # sent, or taken by another worker, since the list was read
                continue
            if state.lease_until is None or state.lease_until - SEND_MARGIN <= self.clock.now():
                log.warning("a claimed message was not sent: too little of its claim was left",
                            extra={"message_id": row.id, "lease_until": str(state.lease_until)})
                continue  # left to the next pass, which claims it afresh (another attempt)
            outcomes.append(self._send(row, state))
        if not outcomes:
            return 0
        try:
            self.context.bus.handle(RecordOutcomes(tuple(outcomes)), CommandContext.fresh(DISPATCHER))
        except Exception:  # noqa: BLE001 - their claims run out and they are tried again
            log.exception("delivery outcomes could not be recorded; their claims run out and they are tried again",
                          extra={"message_ids": [outcome.state.message_id for outcome in outcomes]})
            return 0
        return sum(1 for outcome in outcomes if outcome.handed_over)

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
