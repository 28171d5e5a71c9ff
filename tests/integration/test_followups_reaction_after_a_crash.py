"""A followups worker killed between the two inserts of an append must not lose the case it was opening."""
from __future__ import annotations

from datetime import timedelta

import pytest

from shared.bus import CommandContext
from shared.envelope import Actor
from shared.errors import RetryLater
from shared.eventstore.mongo import event_key
from services.followups.bootstrap import bootstrap as bootstrap_followups
from services.notices.bootstrap import bootstrap as bootstrap_notices
from services.notices.domain.commands import IssueNotice, NoticeContent, ProblemInput

OFFICE = CommandContext(Actor("wang", "office_staff", "巴中市教育督导室"), correlation_id="corr-crash")


def test_the_redelivered_notice_is_retried_until_the_orphaned_write_is_cleared_and_then_opens_the_case(settings):
    notices = bootstrap_notices(settings)
    content = NoticeContent(kind="督办通知", title="t", issuer_unit="巴中市教育督导室", target_units=("巴州区",),
                            problems=(ProblemInput("问题", "要求", "巴州区教育局"),))
    notices.bus.handle(IssueNotice(content, notice_id="notice-crash"), OFFICE)
    [issued] = notices.store.read_stream("notice-crash")
    followups = bootstrap_followups(settings)
    store = followups.store
    # The crash: the outbox pointer of the case's first event was written, the event itself never was.
    store.outbox.insert_one({"_id": event_key("notice-crash:P1", 1), "event_id": "never-written",
                             "stream_id": "notice-crash:P1", "version": 1, "recorded_at": issued.recorded_at})
    handle = followups.reactions["notices"]

    with pytest.raises(RetryLater):  # not swallowed as "already opened", so the consumer will retry
        handle(issued)
    assert store.read_stream("notice-crash:P1") == []

    store.orphan_after = timedelta(0)
    store.unpublished(10)  # the relay's pass clears the orphan
    handle(issued)
    [opened] = store.read_stream("notice-crash:P1")
    assert opened.type == "RectificationOpened" and opened.causation_id == issued.event_id
