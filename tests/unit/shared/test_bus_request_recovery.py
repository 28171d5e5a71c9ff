"""A retried request whose first attempt stored its events gets that result from the bus, and nothing is appended."""
from __future__ import annotations

from dataclasses import replace
from datetime import date

from shared.bus import CommandContext
from shared.clock import FixedClock
from shared.envelope import Actor
from shared.eventstore.memory import InMemoryEventStore
from shared.policy import PolicyBook
from services.notices.bootstrap import bootstrap as bootstrap_notices
from services.notices.domain.commands import IssueNotice, NoticeContent, ProblemInput
from services.tasks.bootstrap import bootstrap as bootstrap_tasks
from services.tasks.domain.commands import RecordPlan, TaskInput

OFFICE = CommandContext(Actor("wang", "office_staff", "巴中市教育督导室"), correlation_id="corr-1")
ISSUE = IssueNotice(content=NoticeContent(
    kind="督办通知", title="校舍安全督办", issuer_unit="巴中市教育督导室", target_units=("巴州区人民政府",),
    problems=(ProblemInput("危房未拆除", "限期拆除", "巴州区教育局", date(2020, 12, 31)),)))


def notices_bus(store):
    return bootstrap_notices(store=store, clock=FixedClock(date(2020, 9, 1)), policies=PolicyBook()).bus


def test_the_second_attempt_of_a_request_answers_with_the_first_attempts_notice_and_appends_nothing():
    store = InMemoryEventStore()
    retried = replace(OFFICE, request_id="req-1")

    first = notices_bus(store).handle(ISSUE, retried)
    second = notices_bus(store).handle(ISSUE, replace(retried, correlation_id="corr-2"))

    assert second == first
    assert [e.stream_id for e in store.read_all()] == [first]
    assert store.streams_of_request("req-1") == [first]


def test_another_request_with_the_same_content_issues_another_notice():
    store = InMemoryEventStore()
    bus = notices_bus(store)

    first = bus.handle(ISSUE, replace(OFFICE, request_id="req-1"))
    second = bus.handle(ISSUE, replace(OFFICE, request_id="req-2"))
    third = bus.handle(ISSUE, OFFICE)  # no Idempotency-Key at all

    assert len({first, second, third}) == 3
    assert len(list(store.read_all())) == 3


def test_a_plan_recorded_with_its_tasks_answers_with_the_plan_the_first_stream_written():
    store = InMemoryEventStore()
    bus = bootstrap_tasks(store=store).bus
    command = RecordPlan(title="2026年教育督导工作要点", year=2026, issuer="巴中市教育督导委员会办公室", doc_number=None,
                         tasks=(TaskInput(number="1", text="开展校舍安全专项督导", lead_unit="巴州区教育局"),))
    retried = replace(OFFICE, request_id="req-plan")

    plan_id = bus.handle(command, retried)
    events_before = len(list(store.read_all()))

    assert bus.handle(command, retried) == plan_id
    assert plan_id.startswith("plan-") and len(list(store.read_all())) == events_before
