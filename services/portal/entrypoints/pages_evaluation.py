"""考评: units scored and ranked for a period (services/portal/domain/evaluation.py), as a page, a chart and an
Excel export. Everyone sees the rows of the units in their own scope (a unit's people: their own unit's)."""
from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint
from marshmallow import Schema, fields, validate

from shared.vocabulary import ESCALATION_ZH, EscalationLevel
from services.portal.adapters.charts import bar_chart
from shared.policy import EvaluationWeights
from services.portal.domain.evaluation import PART_ZH, PARTS, UnitEvaluation, evaluate_units, unit_facts
from services.portal.domain.queries import Period
from services.portal.entrypoints.common import chart_response, excel_response, load_args, percent, portal, render, viewer
from services.portal.entrypoints.pages_reports import requested_period

blp = Blueprint("evaluation", __name__)

EVALUATION_HEADERS = ("排名", "单位", "得分", "签收按时率", "应签收", "按时签收", "督办事项", "整改按时率", "应完成整改",
                      "按时整改", "平均用时（工作日）", "复查未通过",
                      *(f"{label}（次）" for label in ESCALATION_ZH.values()), *(f"{PART_ZH[p]}得分" for p in PARTS))


class EvaluationQuerySchema(Schema):  # 考评查询条件
    start = fields.Date(load_default=None)  # 开始日期（事项建立 / 通知下发）
    end = fields.Date(load_default=None)  # 结束日期
    format = fields.String(load_default="html", validate=validate.OneOf(("html", "xlsx")))


def _evaluate(args: dict) -> tuple[Period, list[UnitEvaluation], EvaluationWeights]:
    """The period asked for (this year by default) and the viewer's units in it, scored with their office's weights."""
    context, who = portal(), viewer()
    today = context.clock.today()
    period = requested_period(args, today)
    weights = context.policies.for_office(who.unit).evaluation
    with context.lock:
        facts = unit_facts(context.model, who, period, today)
    return period, evaluate_units(facts, weights), weights


def evaluation_row(evaluation: UnitEvaluation) -> list:
    """One unit in EVALUATION_HEADERS order (the same values on the page and in the export)."""
    facts = evaluation.facts
    return [evaluation.rank or "—", facts.unit, "—" if evaluation.score is None else evaluation.score,
            percent(evaluation.sign_for_rate), facts.signings_due, facts.signed_on_time, facts.cases,
            percent(evaluation.on_time_rate), facts.rectifications_due, facts.rectified_on_time,
            "—" if evaluation.average_working_days is None else evaluation.average_working_days,
            facts.failed_reinspections, *(facts.escalations.get(level, 0) for level in EscalationLevel.LADDER),
            *("—" if evaluation.parts[p] is None else evaluation.parts[p] for p in PARTS)]


@blp.get("/evaluation")
def evaluation_page():
    args = load_args(EvaluationQuerySchema())
    period, evaluations, weights = _evaluate(args)
    rows = [evaluation_row(e) for e in evaluations]
    if args["format"] == "xlsx":
        return excel_response("考评", EVALUATION_HEADERS, rows, f"考评-{period.label().replace(' ', '')}")
    query = urlencode({"start": period.start or "", "end": period.end or ""})
    return render("evaluation.html", rows=rows, headers=EVALUATION_HEADERS, period=period, weights=weights,
                  parts=[(PART_ZH[p], getattr(weights, p)) for p in PARTS], query=query,
                  scored=any(e.score is not None for e in evaluations))


@blp.get("/evaluation/chart.svg")
def evaluation_chart():
    """The scores as bars, best first, for the same period and viewer as the page."""
    _, evaluations, _ = _evaluate(load_args(EvaluationQuerySchema()))
    scored = [e for e in evaluations if e.score is not None]
    return chart_response(bar_chart("考评得分", [e.unit for e in scored], {"得分": [e.score for e in scored]}))
