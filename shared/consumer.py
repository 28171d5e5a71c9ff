"""The Kafka consumer runner: a small loop around one function that handles an event.

Offsets are committed only after every message of a poll has had its effect stored. Each event
id is recorded once handled, so a redelivery (relay crash, rebalance, restart) is skipped. A message
that cannot be handled goes to the dead-letter topic with its error and the loop goes on; an
infrastructure outage is not the message's fault, so it is retried instead. A commit refused because the
group rebalanced meanwhile (or this consumer, too slow between polls, was dropped from it) is logged and the
loop polls on, which rejoins the group: the uncommitted messages are delivered again and skipped as handled.
"""
from __future__ import annotations

import json
import logging
import threading
import traceback
from typing import Callable

from kafka.errors import CommitFailedError, KafkaError, RebalanceInProgressError
from kafka.structs import OffsetAndMetadata, TopicPartition
from pymongo.collection import Collection
from pymongo.errors import AutoReconnect, ConnectionFailure, DuplicateKeyError, NetworkTimeout, ServerSelectionTimeoutError

from shared import metrics
from shared.envelope import EventEnvelope, utc_now
from shared.errors import RetryLater
from shared.logging import correlation_scope

log = logging.getLogger(__name__)

TRANSIENT_ERRORS = (AutoReconnect, ConnectionFailure, NetworkTimeout, ServerSelectionTimeoutError, KafkaError,
                    RetryLater)

# The offsets of a batch could not be committed because this member's place in the group changed.
REBALANCED = (CommitFailedError, RebalanceInProgressError)

EventHandler = Callable[[EventEnvelope], None]


class ProcessedLog:
    """Event ids a consumer group has already handled, one small document each."""

    def __init__(self, collection: Collection, group: str):
        self.collection = collection
        self.group = group

    def _key(self, event_id: str) -> str:
        return f"{self.group}:{event_id}"

    def seen(self, event_id: str) -> bool:
        return self.collection.find_one({"_id": self._key(event_id)}, {"_id": 1}) is not None

    def record(self, event: EventEnvelope) -> None:
        try:
            self.collection.insert_one(
                {"_id": self._key(event.event_id), "group": self.group, "type": event.type, "at": utc_now()}
            )
        except DuplicateKeyError:
            pass


class ConsumerRunner:
    def __init__(self, consumer, group: str, handle: EventHandler, processed: ProcessedLog,
                 dead_letters, dead_letter_topic: str, retry_seconds: float = 1.0):
        self.consumer = consumer
        self.group = group
        self.handle = handle
        self.processed = processed
        self.dead_letters = dead_letters
        self.dead_letter_topic = dead_letter_topic
        self.retry_seconds = retry_seconds

    def run(self, stop: threading.Event) -> None:
        log.info("consumer started", extra={"group": self.group})
        try:
            while not stop.is_set():
                try:
                    batches = self.consumer.poll(timeout_ms=200)
                    if batches:
                        self.process_batches(batches, stop)
                except TRANSIENT_ERRORS as error:
                    log.warning("consumer pass failed, retrying", extra={"group": self.group, "error": str(error)})
                    stop.wait(self.retry_seconds)
        finally:
            self.consumer.close()
            log.info("consumer stopped", extra={"group": self.group})

    def process_batches(self, batches, stop: threading.Event) -> None:
        offsets: dict[TopicPartition, OffsetAndMetadata] = {}
        for partition, messages in batches.items():
            for message in messages:
                try:
                    self.process(message)
                except TRANSIENT_ERRORS as error:
                    # Not the message's fault: rewind to it and try again after a pause.
                    log.warning("transient failure, will retry", extra={"group": self.group, "error": str(error)})
                    self.consumer.seek(partition, message.offset)
                    stop.wait(self.retry_seconds)
                    break
                offsets[partition] = OffsetAndMetadata(message.offset + 1, "", -1)
        if offsets:
            self.commit(offsets)

    def commit(self, offsets: dict[TopicPartition, OffsetAndMetadata]) -> None:
        try:
            self.consumer.commit(offsets)
        except REBALANCED as error:
            # Polling again rejoins the group; whoever gets these partitions resumes at the last committed offsets
            # and skips what this batch already handled (ProcessedLog).
            log.warning("offsets not committed: the group rebalanced while the batch was handled; its messages will "
                        "be delivered again and skipped as already handled", extra={
                            "group": self.group, "error": f"{type(error).__name__}: {error}",
                            "offsets": {f"{tp.topic}/{tp.partition}": o.offset for tp, o in sorted(offsets.items())}})

    def process(self, message) -> None:
        try:
            event = EventEnvelope.from_json_bytes(message.value)
        except Exception as error:  # noqa: BLE001 - any undecodable message is poison
            self.dead_letter(message, error)
            return
        if self.processed.seen(event.event_id):
            metrics.EVENTS_CONSUMED.labels(group=self.group, outcome="duplicate").inc()
            return
        with correlation_scope(event.correlation_id):
            try:
                self.handle(event)
            except TRANSIENT_ERRORS:
                raise
            except Exception as error:  # noqa: BLE001 - a failing event must not stop the consumer
                self.dead_letter(message, error)
                return
            self.processed.record(event)
            metrics.EVENTS_CONSUMED.labels(group=self.group, outcome="handled").inc()

    def dead_letter(self, message, error: Exception) -> None:
        log.error("event sent to dead-letter topic", extra={
            "group": self.group, "topic": message.topic, "offset": message.offset, "error": repr(error)})
        headers = [
            ("error", repr(error).encode("utf-8")[:2000]),
            ("traceback", "".join(traceback.format_exception(error)).encode("utf-8")[-4000:]),
            ("source", json.dumps({"topic": message.topic, "partition": message.partition,
                                   "offset": message.offset, "group": self.group}).encode("utf-8")),
        ]
        self.dead_letters.send(self.dead_letter_topic, key=message.key, value=message.value, headers=headers).get(timeout=30)
        metrics.EVENTS_CONSUMED.labels(group=self.group, outcome="dead_letter").inc()
