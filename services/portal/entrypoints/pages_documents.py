"""Portal downloads: official documents (公文, .docx) — a notice's 督办通知书, a case's 整改情况报告 skeleton and the
period's 督导工作报告 — each in the scope of the page it comes from (a reader who may not see that page gets
its 404/403).
"""
from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, Response

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
from services.portal.entrypoints.pages_notices import problem_rows, visible_notice
from services.portal.entrypoints.pages_reports import (FIGURE_LABELS, STATISTICS_CHARTS, StatisticsQuerySchema,
                                                      draw_statistics_chart, requested_period)

blp = Blueprint("documents", __name__)

MAX_NAME = 80  # characters of a title kept in the file name


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
        problems = [row["problem"] for row in problem_rows(notice, model, who, context.light_rule())]
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
    period = requested_period(args, today)
    with context.lock:
        result = statistics(context.model, who, period)
        series = statistics_series(context.model, who, period)
    document = annual_report_document(result, series, FIGURE_LABELS, start=period.start, end=period.end,
                                      issuer=who.unit or "", dated=today, charts=report_charts(series))
    return docx_response(annual_report_docx(document), document.title)


def report_charts(series: dict) -> list[Chart]:
    """The 统计 page's charts as PNG for the report, numbered 图1, 图2 …; a chart with nothing to draw is left out."""
    drawn = [(chart.title, draw_statistics_chart(chart, series, fmt="png"))
             for chart in STATISTICS_CHARTS.values() if series.get(chart.series)]
    return [Chart(f"图{number} {title}", image) for number, (title, image) in enumerate(drawn, start=1)]
