"""An in-memory recorder for fast unit tests of handlers; kept honest by the contract tests."""
from __future__ import annotations

import threading
from typing import Iterator, Sequence

from shared.envelope import GENESIS_HASH, EventEnvelope
from shared.errors import ConcurrencyConflict
from shared.eventstore.base import AppendRequest, EventStore, seal_batch


class InMemoryEventStore(EventStore):
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._streams: dict[str, list[EventEnvelope]] = {}
        self._all: list[EventEnvelope] = []
        self._published: set[str] = set()
        self._requests: dict[str, list[str]] = {}

    def append(self, request: AppendRequest) -> list[EventEnvelope]:
        with self._lock:
            stream = self._streams.get(request.stream_id, [])
            if len(stream) != request.expected_version:
                raise ConcurrencyConflict(request.stream_id, request.expected_version, len(stream))
            last = stream[-1] if stream else None
            sealed = seal_batch(request, last.hash if last else GENESIS_HASH, last.recorded_at if last else None)
            self._streams[request.stream_id] = stream + sealed
            self._all.extend(sealed)
            if request.request_id is not None:
                streams = self._requests.setdefault(request.request_id, [])
                if request.stream_id not in streams:
                    streams.append(request.stream_id)
            return sealed

    def streams_of_request(self, request_id: str) -> list[str]:
        return list(self._requests.get(request_id, []))

    def read_stream(self, stream_id: str, after_version: int = 0) -> list[EventEnvelope]:
        return [e for e in self._streams.get(stream_id, []) if e.version > after_version]

    def read_all(self, batch_size: int = 1000) -> Iterator[EventEnvelope]:
        return iter(list(self._all))

    def unpublished(self, limit: int | None = None) -> list[EventEnvelope]:
        return [e for e in self._all if e.event_id not in self._published][:limit]

    def mark_published(self, events: Sequence[EventEnvelope]) -> None:
        self._published.update(e.event_id for e in events)

    def iter_for_verification(self, stream_id: str | None = None) -> Iterator[EventEnvelope]:
        ids = [stream_id] if stream_id else sorted(self._streams)
        for sid in ids:
            yield from self._streams.get(sid, [])
