"""The event store on a MongoDB wire-protocol server (FerretDB here, MongoDB in production).

One document per event, keyed ``<stream_id>#<version>``: the primary key itself turns two writers at
the same expected version into one winner and one ConcurrencyConflict, and reading a stream or its
head is a run of primary-key lookups, the one access path FerretDB's SQLite backend serves from an
index (every other filter is a full scan there). No transactions are used.

Outbox: before an event is inserted, a small pointer to it goes into the ``outbox`` collection; the
relay reads only that (small) collection, confirms each event by primary key, publishes, and deletes
the pointers. A pointer whose event never appears (the writer lost a race or crashed between the two
inserts) is dropped after ``orphan_after``; the relay re-checks for the event after deleting, and a writer
whose append outlived that grace period restores its pointer, so a slow writer never loses its event.
Nothing ever updates the large events collection, which FerretDB/SQLite would do by full scan.
"""
from __future__ import annotations

from collections import OrderedDict
from datetime import timedelta
from typing import Any, Iterator, Mapping, Sequence

from pymongo import ASCENDING
from pymongo.collection import Collection
from pymongo.database import Database
from pymongo.errors import BulkWriteError, DuplicateKeyError

from shared.envelope import GENESIS_HASH, Actor, EventEnvelope, parse_time, to_jsonable, utc_now
from shared.errors import ConcurrencyConflict
from shared.eventstore.base import AppendRequest, EventStore, seal_batch

EVENTS_COLLECTION = "events"
OUTBOX_COLLECTION = "outbox"
RECORDED_ORDER = [("recorded_at", ASCENDING), ("stream_id", ASCENDING), ("version", ASCENDING)]
STREAM_ORDER = [("stream_id", ASCENDING), ("version", ASCENDING)]


def event_key(stream_id: str, version: int) -> str:
    return f"{stream_id}#{version:010d}"


class MongoEventStore(EventStore):
    def __init__(self, database: Database, collection: str = EVENTS_COLLECTION, head_cache_size: int = 10_000,
                 orphan_after: timedelta = timedelta(seconds=5)):
        self.collection: Collection = database[collection]
        self.outbox: Collection = database[f"{collection}_{OUTBOX_COLLECTION}"]
        self.orphan_after = orphan_after
        # Last (version, hash, recorded_at) per stream seen by this process. Only a shortcut: a stale
        # entry can never cause a lost update because the primary key still refuses the insert.
        self._heads: OrderedDict[str, tuple[int, str, Any]] = OrderedDict()
        self._head_cache_size = head_cache_size

    def ensure_indexes(self) -> None:
        self.collection.create_index([("event_id", ASCENDING)], unique=True, name="event_id_unique")
        self.collection.create_index(RECORDED_ORDER, name="recorded_order")
        self.outbox.create_index(RECORDED_ORDER, name="recorded_order")

    # -- writing -------------------------------------------------------------------------------

    def append(self, request: AppendRequest) -> list[EventEnvelope]:
        prev_hash, last_recorded_at = self._head(request.stream_id, request.expected_version)
        sealed = seal_batch(request, prev_hash, last_recorded_at)
        pointers = [self._to_pointer(e) for e in sealed]
        documents = [self._to_document(e) for e in sealed]
        try:
            self._insert(self.outbox, pointers)  # an unpublished event at that version is a conflict too
        except _Duplicate as duplicate:
            self._forget(request, pointers[: duplicate.inserted])  # only those that were ours
            raise ConcurrencyConflict(request.stream_id, request.expected_version) from duplicate
        try:
            self._insert(self.collection, documents)
        except _Duplicate as duplicate:
            self._forget(request, pointers)
            raise ConcurrencyConflict(request.stream_id, request.expected_version) from duplicate
        if utc_now() - sealed[0].recorded_at > self.orphan_after / 2:
            self._restore_pointers(pointers)  # the relay may have taken us for a crashed writer
        last = sealed[-1]
        self._remember(last.stream_id, last.version, last.hash, last.recorded_at)
        return sealed

    def _insert(self, collection: Collection, documents: list[dict]) -> None:
        try:
            if len(documents) == 1:
                collection.insert_one(documents[0])
            else:
                collection.insert_many(documents, ordered=True)
        except (DuplicateKeyError, BulkWriteError) as error:
            if isinstance(error, BulkWriteError) and not _is_duplicate_only(error):
                raise
            inserted = error.details.get("nInserted", 0) if isinstance(error, BulkWriteError) else 0
            raise _Duplicate(inserted) from error

    def _restore_pointers(self, pointers: list[dict]) -> None:
        for pointer in pointers:
            try:
                self.outbox.insert_one(pointer)
            except DuplicateKeyError:
                pass  # still there

    def _forget(self, request: AppendRequest, pointers: list[dict]) -> None:
        """Undo the pointers this append inserted after losing a race (by primary key: the one fast delete)."""
        self._heads.pop(request.stream_id, None)
        for pointer in pointers:
            self.outbox.delete_one({"_id": pointer["_id"]})

    def _head(self, stream_id: str, expected_version: int) -> tuple[str, Any]:
        if expected_version == 0:
            return GENESIS_HASH, None
        cached = self._heads.get(stream_id)
        if cached and cached[0] == expected_version:
            return cached[1], cached[2]
        doc = self.collection.find_one({"_id": event_key(stream_id, expected_version)}, {"hash": 1, "recorded_at": 1})
        if doc is None:
            raise ConcurrencyConflict(stream_id, expected_version, self.stream_version(stream_id))
        return doc["hash"], parse_time(doc["recorded_at"])

    def _remember(self, stream_id: str, version: int, hash_: str, recorded_at: Any) -> None:
        self._heads[stream_id] = (version, hash_, recorded_at)
        self._heads.move_to_end(stream_id)
        while len(self._heads) > self._head_cache_size:
            self._heads.popitem(last=False)

    def mark_published(self, events: Sequence[EventEnvelope]) -> None:
        """Published events leave the outbox (the outbox stays as small as the backlog)."""
        if events:
            self.outbox.delete_many({"_id": {"$in": [event_key(e.stream_id, e.version) for e in events]}})

    # -- reading -------------------------------------------------------------------------------

    def read_stream(self, stream_id: str, after_version: int = 0) -> list[EventEnvelope]:
        events: list[EventEnvelope] = []
        version = after_version + 1
        while (doc := self.collection.find_one({"_id": event_key(stream_id, version)})) is not None:
            events.append(self._from_document(doc))
            version += 1
        if events:
            last = events[-1]
            self._remember(stream_id, last.version, last.hash, last.recorded_at)
        return events

    def stream_version(self, stream_id: str) -> int:
        cached = self._heads.get(stream_id)
        version = cached[0] if cached else 0
        while self.collection.find_one({"_id": event_key(stream_id, version + 1)}, {"_id": 1}) is not None:
            version += 1
        return version

    def read_all(self, batch_size: int = 1000) -> Iterator[EventEnvelope]:
        for doc in self.collection.find({}).sort(RECORDED_ORDER).batch_size(batch_size):
            yield self._from_document(doc)

    def unpublished(self, limit: int) -> list[EventEnvelope]:
        """Outbox entries whose event is stored, oldest first; a stream waits behind its own pending event."""
        ready: list[EventEnvelope] = []
        waiting_streams: set[str] = set()
        now = utc_now()
        for pointer in self.outbox.find({}).sort(RECORDED_ORDER).limit(limit):
            if pointer["stream_id"] in waiting_streams:
                continue
            doc = self.collection.find_one({"_id": pointer["_id"]})
            if doc is not None and doc["event_id"] == pointer["event_id"]:
                ready.append(self._from_document(doc))
            elif now - parse_time(pointer["recorded_at"]) > self.orphan_after:
                self.outbox.delete_one({"_id": pointer["_id"]})  # its writer crashed or lost a race
                stored = self.collection.find_one({"_id": pointer["_id"]}, {"event_id": 1})
                if stored is not None and stored["event_id"] == pointer["event_id"]:
                    self._restore_pointers([pointer])  # it was only slow: keep it for the next pass
            else:
                waiting_streams.add(pointer["stream_id"])  # its writer is between the two inserts
        return ready

    def pending_count(self) -> int:
        return self.outbox.count_documents({})

    def iter_for_verification(self, stream_id: str | None = None) -> Iterator[EventEnvelope]:
        if stream_id:
            yield from self.read_stream(stream_id)
            return
        for doc in self.collection.find({}).sort(STREAM_ORDER).batch_size(1000):
            yield self._from_document(doc)

    def count(self) -> int:
        return self.collection.count_documents({})

    # -- mapping -------------------------------------------------------------------------------

    @staticmethod
    def _to_document(event: EventEnvelope) -> dict[str, Any]:
        return {
            "_id": event_key(event.stream_id, event.version),
            "event_id": event.event_id,
            "stream_id": event.stream_id,
            "stream_type": event.stream_type,
            "version": event.version,
            "type": event.type,
            "schema_version": event.schema_version,
            "data": to_jsonable(event.data),
            "actor": event.actor.to_dict(),
            "occurred_at": event.occurred_at,
            "recorded_at": event.recorded_at,
            "correlation_id": event.correlation_id,
            "causation_id": event.causation_id,
            "prev_hash": event.prev_hash,
            "hash": event.hash,
        }

    @staticmethod
    def _to_pointer(event: EventEnvelope) -> dict[str, Any]:
        return {"_id": event_key(event.stream_id, event.version), "event_id": event.event_id,
                "stream_id": event.stream_id, "version": event.version, "recorded_at": event.recorded_at}

    @staticmethod
    def _from_document(doc: Mapping[str, Any]) -> EventEnvelope:
        return EventEnvelope(
            event_id=doc["event_id"],
            stream_id=doc["stream_id"],
            stream_type=doc["stream_type"],
            version=int(doc["version"]),
            type=doc["type"],
            schema_version=int(doc.get("schema_version", 1)),
            data=doc.get("data") or {},
            actor=Actor.from_dict(doc["actor"]),
            occurred_at=parse_time(doc["occurred_at"]),
            recorded_at=parse_time(doc["recorded_at"]),
            correlation_id=doc["correlation_id"],
            causation_id=doc.get("causation_id"),
            prev_hash=doc["prev_hash"],
            hash=doc["hash"],
        )


class _Duplicate(Exception):
    """A key was taken; ``inserted`` documents of the batch went in before it."""

    def __init__(self, inserted: int):
        super().__init__(f"duplicate key after {inserted} inserted")
        self.inserted = inserted


def _is_duplicate_only(error: BulkWriteError) -> bool:
    return all(e.get("code") == 11000 for e in error.details.get("writeErrors", []))
