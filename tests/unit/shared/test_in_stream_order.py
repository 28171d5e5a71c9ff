"""Streaming a whole store in the server's order, handed over in each stream's version order."""
from shared.envelope import Actor
from shared.eventstore import AppendRequest, InMemoryEventStore
from shared.envelope import NewEvent
from shared.eventstore.base import in_stream_order, verify_events


def _events():
    store = InMemoryEventStore()
    for n in range(3):
        for stream in ("a", "b"):
            store.append(AppendRequest(stream, "T", n, [NewEvent(f"{stream}{n}", {})], Actor("u", "r", "x"), "c"))
    return list(store.read_all())  # a1 b1 a2 b2 a3 b3


def _order(events):
    return [(e.stream_id, e.version) for e in events]


def test_events_already_in_order_pass_straight_through():
    events = _events()
    assert _order(in_stream_order(events)) == _order(events)


def test_an_event_that_arrives_before_its_predecessor_waits_for_it():
    a1, b1, a2, b2, a3, b3 = _events()
    out = _order(in_stream_order([a3, b1, a1, b2, a2, b3]))
    assert [v for s, v in out if s == "a"] == [1, 2, 3]
    assert [v for s, v in out if s == "b"] == [1, 2, 3]
    assert out[0] == ("b", 1)  # nothing else is held back


def test_after_a_gap_the_rest_is_still_handed_over_and_verification_names_the_break():
    a1, b1, a2, b2, a3, b3 = _events()
    out = list(in_stream_order([a1, a3, b1, b2, b3]))
    assert _order(out)[-1] == ("a", 3)
    result = verify_events(out)
    assert not result.ok and result.first_bad_stream_id == "a" and result.first_bad_version == 3
