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

    def test_a_writer_that_crashed_between_pointer_and_event_blocks_nothing_after_the_grace_period(self, store):
        from datetime import timedelta

        from shared.errors import ConcurrencyConflict
        from shared.eventstore.mongo import event_key
        from tests.eventstore_contract import append

        [first] = append(store, "s", 0, "A")
        store.mark_published([first])
        # The crash: a pointer for version 2 was written, its event never was.
        store.outbox.insert_one({"_id": event_key("s", 2), "event_id": "lost", "stream_id": "s", "version": 2,
                                 "recorded_at": first.recorded_at})
        assert store.unpublished(10) == []  # never publishes what is not stored
        with pytest.raises(ConcurrencyConflict):
            append(store, "s", 1, "B")  # within the grace period the writer might still finish
        store.orphan_after = timedelta(0)
        assert store.unpublished(10) == [] and store.pending_count() == 0  # orphan cleared
        store.orphan_after = timedelta(seconds=5)
        [second] = append(store, "s", 1, "B")
        assert [e.event_id for e in store.unpublished(10)] == [second.event_id]

    def test_a_slow_writer_whose_pointer_was_taken_for_an_orphan_still_gets_published(self, store):
        from datetime import timedelta

        from tests.eventstore_contract import append

        store.orphan_after = timedelta(0)  # every append now looks "too slow" to the relay
        [event] = append(store, "slow", 0, "A")
        store.outbox.delete_many({})  # the relay deleted the pointer while the writer was still inserting
        store._restore_pointers([store._to_pointer(event)])  # what append does when it outlived the grace period
        assert [e.event_id for e in store.unpublished(10)] == [event.event_id]

    def test_the_relay_puts_back_a_pointer_whose_event_landed_while_it_was_deleting(self, store):
        from datetime import timedelta

        from tests.eventstore_contract import append

        [event] = append(store, "late", 0, "A")
        store.orphan_after = timedelta(0)
        # unpublished() sees the event and returns it; mimic the race by hiding the event at the first look.
        original = store.collection.find_one
        calls = []

        def first_look_misses(query, *args, **kwargs):
            calls.append(query)
            return None if len(calls) == 1 else original(query, *args, **kwargs)

        store.collection.find_one = first_look_misses
        assert store.unpublished(10) == []
        store.collection.find_one = original
        assert [e.event_id for e in store.unpublished(10)] == [event.event_id]
