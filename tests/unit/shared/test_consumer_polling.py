"""Consumer polls sized for a slow store, and a commit refused after a rebalance that the loop survives."""
from __future__ import annotations

import logging
import threading
from datetime import datetime, timezone

import pytest
from kafka.errors import CommitFailedError, RebalanceInProgressError
from kafka.structs import TopicPartition

from shared.config import Settings
from shared.consumer import ConsumerRunner
from shared.envelope import GENESIS_HASH, Actor, EventEnvelope
from shared.kafka import consumer_options

PARTITION = TopicPartition("t.notices", 0)


class TestPollSize:
    def test_few_records_per_poll_and_ten_minutes_to_handle_them_by_default(self, monkeypatch):
        monkeypatch.delenv("DUBAN_CONSUMER_MAX_POLL_RECORDS", raising=False)
        monkeypatch.delenv("DUBAN_CONSUMER_MAX_POLL_INTERVAL_SECONDS", raising=False)
        options = consumer_options(Settings(), "g")
        assert options["max_poll_records"] == 20
        assert options["max_poll_interval_ms"] == 600_000
        assert options["enable_auto_commit"] is False
        assert options["session_timeout_ms"] < options["max_poll_interval_ms"]

    def test_both_come_from_the_environment(self, monkeypatch):
        monkeypatch.setenv("DUBAN_CONSUMER_MAX_POLL_RECORDS", "5")
        monkeypatch.setenv("DUBAN_CONSUMER_MAX_POLL_INTERVAL_SECONDS", "1800")
        options = consumer_options(Settings(), "g")
        assert (options["max_poll_records"], options["max_poll_interval_ms"]) == (5, 1_800_000)

    def test_an_explicit_override_wins(self):
        options = consumer_options(Settings(consumer_max_poll_records=20), "g", max_poll_records=5)
        assert options["max_poll_records"] == 5


def envelope(n: int) -> EventEnvelope:
    return EventEnvelope(
        event_id=f"e{n}", stream_id="notice-1", stream_type="notice", version=n, type="NoticeIssued",
        schema_version=1, data={"n": n}, actor=Actor("u1", "office_staff", "巴中市教育督导室"),
        occurred_at=datetime(2024, 3, 1, tzinfo=timezone.utc), recorded_at=datetime(2024, 3, 1, tzinfo=timezone.utc),
        correlation_id="c1", causation_id=None, prev_hash=GENESIS_HASH,
    ).sealed()


class Message:
    def __init__(self, offset: int):
        self.topic, self.partition, self.offset, self.key = PARTITION.topic, PARTITION.partition, offset, b"k"
        self.value = envelope(offset).to_json_bytes()


class FakeConsumer:
    """Hands out the scripted polls; the first commit is refused as after a rebalance, later ones succeed."""

    def __init__(self, polls: list[dict], refuse_with: Exception):
        self.polls = polls
        self.refuse_with = refuse_with
        self.commits: list[dict] = []
        self.refused: list[dict] = []
        self.closed = False

    def poll(self, timeout_ms: int) -> dict:
        return self.polls.pop(0) if self.polls else {}

    def commit(self, offsets) -> None:
        if not self.refused:
            self.refused.append(offsets)
            raise self.refuse_with
        self.commits.append(offsets)

    def close(self) -> None:
        self.closed = True


class MemoryProcessedLog:
    def __init__(self):
        self.ids: set[str] = set()

    def seen(self, event_id: str) -> bool:
        return event_id in self.ids

    def record(self, event: EventEnvelope) -> None:
        self.ids.add(event.event_id)


@pytest.mark.parametrize("refusal", [CommitFailedError(), RebalanceInProgressError()], ids=lambda e: type(e).__name__)
def test_a_refused_commit_is_logged_and_the_redelivered_batch_is_skipped_as_handled(refusal, caplog):
    batch = {PARTITION: [Message(0), Message(1)]}
    consumer = FakeConsumer([batch, batch], refusal)  # the same records again, as the next owner would get them
    handled: list[int] = []
    stop = threading.Event()

    runner = ConsumerRunner(consumer, "g", lambda event: handled.append(event.data["n"]), MemoryProcessedLog(),
                            dead_letters=None, dead_letter_topic="dlq", retry_seconds=0)
    with caplog.at_level(logging.WARNING, logger="shared.consumer"):
        thread = threading.Thread(target=runner.run, args=(stop,), daemon=True)
        thread.start()
        for _ in range(3000):  # up to 30 s on a busy machine
            if consumer.commits:
                break
            thread.join(0.01)
        stop.set()
        thread.join(5)

    assert not thread.is_alive() and consumer.closed
    assert handled == [0, 1], "each event handled once; the redelivery is skipped"
    assert [o[PARTITION].offset for o in consumer.refused + consumer.commits] == [2, 2]
    warnings = [r for r in caplog.records if "offsets not committed" in r.getMessage()]
    assert len(warnings) == 1, [r.getMessage() for r in caplog.records]
    assert warnings[0].offsets == {"t.notices/0": 2}
    assert type(refusal).__name__ in warnings[0].error
