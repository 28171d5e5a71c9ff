"""考评: the scoring rule (evaluate_units) with the office's weights, and the facts it is given from the model."""
from __future__ import annotations

from datetime import date

import pytest

from shared.policy import EvaluationWeights, PolicyBook
from services.portal.domain.evaluation import UnitFacts, evaluate_units, unit_facts
from services.portal.domain.queries import Period, Viewer

WEIGHTS = EvaluationWeights()  # 15 / 40 / 15 / 15 / 15, target 20 working days


def perfect(unit: str, **changes) -> UnitFacts:
    facts = dict(signings_due=2, signed_on_time=2, cases=4, rectifications_due=4, rectified_on_time=4,
                 working_days_to_close=(10, 20, 15, 5), failed_reinspections=0, escalations={})
    return UnitFacts(unit, **{**facts, **changes})


def scores(facts: list[UnitFacts], weights: EvaluationWeights = WEIGHTS) -> dict[str, tuple]:
    return {e.unit: (e.score, e.rank) for e in evaluate_units(facts, weights)}


class TestTheRule:
    def test_the_default_weights_sum_to_100(self):
        assert sum(getattr(WEIGHTS, part) for part in
                   ("sign_for", "rectified_on_time", "days_to_close", "reinspection", "escalations")) == 100

    def test_a_unit_that_did_everything_on_time_scores_100(self):
        [result] = evaluate_units([perfect("甲")], WEIGHTS)
        assert (result.score, result.rank, result.sign_for_rate, result.on_time_rate, result.average_working_days) == (
            100.0, 1, 1.0, 1.0, 12.5)

    def test_each_part_earns_its_weight(self):
        [result] = evaluate_units([perfect("甲", rectified_on_time=2, signed_on_time=1)], WEIGHTS)
        assert result.parts["rectified_on_time"] == 20.0 and result.parts["sign_for"] == 7.5
        assert result.score == 100 - 20 - 7.5

    def test_other_weights_change_the_score(self):
        weights = EvaluationWeights(sign_for=50, rectified_on_time=50, days_to_close=0, reinspection=0, escalations=0)
        assert scores([perfect("甲", signed_on_time=0)], weights)["甲"] == (50.0, 1)

    def test_working_days_beyond_the_target_cost_points_up_to_all_at_twice_the_target(self):
        halfway = evaluate_units([perfect("甲", working_days_to_close=(30,))], WEIGHTS)[0]
        assert halfway.parts["days_to_close"] == 7.5
        slow = evaluate_units([perfect("甲", working_days_to_close=(40, 60))], WEIGHTS)[0]
        assert slow.parts["days_to_close"] == 0.0

    def test_deductions_are_capped_at_the_parts_points(self):
        [result] = evaluate_units([perfect("甲", failed_reinspections=9, escalations={"accountability": 3})], WEIGHTS)
        assert (result.parts["reinspection"], result.parts["escalations"]) == (0.0, 0.0)
        assert result.score == 70.0  # never below what the other parts earned

    def test_escalations_cost_by_level(self):
        [result] = evaluate_units([perfect("甲", escalations={"reminder": 2, "interview": 1})], WEIGHTS)
        assert result.parts["escalations"] == 15 - 2 * 1 - 5

    def test_zero_denominators_leave_the_part_out_and_scale_the_rest(self):
        facts = perfect("甲", signings_due=0, signed_on_time=0, rectifications_due=2, rectified_on_time=1,
                        working_days_to_close=(10,))  # no notice to sign: 签收 is not judged
        [result] = evaluate_units([facts], WEIGHTS)
        assert (result.sign_for_rate, result.on_time_rate, result.average_working_days) == (None, 0.5, 10.0)
        assert result.parts["sign_for"] is None and result.score == round(100 * (20 + 15 + 15 + 15) / 85, 1)

    def test_a_unit_with_cases_but_nothing_due_yet_has_no_score(self):
        facts = perfect("甲", signings_due=0, signed_on_time=0, rectifications_due=0, rectified_on_time=0,
                        working_days_to_close=())
        [result] = evaluate_units([facts], WEIGHTS)
        assert (result.sign_for_rate, result.on_time_rate, result.average_working_days) == (None, None, None)
        assert (result.score, result.rank) == (None, None)  # not 100 for the deductions it has not had

    def test_a_unit_with_no_cases_and_nothing_to_sign_has_no_score_and_no_rank(self):
        ranked = evaluate_units([UnitFacts("空"), perfect("甲")], WEIGHTS)
        assert [(e.unit, e.score, e.rank) for e in ranked] == [("甲", 100.0, 1), ("空", None, None)]

    def test_ties_share_a_rank_and_the_next_rank_skips(self):
        ranked = evaluate_units([perfect("丙", signed_on_time=1), perfect("乙"), perfect("甲")], WEIGHTS)
        assert [(e.unit, e.rank) for e in ranked] == [("乙", 1), ("甲", 1), ("丙", 3)]


class TestPolicy:
    def test_an_office_overrides_some_weights_and_bad_ones_are_refused(self):
        book = PolicyBook.from_mapping({"offices": {"巴中市教育督导委员会办公室": {"evaluation": {"sign_for": 20}}}})
        assert book.for_office("巴中市教育督导委员会办公室").evaluation.sign_for == 20
        assert book.default.evaluation.sign_for == 15
        for bad in ({"sign_for": -1}, {"nonsense": 1}, {"target_working_days": 0}, "heavy"):
            with pytest.raises(Exception) as refused:
                PolicyBook.from_mapping({"default": {"evaluation": bad}})
            assert "evaluation" in str(refused.value)


class TestFactsFromTheModel:
    def test_cases_signings_escalations_and_failed_reinspections_per_unit(self):
        from tests.unit.portal.test_pages_reports_plans import BAZHOU, ENYANG, TONGJIANG, build_model
        model = build_model()
        facts = {f.unit: f for f in unit_facts(model, Viewer("a", "auditor"), Period(), date(2026, 3, 1))}
        # the notices' targets sign for them (none did, all past the 签收时限); the responsible units rectify
        assert set(facts) == {BAZHOU, ENYANG, TONGJIANG, "巴州区人民政府", "恩阳区人民政府", "通江县人民政府"}
        government = facts["巴州区人民政府"]
        assert (government.signings_due, government.signed_on_time, government.cases) == (1, 0, 0)
        bazhou = facts[BAZHOU]  # notice-1:P1 closed on time (2026-01-10 → 2026-02-05), notice-2:P2 not yet due
        assert (bazhou.cases, bazhou.rectifications_due, bazhou.rectified_on_time) == (2, 1, 1)
        assert bazhou.working_days_to_close == (19,)  # Mon 12 Jan – Thu 5 Feb, not the 26 calendar days
        enyang = facts[ENYANG]  # notice-1:P2 past its deadline: 催办 by the watcher, then 约谈
        assert (enyang.rectifications_due, enyang.rectified_on_time, enyang.escalations) == (
            1, 0, {"reminder": 1, "interview": 1})
        mine = unit_facts(model, Viewer("h", "unit_handler", ENYANG), Period(), date(2026, 3, 1))
        assert [f.unit for f in mine] == [ENYANG]

    def test_a_failed_reinspection_is_counted_and_a_late_signature_is_not_on_time(self):
        from shared.clock import FixedClock
        from shared.eventstore import base as eventstore_base
        from services.followups.domain import commands as fc
        from services.notices.domain import commands as nc
        from services.portal.adapters.users import DEMO_OFFICE
        from tests.unit.portal.test_pages_reports_plans import BAZHOU, INSPECTOR, OFFICE, Story, handler
        clock = FixedClock(date(2026, 1, 5))
        story = Story(clock)
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(eventstore_base, "utc_now", clock.now)
            story.on(date(2026, 1, 5), "notices", nc.IssueNotice(nc.NoticeContent(
                kind="督办通知", title="督办通知", issuer_unit=DEMO_OFFICE, target_units=(BAZHOU,),
                problems=(nc.ProblemInput("危房", "拆除", BAZHOU, deadline=date(2026, 2, 27)),)), notice_id="n1"), OFFICE)
            story.on(date(2026, 1, 20), "notices", nc.SignNotice("n1"), handler(BAZHOU))  # 签收时限 was 8 Jan
            story.on(date(2026, 1, 21), "followups", fc.SubmitRectificationPlan("n1:P1", "拆除"), handler(BAZHOU))
            story.on(date(2026, 1, 22), "followups", fc.ReportCompletion("n1:P1", "已拆除"), handler(BAZHOU))
            story.on(date(2026, 1, 23), "followups", fc.Reinspect("n1:P1", False, "未拆完"), INSPECTOR)
            story.on(date(2026, 1, 26), "followups", fc.ReportCompletion("n1:P1", "已拆完"), handler(BAZHOU))
            story.on(date(2026, 1, 27), "followups", fc.Reinspect("n1:P1", True, "通过"), INSPECTOR)
            story.on(date(2026, 1, 27), "followups", fc.CloseCase("n1:P1"), INSPECTOR)
        [facts] = unit_facts(story.model, Viewer("a", "auditor"), Period(), date(2026, 3, 1))
        assert (facts.unit, facts.signings_due, facts.signed_on_time) == (BAZHOU, 1, 0)
        assert (facts.failed_reinspections, facts.rectified_on_time, facts.working_days_to_close) == (1, 1, (16,))
        [result] = evaluate_units([facts], WEIGHTS)
        assert result.parts == {"sign_for": 0.0, "rectified_on_time": 40.0, "days_to_close": 15.0,
                                "reinspection": 10.0, "escalations": 15.0} and result.score == 80.0
