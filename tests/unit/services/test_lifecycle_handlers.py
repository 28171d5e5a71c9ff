"""The lifecycle handlers over each service's bus, with the in-memory store, a fixed clock and a policy book."""
from __future__ import annotations

from datetime import date

import pytest

from shared.auth import Role
from shared.bus import CommandContext
from shared.clock import FixedClock
from shared.contracts import NoticeIssued, NoticeWithdrawn
from shared.deadlines import DayKind, Period
from shared.envelope import Actor, EventEnvelope
from shared.errors import ConcurrencyConflict, Forbidden, InvalidInput, NotFound, RetryLater
from shared.eventstore.memory import InMemoryEventStore
from shared.policy import OfficePolicy, PolicyBook
from services.followups.bootstrap import bootstrap as bootstrap_followups
from services.followups.domain import commands as fc
from services.followups.reactions import commands_for_notice_issued, commands_for_notice_withdrawn
from services.notices.bootstrap import bootstrap as bootstrap_notices
from services.notices.domain import commands as nc
from services.tasks import reactions as task_reactions
from services.tasks.bootstrap import bootstrap as bootstrap_tasks
from services.tasks.domain.commands import (
    CompleteTask,
    LinkNotice,
    RecordMatterClosed,
    RecordPlan,
    RecordTaskProgress,
    TaskInput,
    UnlinkWithdrawnNotice,
)
from services.tasks.domain.model import Task

OFFICE_UNIT = "巴中市教育督导室"
UNIT, OTHER_UNIT = "巴州区教育局", "恩阳区教育局"
TARGET, OTHER_TARGET = "巴州区人民政府", "恩阳区人民政府"
CASE_ID = "notice-1:P1"


def context(actor: Actor) -> CommandContext:
    return CommandContext(actor=actor, correlation_id="corr-1")


OFFICE = context(Actor("wang", Role.OFFICE_STAFF, OFFICE_UNIT))
INSPECTOR = context(Actor("zhao", Role.INSPECTOR, OFFICE_UNIT))
OWN_HANDLER = context(Actor("li", Role.UNIT_HANDLER, UNIT))
OTHER_HANDLER = context(Actor("chen", Role.UNIT_HANDLER, OTHER_UNIT))
SYSTEM = context(Actor.system("test"))


class InterleavingStore(InMemoryEventStore):
    """Runs ``before_next_append`` once, just before the next append: another writer gets in between load and save."""

    def __init__(self) -> None:
        super().__init__()
        self.before_next_append = None

    def append(self, request):
        hook, self.before_next_append = self.before_next_append, None
        if hook is not None:
            hook()
        return super().append(request)


def followups(store=None, today: date = date(2020, 9, 30), policies: PolicyBook | None = None):
    return bootstrap_followups(store=store or InMemoryEventStore(), clock=FixedClock(today), policies=policies or PolicyBook())


def notices(store=None, today: date = date(2020, 9, 30), policies: PolicyBook | None = None):
    return bootstrap_notices(store=store or InMemoryEventStore(), clock=FixedClock(today), policies=policies or PolicyBook())


def tasks(store=None):
    return bootstrap_tasks(store=store or InMemoryEventStore(), clock=FixedClock(date(2020, 9, 30)), policies=PolicyBook())


def open_case(service, deadline: str | None = "2020-09-29") -> None:
    service.bus.handle(fc.OpenRectification(
        case_id=CASE_ID, notice_id="notice-1", problem_id="P1", description="教学楼存在危房", responsible_unit=UNIT,
        deadline=deadline, details={"issuer_unit": OFFICE_UNIT, "related_task_ids": ["plan-1-T1"]}), SYSTEM)


def types_in(store, stream_id: str) -> list[str]:
    return [e.type for e in store.read_stream(stream_id)]


def notice_content(**overrides) -> nc.NoticeContent:
    fields = dict(kind="督办通知", title="校舍安全督办", issuer_unit=OFFICE_UNIT, target_units=(TARGET, OTHER_TARGET),
                  problems=(nc.ProblemInput("危房未拆除", "限期拆除", UNIT, responsible_person="张三"),
                            nc.ProblemInput("消防通道堵塞", "立即清理", OTHER_UNIT, deadline=date(2020, 12, 31))),
                  doc_number="巴教督办〔2020〕5号", related_task_ids=("plan-1-T1",), listed=True)
    fields.update(overrides)
    return nc.NoticeContent(**fields)


class TestUnitHandlersActOnlyForTheirOwnUnit:
    def test_the_responsible_units_handler_submits_the_plan(self):
        service = followups()
        open_case(service)
        assert service.bus.handle(fc.SubmitRectificationPlan(CASE_ID, "拆除危房"), OWN_HANDLER) == CASE_ID
        [opened, planned] = service.store.read_stream(CASE_ID)
        assert (planned.type, planned.version, planned.actor.user_id, planned.data["plan"]) == (
            "RectificationPlanSubmitted", 2, "li", "拆除危房")

    @pytest.mark.parametrize("command", [
        fc.SubmitRectificationPlan(CASE_ID, "拆除危房"), fc.ReportProgress(CASE_ID, "已封闭"),
        fc.ReportCompletion(CASE_ID, "已拆除")])
    def test_another_units_handler_is_refused_before_anything_else_and_nothing_is_stored(self, command):
        service = followups()
        open_case(service)
        with pytest.raises(Forbidden) as refused:
            service.bus.handle(command, OTHER_HANDLER)
        assert refused.value.status == 403 and UNIT in refused.value.message_zh and OTHER_UNIT in refused.value.message_zh
        assert types_in(service.store, CASE_ID) == ["RectificationOpened"]

    def test_office_staff_record_a_units_step_only_as_a_backfill(self):
        service = followups()
        open_case(service)
        with pytest.raises(Forbidden) as refused:  # today, the unit records its own plan
            service.bus.handle(fc.SubmitRectificationPlan(CASE_ID, "代为录入的方案"), OFFICE)
        assert "补录" in refused.value.message_zh
        service.bus.handle(fc.SubmitRectificationPlan(CASE_ID, "纸质方案", occurred_on=date(2020, 9, 20),
                                                      backfill_reason="纸质报送，系统启用前"), OFFICE)
        planned = service.store.read_stream(CASE_ID)[-1]
        assert (planned.type, planned.actor.user_id, planned.data["occurred_on"]) == (
            "RectificationPlanSubmitted", "wang", "2020-09-20")
        assert planned.data["backfill"] == {"reason": "纸质报送，系统启用前", "recorded_on": "2020-09-30",
                                            "recorded_for": UNIT}

    def test_a_unit_handler_may_record_progress_only_on_its_own_units_tasks(self):
        service = tasks()
        service.bus.handle(RecordPlan(title="要点", plan_id="plan-1", tasks=(TaskInput("1", "排查", lead_unit=UNIT),)), OFFICE)
        with pytest.raises(Forbidden):
            service.bus.handle(RecordTaskProgress("plan-1-T1", "进展", 10), OTHER_HANDLER)
        assert types_in(service.store, "plan-1-T1") == ["TaskCreated"]
        service.bus.handle(RecordTaskProgress("plan-1-T1", "进展", 10), OWN_HANDLER)
        assert types_in(service.store, "plan-1-T1") == ["TaskCreated", "TaskProgressRecorded"]

    def test_a_unit_signs_for_a_notice_as_the_unit_of_the_signing_actor(self):
        service = notices()
        service.bus.handle(nc.IssueNotice(notice_content(), notice_id="notice-1"), OFFICE)
        with pytest.raises(Forbidden) as refused:
            service.bus.handle(nc.SignNotice("notice-1"), OWN_HANDLER)  # 巴州区教育局 is not a target unit
        assert refused.value.status == 403 and TARGET in refused.value.message_zh
        with pytest.raises(Forbidden):
            service.bus.handle(nc.SignNotice("notice-1"), OFFICE)  # office staff record a signature only as 补录
        assert types_in(service.store, "notice-1") == ["NoticeIssued"]
        service.bus.handle(nc.SignNotice("notice-1"), context(Actor("zhou", Role.UNIT_HANDLER, TARGET)))
        signed = service.store.read_stream("notice-1")[-1]
        assert (signed.type, signed.data["unit"], signed.data["signed_on"]) == ("NoticeSigned", TARGET, "2020-09-30")

    def test_a_case_that_does_not_exist_is_not_found(self):
        with pytest.raises(NotFound) as missing:
            followups().bus.handle(fc.SubmitRectificationPlan("notice-9:P1", "方案"), OWN_HANDLER)
        assert missing.value.status == 404


class TestExpectedVersions:
    def test_a_command_made_on_the_current_version_is_accepted(self):
        service = followups()
        open_case(service)
        service.bus.handle(fc.SubmitRectificationPlan(CASE_ID, "方案", expected_version=1), OWN_HANDLER)
        assert service.store.stream_version(CASE_ID) == 2

    @pytest.mark.parametrize("expected_version", [0, 2])
    def test_a_command_made_on_another_version_is_a_conflict_and_stores_nothing(self, expected_version):
        service = followups()
        open_case(service)
        with pytest.raises(ConcurrencyConflict) as conflict:
            service.bus.handle(fc.SubmitRectificationPlan(CASE_ID, "方案", expected_version=expected_version), OWN_HANDLER)
        error = conflict.value
        assert (error.status, error.expected_version, error.actual_version) == (409, expected_version, 1)
        assert service.store.stream_version(CASE_ID) == 1

    def test_notices_and_tasks_check_the_expected_version_too(self):
        notice_service = notices()
        notice_service.bus.handle(nc.IssueNotice(notice_content(), notice_id="notice-1"), OFFICE)
        with pytest.raises(ConcurrencyConflict):
            notice_service.bus.handle(nc.WithdrawNotice("notice-1", "有误", expected_version=0), OFFICE)
        assert types_in(notice_service.store, "notice-1") == ["NoticeIssued"]
        task_service = tasks()
        task_service.bus.handle(RecordPlan(title="要点", plan_id="plan-1", tasks=(TaskInput("1", "排查"),)), OFFICE)
        with pytest.raises(ConcurrencyConflict):
            task_service.bus.handle(CompleteTask("plan-1-T1", "完成", expected_version=3), OFFICE)
        assert types_in(task_service.store, "plan-1-T1") == ["TaskCreated"]


class TestTheHandlersUseTheBusClockAndTheIssuingOfficesPolicy:
    def test_a_completion_report_is_dated_by_the_clock_and_due_for_reinspection_by_the_offices_policy(self):
        book = PolicyBook(offices={OFFICE_UNIT: OfficePolicy(reinspection_period=Period(10, DayKind.WORKING))})
        service = followups(today=date(2020, 9, 28), policies=book)
        open_case(service)
        service.bus.handle(fc.SubmitRectificationPlan(CASE_ID, "方案"), OWN_HANDLER)
        service.bus.handle(fc.ReportCompletion(CASE_ID, "已拆除"), OWN_HANDLER)
        reported = service.store.read_stream(CASE_ID)[-1].data
        assert (reported["reported_on"], reported["reinspection_due"]) == ("2020-09-28", "2020-10-19")

    def test_a_case_is_closed_on_the_clocks_day(self):
        service = followups(today=date(2020, 10, 9))
        open_case(service)
        for command, actor in ((fc.SubmitRectificationPlan(CASE_ID, "方案"), OWN_HANDLER),
                               (fc.ReportCompletion(CASE_ID, "已拆除"), OWN_HANDLER),
                               (fc.Reinspect(CASE_ID, True, "通过"), INSPECTOR), (fc.CloseCase(CASE_ID), INSPECTOR)):
            service.bus.handle(command, actor)
        closed = service.store.read_stream(CASE_ID)[-1]
        assert (closed.type, closed.data["closed_on"], closed.data["on_time"]) == ("RectificationClosed", "2020-10-09", False)

    def test_a_notice_is_issued_on_the_clocks_day_with_the_issuing_offices_rectification_period(self):
        book = PolicyBook(offices={OFFICE_UNIT: OfficePolicy(rectification_period=Period(5, DayKind.WORKING))})
        service = notices(policies=book)
        assert service.bus.handle(nc.IssueNotice(notice_content(), notice_id="notice-1"), OFFICE) == "notice-1"
        issued = service.store.read_stream("notice-1")[0].data
        assert issued["issued_on"] == "2020-09-30"
        assert (issued["problems"][0]["deadline"], issued["problems"][0]["deadline_rule"]) == (
            "2020-10-14", {"amount": 5, "kind": "working"})
        assert issued["sign_for_deadline"] == "2020-10-12"

    def test_another_office_gets_the_default_policy(self):
        service = notices(policies=PolicyBook(offices={"别的督导室": OfficePolicy(rectification_period=Period(5))}))
        service.bus.handle(nc.IssueNotice(notice_content(), notice_id="notice-1"), OFFICE)
        assert service.store.read_stream("notice-1")[0].data["problems"][0]["deadline"] == "2020-10-30"

    def test_a_draft_is_issued_on_the_day_it_is_issued_under_its_issuers_policy(self):
        clock = FixedClock(date(2020, 9, 1))
        book = PolicyBook(offices={OFFICE_UNIT: OfficePolicy(rectification_period=Period(5, DayKind.WORKING))})
        service = bootstrap_notices(store=InMemoryEventStore(), clock=clock, policies=book)
        service.bus.handle(nc.DraftNotice(notice_content(), notice_id="notice-1"), OFFICE)
        clock.set(date(2020, 9, 30))
        service.bus.handle(nc.IssueDraft("notice-1", expected_version=1), OFFICE)
        drafted, issued = service.store.read_stream("notice-1")
        assert (drafted.type, issued.type, issued.data["issued_on"]) == ("NoticeDrafted", "NoticeIssued", "2020-09-30")
        assert issued.data["problems"][0]["deadline"] == "2020-10-14"

    def test_a_notice_without_an_id_gets_a_new_one(self):
        service = notices()
        notice_id = service.bus.handle(nc.IssueNotice(notice_content()), OFFICE)
        assert notice_id.startswith("notice-") and types_in(service.store, notice_id) == ["NoticeIssued"]


class TestTheDeadlineCheckHandler:
    def test_the_first_check_after_the_deadline_appends_two_events_and_a_second_appends_none(self):
        service = followups(today=date(2020, 9, 30))
        open_case(service)
        watcher = context(Actor.system("watcher"))
        assert service.bus.handle(fc.CheckDeadline(CASE_ID), watcher) == 2
        assert service.bus.handle(fc.CheckDeadline(CASE_ID), watcher) == 0
        assert types_in(service.store, CASE_ID) == ["RectificationOpened", "RectificationOverdue", "RectificationEscalated"]

    def test_a_check_before_the_deadline_appends_nothing(self):
        service = followups(today=date(2020, 9, 29))
        open_case(service)
        assert service.bus.handle(fc.CheckDeadline(CASE_ID), SYSTEM) == 0
        assert types_in(service.store, CASE_ID) == ["RectificationOpened"]

    def test_the_warning_comes_when_the_clock_reaches_the_issuing_offices_number_of_working_days(self):
        clock = FixedClock(date(2020, 9, 30))
        book = PolicyBook(offices={OFFICE_UNIT: OfficePolicy(warning_after_working_days=2)})
        service = bootstrap_followups(store=InMemoryEventStore(), clock=clock, policies=book)
        open_case(service)
        service.bus.handle(fc.CheckDeadline(CASE_ID), SYSTEM)
        clock.set(date(2020, 10, 8))
        assert service.bus.handle(fc.CheckDeadline(CASE_ID), SYSTEM) == 0
        clock.set(date(2020, 10, 9))
        assert service.bus.handle(fc.CheckDeadline(CASE_ID), SYSTEM) == 1
        assert service.store.read_stream(CASE_ID)[-1].data["level"] == "warning"

    def test_a_watcher_that_loses_the_race_returns_0_and_the_deadline_is_flagged_once(self):
        store = InterleavingStore()
        service = followups(store=store)
        open_case(service)
        # A second watcher checks the same case between this one's load and save, and wins.
        store.before_next_append = lambda: service.bus.handle(fc.CheckDeadline(CASE_ID), SYSTEM)
        assert service.bus.handle(fc.CheckDeadline(CASE_ID), SYSTEM) == 0
        assert types_in(store, CASE_ID).count("RectificationOverdue") == 1
        assert store.verify(CASE_ID).ok

    def test_checking_a_case_that_does_not_exist_is_not_found(self):
        with pytest.raises(NotFound):
            followups().bus.handle(fc.CheckDeadline("nope:P1"), SYSTEM)

    def test_the_sign_for_watcher_flags_a_notice_once(self):
        clock = FixedClock(date(2020, 9, 30))
        service = bootstrap_notices(store=InMemoryEventStore(), clock=clock, policies=PolicyBook())
        service.bus.handle(nc.IssueNotice(notice_content(), notice_id="notice-1"), OFFICE)
        assert service.bus.handle(nc.CheckSignDeadline("notice-1"), SYSTEM) == 0
        clock.set(date(2020, 10, 13))
        assert service.bus.handle(nc.CheckSignDeadline("notice-1"), SYSTEM) == 1
        assert service.bus.handle(nc.CheckSignDeadline("notice-1"), SYSTEM) == 0
        overdue = service.store.read_stream("notice-1")[-1]
        assert (overdue.type, overdue.data["unsigned_units"]) == ("NoticeSignOverdue", [TARGET, OTHER_TARGET])


def issued_envelope(**overrides) -> EventEnvelope:
    service = notices()
    service.bus.handle(nc.IssueNotice(notice_content(**overrides), notice_id="notice-1"), OFFICE)
    [envelope] = service.store.read_stream("notice-1")
    return envelope


class TestFollowupsReactToNotices:
    def test_an_issued_notice_opens_one_case_per_problem_with_the_notices_details(self):
        envelope = issued_envelope()
        commands = commands_for_notice_issued(NoticeIssued.from_data(envelope.data))
        assert [(c.case_id, c.responsible_unit, c.deadline) for c in commands] == [
            ("notice-1:P1", UNIT, "2020-10-30"), ("notice-1:P2", OTHER_UNIT, "2020-12-31")]
        details = commands[0].details
        assert (details["issuer_unit"], details["notice_title"], details["notice_kind"], details["doc_number"]) == (
            OFFICE_UNIT, "校舍安全督办", "督办通知", "巴教督办〔2020〕5号")
        assert (details["listed"], details["related_task_ids"], details["requirement"], details["responsible_person"]) == (
            True, ["plan-1-T1"], "限期拆除", "张三")

    def test_the_opened_case_carries_what_its_later_steps_need(self):
        service, issued = followups(), issued_envelope()
        service.reactions["notices"](issued)
        opened = service.store.read_stream("notice-1:P1")[0]
        assert (opened.type, opened.causation_id, opened.correlation_id, opened.actor.role) == (
            "RectificationOpened", issued.event_id, "corr-1", "system")
        assert (opened.data["issuer_unit"], opened.data["responsible_person"], opened.data["deadline"]) == (
            OFFICE_UNIT, "张三", "2020-10-30")
        assert opened.data["related_task_ids"] == ["plan-1-T1"]

    def test_a_withdrawn_notice_withdraws_each_of_its_cases(self):
        event = NoticeWithdrawn(notice_id="notice-1", reason="有误", problem_ids=["P1", "P2"])
        assert [(c.case_id, c.reason) for c in commands_for_notice_withdrawn(event)] == [
            ("notice-1:P1", "有误"), ("notice-1:P2", "有误")]

    def test_a_withdrawn_draft_withdraws_no_case(self):
        assert commands_for_notice_withdrawn(NoticeWithdrawn(notice_id="notice-1", reason="有误")) == []

    def test_the_withdrawal_reaches_the_cases_through_the_topic_handler_and_a_redelivery_changes_nothing(self):
        notice_service, followup_service = notices(), followups()
        notice_service.bus.handle(nc.IssueNotice(notice_content(), notice_id="notice-1"), OFFICE)
        followup_service.reactions["notices"](notice_service.store.read_stream("notice-1")[0])
        notice_service.bus.handle(nc.WithdrawNotice("notice-1", "通知有误"), OFFICE)
        withdrawn = notice_service.store.read_stream("notice-1")[-1]
        followup_service.reactions["notices"](withdrawn)
        followup_service.reactions["notices"](withdrawn)
        for case_id in ("notice-1:P1", "notice-1:P2"):
            [_, ended] = followup_service.store.read_stream(case_id)
            assert (ended.type, ended.data["reason"], ended.causation_id) == (
                "RectificationWithdrawn", "通知有误", withdrawn.event_id)

    def test_a_withdrawal_that_overtakes_the_opening_is_retried_later(self):
        with pytest.raises(RetryLater):
            followups().bus.handle(fc.WithdrawCase("notice-1:P1", "有误"), SYSTEM)


class TestTasksFollowNoticesAndClosures:
    def test_an_issued_notice_links_each_related_task_with_one_matter_per_problem(self):
        assert task_reactions.commands_for(issued_envelope(related_task_ids=("plan-1-T1", "plan-1-T2"))) == [
            LinkNotice("plan-1-T1", "notice-1", ("notice-1:P1", "notice-1:P2")),
            LinkNotice("plan-1-T2", "notice-1", ("notice-1:P1", "notice-1:P2"))]

    def test_a_notice_about_no_task_and_an_unrelated_event_give_no_command(self):
        assert task_reactions.commands_for(issued_envelope(related_task_ids=())) == []
        service = notices()
        service.bus.handle(nc.DraftNotice(notice_content(), notice_id="notice-1"), OFFICE)
        assert task_reactions.commands_for(service.store.read_stream("notice-1")[0]) == []

    def test_withdrawal_and_closure_reach_the_task_and_its_completion_rate(self):
        notice_service, followup_service, task_service = notices(), followups(today=date(2020, 10, 9)), tasks()
        task_service.bus.handle(RecordPlan(title="要点", plan_id="plan-1", tasks=(TaskInput("1", "校舍安全", lead_unit=UNIT),)),
                                OFFICE)
        notice_service.bus.handle(nc.IssueNotice(notice_content(), notice_id="notice-1"), OFFICE)
        issued = notice_service.store.read_stream("notice-1")[0]
        task_service.reactions["notices"](issued)
        followup_service.reactions["notices"](issued)
        for command, actor in ((fc.SubmitRectificationPlan(CASE_ID, "方案"), OWN_HANDLER),
                               (fc.ReportCompletion(CASE_ID, "已拆除"), OWN_HANDLER),
                               (fc.Reinspect(CASE_ID, True, "通过"), INSPECTOR), (fc.CloseCase(CASE_ID), INSPECTOR)):
            followup_service.bus.handle(command, actor)
        closed = followup_service.store.read_stream(CASE_ID)[-1]
        assert task_reactions.commands_for(closed) == [
            RecordMatterClosed("plan-1-T1", "notice-1", "notice-1:P1", "2020-10-09", True)]
        task_service.reactions["followups"](closed)
        task_service.reactions["followups"](closed)  # redelivered
        task = task_service.bus.uow_factory().get(Task, "plan-1-T1")
        assert task.counts == {"notices_issued": 1, "matters_supervised": 2, "matters_closed": 1, "completion_rate": 0.5}
        # the closure also reaches the notice
        notice_service.reactions["followups"](closed)
        assert types_in(notice_service.store, "notice-1")[-1] == "NoticeProblemClosed"
        notice_service.bus.handle(nc.WithdrawNotice("notice-1", "撤回"), OFFICE)
        withdrawn = notice_service.store.read_stream("notice-1")[-1]
        assert task_reactions.commands_for(withdrawn) == [UnlinkWithdrawnNotice("plan-1-T1", "notice-1")]
        task_service.reactions["notices"](withdrawn)
        task = task_service.bus.uow_factory().get(Task, "plan-1-T1")
        assert task.counts == {"notices_issued": 0, "matters_supervised": 0, "matters_closed": 0, "completion_rate": None}
        assert types_in(task_service.store, "plan-1-T1") == [
            "TaskCreated", "TaskNoticeLinked", "TaskMatterClosed", "TaskNoticeWithdrawn"]

    def test_news_about_a_task_that_does_not_exist_is_dropped(self):
        service = tasks()
        service.bus.handle(LinkNotice("plan-9-T1", "notice-1", ("notice-1:P1",)), SYSTEM)
        assert list(service.store.read_all()) == []


class TestBackfillingSteps:
    """补录: a step recorded later than its day carries that day; only office staff backdate, with a reason."""

    @staticmethod
    def planned(service, context_=OFFICE, **dated) -> None:
        service.bus.handle(fc.SubmitRectificationPlan(CASE_ID, "纸质方案", **dated), context_)

    def test_the_business_date_decides_whether_the_report_was_on_time(self):
        service = followups()  # today 2020-09-30, the deadline was 2020-09-29
        open_case(service)
        reason = {"backfill_reason": "纸质台账补录"}
        self.planned(service, occurred_on=date(2020, 9, 10), **reason)
        service.bus.handle(fc.ReportCompletion(CASE_ID, "已完成", occurred_on=date(2020, 9, 25), **reason), OFFICE)
        service.bus.handle(fc.Reinspect(CASE_ID, True, "通过", occurred_on=date(2020, 9, 28), **reason), OFFICE)
        service.bus.handle(fc.CloseCase(CASE_ID, occurred_on=date(2020, 9, 29), **reason), OFFICE)
        closed = service.store.read_stream(CASE_ID)[-1]
        assert (closed.data["closed_on"], closed.data["on_time"], closed.data["occurred_on"]) == (
            "2020-09-29", True, "2020-09-29")
        reported = service.store.read_stream(CASE_ID)[2]
        assert (reported.data["reported_on"], reported.data["reinspection_due"]) == ("2020-09-25", "2020-10-25")
        assert closed.data["backfill"]["recorded_for"] is None  # an inspector's step, recorded by the office

    @pytest.mark.parametrize("who", [OWN_HANDLER, INSPECTOR])
    def test_only_office_staff_may_backdate(self, who):
        service = followups()
        open_case(service)
        with pytest.raises(Forbidden) as refused:
            self.planned(service, who, occurred_on=date(2020, 9, 20), backfill_reason="补录")
        assert "只有督导办工作人员可以补录" in refused.value.message_zh
        assert types_in(service.store, CASE_ID) == ["RectificationOpened"]

    def test_a_backfill_needs_a_reason(self):
        service = followups()
        open_case(service)
        with pytest.raises(InvalidInput) as refused:
            self.planned(service, occurred_on=date(2020, 9, 20), backfill_reason="  ")
        assert refused.value.details["field"] == "backfill_reason"

    def test_a_day_in_the_future_is_refused_for_everyone(self):
        service = followups()
        open_case(service)
        with pytest.raises(InvalidInput) as refused:
            self.planned(service, OWN_HANDLER, occurred_on=date(2020, 10, 1))
        assert refused.value.details["field"] == "occurred_on" and "晚于今天" in refused.value.message_zh

    def test_a_step_before_the_previous_one_or_before_the_notice_is_refused(self):
        service = followups()
        service.bus.handle(fc.OpenRectification(
            case_id=CASE_ID, notice_id="notice-1", problem_id="P1", description="危房", responsible_unit=UNIT,
            deadline="2020-09-29", details={"issuer_unit": OFFICE_UNIT, "issued_on": "2020-09-01"}), SYSTEM)
        with pytest.raises(InvalidInput) as before_issue:
            self.planned(service, occurred_on=date(2020, 8, 31), backfill_reason="补录")
        assert "通知下发日期" in before_issue.value.message_zh and before_issue.value.details["field"] == "occurred_on"
        self.planned(service, occurred_on=date(2020, 9, 20), backfill_reason="补录")
        with pytest.raises(InvalidInput) as before_previous:
            service.bus.handle(fc.ReportCompletion(CASE_ID, "完成", occurred_on=date(2020, 9, 19),
                                                   backfill_reason="补录"), OFFICE)
        assert "上一步骤" in before_previous.value.message_zh
        assert types_in(service.store, CASE_ID) == ["RectificationOpened", "RectificationPlanSubmitted"]

    def test_the_watchers_flags_do_not_block_an_earlier_backfilled_step(self):
        service = followups()  # the watcher flagged the case today; the unit had in fact reported on time
        open_case(service)
        service.bus.handle(fc.CheckDeadline(CASE_ID), SYSTEM)
        self.planned(service, occurred_on=date(2020, 9, 10), backfill_reason="补录")
        service.bus.handle(fc.ReportCompletion(CASE_ID, "完成", occurred_on=date(2020, 9, 28),
                                               backfill_reason="补录"), OFFICE)
        assert types_in(service.store, CASE_ID)[-1] == "RectificationReported"

    def test_office_staff_record_a_units_paper_signature_with_its_day(self):
        service = notices()  # today 2020-09-30; the notice was issued on paper on 2020-09-01
        service.bus.handle(nc.IssueNotice(notice_content(issued_on=date(2020, 9, 1)), notice_id="notice-1"), OFFICE)
        with pytest.raises(InvalidInput) as unnamed:
            service.bus.handle(nc.SignNotice("notice-1", occurred_on=date(2020, 9, 2), backfill_reason="补录"), OFFICE)
        assert unnamed.value.details["field"] == "unit"
        service.bus.handle(nc.SignNotice("notice-1", unit=TARGET, occurred_on=date(2020, 9, 2),
                                         backfill_reason="纸质签收单"), OFFICE)
        signed = service.store.read_stream("notice-1")[-1]
        assert (signed.data["unit"], signed.data["signed_on"], signed.data["late"]) == (TARGET, "2020-09-02", False)
        assert signed.data["backfill"]["recorded_for"] == TARGET
        with pytest.raises(InvalidInput) as before_issue:
            service.bus.handle(nc.SignNotice("notice-1", unit=OTHER_TARGET, occurred_on=date(2020, 8, 30),
                                             backfill_reason="补录"), OFFICE)
        assert "通知下发日期" in before_issue.value.message_zh

    def test_the_watchers_leave_a_paper_notice_alone_on_the_day_it_is_entered(self):
        clock = FixedClock(date(2020, 9, 30))
        notices_ = bootstrap_notices(store=InMemoryEventStore(), clock=clock, policies=PolicyBook())
        notices_.bus.handle(nc.IssueNotice(notice_content(issued_on=date(2020, 9, 1)), notice_id="notice-1"), OFFICE)
        issued = notices_.store.read_stream("notice-1")[0]
        assert (issued.data["issued_on"], issued.data["entered_on"]) == ("2020-09-01", "2020-09-30")
        followups_ = bootstrap_followups(store=InMemoryEventStore(), clock=clock, policies=PolicyBook())
        for command in commands_for_notice_issued(NoticeIssued.from_data(issued.data)):
            followups_.bus.handle(command, SYSTEM)
        first, second = "notice-1:P1", "notice-1:P2"  # due by the default period from 1 September, and 2020-12-31
        # entry day: its history (signatures, reports) is still being entered, so nothing is flagged yet
        assert notices_.bus.handle(nc.CheckSignDeadline("notice-1"), SYSTEM) == 0
        assert followups_.bus.handle(fc.CheckDeadline(first), SYSTEM) == 0
        clock.set(date(2020, 10, 9))
        assert notices_.bus.handle(nc.CheckSignDeadline("notice-1"), SYSTEM) == 1
        assert followups_.bus.handle(fc.CheckDeadline(first), SYSTEM) == 2  # overdue and the automatic 催办
        assert followups_.bus.handle(fc.CheckDeadline(second), SYSTEM) == 0

    def test_a_notice_entered_on_its_issue_day_is_watched_as_usual(self):
        service = notices()
        service.bus.handle(nc.IssueNotice(notice_content(issued_on=date(2020, 9, 30)), notice_id="notice-1"), OFFICE)
        assert service.store.read_stream("notice-1")[0].data["entered_on"] is None


def test_a_tasks_progress_is_backdated_only_by_office_staff():
    service = tasks()  # today 2020-09-30
    service.bus.handle(RecordPlan(title="要点", plan_id="plan-1", tasks=(TaskInput("1", "排查", lead_unit=UNIT),)), OFFICE)
    with pytest.raises(Forbidden):
        service.bus.handle(RecordTaskProgress("plan-1-T1", "进展", 10, occurred_on=date(2020, 9, 1),
                                              backfill_reason="补录"), OWN_HANDLER)
    service.bus.handle(RecordTaskProgress("plan-1-T1", "进展", 10, occurred_on=date(2020, 9, 1),
                                          backfill_reason="纸质进展报告"), OFFICE)
    progress = service.store.read_stream("plan-1-T1")[-1]
    assert (progress.data["occurred_on"], progress.data["backfill"]["reason"]) == ("2020-09-01", "纸质进展报告")
