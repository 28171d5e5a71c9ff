"""督办事项, 已销号 and 完成率 mean the same on every page: a problem whose notice serves two tasks of a work plan
is one matter on the plan row, the dashboard and 统计 alike (queries.MatterFigures)."""
from __future__ import annotations

from datetime import date

import pytest

from shared.clock import FixedClock
from shared.eventstore import base as eventstore_base
from shared.policy import PolicyBook
from services.followups.domain import commands as fc
from services.notices.domain import commands as nc
from services.portal.adapters.users import DEMO_OFFICE
from services.portal.domain.model import PortalModel
from services.portal.domain.queries import LightRule, MatterFigures, Period, Viewer, dashboard, matter_figures, statistics
from services.portal.entrypoints.pages_plans import plan_summary
from services.tasks.domain.commands import RecordPlan, TaskInput
from tests.unit.portal.test_pages_reports_plans import BAZHOU, ENYANG, INSPECTOR, OFFICE, Story, handler

AUDITOR = Viewer("auditor", "auditor")


def replay(story: Story) -> None:
    """A plan of two tasks; notice-1 (two problems) serves both tasks, notice-2 (one problem) the first only;
    one problem of notice-1 is closed."""
    story.on(date(2026, 1, 5), "tasks", RecordPlan(
        title="2026年工作要点", year=2026, issuer=DEMO_OFFICE, plan_id="plan-1",
        tasks=(TaskInput("1", "校舍安全", lead_unit=BAZHOU), TaskInput("2", "控辍保学", lead_unit=ENYANG))), OFFICE)
    for notice_id, tasks, problems in (
            ("notice-1", ("plan-1-T1", "plan-1-T2"), ((BAZHOU, "危房未拆除"), (ENYANG, "消防通道堵塞"))),
            ("notice-2", ("plan-1-T1",), ((BAZHOU, "台账不全"),))):
        story.on(date(2026, 1, 10), "notices", nc.IssueNotice(nc.NoticeContent(
            kind="督办通知", title=f"{notice_id}的督办通知", issuer_unit=DEMO_OFFICE, target_units=(BAZHOU, ENYANG),
            problems=tuple(nc.ProblemInput(text, "整改", unit, deadline=date(2026, 2, 20)) for unit, text in problems),
            related_task_ids=tasks), notice_id=notice_id), OFFICE)
    story.on(date(2026, 1, 15), "followups", fc.SubmitRectificationPlan("notice-1:P1", "拆除"), handler(BAZHOU))
    story.on(date(2026, 1, 20), "followups", fc.ReportCompletion("notice-1:P1", "已拆除"), handler(BAZHOU))
    story.on(date(2026, 1, 21), "followups", fc.Reinspect("notice-1:P1", True, "复查通过"), INSPECTOR)
    story.on(date(2026, 1, 21), "followups", fc.CloseCase("notice-1:P1"), INSPECTOR)


def build_model() -> PortalModel:
    clock = FixedClock(date(2026, 1, 5))
    story = Story(clock)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(eventstore_base, "utc_now", clock.now)
        replay(story)
    return story.model


@pytest.fixture(scope="module")
def model() -> PortalModel:
    return build_model()


class TestOneDefinitionPerTotal:
    def test_the_story_links_a_notice_to_two_tasks(self, model):
        assert model.tasks["plan-1-T1"].notice_ids == ["notice-1", "notice-2"]
        assert model.tasks["plan-1-T2"].notice_ids == ["notice-1"]

    def test_the_plan_row_counts_a_problem_of_two_tasks_once(self, model):
        summary = plan_summary(model, AUDITOR, model.plans["plan-1"])
        assert [(line.matters, line.closed) for line in summary["lines"]] == [(3, 1), (2, 1)]  # each task its own
        assert (summary["matters"], summary["closed"], summary["rate"]) == (3, 1, 0.3333)  # not 5, 2 and 40%

    def test_the_plan_row_the_dashboard_and_statistics_agree(self, model):
        summary = plan_summary(model, AUDITOR, model.plans["plan-1"])
        board = dashboard(model, AUDITOR, Period(), LightRule(date(2026, 3, 1), PolicyBook()))
        figures = statistics(model, AUDITOR, Period())["figures"]
        assert ((summary["matters"], summary["closed"], summary["rate"])
                == (board["matters"], board["closed"], board["completion_rate"])
                == (figures["problems"], figures["closed"], figures["completion_rate"]) == (3, 1, 0.3333))

    def test_the_statistics_sentence_says_it_counts_the_matters_and_of_them_the_closed(self, model):
        first = statistics(model, AUDITOR, Period())["sentences"][0]
        assert "督促整改落实督办事项3件（已销号1件）" in first


class TestAWithdrawnNotice:
    def test_its_matters_leave_the_plan_row_the_dashboard_and_statistics_alike(self):
        clock = FixedClock(date(2026, 1, 5))
        story = Story(clock)
        with pytest.MonkeyPatch.context() as patch:  # the same story, then notice-2 withdrawn
            patch.setattr(eventstore_base, "utc_now", clock.now)
            replay(story)
            story.on(date(2026, 1, 25), "notices", nc.WithdrawNotice("notice-2", "重复下发"), OFFICE)
        assert story.model.cases["notice-2:P1"].status == "withdrawn"
        summary = plan_summary(story.model, AUDITOR, story.model.plans["plan-1"])
        board = dashboard(story.model, AUDITOR, Period(), LightRule(date(2026, 3, 1), PolicyBook()))
        figures = statistics(story.model, AUDITOR, Period())["figures"]
        assert ((summary["matters"], summary["closed"]) == (board["matters"], board["closed"])
                == (figures["problems"], figures["closed"]) == (2, 1))


class TestMatterFigures:
    def test_distinct_ids_and_only_closed_ones_among_them(self):
        assert matter_figures(["a", "b", "a"], ["a", "a", "z"]) == MatterFigures(2, 1)

    def test_no_matters_has_no_rate(self):
        assert matter_figures([], []).completion_rate is None
        assert MatterFigures(3, 3).completion_rate == 1.0


class TestStatisticsSeries:
    def test_the_charts_count_as_statistics_counts_and_months_without_closings_show_as_zero(self, model):
        from services.portal.domain.model import CaseRecord
        from services.portal.domain.queries import statistics_series
        series = statistics_series(model, AUDITOR, Period())
        assert sum(n for _, n in series["areas"]) == statistics(model, AUDITOR, Period())["figures"]["problems"]
        assert series["closings_by_month"] == [("2026-01", 1)]
        model = PortalModel()
        for number, closed_on in enumerate(("2025-11-03", "2026-02-10", "2026-02-11")):
            model.cases[f"c{number}"] = CaseRecord(f"c{number}", "n", f"P{number}", responsible_unit=BAZHOU,
                                                   status="closed", opened_on="2025-10-01", closed_on=closed_on,
                                                   on_time=number > 0)
        model.case_order.update({f"c{n}": n for n in range(3)})
        series = statistics_series(model, AUDITOR, Period())
        assert series["closings_by_month"] == [("2025-11", 1), ("2025-12", 0), ("2026-01", 0), ("2026-02", 2)]
        assert series["on_time_by_unit"] == [(BAZHOU, 0.6667)]
