import time

import pytest

from shared.eventstore.mongo import MongoEventStore
from shared.mongo import connect_service_database
from tests.eventstore_contract import EventStoreContract


class TestMongoEventStore(EventStoreContract):
    """The same contract against the real MongoDB-protocol server."""

    @pytest.fixture
    def store(self, settings):
        store = MongoEventStore(connect_service_database(settings, "contract"))
        store.ensure_indexes()
        return store

    def tamper(self, store, event_id, field, value):
        # A direct edit in the database, as an insider with write access could make.
        store.collection.update_one({"event_id": event_id}, {"$set": {field: value}})

    def test_a_second_store_instance_with_a_stale_head_cache_still_gets_a_conflict(self, store, settings):
        from tests.eventstore_contract import append

        other = MongoEventStore(store.collection.database)
        append(store, "s", 0, "A")
        other.read_stream("s")  # other now caches head version 1
        append(store, "s", 1, "B")
        with pytest.raises(Exception) as raised:
            append(other, "s", 1, "C")
        assert type(raised.value).__name__ == "ConcurrencyConflict"
        assert [e.type for e in store.read_stream("s")] == ["A", "B"]

    def test_an_append_is_one_document_carrying_its_unpublished_mark(self, store):
        from tests.eventstore_contract import append

        [event] = append(store, "one", 0, "A")
        [document] = list(store.collection.find({"stream_id": "one"}))
        assert document["event_id"] == event.event_id and document["published"] is False
        store.mark_published([event])
        assert store.collection.find_one({"_id": document["_id"]})["published"] is True
        assert store.pending_count() == 0

    def test_marking_a_batch_leaves_events_appended_meanwhile_unpublished(self, store):
        from tests.eventstore_contract import append

        first = append(store, "a", 0, "A") + append(store, "b", 0, "B")
        late = append(store, "a", 1, "C")  # appended after the relay read its batch
        store.mark_published(first)
        assert [e.event_id for e in store.unpublished()] == [e.event_id for e in late]

    def test_the_backlog_comes_in_recorded_order_whatever_order_the_server_returns(self, store):
        from tests.eventstore_contract import append

        events = []
        for i in range(5):
            events += append(store, f"s{i % 2}", i // 2, f"E{i}")
            # Recorded times are kept to the millisecond; within one, order across streams falls to the stream id.
            time.sleep(0.002)
        assert [e.event_id for e in store.unpublished()] == [e.event_id for e in events]
        assert [e.event_id for e in store.unpublished(2)] == [e.event_id for e in events[:2]]

    def test_pointers_left_by_the_earlier_two_write_outbox_are_published(self, store):
        from shared.eventstore.mongo import event_key
        from tests.eventstore_contract import append

        [done, pending] = append(store, "old", 0, "A") + append(store, "old", 1, "B")
        store.mark_published([done, pending])
        legacy = store.collection.database["events_outbox"]
        legacy.insert_one({"_id": event_key("old", 2), "event_id": pending.event_id, "stream_id": "old", "version": 2,
                           "recorded_at": pending.recorded_at})
        store.ensure_indexes()
        assert [e.event_id for e in store.unpublished()] == [pending.event_id]
        assert legacy.count_documents({}) == 0
