"""Test helpers: waits that poll with a deadline, a Kafka topic reader, a consumer running in a thread."""
from __future__ import annotations

import json
import threading
from contextlib import contextmanager
from typing import Callable

from kafka import KafkaConsumer, TopicPartition
from tenacity import Retrying, retry_if_exception_type, stop_after_delay, wait_fixed

from shared.config import Settings
from shared.consumer import ConsumerRunner, ProcessedLog
from shared.kafka import ensure_topics, make_consumer, make_producer


def eventually(check: Callable[[], object], timeout: float = 30.0, interval: float = 0.1):
    """Call ``check`` until it stops raising AssertionError (or time runs out); returns its result."""
    for attempt in Retrying(stop=stop_after_delay(timeout), wait=wait_fixed(interval), reraise=True,
                            retry=retry_if_exception_type(AssertionError)):
        with attempt:
            return check()


def read_topic(settings: Settings, topic: str, at_least: int, timeout: float = 30.0) -> list:
    """Every message of a topic from the beginning, once at least ``at_least`` are there."""
    consumer = KafkaConsumer(bootstrap_servers=settings.kafka_bootstrap, enable_auto_commit=False,
                             consumer_timeout_ms=500)
    try:
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or [])]
        assert partitions, f"topic {topic} does not exist"
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        messages: list = []

        def enough():
            messages.extend(consumer)
            assert len(messages) >= at_least, f"{len(messages)} of {at_least} messages on {topic}"
            return messages

        return eventually(enough, timeout)
    finally:
        consumer.close()


def decoded(messages) -> list[dict]:
    return [json.loads(m.value) for m in messages]


@contextmanager
def running_consumer(settings: Settings, database, topic_name: str, handle, group: str = "test-group",
                     **consumer_options):
    """A ConsumerRunner in a background thread, stopped (and joined) on exit."""
    ensure_topics(settings)
    producer = make_producer(settings)
    runner = ConsumerRunner(
        make_consumer(settings, group, [settings.topic(topic_name)], **consumer_options), group, handle,
        ProcessedLog(database["processed_events"], group), producer, settings.dead_letter_topic,
        retry_seconds=0.2,
    )
    stop = threading.Event()
    thread = threading.Thread(target=runner.run, args=(stop,), daemon=True)
    thread.start()
    try:
        yield runner
    finally:
        stop.set()
        thread.join(20)
        producer.close()
