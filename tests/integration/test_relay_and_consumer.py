"""The outbox relay and the consumer runner against the real Kafka broker and MongoDB-protocol server."""
from __future__ import annotations

import json
import threading
from collections import defaultdict

import pytest

from shared.envelope import Actor, NewEvent
from shared.eventstore.base import AppendRequest
from shared.eventstore.mongo import MongoEventStore
from shared.kafka import ensure_topics, make_producer
from shared.mongo import connect_service_database
from shared.relay import Lease, OutboxRelay
from shared.worker import Worker
from services.notices.bootstrap import bootstrap as bootstrap_notices
from tests.helpers import eventually, read_topic, running_consumer

ACTOR = Actor(user_id="office-1", role="office_staff", unit="巴中市教育督导室")


@pytest.fixture
def database(settings):
    return connect_service_database(settings, "relaytest")


@pytest.fixture
def store(database):
    store = MongoEventStore(database)
    store.ensure_indexes()
    return store


@pytest.fixture
def producer(settings):
    ensure_topics(settings)
    producer = make_producer(settings)
    yield producer
    producer.close()


def append_events(store, stream_id: str, count: int, start: int = 0, event_type: str = "Happened"):
    for n in range(start, start + count):
        store.append(AppendRequest(stream_id=stream_id, stream_type="test", expected_version=n,
                                   events=[NewEvent(type=event_type, data={"n": n})], actor=ACTOR,
                                   correlation_id=f"corr-{stream_id}"))


def relay_all(relay: OutboxRelay) -> int:
    total = 0
    while (published := relay.publish_pending()) > 0:
        total += published
    return total


class TestOutboxRelay:
    def test_publishes_every_stream_in_version_order_keyed_by_stream(self, settings, store, producer):
        for round_ in range(5):  # interleave three streams
            for stream in ("notice-a", "notice-b", "notice-c"):
                append_events(store, stream, 1, start=round_)
        relay = OutboxRelay(store, producer, settings.topic("notices"), batch_size=4)
        assert relay_all(relay) == 15
        assert store.unpublished(100) == []

        messages = read_topic(settings, settings.topic("notices"), 15)
        versions = defaultdict(list)
        for message in messages:
            body = json.loads(message.value)
            assert message.key.decode() == body["stream_id"]
            versions[body["stream_id"]].append(body["version"])
        assert dict(versions) == {s: [1, 2, 3, 4, 5] for s in ("notice-a", "notice-b", "notice-c")}

    def test_only_one_relay_holds_the_lease(self, database):
        first = Lease(database["relay_leases"], "relay:test", ttl_seconds=30, owner="worker-1")
        second = Lease(database["relay_leases"], "relay:test", ttl_seconds=30, owner="worker-2")
        assert first.acquire()
        assert not second.acquire()
        assert first.acquire()  # renewing its own lease
        first.release()
        assert second.acquire()


class TestConsumerRunner:
    def test_a_crash_between_publish_and_mark_redelivers_and_the_consumer_ignores_the_duplicate(
            self, settings, database, store, producer):
        append_events(store, "case-1", 3)
        relay = OutboxRelay(store, producer, settings.topic("followups"))

        original_mark = store.mark_published
        store.mark_published = lambda ids: (_ for _ in ()).throw(RuntimeError("crash before marking"))
        with pytest.raises(RuntimeError):
            relay.publish_pending()
        store.mark_published = original_mark
        assert relay_all(relay) == 3  # the restarted relay publishes the same three again

        assert len(read_topic(settings, settings.topic("followups"), 6)) == 6
        effects = database["effects"]

        def handle(event):
            effects.insert_one({"event_id": event.event_id, "n": event.data["n"]})

        with running_consumer(settings, database, "followups", handle):
            eventually(lambda: _assert_equal(effects.count_documents({}), 3))
            processed = database["processed_events"]
            eventually(lambda: _assert_equal(processed.count_documents({}), 3))
        assert sorted(d["n"] for d in effects.find()) == [0, 1, 2]

    def test_a_poison_message_goes_to_the_dead_letter_topic_and_later_messages_are_handled(
            self, settings, database, store, producer):
        topic = settings.topic("tasks")
        producer.send(topic, key=b"x", value=b"\xff not json at all").get(10)
        append_events(store, "task-1", 1, event_type="Explodes")
        append_events(store, "task-2", 2)
        relay_all(OutboxRelay(store, producer, topic))
        handled = database["handled"]

        def handle(event):
            if event.type == "Explodes":
                raise ValueError("handler cannot cope with this event")
            handled.insert_one({"stream": event.stream_id, "n": event.data["n"]})

        with running_consumer(settings, database, "tasks", handle):
            eventually(lambda: _assert_equal(handled.count_documents({}), 2))
            dead = read_topic(settings, settings.dead_letter_topic, 2)
        errors = sorted(dict(m.headers)["error"].decode() for m in dead)
        assert any("ValueError" in e and "cannot cope" in e for e in errors)
        assert any("JSONDecodeError" in e or "UnicodeDecodeError" in e for e in errors)
        sources = [json.loads(dict(m.headers)["source"]) for m in dead]
        assert all(s["topic"] == topic and s["group"] == f"{settings.topic_prefix}.test-group" for s in sources)

    def test_a_restarted_consumer_resumes_from_its_committed_offset_with_nothing_lost(
            self, settings, database, store, producer):
        append_events(store, "notice-r", 20)
        relay_all(OutboxRelay(store, producer, settings.topic("notices")))
        effects = database["effects"]

        def handle(event):
            effects.insert_one({"event_id": event.event_id, "n": event.data["n"]})

        with running_consumer(settings, database, "notices", handle, group="resume", max_poll_records=5):
            eventually(lambda: _assert_at_least(effects.count_documents({}), 5), timeout=120)
        handled_before_restart = effects.count_documents({})
        append_events(store, "notice-r", 5, start=20)  # more arrive while it is down
        relay_all(OutboxRelay(store, producer, settings.topic("notices")))

        with running_consumer(settings, database, "notices", handle, group="resume", max_poll_records=5):
            # progress, not speed: a consumer joining its group again can take long on a loaded machine
            eventually(lambda: _assert_equal(len({e["n"] for e in effects.find({}, {"n": 1})}), 25), timeout=120)
        assert effects.count_documents({}) == 25, "every event handled exactly once across the restart"
        assert handled_before_restart < 25


def _assert_equal(actual, expected):
    assert actual == expected, f"{actual} != {expected}"


def _assert_at_least(actual, minimum):
    assert actual >= minimum, f"{actual} < {minimum}"


def test_a_stopped_worker_leaves_no_kafka_client_running(settings):
    # The worker's producer (shared by its relay and its consumers' dead-letter sends) was never closed: its
    # network thread went on reconnecting after the worker stopped, one more for every worker a session started.
    before = set(threading.enumerate())
    worker = Worker(bootstrap_notices(settings))
    worker.start()
    kafka_threads = [t for t in set(threading.enumerate()) - before if t.name.startswith("duban-producer")]
    assert kafka_threads, "the running worker has its producer's network thread"
    worker.shutdown()
    # all the worker started has ended (the service's MongoDB client, made by bootstrap, is not the worker's)
    assert [t.name for t in set(threading.enumerate()) - before
            if t.is_alive() and not t.name.startswith("pymongo")] == []
