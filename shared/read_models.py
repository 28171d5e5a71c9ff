"""Disposable read models: a projection maps event types to small functions and can rebuild from zero."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from typing import Callable, Iterable

from mongoengine import DateTimeField, Document, IntField, NotUniqueError, StringField

from shared.envelope import EventEnvelope
from shared.eventstore.base import EventStore
from shared.paging import ListBounds

log = logging.getLogger(__name__)


class Projection:
    """Applies events to read-model documents; every function must be idempotent (redeliveries happen)."""

    def __init__(self, appliers: dict[str, Callable[[EventEnvelope], None]], documents: Iterable[type[Document]]):
        self.appliers = appliers
        self.documents = list(documents)

    def __call__(self, event: EventEnvelope) -> None:
        apply = self.appliers.get(event.type)
        if apply is not None:
            apply(event)

    def unlisted(self) -> list[str]:
        """Listed read models holding rows made before rows were listed (no list bounds yet): they need a rebuild."""
        return [document._get_collection().name for document in self.documents
                if issubclass(document, Listed) and document.bounds().read().last_day is None
                and document._get_collection().find_one({}, {"_id": 1}) is not None]

    def rebuild(self, store: EventStore) -> int:
        """Drop every read model and replay the whole store; returns the number of events replayed."""
        for document in self.documents:
            # Emptied, not dropped: FerretDB 1.x keeps a dropped collection's SQLite indexes, and re-creating
            # them then fails with "index already exists".
            document._get_collection().delete_many({})
            document.ensure_indexes()
            if issubclass(document, Listed):
                document.bounds().reset()
        replayed = 0
        for event in store.read_all():
            self(event)
            replayed += 1
        log.info("read models rebuilt", extra={"events": replayed})
        return replayed


class Listed(Document):
    """A read model served by a list endpoint, newest first (see shared/paging.py).

    Its rows are made with ``**bucket_fields(event.recorded_at)`` of the event that creates them.
    """

    meta = {"abstract": True}
    listed_at = DateTimeField()
    list_day = IntField()
    list_span = IntField()
    counted_in = StringField()  # the tally that counts this row, and the row's place in it (ListBounds)
    tally_seq = IntField()

    LIST_INDEXES = ["list_day", "list_span", ("counted_in", "tally_seq")]
    TALLY_FIELDS = ("counted_in", "tally_seq")  # bookkeeping of the count, not part of the row's content

    @classmethod
    def bounds(cls) -> ListBounds:
        collection = cls._get_collection()
        return ListBounds(collection.database, collection.name)

    @classmethod
    def ensure_indexes(cls) -> None:
        super().ensure_indexes()
        cls.bounds().ensure_indexes()


def insert_once(document: Document) -> None:
    """Insert a read-model row created by an event; a redelivered event finds it there already."""
    if isinstance(document, Listed):
        type(document).bounds().insert_counted(lambda tally, seq: _insert(document, counted_in=tally, tally_seq=seq),
                                               document.list_day)
    else:
        _insert(document)


def _insert(document: Document, **fields) -> bool:
    for name, value in fields.items():
        setattr(document, name, value)
    try:
        document.save(force_insert=True)
    except NotUniqueError:
        return False
    return True


def settle_list_counts(documents: Iterable[type[Document]], quiet_for: timedelta) -> int:
    """Count the listed rows a killed process inserted without counting (see ListBounds); returns how many."""
    now = datetime.now(timezone.utc)
    settled = sum(document.bounds().settle(document._get_collection(), now, quiet_for)
                  for document in documents if issubclass(document, Listed))
    if settled:
        log.warning("listed rows counted for a writer that died before counting them", extra={"rows": settled})
    return settled


def apply_in_order(document: type[Document], event: EventEnvelope, changes: dict, push: dict | None = None,
                   supersedes: int = 0) -> bool:
    """Apply a stream's next event to its row (keyed by stream id) only if the row is at the version before.

    Events reach a projection twice and by two paths (right after the append, and from the service's own
    topic), so an update must neither apply twice nor skip ahead: the row's ``version`` is the guard.
    A row that is behind (its writer crashed before projecting) catches up from the topic, in order.
    An event that sets everything its ``supersedes`` predecessors set may also be applied over a row that has
    not seen them; they then find the row past them and change nothing.

    The guard is not atomic on FerretDB 1.24: it reads the row, tests the filter, then writes the whole row, so two
    updates of one row at once can both pass and the later write wins, even if it carries the older version
    (measured: 290 of 400 such races left the older). Only an event applied over an unseen predecessor can race
    that predecessor (their filters both match the same row), and its second arrival, from the topic after the
    predecessor's, mends the row. So both paths must really apply: skipping the topic's copy of an event the
    process applied already (tried: it saves a round trip per event) left dispatched messages "sending".
    """
    update: dict = {"$set": {**changes, "version": event.version}}
    if push:
        update["$push"] = push
    version = ({"$gte": event.version - 1 - supersedes, "$lt": event.version} if supersedes
               else event.version - 1)
    result = document._get_collection().update_one({"_id": event.stream_id, "version": version}, update)
    return result.modified_count == 1


def in_order_update(document: type[Document], changes: Callable[[EventEnvelope], dict] | None = None,
                    push: Callable[[EventEnvelope], dict] | None = None,
                    supersedes: int = 0) -> Callable[[EventEnvelope], None]:
    """An applier setting ``changes(event)`` (plus ``updated_at``) and pushing ``push(event)``, in stream order
    (or over up to ``supersedes`` unseen predecessors, see apply_in_order)."""

    def apply(event: EventEnvelope) -> None:
        apply_in_order(document, event, {"updated_at": event.recorded_at, **(changes(event) if changes else {})},
                       push(event) if push else None, supersedes)

    return apply
