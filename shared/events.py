"""Domain events as small frozen dataclasses, their registry, and upcasters for old shapes."""
from __future__ import annotations

import dataclasses
from typing import Any, Callable, ClassVar, Mapping

from shared.envelope import NewEvent, to_jsonable

Upcaster = Callable[[dict], dict]


@dataclasses.dataclass(frozen=True)
class DomainEvent:
    """Base of every event; the class name is the event type on the wire."""

    SCHEMA_VERSION: ClassVar[int] = 1

    @classmethod
    def event_type(cls) -> str:
        return cls.__name__

    def to_data(self) -> dict[str, Any]:
        return to_jsonable(dataclasses.asdict(self))

    def to_new_event(self) -> NewEvent:
        return NewEvent(type=self.event_type(), data=self.to_data(), schema_version=self.SCHEMA_VERSION)

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> "DomainEvent":
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


class EventRegistry:
    """Maps event type names to classes and turns stored data of any schema version into the current one."""

    def __init__(self, *classes: type[DomainEvent]):
        self._classes: dict[str, type[DomainEvent]] = {}
        self._upcasters: dict[tuple[str, int], Upcaster] = {}
        for cls in classes:
            self.register(cls)

    def register(self, cls: type[DomainEvent]) -> type[DomainEvent]:
        self._classes[cls.event_type()] = cls
        return cls

    def upcaster(self, event_type: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
        """Decorator: register a function turning data of ``from_version`` into ``from_version + 1``."""

        def register(function: Upcaster) -> Upcaster:
            self._upcasters[(event_type, from_version)] = function
            return function

        return register

    def knows(self, event_type: str) -> bool:
        return event_type in self._classes

    def decode(self, event_type: str, schema_version: int, data: Mapping[str, Any]) -> DomainEvent:
        cls = self._classes[event_type]
        upgraded = dict(data)
        version = schema_version
        while version < cls.SCHEMA_VERSION:
            upgraded = self._upcasters[(event_type, version)](upgraded)
            version += 1
        return cls.from_data(upgraded)
