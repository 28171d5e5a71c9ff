"""The event store on a MongoDB wire-protocol server (FerretDB here, MongoDB in production).

One document per event, keyed ``<stream_id>#<version>``: the primary key itself turns two writers at
the same expected version into one winner and one ConcurrencyConflict. No transactions are used.

Outbox: an event is stored with ``published: false`` in the same single write that stores it, so an
append is one atomic fact; the relay reads the unpublished events (an indexed equality query), publishes
them in stream order and marks each by its primary key. Every hot query is an equality filter on an
indexed field (``_id``, ``stream_id``, ``published``, ``request_id``): the one kind of query FerretDB lets its
backend serve from an index (see deploy/ferretdb_indexes.py); ranges, ``$in`` and sorts are applied to those small results.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Any, Iterator, Mapping, Sequence

from pymongo import ASCENDING
from pymongo.collection import Collection
from pymongo.database import Database
from pymongo.errors import BulkWriteError, DuplicateKeyError

from shared.envelope import GENESIS_HASH, Actor, EventEnvelope, parse_time, to_jsonable
from shared.errors import ConcurrencyConflict
from shared.eventstore.base import AppendRequest, EventStore, in_stream_order, seal_batch

EVENTS_COLLECTION = "events"
LEGACY_OUTBOX_COLLECTION = "outbox"  # pointers of the two-write outbox of earlier versions
STREAM_ORDER = [("stream_id", ASCENDING), ("version", ASCENDING)]


def event_key(stream_id: str, version: int) -> str:
    return f"{stream_id}#{version:010d}"


def _recorded_order(event: EventEnvelope) -> tuple:
    return event.recorded_at, event.stream_id, event.version


class MongoEventStore(EventStore):
    def __init__(self, database: Database, collection: str = EVENTS_COLLECTION, head_cache_size: int = 10_000):
        self.collection: Collection = database[collection]
        self._legacy_outbox: Collection = database[f"{collection}_{LEGACY_OUTBOX_COLLECTION}"]
        # Last (version, hash, recorded_at) per stream seen by this process. Only a shortcut: a stale
        # entry can never cause a lost update because the primary key still refuses the insert.
        self._heads: OrderedDict[str, tuple[int, str, Any]] = OrderedDict()
        self._head_cache_size = head_cache_size

    def ensure_indexes(self) -> None:
        self.collection.create_index([("event_id", ASCENDING)], unique=True, name="event_id_unique")
        self.collection.create_index(STREAM_ORDER, name="stream_order")
        self.collection.create_index([("published", ASCENDING)], name="outbox")
        self.collection.create_index([("request_id", ASCENDING)], name="request")
        self._adopt_legacy_outbox()

    def _adopt_legacy_outbox(self) -> None:
        """Events a store of the two-write design had not yet published go back into the outbox flag."""
        if self._legacy_outbox.name not in self.collection.database.list_collection_names():
            return
        for pointer in self._legacy_outbox.find({}):
            self.collection.update_one({"_id": pointer["_id"], "event_id": pointer["event_id"]},
                                       {"$set": {"published": False}})
            self._legacy_outbox.delete_one({"_id": pointer["_id"]})

    # -- writing -------------------------------------------------------------------------------

    def append(self, request: AppendRequest) -> list[EventEnvelope]:
        prev_hash, last_recorded_at = self._head(request.stream_id, request.expected_version)
        sealed = seal_batch(request, prev_hash, last_recorded_at)
        documents = [self._stored(e, request) for e in sealed]
        try:
            if len(documents) == 1:
                self.collection.insert_one(documents[0])
            else:
                self.collection.insert_many(documents, ordered=True)
        except (DuplicateKeyError, BulkWriteError) as error:
            if isinstance(error, BulkWriteError) and not _is_duplicate_only(error):
                raise
            self._heads.pop(request.stream_id, None)
            raise ConcurrencyConflict(request.stream_id, request.expected_version) from error
        last = sealed[-1]
        self._remember(last.stream_id, last.version, last.hash, last.recorded_at)
        return sealed

    def append_each(self, requests: Sequence[AppendRequest]) -> list[list[EventEnvelope] | ConcurrencyConflict]:
        """Requests of one event each go in one unordered insert (a duplicate key refuses only its own event: that
        request's conflict); a request of several events is appended alone, so its events stay all or nothing."""
        outcomes: list[list[EventEnvelope] | ConcurrencyConflict | None] = [None] * len(requests)
        single: list[tuple[int, list[EventEnvelope], dict]] = []
        for index, request in enumerate(requests):
            if len(request.events) != 1:
                outcomes[index] = super().append_each([request])[0]
                continue
            try:
                prev_hash, last_recorded_at = self._head(request.stream_id, request.expected_version)
            except ConcurrencyConflict as conflict:
                outcomes[index] = conflict
                continue
            sealed = seal_batch(request, prev_hash, last_recorded_at)
            single.append((index, sealed, self._stored(sealed[0], request)))
        refused: set[int] = set()
        if single:
            try:
                self.collection.insert_many([document for _, _, document in single], ordered=False)
            except BulkWriteError as error:
                if not _is_duplicate_only(error):
                    raise
                refused = {failure["index"] for failure in error.details.get("writeErrors", [])}
        for position, (index, sealed, _) in enumerate(single):
            request = requests[index]
            if position in refused:
                self._heads.pop(request.stream_id, None)
                outcomes[index] = ConcurrencyConflict(request.stream_id, request.expected_version)
            else:
                self._remember(request.stream_id, sealed[-1].version, sealed[-1].hash, sealed[-1].recorded_at)
                outcomes[index] = sealed
        return outcomes  # type: ignore[return-value]  # every place was filled above

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
        """One update by primary key per event.

        Not one ``update_many`` for the batch: FerretDB answers it by re-reading the whole backlog (its only
        pushed-down part is ``published: false``) for every batch, which made a growing backlog quadratic, nor a
        bulk write of many updates: FerretDB 1.24 (internal/handler/msg_update.go) defers closing each
        statement's query to the end of the command, so a bulk of n updates holds n pooled PostgreSQL connections
        at once; a few concurrent ones exceed its pool (50) and every command then waits forever (seen: the
        messages dispatcher's eight senders, eight updates each, hung the whole server).
        """
        for event in events:
            self.collection.update_one({"_id": event_key(event.stream_id, event.version)}, {"$set": {"published": True}})

    # -- reading -------------------------------------------------------------------------------

    def read_stream(self, stream_id: str, after_version: int = 0) -> list[EventEnvelope]:
        docs = sorted((d for d in self.collection.find({"stream_id": stream_id}) if d["version"] > after_version),
                      key=lambda d: d["version"])
        events = [self._from_document(doc) for doc in docs]
        if events:
            last = events[-1]
            self._remember(stream_id, last.version, last.hash, last.recorded_at)
        return events

    def streams_of_request(self, request_id: str) -> list[str]:
        found = self.collection.find({"request_id": request_id}, {"stream_id": 1, "recorded_at": 1, "version": 1})
        streams: list[str] = []
        for doc in sorted(found, key=lambda d: (parse_time(d["recorded_at"]), d["version"])):
            if doc["stream_id"] not in streams:
                streams.append(doc["stream_id"])
        return streams

    def stream_version(self, stream_id: str) -> int:
        return max((d["version"] for d in self.collection.find({"stream_id": stream_id}, {"version": 1})), default=0)

    def read_all(self, batch_size: int = 1000) -> Iterator[EventEnvelope]:
        """Streamed unsorted (no server-side sort of the whole history), put in stream order as it comes."""
        return in_stream_order(map(self._from_document, self.collection.find({}).batch_size(batch_size)))

    def unpublished(self, limit: int | None = None) -> list[EventEnvelope]:
        """The whole backlog in recorded order (per stream: version order), sorted here, not by the server.

        The backlog is fetched whole because a partial fetch comes in no particular order and could hold a
        stream's later event without its earlier one; ``limit`` only cuts the sorted list.
        """
        backlog = sorted((self._from_document(d) for d in self.collection.find({"published": False})),
                         key=_recorded_order)
        return backlog if limit is None else backlog[:limit]

    def pending_count(self) -> int:
        return self.collection.count_documents({"published": False})

    def iter_for_verification(self, stream_id: str | None = None) -> Iterator[EventEnvelope]:
        if stream_id:
            yield from self.read_stream(stream_id)
            return
        yield from self.read_all()

    def count(self) -> int:
        return self.collection.count_documents({})

    # -- mapping -------------------------------------------------------------------------------

    def _stored(self, event: EventEnvelope, request: AppendRequest) -> dict[str, Any]:
        """The event's document as appended: unpublished, and tagged with the request that asked for it."""
        tags = {"published": False} if request.request_id is None else {"published": False, "request_id": request.request_id}
        return {**self._to_document(event), **tags}

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


def _is_duplicate_only(error: BulkWriteError) -> bool:
    return all(e.get("code") == 11000 for e in error.details.get("writeErrors", []))
