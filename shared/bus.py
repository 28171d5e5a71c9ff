"""Message bus and unit of work (after Cosmic Python): handlers load, decide, save."""
from __future__ import annotations

import inspect
import logging
from dataclasses import dataclass
from typing import Any, Callable, Protocol, Sequence, TypeVar

from shared import metrics
from shared.aggregate import Aggregate
from shared.envelope import Actor, EventEnvelope
from shared.errors import ConcurrencyConflict, NotFound
from shared.events import EventRegistry
from shared.eventstore.base import AppendRequest, EventStore
from shared.logging import new_correlation_id

log = logging.getLogger(__name__)

A = TypeVar("A", bound=Aggregate)


@dataclass(frozen=True)
class CommandContext:
    """Who asks, and which story (correlation) and cause (causation) the resulting events belong to."""

    actor: Actor
    correlation_id: str
    causation_id: str | None = None
    # Names a client request that may be retried (Idempotency-Key): its events carry it, so a retry whose
    # first attempt stored them but never answered (crash, timeout) gets that result instead of a second one.
    request_id: str | None = None

    @classmethod
    def caused_by(cls, event: EventEnvelope, actor: Actor) -> "CommandContext":
        return cls(actor=actor, correlation_id=event.correlation_id, causation_id=event.event_id)

    @classmethod
    def fresh(cls, actor: Actor) -> "CommandContext":
        return cls(actor=actor, correlation_id=new_correlation_id())


class Projector(Protocol):
    def __call__(self, event: EventEnvelope) -> None: ...


class UnitOfWork:
    """Loads aggregates from the store and appends their pending events with optimistic concurrency."""

    def __init__(self, service: str, store: EventStore, registry: EventRegistry, projector: Projector | None = None):
        self.service = service
        self.store = store
        self.registry = registry
        self.projector = projector
        self.appended: list[EventEnvelope] = []

    def get(self, cls: type[A], stream_id: str) -> A:
        """The aggregate, or a new empty one if the stream does not exist yet."""
        events = [self.registry.decode(e.type, e.schema_version, e.data) for e in self.store.read_stream(stream_id)]
        return cls.rehydrate(stream_id, events)

    def load(self, cls: type[A], stream_id: str, what: str = "object", what_zh: str = "对象") -> A:
        """The aggregate, or NotFound for a stream that does not exist."""
        aggregate = self.get(cls, stream_id)
        if not aggregate.exists:
            raise NotFound(f"{what} {stream_id} not found", f"{what_zh} {stream_id} 不存在")
        return aggregate

    def save(self, aggregate: Aggregate, context: CommandContext) -> list[EventEnvelope]:
        if not aggregate.pending:
            return []
        return self._saved(aggregate, self.store.append(self._request(aggregate, context)))

    def save_each(self, aggregates: Sequence[Aggregate], context: CommandContext, project: bool = True) -> list[bool]:
        """Several aggregates, each on its own terms and in as few round trips as the store allows: per aggregate,
        True when saved, False when a concurrent writer got there first (its pending events are not stored).

        ``project=False`` leaves the read models to a later event that supersedes these (see apply_in_order) or
        to the service's own topic."""
        changed = [a for a in aggregates if a.pending]
        outcomes = dict(zip((id(a) for a in changed),
                            self.store.append_each([self._request(a, context) for a in changed]), strict=True))
        saved: list[bool] = []
        for aggregate in aggregates:
            outcome = outcomes.get(id(aggregate), [])
            if isinstance(outcome, ConcurrencyConflict):
                saved.append(False)
                continue
            self._saved(aggregate, outcome, project)
            saved.append(True)
        return saved

    @staticmethod
    def _request(aggregate: Aggregate, context: CommandContext) -> AppendRequest:
        return AppendRequest(
            stream_id=aggregate.id,
            stream_type=aggregate.stream_type,
            expected_version=aggregate.version,
            events=[e.to_new_event() for e in aggregate.pending],
            actor=context.actor,
            correlation_id=context.correlation_id,
            causation_id=context.causation_id,
            request_id=context.request_id,
        )

    def _saved(self, aggregate: Aggregate, envelopes: list[EventEnvelope], project: bool = True) -> list[EventEnvelope]:
        aggregate.version += len(envelopes)
        aggregate.pending.clear()
        self.appended.extend(envelopes)
        for envelope in envelopes:
            metrics.EVENTS_APPENDED.labels(service=self.service, type=envelope.type).inc()
            if project and self.projector is not None:
                self.projector(envelope)
        return envelopes


Handler = Callable[[Any, UnitOfWork, CommandContext], Any]


class MessageBus:
    """Routes each command to its one handler; a new use case is a command, a handler and a dict entry.

    Handlers take ``(command, uow, context)`` and may ask for more by keyword (e.g. ``clock``,
    ``policies``): those are injected from ``dependencies`` (Cosmic Python's bootstrap pattern).
    """

    def __init__(self, uow_factory: Callable[[], UnitOfWork], handlers: dict[type, Handler],
                 dependencies: dict[str, Any] | None = None, conflict_retries: int = 3):
        self.uow_factory = uow_factory
        self.conflict_retries = conflict_retries
        self.dependencies = dependencies or {}
        self.handlers = {command: self._inject(handler) for command, handler in handlers.items()}

    def _inject(self, handler: Handler) -> Handler:
        wanted = list(inspect.signature(handler).parameters)[3:]
        missing = [name for name in wanted if name not in self.dependencies]
        if missing:
            raise TypeError(f"handler {handler.__name__} needs {missing}, which bootstrap does not provide")
        extra = {name: self.dependencies[name] for name in wanted}
        return (lambda command, uow, context: handler(command, uow, context, **extra)) if extra else handler

    def handle(self, command: Any, context: CommandContext) -> Any:
        """Run the command's handler; a conflict with a concurrent writer is retried on fresh state.

        Only when the caller did not pin a version: one that says "I saw version N" gets the 409, because
        the decision it asked for may no longer be the one it would make.
        """
        handler = self.handlers[type(command)]
        if context.request_id is not None and (earlier := self._earlier_result(context.request_id)) is not None:
            return earlier
        for attempt in range(self.conflict_retries + 1):
            try:
                return handler(command, self.uow_factory(), context)
            except ConcurrencyConflict:
                if getattr(command, "expected_version", None) is not None or attempt == self.conflict_retries:
                    raise
                log.info("write conflict, retrying on fresh state", extra={"command": type(command).__name__})


    def _earlier_result(self, request_id: str) -> str | None:
        """The result of an earlier attempt of this request that stored its events: the first stream it wrote.

        Command handlers answer with the id of the aggregate they saved first (a plan before its tasks), so
        the view renders the same thing the first attempt would have.
        """
        streams = self.uow_factory().store.streams_of_request(request_id)
        if not streams:
            return None
        log.warning("a retried request had already stored its events; answering with them, appending nothing",
                    extra={"request_id": request_id, "stream_id": streams[0]})
        return streams[0]


def check_expected_version(aggregate: Aggregate, expected_version: int | None) -> None:
    """A client that read version N and acts on it gets 409 if someone else changed the stream since."""
    if expected_version is not None and expected_version != aggregate.version:
        raise ConcurrencyConflict(aggregate.id, expected_version, aggregate.version)
