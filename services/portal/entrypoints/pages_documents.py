"""Portal downloads: official documents (公文, .docx) — a notice's 督办通知书, a case's 整改情况报告 skeleton and the
period's 督导工作报告 — each in the scope of the page it comes from (a reader who may not see that page gets
its 404/403).
"""
from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, Response

from services.portal.adapters.charts import bar_chart, line_chart
from services.portal.adapters.official_documents import MIME_TYPE, annual_report_docx, case_report_docx, notice_docx
from services.portal.domain.model import local_date
from services.portal.domain.official_documents import (
    CaseStep,
    Chart,
    annual_report_document,
    case_report_document,
    notice_document,
)
from services.portal.domain.queries import statistics, statistics_series, timeline
from services.portal.entrypoints.common import load_args, portal, viewer
from services.portal.entrypoints.pages_cases import visible_case
from services.portal.entrypoints.pages_notices import _problem_rows, visible_notice
from services.portal.entrypoints.pages_reports import FIGURE_LABELS, StatisticsQuerySchema, _statistics_period

blp = Blueprint("documents", __name__)

MAX_NAME = 80  # characters of a title kept in the file name
REPORT_CHARTS = (  # (statistics_series key, title, legend, drawing, values are rates shown as %)
    ("areas", "各领域督办问题（个）", "问题", bar_chart, False),
    ("closings_by_month", "每月销号（个）", "销号", line_chart, False),
    ("on_time_by_unit", "各责任单位按期销号率", "按期销号率", bar_chart, True),
)


def docx_response(content: bytes, name: str) -> Response:
    """A .docx download named in Chinese (RFC 5987 filename*); private: it holds the reader's own scope."""
    filename = f"{name[:MAX_NAME]}.docx"
    return Response(content, mimetype=MIME_TYPE,
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}",
                             "Cache-Control": "private, no-store"})


@blp.get("/notices/<notice_id>/document.docx")
def notice_document_download(notice_id: str):
    """督办通知书 of a notice, listing the problems its reader sees on the notice page."""
    context, who = portal(), viewer()
    with context.lock:
        model = context.model
        notice = visible_notice(model, notice_id)
        problems = [row["problem"] for row in _problem_rows(notice, model, who, context.light_rule())]
        document = notice_document(notice, problems, printed_on=context.clock.today())
    return docx_response(notice_docx(document), f"督办通知书-{notice.title}")


@blp.get("/cases/<case_id>/report.docx")
def case_report_download(case_id: str):
    """整改情况报告 skeleton of a case, pre-filled from its steps and 佐证材料."""
    context = portal()
    with context.lock:
        case = visible_case(context.model, case_id)
        steps = [CaseStep(e.type, e.happened_on or local_date(e.recorded_at).isoformat(), dict(e.data or {}))
                 for e in timeline(context.model, case.notice_id) if e.stream_id == case.id]
        document = case_report_document(case, steps, list(getattr(case, "files", None) or []))
    return docx_response(case_report_docx(document), document.title)


@blp.get("/statistics/report.docx")
def annual_report_download():
    """督导工作报告 for the 统计 page's period (this year by default), with its figures and charts."""
    args = load_args(StatisticsQuerySchema())
    context, who = portal(), viewer()
    today = context.clock.today()
    period = _statistics_period(args, today)
    with context.lock:
        result = statistics(context.model, who, period)
        series = statistics_series(context.model, who, period)
    document = annual_report_document(result, series, FIGURE_LABELS, start=period.start, end=period.end,
                                      issuer=who.unit or "", dated=today, charts=report_charts(series))
    return docx_response(annual_report_docx(document), document.title)


def report_charts(series: dict) -> list[Chart]:
    """The 统计 page's charts as PNG for the report, numbered 图1, 图2 …; a chart with nothing to draw is left out."""
    charts = []
    for key, title, legend, draw, percent in REPORT_CHARTS:
        pairs = series.get(key) or []
        if not pairs:
            continue
        values = [100 * value if percent else value for _, value in pairs]
        options = {"percent": True} if percent else {}
        image = draw(title, [label for label, _ in pairs], {legend: values}, fmt="png", **options)
        charts.append(Chart(f"图{len(charts) + 1} {title}", image))
    return charts
