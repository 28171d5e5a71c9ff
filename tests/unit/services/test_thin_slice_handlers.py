"""The slice's handlers over the bus with the in-memory store (no servers)."""
from __future__ import annotations

from datetime import date

import pytest

from shared.bus import CommandContext
from shared.clock import FixedClock
from shared.contracts import NoticeIssued
from shared.envelope import Actor
from shared.errors import IllegalTransition, InvalidInput
from shared.eventstore.memory import InMemoryEventStore
from shared.policy import PolicyBook
from services.followups.bootstrap import bootstrap as bootstrap_followups
from services.followups.reactions import commands_for_notice_issued
from services.notices.bootstrap import bootstrap as bootstrap_notices
from services.notices.domain.commands import IssueNotice, NoticeContent, ProblemInput
from services.tasks.bootstrap import bootstrap as bootstrap_tasks
from services.tasks.domain.commands import RecordPlan, TaskInput

OFFICE = CommandContext(Actor("wang", "office_staff", "巴中市教育督导室"), correlation_id="corr-1")


DEFAULT_PROBLEMS = (ProblemInput("危房未拆除", "限期拆除", "巴州区教育局", date(2020, 12, 31)),)


def issue(problems=DEFAULT_PROBLEMS, **overrides):
    fields = dict(kind="督办通知", title="校舍安全督办", issuer_unit="巴中市教育督导室", target_units=("巴州区人民政府",),
                  problems=tuple(problems))
    fields.update(overrides)
    return IssueNotice(content=NoticeContent(**fields), notice_id="notice-1")


def bootstrap_notices_on(store):
    """Issuing fixes deadlines from today, so the bus needs a clock (and the published default policies)."""
    return bootstrap_notices(store=store, clock=FixedClock(date(2020, 9, 1)), policies=PolicyBook())


class TestIssueNotice:
    def test_issuing_records_one_event_with_numbered_problems_and_the_actor(self):
        store = InMemoryEventStore()
        bootstrap_notices_on(store).bus.handle(issue(), OFFICE)
        [event] = store.read_stream("notice-1")
        assert event.type == "NoticeIssued" and event.actor.user_id == "wang" and event.correlation_id == "corr-1"
        assert event.data["issued_on"] == "2020-09-01"
        expected = {"problem_id": "P1", "description": "危房未拆除", "requirement": "限期拆除",
                    "responsible_unit": "巴州区教育局", "responsible_person": None, "deadline": "2020-12-31",
                    "deadline_rule": None}
        assert {key: event.data["problems"][0].get(key) for key in expected} == expected

    def test_issuing_the_same_notice_twice_is_an_illegal_transition(self):
        bus = bootstrap_notices_on(InMemoryEventStore()).bus
        bus.handle(issue(), OFFICE)
        with pytest.raises(IllegalTransition) as refused:
            bus.handle(issue(), OFFICE)
        assert refused.value.status == 409 and "重复" in refused.value.message_zh

    @pytest.mark.parametrize("overrides, field", [
        ({"problems": ()}, "problems"), ({"target_units": ()}, "target_units"), ({"kind": "通知"}, "kind")])
    def test_an_incomplete_notice_is_refused_and_nothing_is_stored(self, overrides, field):
        store = InMemoryEventStore()
        with pytest.raises(InvalidInput) as refused:
            bootstrap_notices_on(store).bus.handle(issue(**overrides), OFFICE)
        assert refused.value.details["field"] == field
        assert store.read_stream("notice-1") == []


class TestOpenCasesFromNotice:
    def test_one_case_per_problem_caused_by_the_notice_event_and_a_redelivery_opens_nothing_more(self):
        notices_store, followups_store = InMemoryEventStore(), InMemoryEventStore()
        bootstrap_notices_on(notices_store).bus.handle(issue(problems=[
            ProblemInput("问题一", "要求一", "巴州区教育局"), ProblemInput("问题二", "要求二", "恩阳区教育局")]), OFFICE)
        [issued] = notices_store.read_stream("notice-1")
        handle = bootstrap_followups(store=followups_store).reactions["notices"]
        handle(issued)
        handle(issued)  # redelivered
        events = list(followups_store.read_all())
        assert [(e.stream_id, e.version) for e in events] == [("notice-1:P1", 1), ("notice-1:P2", 1)]
        assert all(e.causation_id == issued.event_id and e.correlation_id == "corr-1" for e in events)
        assert events[0].actor.role == "system"

    def test_commands_carry_each_problems_unit_and_deadline(self):
        event = NoticeIssued(notice_id="n", kind="督办函", title="t", doc_number=None, issuer_unit="i",
                             target_units=["u"], problems=[{"problem_id": "P1", "description": "d",
                                                            "responsible_unit": "财政局", "deadline": "2021-01-29"}])
        [command] = commands_for_notice_issued(event)
        assert (command.case_id, command.responsible_unit, command.deadline) == ("n:P1", "财政局", "2021-01-29")


class TestRecordPlan:
    def test_a_plan_and_one_stream_per_task_are_recorded(self):
        store = InMemoryEventStore()
        plan_id = bootstrap_tasks(store=store).bus.handle(RecordPlan(
            title="2020年工作要点", year=2020, plan_id="plan-1",
            tasks=(TaskInput("1", "措施一", lead_unit="省教育厅", partner_units=("省委组织部",), due_date=date(2020, 12, 31)),
                   TaskInput("2", "措施二"))), OFFICE)
        assert plan_id == "plan-1"
        assert store.read_stream("plan-1")[0].data["task_ids"] == ["plan-1-T1", "plan-1-T2"]
        first_task = store.read_stream("plan-1-T1")[0].data
        assert (first_task["lead_unit"], first_task["partner_units"], first_task["due_date"]) == (
            "省教育厅", ["省委组织部"], "2020-12-31")

    def test_a_plan_without_tasks_is_refused(self):
        with pytest.raises(InvalidInput):
            bootstrap_tasks(store=InMemoryEventStore()).bus.handle(RecordPlan(title="空", tasks=()), OFFICE)
