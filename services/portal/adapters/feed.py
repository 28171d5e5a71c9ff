"""The portal's read models are fed from the five topics (never from other databases): from the newest snapshot's
positions, or from the beginning, then as events come."""
from __future__ import annotations

import gc
import hashlib
import logging
import threading
import time
from contextlib import contextmanager
from datetime import date
from pathlib import Path

from kafka import KafkaConsumer, TopicPartition

from shared.config import Settings
from shared.deadlines import use_recorded_arrangements
from shared.envelope import EventEnvelope
from shared.holidays import YearArrangement
from shared.kafka import ensure_topics
from services.portal.adapters.snapshot import PartitionMark, load_newest, remove_leftovers, write_snapshot
from services.portal.domain.model import PortalModel

log = logging.getLogger(__name__)

SOURCE_TOPICS = ("tasks", "notices", "followups", "directory", "messages")


class TopicFeed:
    """Applies every event of the five topics (tasks, notices, followups, directory, messages) to a model: first the history,
    then as they come.

    No consumer group and no committed offsets: each portal process holds its own model. Without a snapshot
    directory it always starts from offset 0, so the model is rebuilt from scratch on every start (and by
    ``duban rebuild portal``) through exactly the code that keeps it live. With one, it starts from the newest
    snapshot that passes every check (adapters/snapshot.py) and whose positions the topics still hold, reads
    only the tail, and writes a new snapshot now and then once caught up, and when stopped.
    """

    def __init__(self, settings: Settings, model: PortalModel, lock: threading.RLock | None = None,
                 snapshot_dir: str | Path | None = None):
        self.settings = settings
        self.model = model
        self.lock = lock or threading.RLock()
        self.caught_up = threading.Event()
        self.undecodable = 0
        self.snapshot_dir = snapshot_dir
        self.restored_from: Path | None = None
        self.snapshots_written = 0
        self._services = {settings.topic(name): name for name in SOURCE_TOPICS}
        self._last_records: dict[TopicPartition, object] = {}  # the last record applied from each partition
        self._restored_marks: dict[TopicPartition, PartitionMark] = {}
        self._snapshot_events = 0  # model.events_applied when the last snapshot was written (or restored)
        self._snapshot_time = time.monotonic()
        self._thread: threading.Thread | None = None

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
        calendars_before = dict(self.model.holiday_years)
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
                if records:
                    self._last_records[partition] = records[-1]
        if calendars_before != self.model.holiday_years:
            count_on_recorded_calendars(self.model)
        return applied

    def catch_up(self, consumer: KafkaConsumer, partitions: list[TopicPartition], stop: threading.Event | None = None) -> int:
        """Apply everything up to the end offsets the topics had when we started."""
        ends = consumer.end_offsets(partitions)
        applied = 0
        while not (stop and stop.is_set()):
            if all(consumer.position(p) >= ends[p] for p in partitions):
                break
            applied += self.apply_batch(consumer.poll(timeout_ms=500))
            # What a batch added stays for good: out of the collector's way, or every full collection walks the
            # whole model again (quadratic over a long history). Few web requests run yet, so little else is frozen.
            gc.freeze()
        return applied

    # -- snapshots ------------------------------------------------------------------------------------------

    def restore(self, consumer: KafkaConsumer, partitions: list[TopicPartition]) -> bool:
        """Take the newest trustworthy snapshot and seek to its positions; False: read from the beginning."""
        if not self.snapshot_dir:
            return False
        remove_leftovers(self.snapshot_dir)
        with _collector_paused():  # unpickling makes millions of objects that all live on
            snapshot = load_newest(self.snapshot_dir, self.settings)
        if snapshot is None:
            return False
        marks = {TopicPartition(topic, number): mark for (topic, number), mark in snapshot.marks.items()}
        reason = self._differs_from_topics(consumer, partitions, marks)
        if reason is not None:
            log.warning("portal snapshot ignored: the topics no longer hold what it covers",
                        extra={"path": str(snapshot.path), "reason": reason})
            consumer.seek_to_beginning(*partitions)
            return False
        with self.lock:
            self.model.adopt(snapshot.model)
        count_on_recorded_calendars(self.model)
        for partition in partitions:
            consumer.seek(partition, marks[partition].position)
        self._restored_marks = marks
        self._snapshot_events, self._snapshot_time = self.model.events_applied, time.monotonic()
        self.restored_from = snapshot.path
        return True

    def _differs_from_topics(self, consumer: KafkaConsumer, partitions: list[TopicPartition],
                             marks: dict[TopicPartition, PartitionMark]) -> str | None:
        """Why the topics no longer hold what the snapshot covers (None: they do)."""
        if set(marks) != set(partitions):
            return f"partitions {sorted(map(tuple, marks))} in the snapshot, {sorted(map(tuple, partitions))} now"
        starts, ends = consumer.beginning_offsets(partitions), consumer.end_offsets(partitions)
        for partition in partitions:
            mark = marks[partition]
            first = mark.position if mark.last_offset is None else mark.last_offset
            if not starts[partition] <= first <= mark.position <= ends[partition]:
                return (f"{partition.topic}[{partition.partition}] holds offsets {starts[partition]}–{ends[partition]}, "
                        f"the snapshot read up to {mark.position}")
        # Offsets alone cannot tell a topic recreated since and grown as long: the last record read must be the same.
        # (A consumer of its own: pausing and seeking the feed's consumer back and forth can leave partitions stalled.)
        checker = KafkaConsumer(bootstrap_servers=self.settings.kafka_bootstrap, enable_auto_commit=False,
                                client_id="duban-portal-snapshot-check")
        try:
            deadline = time.monotonic() + 30
            for partition in partitions:
                mark = marks[partition]
                if mark.last_offset is None:
                    continue
                checker.assign([partition])
                checker.seek(partition, mark.last_offset)
                records = []
                while not records and time.monotonic() < deadline:
                    records = checker.poll(timeout_ms=500, max_records=1).get(partition, [])
                if not records:
                    return f"{partition.topic}[{partition.partition}] did not deliver offset {mark.last_offset}"
                if records[0].offset != mark.last_offset or _sha256(records[0].value) != mark.last_sha256:
                    return f"{partition.topic}[{partition.partition}] holds another record at offset {mark.last_offset}"
            return None
        finally:
            checker.close()

    def marks(self, consumer: KafkaConsumer, partitions: list[TopicPartition]) -> dict[tuple[str, int], PartitionMark]:
        """Where the model stands in each partition (for a snapshot)."""
        marks = {}
        for partition in partitions:
            record = self._last_records.get(partition)
            if record is not None:
                mark = PartitionMark(consumer.position(partition), record.offset, _sha256(record.value))
            else:
                mark = self._restored_marks.get(partition) or PartitionMark(consumer.position(partition))
            marks[(partition.topic, partition.partition)] = mark
        return marks

    def snapshot(self, consumer: KafkaConsumer, partitions: list[TopicPartition]) -> Path | None:
        """Write a snapshot of the model as it stands (only this thread changes it, so no lock is taken)."""
        if not self.snapshot_dir:
            return None
        started = time.perf_counter()
        path = write_snapshot(self.snapshot_dir, self.model, self.marks(consumer, partitions), self.settings)
        self._snapshot_events, self._snapshot_time = self.model.events_applied, time.monotonic()
        self.snapshots_written += 1
        log.info("portal snapshot written", extra={"path": str(path), "events": self.model.events_applied,
                                                   "seconds": round(time.perf_counter() - started, 2)})
        return path

    def _snapshot_due(self) -> bool:
        new = self.model.events_applied - self._snapshot_events
        return bool(self.snapshot_dir) and new > 0 and (
            new >= self.settings.portal_snapshot_events
            or time.monotonic() - self._snapshot_time >= self.settings.portal_snapshot_seconds)

    def _snapshot_safely(self, consumer: KafkaConsumer, partitions: list[TopicPartition]) -> None:
        try:
            self.snapshot(consumer, partitions)
        except Exception:  # noqa: BLE001 - a full disk must not stop the portal following the topics
            log.exception("portal snapshot failed; the portal goes on without it")
            self._snapshot_time = time.monotonic()  # try again after the interval, not at every poll

    # -- the loop ---------------------------------------------------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        """Restore or start afresh, catch up with the history, say so, then follow the topics until stopped."""
        consumer, partitions = self._consumer()
        try:
            started = time.perf_counter()
            try:
                restored = self.restore(consumer, partitions)
            except Exception:  # noqa: BLE001 - a snapshot is an optimisation; the topics are the truth
                log.exception("portal snapshot could not be restored; reading the topics from the beginning")
                with self.lock:
                    self.model.adopt(PortalModel())
                self._restored_marks, restored = {}, False
                consumer.seek_to_beginning(*partitions)
            applied = self.catch_up(consumer, partitions, stop)
            self.caught_up.set()
            log.info("portal caught up with the topics", extra={
                "events": applied, "seconds": round(time.perf_counter() - started, 2),
                "from_snapshot": str(self.restored_from) if restored else None})
            while not stop.is_set():
                self.apply_batch(consumer.poll(timeout_ms=200))
                if self._snapshot_due():
                    self._snapshot_safely(consumer, partitions)
            if self.model.events_applied != self._snapshot_events:  # stopped cleanly: the next start reads no tail
                self._snapshot_safely(consumer, partitions)
        finally:
            consumer.close()

    def start(self) -> threading.Event:
        stop = threading.Event()
        self._thread = threading.Thread(target=self.run, args=(stop,), name="portal-feed", daemon=True)
        self._thread.start()
        return stop

    def join(self, timeout: float | None = None) -> None:
        """Wait for the loop to end (and its last snapshot to be written) after its stop event was set."""
        if self._thread is not None:
            self._thread.join(timeout)


def _sha256(value: bytes | None) -> str:
    return hashlib.sha256(value or b"").hexdigest()


@contextmanager
def _collector_paused():
    """The cyclic collector off while a snapshot is unpickled, then everything made moved out of its way for good."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


def count_on_recorded_calendars(model: PortalModel) -> None:
    """The portal's lights and lateness count on the arrangements offices recorded (from the tasks topic)."""
    use_recorded_arrangements([
        YearArrangement(year, frozenset(date.fromisoformat(d) for d in recorded["holidays"]),
                        frozenset(date.fromisoformat(d) for d in recorded["workdays"]))
        for year, recorded in model.holiday_years.items()])


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
