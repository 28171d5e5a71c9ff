"""The portal's read models are fed from the three topics, read from the beginning (never from other databases)."""
from __future__ import annotations

import logging
import threading
import time

from kafka import KafkaConsumer, TopicPartition

from shared.config import Settings
from shared.envelope import EventEnvelope
from shared.kafka import ensure_topics
from services.portal.domain.model import PortalModel

log = logging.getLogger(__name__)

SOURCE_TOPICS = ("tasks", "notices", "followups")


class TopicFeed:
    """Applies every event of the three topics to a model: first the whole history, then as they come.

    No consumer group and no committed offsets: each portal process holds its own model and always
    starts from offset 0, so the model is rebuilt from scratch on every start (and by ``duban rebuild
    portal``) through exactly the code that keeps it live.
    """

    def __init__(self, settings: Settings, model: PortalModel, lock: threading.RLock | None = None):
        self.settings = settings
        self.model = model
        self.lock = lock or threading.RLock()
        self.caught_up = threading.Event()
        self.undecodable = 0
        self._services = {settings.topic(name): name for name in SOURCE_TOPICS}

    def _consumer(self) -> tuple[KafkaConsumer, list[TopicPartition]]:
        ensure_topics(self.settings)  # the portal may start before any service has created them
        consumer = KafkaConsumer(bootstrap_servers=self.settings.kafka_bootstrap, enable_auto_commit=False,
                                 client_id="duban-portal-feed", max_poll_records=2000,
                                 fetch_max_bytes=64 * 1024 * 1024, max_partition_fetch_bytes=16 * 1024 * 1024)
        partitions = []
        deadline = time.monotonic() + 30
        for topic in self._services:
            while not (numbers := consumer.partitions_for_topic(topic)) and time.monotonic() < deadline:
                time.sleep(0.2)
            partitions += [TopicPartition(topic, n) for n in sorted(numbers or ())]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        return consumer, partitions

    def apply_batch(self, batches) -> int:
        applied = 0
        with self.lock:
            for partition, records in batches.items():
                service = self._services[partition.topic]
                for record in records:
                    try:
                        event = EventEnvelope.from_json_bytes(record.value)
                    except Exception:  # noqa: BLE001 - the services' own consumers dead-letter poison; we skip it
                        self.undecodable += 1
                        log.warning("undecodable event skipped", extra={"topic": partition.topic, "offset": record.offset})
                        continue
                    applied += self.model.apply(service, event)
        return applied

    def catch_up(self, consumer: KafkaConsumer, partitions: list[TopicPartition], stop: threading.Event | None = None) -> int:
        """Apply everything up to the end offsets the topics had when we started."""
        ends = consumer.end_offsets(partitions)
        applied = 0
        while not (stop and stop.is_set()):
            if all(consumer.position(p) >= ends[p] for p in partitions):
                break
            applied += self.apply_batch(consumer.poll(timeout_ms=500))
        return applied

    def run(self, stop: threading.Event) -> None:
        """Catch up with the history, say so, then follow the topics until stopped."""
        consumer, partitions = self._consumer()
        try:
            started = time.perf_counter()
            applied = self.catch_up(consumer, partitions, stop)
            self.caught_up.set()
            log.info("portal caught up with the topics", extra={"events": applied,
                                                                 "seconds": round(time.perf_counter() - started, 2)})
            while not stop.is_set():
                self.apply_batch(consumer.poll(timeout_ms=200))
        finally:
            consumer.close()

    def start(self) -> threading.Event:
        stop = threading.Event()
        threading.Thread(target=self.run, args=(stop,), name="portal-feed", daemon=True).start()
        return stop


def rebuild_from_topics(settings: Settings) -> PortalModel:
    """A fresh model from the whole history of the topics (what ``duban rebuild portal`` does)."""
    model = PortalModel()
    feed = TopicFeed(settings, model)
    consumer, partitions = feed._consumer()
    try:
        feed.catch_up(consumer, partitions)
    finally:
        consumer.close()
    return model
