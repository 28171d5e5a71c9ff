"""Concurrent commands on one case, and several deadline watchers at once, on the real MongoDB-protocol server."""
from __future__ import annotations

import threading
from datetime import date

from shared.bus import CommandContext
from shared.clock import FixedClock
from shared.contracts import NoticeIssued
from shared.envelope import Actor
from shared.errors import ConcurrencyConflict
from services.followups.bootstrap import bootstrap as bootstrap_followups
from services.followups.domain.commands import ReportProgress, SubmitRectificationPlan
from services.followups.reactions import commands_for_notice_issued, watch_deadlines

UNIT = "巴州区教育局"
HANDLER = CommandContext(Actor("zhao", "unit_handler", UNIT), correlation_id="corr-concurrent")
SYSTEM = CommandContext(Actor.system("test"), correlation_id="corr-open")


def open_case(context, notice_id: str, deadline: str) -> str:
    issued = NoticeIssued(notice_id=notice_id, kind="督办通知", title="t", doc_number=None, issuer_unit="巴中市教育督导室",
                          target_units=["巴州区人民政府"], problems=[{"problem_id": "P1", "description": "问题",
                                                                 "responsible_unit": UNIT, "deadline": deadline}])
    [command] = commands_for_notice_issued(issued)
    context.bus.handle(command, SYSTEM)
    return command.case_id


def run_together(count: int, action) -> list:
    """Start ``count`` threads at one barrier so they really race; collect what each returned or raised."""
    barrier, outcomes = threading.Barrier(count), [None] * count

    def run(index: int) -> None:
        barrier.wait()
        try:
            outcomes[index] = action(index)
        except Exception as error:  # noqa: BLE001 - the outcome is what the test inspects
            outcomes[index] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return outcomes


class TestConcurrentCommandsOnOneCase:
    def test_racing_reports_each_either_land_or_get_a_conflict_and_the_chain_stays_whole(self, settings):
        context = bootstrap_followups(settings, clock=FixedClock(date(2020, 9, 30)))
        case_id = open_case(context, "notice-race", "2020-12-31")
        context.bus.handle(SubmitRectificationPlan(case_id, "方案"), HANDLER)

        outcomes = run_together(8, lambda i: context.bus.handle(ReportProgress(case_id, f"进展{i}"), HANDLER))

        landed = [o for o in outcomes if o == case_id]
        conflicts = [o for o in outcomes if isinstance(o, ConcurrencyConflict)]
        assert len(landed) + len(conflicts) == 8 and landed, outcomes
        events = context.store.read_stream(case_id)
        assert [e.type for e in events].count("RectificationProgressReported") == len(landed)
        assert context.store.verify(case_id).ok

    def test_two_clients_acting_on_the_version_they_saw_cannot_both_win(self, settings):
        context = bootstrap_followups(settings, clock=FixedClock(date(2020, 9, 30)))
        case_id = open_case(context, "notice-seen", "2020-12-31")
        seen = context.store.stream_version(case_id)

        outcomes = run_together(4, lambda i: context.bus.handle(
            SubmitRectificationPlan(case_id, f"方案{i}", expected_version=seen), HANDLER))

        assert outcomes.count(case_id) == 1, outcomes
        assert all(isinstance(o, ConcurrencyConflict) and o.status == 409 for o in outcomes if o != case_id)


class TestSeveralDeadlineWatchers:
    def test_a_missed_deadline_is_flagged_exactly_once_by_racing_watchers(self, settings):
        clock = FixedClock(date(2020, 9, 30))
        watchers = [bootstrap_followups(settings, clock=clock) for _ in range(3)]  # three worker processes' worth
        case_id = open_case(watchers[0], "notice-late", "2020-10-09")
        clock.set(date(2020, 10, 12))

        for _ in range(3):  # several passes each, all at once
            run_together(3, lambda i: watch_deadlines(watchers[i], clock))

        types = [e.type for e in watchers[0].store.read_stream(case_id)]
        assert types.count("RectificationOverdue") == 1
        assert types.count("RectificationEscalated") == 1  # the automatic 催办; 预警 waits for 5 working days

        clock.set(date(2020, 10, 16))  # 5 working days after the deadline: the automatic 预警, once
        run_together(3, lambda i: watch_deadlines(watchers[i], clock))
        run_together(3, lambda i: watch_deadlines(watchers[i], clock))
        events = watchers[0].store.read_stream(case_id)
        levels = [e.data["level"] for e in events if e.type == "RectificationEscalated"]
        assert levels == ["reminder", "warning"] and all(e.data["automatic"] for e in events if "level" in e.data)
        assert watchers[0].store.verify(case_id).ok
