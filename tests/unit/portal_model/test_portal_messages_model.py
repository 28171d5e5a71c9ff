"""The portal's model follows the messages topic: each person's in-portal messages and unread count, and the
deliveries of each notice and its cases, from real events of the messages service's own bus."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from shared.clock import FixedClock
from shared.config import Settings
from shared.envelope import Actor
from shared.eventstore import base as eventstore_base
from services.portal.adapters.snapshot import PartitionMark, read_snapshot, write_snapshot
from services.portal.domain.model import PortalModel
from tests.message_events import Messages

BAZHOU, ENYANG = "巴州区教育局", "恩阳区教育局"
ZHAO = Actor("zhao", "unit_handler", BAZHOU, "赵伟")
OFFICE = Actor("wang", "office_staff", "巴中市人民政府教育督导委员会办公室", "王科长")
NOTICE, CASE = "notice-1", "notice-1:P1"


@pytest.fixture
def world():
    """Five messages about a notice and its case P1: an inbox message read and one unread, an SMS sent, an e-mail
    failed for good then sent again, an SMS to 恩阳 waiting to be retried; and one inbox message about nothing."""
    clock = FixedClock(datetime(2026, 11, 2, 1, 58, tzinfo=timezone.utc))  # 09:58 in Beijing
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(eventstore_base, "utc_now", clock.now)
        bus = Messages(clock)
        ids = {
            "issued": bus.queue("inbox", "zhao", "赵伟", BAZHOU, "【下发督办通知】校园安全", notice_id=NOTICE,
                                rule="notice-issued"),
            "inbox": bus.queue("inbox", "zhao", "赵伟", BAZHOU, "【催办】消防通道堵塞", notice_id=NOTICE, case_id=CASE),
            "sms": bus.queue("sms", "zhao", "赵伟", BAZHOU, "【催办】消防通道堵塞", address="13812341234", notice_id=NOTICE,
                             case_id=CASE),
            "email": bus.queue("email", "zhao", "赵伟", BAZHOU, "【催办】消防通道堵塞", address="zhao@example.cn",
                               notice_id=NOTICE, case_id=CASE),
            "enyang": bus.queue("sms", "sun", "孙经办", ENYANG, "【催办】围墙破损", address="13900001111",
                                notice_id=NOTICE, case_id="notice-1:P2"),
        }
        clock.advance(minutes=1)
        bus.read(ids["issued"], ZHAO)
        clock.advance(minutes=3)  # 10:02
        bus.send(ids["sms"], "HTTP 200 {code: 0}")
        bus.fail(ids["email"], "550 mailbox unavailable", retryable=False)
        bus.fail(ids["enyang"], "gateway timeout")
        clock.advance(minutes=5)
        ids["other"] = bus.queue("inbox", "zhao", "赵伟", BAZHOU, "【签收提醒】另一份通知", notice_id="notice-2")
        events = bus.events()
    return ids, events, bus, clock


def built(events) -> PortalModel:
    model = PortalModel()
    for event in events:
        model.apply("messages", event)
    return model


class TestThePortalModelKeepsEachPersonsMessages:
    def test_the_inbox_is_newest_first_with_the_unread_ones_counted(self, world):
        ids, events, _, _ = world
        model = built(events)
        assert [m["id"] for m in model.inbox_of("zhao")] == [ids["other"], ids["inbox"], ids["issued"]]
        assert model.unread_count("zhao") == 2 and model.unread_count("sun") == 0
        inbox = model.messages[ids["inbox"]]
        assert (inbox["subject"], inbox["link"], inbox["status"]) == ("【催办】消防通道堵塞", f"/cases/{CASE}", "unread")
        assert model.messages[ids["issued"]]["status"] == "read" and model.messages[ids["issued"]]["read_at"]

    def test_reading_a_message_lowers_the_count_once(self, world):
        ids, _, bus, _ = world
        bus.read(ids["inbox"], ZHAO)
        bus.read(ids["inbox"], ZHAO)  # already read: the service records nothing
        model = built(bus.events())
        assert model.unread_count("zhao") == 1 and model.messages[ids["inbox"]]["status"] == "read"

    def test_only_inbox_messages_are_in_a_persons_inbox(self, world):
        ids, events, _, _ = world
        assert ids["sms"] not in built(events).inbox.get("zhao", [])


class TestThePortalModelKeepsEachNoticesDeliveries:
    def test_every_channel_with_its_recipient_address_and_outcome(self, world):
        ids, events, _, _ = world
        model = built(events)
        assert [m["id"] for m in model.deliveries_of(NOTICE)] == [ids[k] for k in ("issued", "inbox", "sms", "email", "enyang")]
        sms = model.messages[ids["sms"]]
        assert (sms["channel"], sms["recipient_name"], sms["unit"], sms["address"], sms["case_id"]) == (
            "sms", "赵伟", BAZHOU, "13812341234", CASE)
        assert (sms["status"], sms["answer"], sms["sent_at"]) == ("sent", "HTTP 200 {code: 0}", "2026-11-02T02:02:00+00:00")
        email = model.messages[ids["email"]]
        assert (email["status"], email["error"]) == ("dead", "550 mailbox unavailable")
        retrying = model.messages[ids["enyang"]]
        assert (retrying["status"], retrying["attempts"], retrying["error"]) == ("retrying", 1, "gateway timeout")
        assert retrying["retry_at"]

    def test_a_failed_message_sent_again_is_queued_then_sent(self, world):
        ids, _, bus, clock = world
        bus.requeue(ids["email"], "地址已更正", OFFICE)
        assert built(bus.events()).messages[ids["email"]]["status"] == "queued"
        bus.send(ids["email"], "250 OK")
        email = built(bus.events()).messages[ids["email"]]
        assert (email["status"], email["answer"]) == ("sent", "250 OK")

    def test_a_message_about_a_case_alone_belongs_to_the_cases_notice(self):
        clock = FixedClock(datetime(2026, 11, 2, 2, 0, tzinfo=timezone.utc))
        bus = Messages(clock)
        message_id = bus.queue("inbox", "zhao", "赵伟", BAZHOU, "【临近提醒】…", case_id="notice-9:P3")
        assert [m["id"] for m in built(bus.events()).deliveries_of("notice-9")] == [message_id]

    def test_message_events_stay_out_of_the_notices_timeline_of_events(self, world):
        _, events, _, _ = world
        model = built(events)
        assert model.timelines == {} and model.events_applied == len(events)
        assert all(model.streams[e.stream_id].ok for e in events)  # their hash chains are checked all the same


class TestTheMessagesInTheWholeState:
    def test_a_redelivered_event_changes_nothing(self, world):
        _, events, _, _ = world
        model = built(events)
        before = model.digest()
        assert not any(model.apply("messages", event) for event in events)
        assert model.digest() == before and model.unread_count("zhao") == 2

    def test_the_digest_covers_the_messages(self, world):
        ids, _, bus, _ = world
        before = built(bus.events()).digest()
        bus.read(ids["inbox"], ZHAO)
        assert built(bus.events()).digest() != before

    def test_a_snapshot_keeps_them_and_the_restored_model_goes_on(self, world, tmp_path):
        ids, events, bus, _ = world
        settings = Settings(topic_prefix="snap", jwt_secret="the-portal-secret")
        model = built(events)
        restored = read_snapshot(write_snapshot(tmp_path, model, {("snap.messages", 0): PartitionMark(len(events))},
                                                settings), settings).model
        assert restored.digest() == model.digest()
        assert restored.inbox_of("zhao") == model.inbox_of("zhao") and restored.unread_count("zhao") == 2
        bus.read(ids["inbox"], ZHAO)
        for event in bus.events()[len(events):]:
            restored.apply("messages", event)
        assert restored.unread_count("zhao") == 1 and restored.digest() == built(bus.events()).digest()
