"""Event-sourced aggregate base: state is rebuilt from events; decisions record new events."""
from __future__ import annotations

from typing import ClassVar, Iterable

from shared.events import DomainEvent


class Aggregate:
    """Subclasses implement ``apply`` (pure state change) and command methods that call ``_record``."""

    stream_type: ClassVar[str] = "aggregate"

    def __init__(self, stream_id: str):
        self.id = stream_id
        self.version = 0
        self.pending: list[DomainEvent] = []

    @classmethod
    def rehydrate(cls, stream_id: str, events: Iterable[DomainEvent]) -> "Aggregate":
        aggregate = cls(stream_id)
        for event in events:
            aggregate.apply(event)
            aggregate.version += 1
        return aggregate

    @property
    def exists(self) -> bool:
        return self.version > 0 or bool(self.pending)

    def _record(self, event: DomainEvent) -> None:
        self.apply(event)
        self.pending.append(event)

    def apply(self, event: DomainEvent) -> None:  # pragma: no cover - abstract
        raise NotImplementedError
