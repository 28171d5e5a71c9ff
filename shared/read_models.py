"""Disposable read models: a projection maps event types to small functions and can rebuild from zero."""
from __future__ import annotations

import logging
from typing import Callable, Iterable

from mongoengine import Document, NotUniqueError

from shared.envelope import EventEnvelope
from shared.eventstore.base import EventStore

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

    def rebuild(self, store: EventStore) -> int:
        """Drop every read model and replay the whole store; returns the number of events replayed."""
        for document in self.documents:
            document.drop_collection()
            document.ensure_indexes()
        replayed = 0
        for event in store.read_all():
            self(event)
            replayed += 1
        log.info("read models rebuilt", extra={"events": replayed})
        return replayed


def insert_once(document: Document) -> None:
    """Insert a read-model row created by an event; a redelivered event finds it there already."""
    try:
        document.save(force_insert=True)
    except NotUniqueError:
        pass
