"""The event-store contract shared by every recorder."""
from __future__ import annotations

import abc
from dataclasses import dataclass, field
from datetime import datetime
from typing import Iterable, Iterator, Sequence

from shared.envelope import GENESIS_HASH, Actor, EventEnvelope, NewEvent, new_event_id, utc_now
from shared.errors import ConcurrencyConflict


@dataclass(frozen=True)
class AppendRequest:
    """Events to add to one stream, valid only if the stream is still at ``expected_version``."""

    stream_id: str
    stream_type: str
    expected_version: int
    events: Sequence[NewEvent]
    actor: Actor
    correlation_id: str
    causation_id: str | None = None
    # The Idempotency-Key request that asked for these events (operational, not part of the hashed envelope):
    # a retry whose first attempt stored its events but never answered finds them by it.
    request_id: str | None = None


@dataclass(frozen=True)
class VerificationResult:
    """Outcome of re-walking hash chains; names the first event that does not match."""

    ok: bool
    events_checked: int
    streams_checked: int
    first_bad_event_id: str | None = None
    first_bad_stream_id: str | None = None
    first_bad_version: int | None = None
    reason: str | None = None

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class _ChainWalker:
    """Checks events one by one, stream after stream, in version order."""

    events_checked: int = 0
    streams: set = field(default_factory=set)
    _last: dict = field(default_factory=dict)

    def check(self, event: EventEnvelope) -> str | None:
        self.events_checked += 1
        self.streams.add(event.stream_id)
        previous = self._last.get(event.stream_id)
        expected_version = 1 if previous is None else previous.version + 1
        expected_prev_hash = GENESIS_HASH if previous is None else previous.hash
        self._last[event.stream_id] = event
        if event.version != expected_version:
            return f"version {event.version} where {expected_version} was expected"
        if event.prev_hash != expected_prev_hash:
            return "prev_hash does not match the previous event's hash"
        if event.compute_hash() != event.hash:
            return "hash does not match the event's content"
        return None


def verify_events(events: Iterable[EventEnvelope]) -> VerificationResult:
    """Re-walk events (each stream's in version order) and report the first broken link."""
    walker = _ChainWalker()
    for event in events:
        reason = walker.check(event)
        if reason:
            return VerificationResult(
                ok=False,
                events_checked=walker.events_checked,
                streams_checked=len(walker.streams),
                first_bad_event_id=event.event_id,
                first_bad_stream_id=event.stream_id,
                first_bad_version=event.version,
                reason=reason,
            )
    return VerificationResult(ok=True, events_checked=walker.events_checked, streams_checked=len(walker.streams))


def in_stream_order(events: Iterable[EventEnvelope]) -> Iterator[EventEnvelope]:
    """Hand events over so that each stream's come in version order, holding back any that arrive early.

    Lets a store stream a whole collection in whatever order the server returns it (FerretDB sorts a large
    result in memory), keeping only each stream's next version and the few early arrivals.
    """
    next_version: dict[str, int] = {}
    held: dict[str, dict[int, EventEnvelope]] = {}
    for event in events:
        stream = event.stream_id
        expected = next_version.get(stream, 1)
        if event.version != expected:
            held.setdefault(stream, {})[event.version] = event
            continue
        yield event
        expected += 1
        waiting = held.get(stream, {})
        while expected in waiting:
            yield waiting.pop(expected)
            expected += 1
        if not waiting:
            held.pop(stream, None)
        next_version[stream] = expected
    for waiting in held.values():  # after a gap: handed over in version order, so verification names the break
        for version in sorted(waiting):
            yield waiting[version]


def seal_batch(request: AppendRequest, prev_hash: str, last_recorded_at: datetime | None) -> list[EventEnvelope]:
    """Give each new event its version, times and hash, chained on the stream's last hash."""
    recorded_at = utc_now()
    if last_recorded_at is not None and recorded_at < last_recorded_at:
        # Keep recorded order consistent with version order even if the clock steps back.
        recorded_at = last_recorded_at
    sealed: list[EventEnvelope] = []
    for offset, new in enumerate(request.events, start=1):
        envelope = EventEnvelope(
            event_id=new_event_id(),
            stream_id=request.stream_id,
            stream_type=request.stream_type,
            version=request.expected_version + offset,
            type=new.type,
            schema_version=new.schema_version,
            data=new.data,
            actor=request.actor,
            occurred_at=new.occurred_at or recorded_at,
            recorded_at=recorded_at,
            correlation_id=request.correlation_id,
            causation_id=request.causation_id,
            prev_hash=prev_hash,
        ).sealed()
        sealed.append(envelope)
        prev_hash = envelope.hash
    return sealed


class EventStore(abc.ABC):
    """Append-only streams with optimistic concurrency, a hash chain and an outbox flag."""

    @abc.abstractmethod
    def append(self, request: AppendRequest) -> list[EventEnvelope]:
        """Append or raise ConcurrencyConflict; never overwrites."""

    def append_each(self, requests: Sequence[AppendRequest]) -> list[list[EventEnvelope] | ConcurrencyConflict]:
        """Each request appended on its own terms (one's conflict does not stop the others): per request, its
        events, or the ConcurrencyConflict it met. A recorder may do it in fewer round trips than one each."""
        outcomes: list[list[EventEnvelope] | ConcurrencyConflict] = []
        for request in requests:
            try:
                outcomes.append(self.append(request))
            except ConcurrencyConflict as conflict:
                outcomes.append(conflict)
        return outcomes

    @abc.abstractmethod
    def read_stream(self, stream_id: str, after_version: int = 0) -> list[EventEnvelope]:
        """The stream's events in version order (empty list for an unknown stream)."""

    @abc.abstractmethod
    def read_all(self, batch_size: int = 1000) -> Iterator[EventEnvelope]:
        """Every event; each stream's in version order (across streams, the order is the store's)."""

    @abc.abstractmethod
    def unpublished(self, limit: int | None = None) -> list[EventEnvelope]:
        """Events not yet marked published (the first ``limit`` of them), oldest first, in stream order."""

    @abc.abstractmethod
    def mark_published(self, events: Sequence[EventEnvelope]) -> None:
        """Flag events as handed to Kafka."""

    @abc.abstractmethod
    def iter_for_verification(self, stream_id: str | None = None) -> Iterator[EventEnvelope]:
        """One stream's events, or every event, each stream's in version order, for chain verification."""

    @abc.abstractmethod
    def streams_of_request(self, request_id: str) -> list[str]:
        """The streams an earlier attempt of this request appended to, first-written first (usually none)."""

    def stream_version(self, stream_id: str) -> int:
        events = self.read_stream(stream_id)
        return events[-1].version if events else 0

    def verify(self, stream_id: str | None = None) -> VerificationResult:
        """Re-walk one stream, or the whole store, and name the first event that does not match."""
        return verify_events(self.iter_for_verification(stream_id))
