from dataclasses import replace
from datetime import date, datetime, timezone

from shared.envelope import GENESIS_HASH, Actor, EventEnvelope, canonical_json, format_time, parse_time


def make_envelope(**changes) -> EventEnvelope:
    base = EventEnvelope(
        event_id="e1", stream_id="notice-1", stream_type="notice", version=1, type="NoticeIssued", schema_version=1,
        data={"title": "督办通知", "deadline": date(2020, 12, 31)},
        actor=Actor("u1", "office_staff", "巴中市教育督导室"),
        occurred_at=datetime(2020, 9, 30, 1, 2, 3, 456789, tzinfo=timezone.utc),
        recorded_at=datetime(2020, 9, 30, 1, 2, 3, 999999, tzinfo=timezone.utc),
        correlation_id="c1", causation_id=None, prev_hash=GENESIS_HASH,
    )
    return replace(base, **changes).sealed()


class TestEnvelope:
    def test_the_hash_survives_a_round_trip_through_json(self):
        envelope = make_envelope()
        again = EventEnvelope.from_json_bytes(envelope.to_json_bytes())
        assert again.hash == envelope.hash == again.compute_hash()

    def test_times_are_kept_to_the_millisecond_as_bson_stores_them(self):
        assert format_time(datetime(2020, 9, 30, 1, 2, 3, 999999, tzinfo=timezone.utc)) == "2020-09-30T01:02:03.999Z"
        assert parse_time("2020-09-30T01:02:03.999Z") == datetime(2020, 9, 30, 1, 2, 3, 999000, tzinfo=timezone.utc)
        assert parse_time(datetime(2020, 9, 30, 1, 2, 3, 999999)).tzinfo == timezone.utc  # naive means UTC

    def test_any_change_of_content_or_chain_changes_the_hash(self):
        envelope = make_envelope()
        assert make_envelope(data={"title": "改过的"}).hash != envelope.hash
        assert make_envelope(prev_hash="f" * 64).hash != envelope.hash
        assert make_envelope(actor=Actor("u2", "office_staff")).hash != envelope.hash

    def test_canonical_json_is_independent_of_key_order_and_keeps_chinese(self):
        assert canonical_json({"b": 1, "a": "整改"}) == canonical_json({"a": "整改", "b": 1}) == '{"a":"整改","b":1}'

    def test_dates_in_data_become_iso_strings(self):
        assert make_envelope().to_dict()["data"]["deadline"] == "2020-12-31"


def test_the_canonical_form_and_so_every_stored_hash_stays_the_same():
    """A golden hash: a change to the canonical JSON would make every stored chain fail verification."""
    from datetime import datetime, timezone

    from shared.envelope import GENESIS_HASH, Actor, EventEnvelope

    data = {"case_id": "notice-1:P1", "notice_id": "notice-1", "problem_id": "P1", "description": "问题" * 20,
            "requirement": "要求" * 10, "responsible_unit": "巴州区教育局", "deadline": "2026-03-01",
            "related_task_ids": ["t1", "t2"], "listed": False,
            "escalations": [{"level": "reminder", "at": datetime(2026, 1, 1, tzinfo=timezone.utc)}]}
    event = EventEnvelope(event_id="e", stream_id="s", stream_type="Case", version=1, type="T", schema_version=1,
                          data=data, actor=Actor("u", "r", "x"),
                          occurred_at=datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=timezone.utc),
                          recorded_at=datetime(2026, 1, 2, 3, 4, 5, 679000, tzinfo=timezone.utc),
                          correlation_id="c", causation_id=None, prev_hash=GENESIS_HASH)
    assert event.sealed().hash == "af71354db0a49e0ecd3942aad39129d75203a590d38af4c7e697b29ece0f7b27"
