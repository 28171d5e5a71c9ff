"""One contract, run against every event store: the in-memory one and the MongoDB one."""
from __future__ import annotations

import threading

import pytest

from shared.envelope import GENESIS_HASH, Actor, NewEvent
from shared.errors import ConcurrencyConflict
from shared.eventstore.base import AppendRequest, EventStore

ACTOR = Actor(user_id="u1", role="office_staff", unit="市教育督导室")


def append(store: EventStore, stream_id: str, expected: int, *types: str, correlation: str = "c1"):
    return store.append(AppendRequest(
        stream_id=stream_id, stream_type="notice", expected_version=expected,
        events=[NewEvent(type=t, data={"n": i, "text": "整改"}) for i, t in enumerate(types)],
        actor=ACTOR, correlation_id=correlation,
    ))


class EventStoreContract:
    """Subclasses provide ``store`` (a fresh, empty store) and ``tamper(store, event_id, field, value)``."""

    @pytest.fixture
    def store(self) -> EventStore:  # pragma: no cover - overridden
        raise NotImplementedError

    def tamper(self, store: EventStore, event_id: str, field: str, value) -> None:  # pragma: no cover
        raise NotImplementedError

    def test_appended_events_are_read_back_in_version_order(self, store):
        append(store, "s1", 0, "A", "B")
        append(store, "s1", 2, "C")
        events = store.read_stream("s1")
        assert [(e.version, e.type) for e in events] == [(1, "A"), (2, "B"), (3, "C")]
        assert events[0].actor == ACTOR and events[0].data == {"n": 0, "text": "整改"}

    def test_the_streams_a_request_appended_to_are_found_by_its_request_id_first_written_first(self, store):
        def tagged(stream_id: str, expected: int, request_id: str | None):
            return store.append(AppendRequest(
                stream_id=stream_id, stream_type="plan", expected_version=expected,
                events=[NewEvent(type="Recorded", data={})], actor=ACTOR, correlation_id="c1", request_id=request_id))

        tagged("plan-1", 0, "req-a")
        tagged("task-1", 0, "req-a")
        tagged("plan-1", 1, "req-a")
        tagged("other", 0, "req-b")
        tagged("untagged", 0, None)

        assert store.streams_of_request("req-a") == ["plan-1", "task-1"]
        assert store.streams_of_request("req-b") == ["other"]
        assert store.streams_of_request("never-seen") == []
        assert [e.type for e in store.read_stream("plan-1")] == ["Recorded", "Recorded"]  # the tag is not content

    def test_unknown_stream_reads_empty(self, store):
        assert store.read_stream("missing") == []
        assert store.stream_version("missing") == 0

    def test_events_are_hash_chained_from_genesis(self, store):
        first, second = append(store, "s1", 0, "A", "B")
        assert first.prev_hash == GENESIS_HASH
        assert second.prev_hash == first.hash
        assert first.hash == first.compute_hash()

    def test_append_at_a_stale_version_is_a_conflict_and_writes_nothing(self, store):
        append(store, "s1", 0, "A")
        with pytest.raises(ConcurrencyConflict):
            append(store, "s1", 0, "B")
        with pytest.raises(ConcurrencyConflict):
            append(store, "s1", 5, "B")
        assert [e.type for e in store.read_stream("s1")] == ["A"]

    def test_appending_each_of_several_requests_keeps_one_conflict_from_stopping_the_others(self, store):
        append(store, "taken", 0, "A")
        append(store, "held", 0, "A")

        def request(stream_id: str, expected: int, *types: str) -> AppendRequest:
            return AppendRequest(stream_id=stream_id, stream_type="message", expected_version=expected,
                                 events=[NewEvent(type=t, data={"t": t}) for t in types], actor=ACTOR,
                                 correlation_id="batch")

        outcomes = store.append_each([request("taken", 0, "Stale"), request("held", 1, "B"), request("new", 0, "A"),
                                      request("gone", 3, "Ahead"), request("pair", 0, "A", "B")])
        assert [type(o).__name__ if isinstance(o, ConcurrencyConflict) else [e.type for e in o] for o in outcomes] == [
            "ConcurrencyConflict", ["B"], ["A"], "ConcurrencyConflict", ["A", "B"]]
        assert [e.type for e in store.read_stream("taken")] == ["A"]
        assert [e.type for e in store.read_stream("held")] == ["A", "B"]
        assert store.read_stream("gone") == []
        [held_a, held_b] = store.read_stream("held")
        assert held_b.prev_hash == held_a.hash and store.verify().ok
        # the outcomes carry what was stored, so a caller may append again right after them
        assert [e.type for e in append(store, "held", 2, "C")] == ["C"]

    def test_concurrent_writers_at_the_same_version_have_exactly_one_winner(self, store):
        append(store, "race", 0, "Opened")
        outcomes: list[str] = []
        barrier = threading.Barrier(8)

        def writer(n: int) -> None:
            barrier.wait()
            try:
                append(store, "race", 1, f"Write{n}")
                outcomes.append("won")
            except ConcurrencyConflict:
                outcomes.append("conflict")

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(outcomes) == ["conflict"] * 7 + ["won"]
        assert [e.version for e in store.read_stream("race")] == [1, 2]

    def test_read_all_keeps_each_streams_version_order(self, store):
        for n in range(5):
            append(store, "a", n, f"A{n}")
            append(store, "b", n, f"B{n}")
        events = list(store.read_all())
        assert len(events) == 10
        for stream in ("a", "b"):
            assert [e.version for e in events if e.stream_id == stream] == [1, 2, 3, 4, 5]

    def test_new_events_are_unpublished_until_marked(self, store):
        events = append(store, "s1", 0, "A", "B")
        assert [e.event_id for e in store.unpublished(10)] == [e.event_id for e in events]
        store.mark_published([events[0]])
        assert [e.event_id for e in store.unpublished(10)] == [events[1].event_id]

    def test_verify_passes_on_an_untouched_store(self, store):
        append(store, "s1", 0, "A", "B")
        append(store, "s2", 0, "C")
        result = store.verify()
        assert result.ok and result.events_checked == 3 and result.streams_checked == 2

    def test_verify_names_the_first_event_edited_in_place(self, store):
        append(store, "s1", 0, "A", "B", "C")
        second = store.read_stream("s1")[1]
        self.tamper(store, second.event_id, "data", {"n": 99, "text": "篡改"})
        result = store.verify("s1")
        assert not result.ok
        assert result.first_bad_event_id == second.event_id
        assert result.first_bad_version == 2
        assert "hash" in result.reason
        assert not store.verify().ok  # the whole-store walk finds it too
