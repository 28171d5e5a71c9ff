"""The messages domain: the rule table, whom a rule reaches by which channels, and a message's delivery."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from shared.directory import Account
from shared.errors import Forbidden, IllegalTransition, InvalidInput
from services.messages.domain.model import (
    MAX_ATTEMPTS,
    Draft,
    Message,
    Notification,
    Status,
    message_id_for,
    plan_messages,
    retry_delay,
)
from services.messages.domain.rules import load_rules, parse_rules
from services.messages.domain.wording import describe

OFFICE, BAZHOU, ENYANG = "巴中市人民政府教育督导委员会办公室", "巴州区教育局", "恩阳区教育局"
PEOPLE = [
    Account("wang", 1, True, OFFICE, ("office_staff",), "王科长", "13800000001", "wang@example.cn"),
    Account("liu", 1, True, OFFICE, ("inspector",), "刘督学", None, "liu@example.cn"),
    Account("zhao", 1, True, BAZHOU, ("unit_handler",), "赵伟", "13812341234", "zhao@example.cn"),
    Account("qian", 1, True, BAZHOU, ("unit_leader",), "钱局长", "13900001111", None),
    Account("old", 1, False, BAZHOU, ("unit_handler",), "已停用", "13700000000", "old@example.cn"),
    Account("sun", 1, True, ENYANG, ("unit_handler",), "孙经办", None, None),
]
NOTE = Notification("RectificationEscalated", "notice-1:P1", "【催办】部分学校消防通道堵塞", "催办：…", "/cases/notice-1:P1",
                    "event-7", notice_id="notice-1", case_id="notice-1:P1")
NOW = datetime(2026, 11, 2, 2, 0, tzinfo=timezone.utc)


def rule(rule_id: str):
    return next(r for r in load_rules().default if r.id == rule_id)


class TestRuleTable:
    def test_the_defaults_cover_what_offices_are_told(self):
        ids = {r.id for r in load_rules().default}
        assert ids == {"notice-issued", "sign-due", "case-due-soon", "overdue", "reminder", "serious-escalation",
                       "report-submitted", "reinspection-failed", "notice-cleared"}
        assert all("inbox" in r.channels for r in load_rules().default)  # the inbox is always on

    def test_escalations_pick_the_rule_of_their_level(self):
        book = load_rules()
        assert [r.id for r in book.matching(OFFICE, "RectificationEscalated", {"level": "reminder"})] == ["reminder"]
        serious = book.matching(OFFICE, "RectificationEscalated", {"level": "accountability"})
        assert [r.id for r in serious] == ["serious-escalation"]

    def test_an_office_may_have_its_own_rules(self, tmp_path):
        own = tmp_path / "rules.yaml"
        own.write_text("offices:\n  巴中市人民政府教育督导委员会办公室:\n    - id: only-inbox\n      events: [NoticeIssued]\n"
                       "      units: targets\n      to: [handlers]\n", encoding="utf-8")
        book = load_rules(str(own))
        assert [r.id for r in book.matching(OFFICE, "NoticeIssued", {})] == ["only-inbox"]
        assert [r.id for r in book.matching("另一个督导办", "NoticeIssued", {})] == ["notice-issued"]

    def test_a_rule_naming_an_unknown_audience_or_channel_is_refused(self):
        with pytest.raises(InvalidInput):
            parse_rules({"default": [{"id": "x", "events": ["NoticeIssued"], "units": "targets", "to": ["mayor"]}]})
        with pytest.raises(InvalidInput):
            parse_rules({"default": [{"id": "x", "events": ["NoticeIssued"], "units": "targets", "to": ["handlers"],
                                      "channels": ["fax"]}]})
        with pytest.raises(InvalidInput):
            parse_rules({"default": [{"id": "x"}]})


class TestWhomARuleReaches:
    def plan(self, rule_id, units, available=frozenset({"email", "sms"}), robots=None, quiet=None):
        return plan_messages(rule(rule_id), NOTE, PEOPLE, units, OFFICE, set(available), robots or {},
                             lambda _channel: quiet)

    def test_a_reminder_reaches_the_units_handler_and_leader_by_every_channel_they_have(self):
        drafts = self.plan("reminder", [BAZHOU])
        assert sorted((d.recipient, d.channel) for d in drafts) == [
            ("qian", "inbox"), ("qian", "sms"), ("zhao", "email"), ("zhao", "inbox"), ("zhao", "sms")]
        assert {d.address for d in drafts if d.channel == "sms"} == {"13812341234", "13900001111"}
        assert "old" not in {d.recipient for d in drafts}  # a disabled account is told nothing

    def test_serious_escalations_reach_the_leader_and_are_copied_to_the_issuing_office(self):
        drafts = self.plan("serious-escalation", [BAZHOU])
        assert {d.recipient for d in drafts} == {"qian", "wang"}

    def test_channels_not_configured_are_not_planned_and_the_inbox_always_is(self):
        drafts = self.plan("reminder", [BAZHOU], available=set())
        assert {d.channel for d in drafts} == {"inbox"}

    def test_a_units_im_group_gets_one_message_mentioning_the_people_told(self):
        drafts = self.plan("reminder", [BAZHOU], robots={BAZHOU: "wecom"})
        [group] = [d for d in drafts if d.channel == "wecom"]
        assert group.recipient is None and group.unit == BAZHOU and group.mentions == ["13900001111", "13812341234"]

    def test_sms_and_im_wait_out_quiet_hours_and_the_inbox_and_e_mail_do_not(self):
        drafts = self.plan("reminder", [BAZHOU], robots={BAZHOU: "dingtalk"}, quiet="2026-11-03T07:30:00+08:00")
        assert {d.channel for d in drafts if d.not_before} == {"sms", "dingtalk"}

    def test_the_same_finding_gives_the_same_ids_and_another_occurrence_new_ones(self):
        first = {d.message_id for d in self.plan("reminder", [BAZHOU])}
        assert first == {d.message_id for d in self.plan("reminder", [BAZHOU])}
        assert message_id_for("reminder", "c", "zhao", "sms", "a") != message_id_for("reminder", "c", "zhao", "sms", "b")


def draft(channel: str = "email", recipient: str = "zhao") -> Draft:
    return Draft(message_id_for("reminder", "c", recipient, channel, "x"), "reminder", channel, recipient, "赵伟",
                 BAZHOU, "zhao@example.cn", "s", "b", "/cases/c", "n", "c", "x")


class TestDelivery:
    def test_a_message_is_queued_once(self):
        message = Message(draft().message_id)
        assert message.queue(draft()) is True
        assert message.queue(draft()) is False and len(message.pending) == 1

    def test_a_claim_is_held_until_its_lease_ends_then_another_worker_may_take_it(self):
        message = Message(draft().message_id)
        message.queue(draft())
        assert message.claim(NOW) == 1
        assert message.claim(NOW + timedelta(seconds=30)) is None
        assert message.claim(NOW + timedelta(seconds=61)) == 2

    def test_failures_back_off_exponentially_then_go_to_the_dead_letter_list(self):
        message = Message(draft().message_id)
        message.queue(draft())
        moment = NOW
        for attempt in range(1, MAX_ATTEMPTS + 1):
            assert message.claim(moment) == attempt
            message.failed(attempt, "421 try later", retryable=True, now=moment)
            moment = moment + retry_delay(attempt) + timedelta(seconds=1)
        assert message.status == Status.DEAD
        assert [retry_delay(n).total_seconds() for n in (1, 2, 3)] == [30, 60, 120]
        assert retry_delay(20) == timedelta(hours=1)

    def test_a_refusal_that_will_not_change_goes_straight_to_the_dead_letter_list_and_can_be_requeued(self):
        message = Message(draft().message_id)
        message.queue(draft())
        message.claim(NOW)
        message.failed(1, "550 no such mailbox", retryable=False, now=NOW)
        assert message.status == Status.DEAD
        message.requeue("邮箱已更正")
        assert message.status == Status.QUEUED and message.claim(NOW) == 2
        message.sent(2, "250 OK", NOW)
        assert message.status == Status.SENT
        with pytest.raises(IllegalTransition):
            message.requeue("again")

    def test_an_outcome_for_an_attempt_that_is_no_longer_current_is_refused(self):
        message = Message(draft().message_id)
        message.queue(draft())
        message.claim(NOW)
        message.claim(NOW + timedelta(minutes=2))  # the first claim's lease ran out: attempt 2
        with pytest.raises(IllegalTransition):
            message.sent(1, "250 OK", NOW)

    def test_only_its_recipient_reads_an_inbox_message(self):
        message = Message(draft("inbox").message_id)
        message.queue(draft("inbox"))
        assert message.status == Status.UNREAD
        with pytest.raises(Forbidden):
            message.read("sun", NOW)
        message.read("zhao", NOW)
        message.read("zhao", NOW)  # twice: once recorded
        assert message.status == Status.READ and len(message.pending) == 2


class TestWording:
    def test_a_message_names_the_event_and_the_case_as_the_timelines_do(self):
        subject, body = describe("RectificationEscalated", {"level": "reminder", "reason": "进度滞后", "case_id": "c"},
                                 case={"description": "部分学校消防通道堵塞", "responsible_unit": BAZHOU,
                                       "deadline": "2026-11-30", "notice_title": "关于校园安全的督办通知"})
        assert subject.startswith("【催办") and "消防通道" in subject
        assert "责任单位：巴州区教育局" in body and "整改时限：2026-11-30" in body and "进度滞后" in body
