"""考评: how units did over a period, scored and ranked by one documented rule (pure Python).

``unit_facts`` gathers what happened from the portal's model (the cases opened and notices issued in the period,
as the other report pages count them); ``evaluate_units`` is the rule, with weights from the office's policy
(shared/policy.py EvaluationWeights):

- 签收 (sign_for): points × the share of notices the unit signed for by the 签收时限, among those signed or due;
- 整改按时 (rectified_on_time): points × the share closed within the deadline in force (extensions count), among
  the cases closed or past their deadline;
- 用时 (days_to_close): all points when the average working days from issue to 销号 is at most the target, none
  at twice the target or more, in proportion between;
- 复查 (reinspection): points less a deduction per failed 复查; 督办升级 (escalations): points less the deduction of
  each escalation's level; each part's deductions are capped at its points.

A part with nothing to judge (no notice to sign, no case due, none closed) is left out and the score is the points
earned out of the points of the parts judged, scaled to 100. A unit with nothing due yet (no notice past its 签收时限
or signed, no case closed or past its deadline) has no score and no rank: deductions alone would score it 100.
Units with the same score share a rank (1, 1, 3).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from shared.deadlines import CalendarOutOfRange, working_days_between
from shared.policy import EvaluationWeights
from shared.vocabulary import EscalationLevel
from services.portal.domain.model import PortalModel
from services.portal.domain.queries import Period, Viewer, rate, visible_cases, visible_notices


@dataclass(frozen=True)
class UnitFacts:  # 考评期内一个单位的事实
    unit: str
    signings_due: int = 0  # 应签收 (signed, or past the 签收时限)
    signed_on_time: int = 0  # 按时签收
    cases: int = 0  # 督办事项 (withdrawn ones not counted)
    rectifications_due: int = 0  # 应完成整改 (closed, or past the deadline in force)
    rectified_on_time: int = 0  # 按时整改销号
    working_days_to_close: tuple[int, ...] = ()  # of each case closed
    failed_reinspections: int = 0  # 复查未通过
    escalations: dict[str, int] = field(default_factory=dict)  # level -> count


@dataclass(frozen=True)
class UnitEvaluation:  # 考评结果
    facts: UnitFacts
    sign_for_rate: float | None
    on_time_rate: float | None
    average_working_days: float | None
    parts: dict[str, float | None]  # part -> points earned (None: not judged)
    score: float | None
    rank: int | None = None

    @property
    def unit(self) -> str:
        return self.facts.unit


PARTS = ("sign_for", "rectified_on_time", "days_to_close", "reinspection", "escalations")
PART_ZH = {"sign_for": "签收", "rectified_on_time": "整改按时", "days_to_close": "用时", "reinspection": "复查",
           "escalations": "督办升级"}


def _deducted(points: int, deduction: int) -> float:
    return float(max(points - deduction, 0))  # capped: a part never goes below 0


def _speed_points(points: int, average: float, target: int) -> float:
    """All points at or under the target, none at twice it or more, in proportion between."""
    if average <= target:
        return float(points)
    return max(0.0, points * (2 * target - average) / target)


def evaluate_units(facts: list[UnitFacts], weights: EvaluationWeights) -> list[UnitEvaluation]:
    """Score and rank units by the rule in this module's docstring; best first, unscored units last by name."""
    evaluations = []
    for unit in facts:
        sign_rate = rate(unit.signed_on_time, unit.signings_due)
        on_time_rate = rate(unit.rectified_on_time, unit.rectifications_due)
        days = unit.working_days_to_close
        average = round(sum(days) / len(days), 1) if days else None
        has_cases = unit.cases > 0
        escalation_cost = sum(weights.deduction(level) * count for level, count in unit.escalations.items())
        parts = {
            "sign_for": None if sign_rate is None else weights.sign_for * sign_rate,
            "rectified_on_time": None if on_time_rate is None else weights.rectified_on_time * on_time_rate,
            "days_to_close": None if average is None else _speed_points(weights.days_to_close, average,
                                                                        weights.target_working_days),
            "reinspection": _deducted(weights.reinspection, weights.failed_reinspection_deduction
                                      * unit.failed_reinspections) if has_cases else None,
            "escalations": _deducted(weights.escalations, escalation_cost) if has_cases else None,
        }
        available = sum(getattr(weights, part) for part, points in parts.items() if points is not None)
        earned = sum(points for points in parts.values() if points is not None)
        anything_due = sign_rate is not None or on_time_rate is not None
        score = round(100 * earned / available, 1) if available and anything_due else None
        evaluations.append(UnitEvaluation(unit, sign_rate, on_time_rate, average,
                                          {part: None if p is None else round(p, 1) for part, p in parts.items()},
                                          score))
    return _ranked(evaluations)


def _ranked(evaluations: list[UnitEvaluation]) -> list[UnitEvaluation]:
    scored = sorted((e for e in evaluations if e.score is not None), key=lambda e: (-e.score, e.unit))
    ranked, rank = [], 0
    for place, evaluation in enumerate(scored, start=1):
        if place == 1 or evaluation.score != scored[place - 2].score:
            rank = place  # equal scores share the rank of the first of them
        ranked.append(UnitEvaluation(**{**evaluation.__dict__, "rank": rank}))
    return ranked + sorted((e for e in evaluations if e.score is None), key=lambda e: e.unit)


def _working_days(start: str | None, end: str | None) -> int | None:
    if not start or not end:
        return None
    try:
        return working_days_between(date.fromisoformat(start), date.fromisoformat(end))
    except (CalendarOutOfRange, ValueError):
        return None


def _failed_reinspections(model: PortalModel, notice_id: str, cache: dict[str, Counter]) -> Counter:
    """The failed 复查 of each case of a notice (its timeline holds every ReinspectionFailed)."""
    if notice_id not in cache:
        cache[notice_id] = Counter(entry.stream_id for entry in model.timelines.get(notice_id, ())
                                   if entry.type == "ReinspectionFailed")
    return cache[notice_id]


def unit_facts(model: PortalModel, viewer: Viewer, period: Period, today: date) -> list[UnitFacts]:
    """What each unit the viewer may see did with the notices issued and the cases opened in the period."""
    today_text = today.isoformat()
    signings: dict[str, Counter] = {}
    for notice in visible_notices(model, viewer):
        if not period.contains(notice.issued_on) or notice.status == "withdrawn" or not notice.sign_for_deadline:
            continue
        signed = {s["unit"]: s["signed_on"] for s in notice.signatures}
        for unit in notice.target_units:
            on = signed.get(unit)
            if on is None and notice.sign_for_deadline >= today_text:
                continue  # still within its 签收时限: nothing to judge yet
            tally = signings.setdefault(unit, Counter())
            tally["due"] += 1
            tally["on_time"] += on is not None and on[:10] <= notice.sign_for_deadline
    cases: dict[str, dict] = {}
    failures: dict[str, Counter] = {}  # notice id -> case id -> failed 复查, each notice's timeline read once
    for case in visible_cases(model, viewer):
        if not period.contains(case.opened_on) or case.status == "withdrawn":
            continue
        tally = cases.setdefault(case.responsible_unit, {"counts": Counter(), "days": [], "escalations": Counter()})
        counts = tally["counts"]
        counts["cases"] += 1
        if case.status == "closed":
            counts["due"] += 1
            counts["on_time"] += bool(case.on_time)
            if (days := _working_days(case.opened_on, case.closed_on)) is not None:
                tally["days"].append(days)
        elif case.deadline and case.deadline < today_text:
            counts["due"] += 1
        counts["failed"] += _failed_reinspections(model, case.notice_id, failures).get(case.id, 0)
        tally["escalations"].update(e["level"] for e in case.escalations if e.get("level") in EscalationLevel.LADDER)
    units = sorted(u for u in set(signings) | set(cases) if viewer.scope.sees_case(u))
    facts = []
    for unit in units:
        sign = signings.get(unit, Counter())
        tally = cases.get(unit, {"counts": Counter(), "days": [], "escalations": Counter()})
        counts = tally["counts"]
        facts.append(UnitFacts(unit, sign["due"], sign["on_time"], counts["cases"], counts["due"], counts["on_time"],
                               tuple(tally["days"]), counts["failed"], dict(tally["escalations"])))
    return facts
