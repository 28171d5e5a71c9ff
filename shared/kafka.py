"""Kafka clients built one way for the whole project (never at import time)."""
from __future__ import annotations

import logging
import time

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import NewTopic
from kafka.errors import TopicAlreadyExistsError

from shared.config import Settings

log = logging.getLogger(__name__)

TOPIC_NAMES = ("tasks", "notices", "followups", "directory", "messages", "dlq")
DEFAULT_PARTITIONS = 3


def make_producer(settings: Settings, **overrides) -> KafkaProducer:
    """acks=all and one request in flight: a retried batch cannot overtake the one before it."""
    options = dict(
        bootstrap_servers=settings.kafka_bootstrap,
        acks="all",
        retries=10,
        max_in_flight_requests_per_connection=1,
        linger_ms=5,
        client_id="duban-producer",
    )
    options.update(overrides)
    return KafkaProducer(**options)


def consumer_options(settings: Settings, group_id: str, **overrides) -> dict:
    """Manual commits only: auto-commit would acknowledge messages whose effect is not stored yet."""
    options = dict(
        bootstrap_servers=settings.kafka_bootstrap,
        group_id=group_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        # A poll's records must all be handled within max_poll_interval_ms, or the consumer leaves the group
        # and cannot commit them ("Consumer poll timeout has expired", then CommitFailedError): few records per
        # poll and a generous interval, so that a slow store only makes the worker slower. The interval is also
        # the rebalance timeout, but only for live members: one that died without leaving is dropped after
        # session_timeout_ms, and a live one rejoins at its next poll, i.e. after at most one small batch.
        max_poll_records=settings.consumer_max_poll_records,
        max_poll_interval_ms=int(settings.consumer_max_poll_interval_seconds * 1000),
        session_timeout_ms=10_000,
        heartbeat_interval_ms=3_000,
        client_id=f"duban-{group_id}",
        # A new topic's partitions show up within seconds, not after the 5-minute default.
        metadata_max_age_ms=5_000,
    )
    options.update(overrides)
    return options


def make_consumer(settings: Settings, group_id: str, topics: list[str], **overrides) -> KafkaConsumer:
    consumer = KafkaConsumer(**consumer_options(settings, group_id, **overrides))
    _wait_for_partitions(consumer, topics)
    consumer.subscribe(topics)
    return consumer


def _wait_for_partitions(consumer: KafkaConsumer, topics: list[str], timeout: float = 30.0) -> None:
    """Know the topics' partitions before joining: a group leader that assigns without them assigns nothing."""
    deadline = time.monotonic() + timeout
    for topic in topics:
        while not consumer.partitions_for_topic(topic):
            if time.monotonic() > deadline:
                log.warning("no partition metadata yet; joining anyway", extra={"topic": topic})
                return
            time.sleep(0.2)


def ensure_topics(settings: Settings, partitions: int = DEFAULT_PARTITIONS) -> None:
    """Create the project's topics if they are missing (idempotent, safe from several processes)."""
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap, client_id="duban-admin")
    try:
        existing = set(admin.list_topics())
        wanted = [settings.topic(n) for n in TOPIC_NAMES]
        # Kept forever: the topics are the history other services' read models (the portal's) are rebuilt from.
        missing = [NewTopic(name=t, num_partitions=partitions, replication_factor=1, topic_configs={"retention.ms": "-1"})
                   for t in wanted if t not in existing]
        if missing:
            try:
                admin.create_topics(missing)
                log.info("created topics", extra={"topics": [t.name for t in missing]})
            except TopicAlreadyExistsError:
                pass
    finally:
        admin.close()
