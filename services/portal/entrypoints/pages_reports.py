"""Reports: the rectification ledger (整改台账), the cross-department status table and the period's statistics.

Every page follows the viewer's scope (the queries do), takes its inputs through marshmallow schemas and
exports the same rows it shows (``?format=xlsx`` / ``?format=csv``).
"""
from __future__ import annotations

from datetime import date
from typing import Callable, NamedTuple
from urllib.parse import urlencode

from flask import Blueprint, request
from marshmallow import Schema, fields, validate

from shared.vocabulary import CASE_STATUS_ZH, LIGHT_ZH
from services.portal.adapters.charts import bar_chart, line_chart
from services.portal.domain.queries import (
    GROUPINGS,
    CaseFilter,
    Period,
    ledger,
    statistics,
    statistics_series,
    status_table,
    visible_cases,
)
from services.portal.entrypoints.common import (
    chart_response,
    csv_response,
    excel_response,
    load_args,
    percent,
    portal,
    render,
    viewer,
)

blp = Blueprint("reports", __name__)

FORMATS = ("html", "xlsx", "csv")
LIGHTS = tuple(LIGHT_ZH)

# The 整改台账 as offices keep it in their spreadsheets, column for column.
LEDGER_HEADERS = ("序号", "通知名称", "文号", "问题", "责任单位", "责任人", "整改措施", "整改时限", "状态", "红黄绿灯",
                  "销号日期")
# The exports add what an import needs to enter each row again with its real days (/ledger/import).
LEDGER_EXPORT_HEADERS = (*LEDGER_HEADERS, "下发日期", "领域", "报告日期")
STATUS_HEADERS = ("事项总数", "在办", "逾期", "已销号", "完成率", "平均销号天数")
FIGURE_LABELS = (
    ("notices", "下发督办通知及工作提示函（份）"),
    ("prompt_letters", "其中：工作提示函（份）"),
    ("listed", "挂牌督办（份）"),
    ("problems", "跟踪督办问题（个）"),
    ("areas", "涉及方面（个）"),
    ("units", "涉及责任单位（个）"),
    ("closed", "已销号（个）"),
    ("closed_on_time", "其中按期完成（个）"),
    ("completion_rate", "整改完成率"),
    ("reminders", "催办（次）"),
    ("warnings", "预警（次）"),
    ("interviews", "约谈（次）"),
    ("circulations", "通报（次）"),
    ("accountability", "问责（次）"),
)


class _PeriodArgs(Schema):
    start = fields.Date(load_default=None)  # 开始日期（事项建立 / 通知下发）
    end = fields.Date(load_default=None)  # 结束日期


class LedgerQuerySchema(_PeriodArgs):  # 整改台账查询条件
    unit = fields.String(load_default=None, validate=validate.Length(max=200))  # 责任单位
    department = fields.String(load_default=None, validate=validate.Length(max=200))  # 督办对象
    status = fields.String(load_default=None, validate=validate.OneOf(tuple(CASE_STATUS_ZH)))
    light = fields.String(load_default=None, validate=validate.OneOf(LIGHTS))
    task_id = fields.String(load_default=None, validate=validate.Length(max=200))  # 督导任务
    notice_id = fields.String(load_default=None, validate=validate.Length(max=200))
    area = fields.String(load_default=None, validate=validate.Length(max=100))  # 领域
    kind = fields.String(load_default=None, validate=validate.Length(max=50))  # 通知类型
    listed = fields.Boolean(load_default=None)  # 挂牌督办
    format = fields.String(load_default="html", validate=validate.OneOf(FORMATS))


class StatusQuerySchema(_PeriodArgs):  # 部门状态
    by = fields.String(load_default="unit", validate=validate.OneOf(tuple(GROUPINGS)))
    format = fields.String(load_default="html", validate=validate.OneOf(("html", "xlsx")))


class StatisticsQuerySchema(_PeriodArgs):  # 统计
    pass


class StatusChartQuerySchema(_PeriodArgs):  # 部门状态图
    by = fields.String(load_default="unit", validate=validate.OneOf(tuple(GROUPINGS)))


class StatisticsChart(NamedTuple):  # 统计图: drawn on the 统计 page and in the 督导工作报告
    series: str  # its key in statistics_series
    title: str
    legend: str
    draw: Callable[..., bytes]  # bar_chart or line_chart
    percent: bool = False  # the series are rates, drawn as %


STATISTICS_CHARTS = {  # by the name in its URL
    "areas": StatisticsChart("areas", "各领域督办问题（个）", "问题", bar_chart),
    "closings": StatisticsChart("closings_by_month", "每月销号（个）", "销号", line_chart),
    "on_time": StatisticsChart("on_time_by_unit", "各责任单位按期销号率", "按期销号率", bar_chart, percent=True),
}


def draw_statistics_chart(chart: StatisticsChart, series: dict, fmt: str = "svg") -> bytes:
    pairs = series.get(chart.series) or []
    values = [100 * value if chart.percent else value for _, value in pairs]
    options = {"percent": True} if chart.percent else {}
    return chart.draw(chart.title, [label for label, _ in pairs], {chart.legend: values}, fmt=fmt, **options)


# -- 整改台账 ------------------------------------------------------------------------------------------

def ledger_row(number: int, case, light: str | None) -> list:
    """One ledger row in LEDGER_HEADERS order (the same values on the page and in the exports)."""
    measures = "；".join(case.measures) if case.measures else (case.plan or "")
    return [number, case.notice_title or "", case.doc_number or "", case.description, case.responsible_unit,
            case.responsible_person or "", measures, case.deadline or "", CASE_STATUS_ZH.get(case.status, case.status),
            LIGHT_ZH.get(light, "") if light else "", case.closed_on or ""]


def ledger_export_row(row: list, case) -> list:
    """The exported row: the page's columns, then LEDGER_EXPORT_HEADERS' others."""
    return [*row, case.opened_on or "", case.area or "", case.reported_on or ""]


@blp.get("/ledger")
def ledger_page():
    args = load_args(LedgerQuerySchema())
    period = Period(args["start"], args["end"])
    where = CaseFilter(unit=args["unit"], department=args["department"], status=args["status"], light=args["light"],
                       task_id=args["task_id"], notice_id=args["notice_id"], kind=args["kind"], listed=args["listed"],
                       area=args["area"], period=period)
    context, who = portal(), viewer()
    with context.lock:
        found = ledger(context.model, who, where, context.light_rule())
        rows = [(case, light, ledger_row(number, case, light)) for number, (case, light) in enumerate(found, start=1)]
        choices = _ledger_choices(context.model, who)
    filename = f"整改台账-{context.clock.today().isoformat()}"
    exported = (ledger_export_row(row, case) for case, _, row in rows)
    if args["format"] == "xlsx":
        return excel_response("整改台账", LEDGER_EXPORT_HEADERS, exported, filename)
    if args["format"] == "csv":
        return csv_response(LEDGER_EXPORT_HEADERS, exported, filename)
    return render("ledger.html", rows=rows, headers=LEDGER_HEADERS, args=args, period=period, choices=choices,
                  statuses=CASE_STATUS_ZH, export_query=_export_query())


def _ledger_choices(model, who) -> dict:
    """What the filter drop-downs offer: the values found among the cases this viewer sees."""
    units, departments, areas, kinds, task_ids = set(), set(), set(), set(), set()
    for case in visible_cases(model, who):
        units.add(case.responsible_unit)
        departments.update(case.target_units)
        task_ids.update(case.related_task_ids)
        if case.area:
            areas.add(case.area)
        if case.notice_kind:
            kinds.add(case.notice_kind)
    tasks = []
    for task_id in sorted(task_ids):
        task = model.tasks.get(task_id)
        tasks.append((task_id, f"{task.number} {_short(task.text)}" if task else task_id))
    return {"units": sorted(units), "departments": sorted(departments), "areas": sorted(areas), "kinds": sorted(kinds),
            "tasks": tasks}


def _short(text: str, limit: int = 30) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def _export_query() -> str:
    """The current query string without ``format``, so the export links export exactly what is shown."""
    return urlencode([(k, v) for k, v in request.args.items(multi=True) if k != "format" and v != ""])


# -- 部门状态 ------------------------------------------------------------------------------------------

@blp.get("/status")
def status_page():
    args = load_args(StatusQuerySchema())
    period = Period(args["start"], args["end"])
    by = args["by"]
    context = portal()
    with context.lock:
        rows = status_table(context.model, viewer(), period, by, context.light_rule())
        plan_of = {row["key"]: context.model.tasks[row["key"]].plan_id for row in rows
                   if by == "task" and row["key"] in context.model.tasks}
        numbers = {row["key"]: context.model.tasks[row["key"]].number for row in rows
                   if by == "task" and row["key"] in context.model.tasks}
    headers = (GROUPINGS[by],) + STATUS_HEADERS
    if args["format"] == "xlsx":
        lines = ([_task_label(row, numbers) if by == "task" else row["label"], row["total"], row["open"], row["overdue"],
                  row["closed"], percent(row["completion_rate"]), row["avg_days_to_close"]] for row in rows)
        filename = f"部门状态-按{GROUPINGS[by]}-{context.clock.today().isoformat()}"
        return excel_response(f"按{GROUPINGS[by]}", headers, lines, filename)
    return render("status.html", rows=rows, by=by, groupings=GROUPINGS, headers=headers, period=period,
                  plan_of=plan_of, numbers=numbers, export_query=_export_query())


@blp.get("/status/chart.svg")
def status_chart():
    """部门状态 as bars: open and overdue matters of each row of the page, same grouping and period."""
    args = load_args(StatusChartQuerySchema())
    period, by = Period(args["start"], args["end"]), args["by"]
    context = portal()
    with context.lock:
        rows = status_table(context.model, viewer(), period, by, context.light_rule())
        numbers = {row["key"]: context.model.tasks[row["key"]].number for row in rows
                   if by == "task" and row["key"] in context.model.tasks}
    labels = [_task_label(row, numbers) if by == "task" else row["label"] for row in rows]
    return chart_response(bar_chart(f"按{GROUPINGS[by]}：在办与逾期事项", labels,
                                    {"在办": [row["open"] for row in rows], "逾期": [row["overdue"] for row in rows]}))


def _task_label(row: dict, numbers: dict) -> str:
    number = numbers.get(row["key"])
    return f"{number} {row['label']}" if number else row["label"]


# -- 统计 ----------------------------------------------------------------------------------------------

def default_period(today: date) -> Period:
    """This year so far: 1 January to today (the offices' own clock)."""
    return Period(date(today.year, 1, 1), today)


def requested_period(args: dict, today: date) -> Period:
    """The period a page's start/end ask for; this year so far when neither is given."""
    if args["start"] is None and args["end"] is None:
        return default_period(today)
    return Period(args["start"], args["end"])


@blp.get("/statistics/chart/<any(areas, closings, on_time):name>.svg")
def statistics_chart(name: str):
    """One of 统计's charts, for the same period as the page (this year by default)."""
    args = load_args(StatisticsQuerySchema())
    context = portal()
    period = requested_period(args, context.clock.today())
    with context.lock:
        series = statistics_series(context.model, viewer(), period)
    return chart_response(draw_statistics_chart(STATISTICS_CHARTS[name], series))


@blp.get("/statistics")
def statistics_page():
    args = load_args(StatisticsQuerySchema())
    context = portal()
    period = requested_period(args, context.clock.today())
    with context.lock:
        result = statistics(context.model, viewer(), period)
    figures = [(key, label, result["figures"][key]) for key, label in FIGURE_LABELS]
    return render("statistics.html", result=result, figures=figures, period=period, charts=STATISTICS_CHARTS,
                  chart_query=urlencode({"start": period.start or "", "end": period.end or ""}))
