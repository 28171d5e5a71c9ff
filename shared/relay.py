"""Outbox relay: publishes stored-but-unpublished events to Kafka in stream order, then marks them.

A crash between publishing and marking republishes the same events; consumers drop them by event_id.
A lease keeps one relay per service busy at a time, so extra worker processes stand by instead of
publishing every event twice.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from datetime import timedelta

from pymongo.collection import Collection
from pymongo.errors import DuplicateKeyError, PyMongoError
from kafka.errors import KafkaError

from shared.envelope import utc_now
from shared.eventstore.base import EventStore
from shared import metrics

log = logging.getLogger(__name__)


class Lease:
    """A named lock document with an expiry, taken and renewed with one atomic update."""

    def __init__(self, collection: Collection, name: str, ttl_seconds: float = 10.0, owner: str | None = None):
        self.collection = collection
        self.name = name
        self.ttl = timedelta(seconds=ttl_seconds)
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

    def acquire(self) -> bool:
        now = utc_now()
        try:
            self.collection.find_one_and_update(
                {"_id": self.name, "$or": [{"owner": self.owner}, {"expires_at": {"$lt": now}}]},
                {"$set": {"owner": self.owner, "expires_at": now + self.ttl}},
                upsert=True,
            )
        except DuplicateKeyError:
            return False  # someone else holds it and it has not expired
        return True  # matched (ours or expired) or freshly inserted

    def release(self) -> None:
        self.collection.update_one({"_id": self.name, "owner": self.owner}, {"$set": {"expires_at": utc_now()}})


class OutboxRelay:
    def __init__(self, store: EventStore, producer, topic: str, lease: Lease | None = None,
                 batch_size: int = 500, idle_seconds: float = 0.05):
        self.store = store
        self.producer = producer
        self.topic = topic
        self.lease = lease
        self.batch_size = batch_size
        self.idle_seconds = idle_seconds

    def publish_pending(self) -> int:
        """Publish the backlog, ``batch_size`` events at a time; returns how many were published and marked.

        The store hands over the whole backlog at once (it is sorted client-side), so a large backlog after
        an outage is read once, not once per batch.
        """
        backlog = self.store.unpublished()
        published = 0
        for start in range(0, len(backlog), self.batch_size):
            batch = backlog[start:start + self.batch_size]
            delivered = self._publish(batch)
            self.store.mark_published(delivered)
            metrics.EVENTS_PUBLISHED.labels(topic=self.topic).inc(len(delivered))
            published += len(delivered)
            if len(delivered) < len(batch):
                break  # a stream's event failed: its later events must wait for the next pass
        return published

    def _publish(self, events: list) -> list:
        futures = [
            (event, self.producer.send(
                self.topic,
                key=event.stream_id.encode("utf-8"),
                value=event.to_json_bytes(),
                headers=[("type", event.type.encode()), ("event_id", event.event_id.encode())],
            ))
            for event in events
        ]
        self.producer.flush()
        delivered, failed_streams = [], set()
        for event, future in futures:
            try:
                future.get(timeout=30)
            except KafkaError as error:
                log.warning("publish failed, will retry", extra={"event_id": event.event_id, "error": str(error)})
                failed_streams.add(event.stream_id)
                continue
            # A later event of a stream whose earlier event failed stays unmarked: it is sent again after it.
            if event.stream_id not in failed_streams:
                delivered.append(event)
        return delivered

    def run(self, stop: threading.Event) -> None:
        log.info("relay started", extra={"topic": self.topic})
        while not stop.is_set():
            try:
                if self.lease is not None and not self.lease.acquire():
                    stop.wait(1.0)
                    continue
                if self.publish_pending() == 0:
                    stop.wait(self.idle_seconds)
            except (PyMongoError, KafkaError) as error:
                log.warning("relay pass failed, retrying", extra={"error": str(error)})
                stop.wait(1.0)
        if self.lease is not None:
            self.lease.release()
        log.info("relay stopped", extra={"topic": self.topic})
