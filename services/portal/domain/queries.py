"""What people ask the portal: dashboards, status tables, the ledger, statistics and timelines (pure Python).

Everything is filtered by what the viewer may see, by the rule the services' APIs apply too (shared/scope.py):
a unit handler or department liaison only its own unit's notices and cases, a unit leader its unit's and those
of the units under it, office staff, inspectors and auditors those under their office (everything for a city
office, or while the directory has registered no units).
"""
from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import Iterable

from shared.deadlines import Light, TrafficLights, case_light
from shared.deadlines import Period as DeadlinePeriod
from shared.errors import InvalidInput
from shared.policy import PolicyBook
from shared.scope import EMPTY_TREE, Scope, UnitTree, read_scope
from shared.vocabulary import PROMPT_KINDS
from services.portal.domain.model import (
    NO_TASK,
    CaseRecord,
    NoticeRecord,
    PortalModel,
    ScopeIndex,
    TimelineEntry,
    group_keys,
)

@dataclass(frozen=True)
class Viewer:
    """Who is looking: their role and unit, placed in the directory's unit tree, decide what they see."""

    user_id: str
    role: str
    unit: str | None = None
    name: str | None = None
    tree: UnitTree = field(default=EMPTY_TREE, compare=False, repr=False)

    @cached_property
    def scope(self) -> Scope:
        """The units whose items this viewer may read (shared/scope.py)."""
        return read_scope(self.role, self.unit, self.tree)

    @property
    def limited(self) -> bool:
        """Whether some items are hidden from this viewer."""
        return not self.scope.everything

    def sees_case(self, case: CaseRecord) -> bool:
        return self.scope.sees_case(case.responsible_unit)

    def sees_notice(self, notice: NoticeRecord, model: PortalModel | None = None) -> bool:
        return self.scope.sees_notice(notice.target_units)


@dataclass(frozen=True)
class Period:
    """A closed date range; either end may be open."""

    start: date | None = None
    end: date | None = None

    def contains(self, day: str | None) -> bool:
        if day is None:
            return False
        return (self.start is None or day >= self.start.isoformat()) and (self.end is None or day <= self.end.isoformat())

    def label(self) -> str:
        if self.start is None and self.end is None:
            return "全部"
        return f"{self.start or '…'} 至 {self.end or '…'}"

    def bounds(self) -> tuple[str | None, str | None]:
        """The ends as the ISO strings ``contains`` compares days with."""
        return (None if self.start is None else self.start.isoformat(), None if self.end is None else self.end.isoformat())


def _contains(period: Period):
    """``period.contains`` with the ends turned into strings once, for loops over many records."""
    start, end = period.bounds()
    if start is None and end is None:
        return lambda day: day is not None
    if end is None:
        return lambda day: day is not None and day >= start
    if start is None:
        return lambda day: day is not None and day <= end
    return lambda day: day is not None and day >= start and day <= end


class LightRule:
    """Today's traffic light of a case: each issuing office's own yellow window (shared TrafficLights, one per
    office, computed once per request)."""

    def __init__(self, today: date, policies: PolicyBook):
        self.today = today.isoformat()
        self._today = today
        self._policies = policies
        self._lights: dict[str | None, TrafficLights] = {}

    def lights(self, office: str | None) -> TrafficLights:
        if office not in self._lights:
            window = self._policies.for_office(office).yellow_within_working_days
            self._lights[office] = TrafficLights(self._today, window)
        return self._lights[office]

    def _horizon(self, office: str | None) -> str | None:
        """The last day of the office's yellow window (None: past every calendar)."""
        return self.lights(office).horizon

    def light(self, case: CaseRecord) -> str | None:
        return case_light(case.status, case.deadline, self.lights(case.issuer_unit))


def _unit_indexes(model: PortalModel, viewer: Viewer) -> list[ScopeIndex]:
    """The model's indexes of the units the viewer sees (each unit's holds the cases and notices that unit makes
    visible, by the item definitions of shared/scope.py)."""
    return [index for unit in sorted(viewer.scope.units) if (index := model.scopes.get(unit)) is not None]


def visible_cases(model: PortalModel, viewer: Viewer) -> Iterable[CaseRecord]:
    """The cases the viewer may see, in the model's order (a unit's come from the model's index of that unit)."""
    if viewer.scope.everything:
        return model.cases.values()
    found: dict[str, CaseRecord] = {}
    for index in _unit_indexes(model, viewer):
        found.update(index.cases)
    order = model.case_order
    return sorted(found.values(), key=lambda case: order[case.id])


def visible_notices(model: PortalModel, viewer: Viewer) -> list[NoticeRecord]:
    if viewer.scope.everything:
        return [n for n in model.notices.values() if n.status != "draft"]
    found: dict[str, NoticeRecord] = {}
    for index in _unit_indexes(model, viewer):
        found.update(index.notices)
    order = model.notice_order
    return [n for n in sorted(found.values(), key=lambda notice: order[notice.id]) if n.status != "draft"]


def _scope_index(model: PortalModel, viewer: Viewer) -> ScopeIndex | None:
    """The one index that sums what the viewer sees: everyone's, or one unit's; None for a scope of several units
    (a notice of two of them would count twice in summed indexes: such a scope's figures walk its records)."""
    if viewer.scope.everything:
        return model.scopes[None]
    if len(viewer.scope.units) > 1:
        return None
    return next(iter(_unit_indexes(model, viewer)), None) or ScopeIndex()


def rate(part: int, whole: int) -> float | None:
    """part / whole to four places (a share of the pages and of 考评); None when there is nothing to divide by."""
    return round(part / whole, 4) if whole else None


@dataclass(frozen=True)
class MatterFigures:  # 督办事项 / 已销号 / 完成率: one definition for the dashboard, 统计, the plans and 考评
    """督办事项: distinct problems under supervision, each once however many tasks it serves (a withdrawn one is
    not counted); 已销号: those of them closed; 完成率: closed / matters (None when there are none)."""

    matters: int
    closed: int

    @property
    def completion_rate(self) -> float | None:
        return rate(self.closed, self.matters)


def matter_figures(matters: Iterable[str], closed: Iterable[str]) -> MatterFigures:
    """The figures of the matters with these ids (a problem met twice, e.g. through two tasks, counts once)."""
    distinct = set(matters)
    return MatterFigures(len(distinct), len(distinct.intersection(closed)))


def case_figures(cases: Iterable[CaseRecord]) -> MatterFigures:
    """The figures of these cases (整改事项, one per problem): withdrawn ones are no longer supervised."""
    live = [case for case in cases if case.status != "withdrawn"]
    return matter_figures((case.id for case in live), (case.id for case in live if case.status == "closed"))


def dashboard(model: PortalModel, viewer: Viewer, period: Period, rule: LightRule) -> dict:
    """The headline figures of a period, today's lights of the open items, and open/overdue by unit.

    Counts come summed by day from the viewer's scope index; only the cases red or yellow today (a slice
    of the open ones in deadline order) and the few records the sums cannot hold are looked at one by one.
    """
    index = _scope_index(model, viewer)
    if type(rule) is not LightRule or index is None:
        return _dashboard_walk(model, viewer, period, rule)
    start, end = period.bounds()
    contains = _contains(period)
    notices_issued, prompt_letters = index.notice_counts.total(start, end)
    for notice in index.live_notices.values():
        if contains(notice.issued_on):
            notices_issued += 1
            prompt_letters += notice.kind in PROMPT_KINDS
    _ended, closed, open_ = index.counts.total(start, end)
    opened = closed + open_  # ended = closed or withdrawn; withdrawn matters are not counted (MatterFigures)
    lights: Counter = Counter()
    by_unit: dict[str, Counter] = defaultdict(Counter)
    for unit, sums in index.groups["unit"].items():
        unit_open = sums.total(start, end)[3]
        if unit_open:
            by_unit[unit]["open"] = unit_open
    red = yellow = 0
    for case in _red_cases(model, index, rule):
        if contains(case.opened_on):
            red += 1
            by_unit[case.responsible_unit]["overdue"] += 1
    for case in _yellow_cases(model, index, rule):
        if contains(case.opened_on):
            yellow += 1
    lights.update({Light.GREEN: open_ - red - yellow, Light.YELLOW: yellow, Light.RED: red})
    live_opened, live_closed, live_overdue = _tally_cases(index.live.values(), contains, rule, lights, by_unit)
    return _dashboard_figures(period, notices_issued, prompt_letters, opened + live_opened, closed + live_closed,
                              red + live_overdue, lights, by_unit)


def _tally_cases(cases: Iterable[CaseRecord], contains, rule, lights: Counter,
                 by_unit: dict[str, Counter]) -> tuple[int, int, int]:
    """Count cases opened in the period one by one into ``lights`` and ``by_unit``; returns (opened, closed, overdue)."""
    opened = closed = overdue = 0
    for case in cases:
        if not contains(case.opened_on) or case.status == "withdrawn":
            continue
        opened += 1
        light = rule.light(case)
        if case.status == "closed":
            closed += 1
        elif light is not None:
            lights[light] += 1
            by_unit[case.responsible_unit]["open"] += 1
            if light == Light.RED:
                overdue += 1
                by_unit[case.responsible_unit]["overdue"] += 1
    return opened, closed, overdue


def _red_cases(model: PortalModel, index: ScopeIndex, rule: LightRule) -> Iterable[CaseRecord]:
    """The scope's summed open cases whose light is red today: clock running, deadline before today."""
    cases, running = model.cases, index.running
    for i in range(bisect_left(running, rule.today, key=_deadline)):
        yield cases[running[i][1]]


def _yellow_cases(model: PortalModel, index: ScopeIndex, rule: LightRule) -> Iterable[CaseRecord]:
    """The scope's summed open cases whose light is yellow today: deadline from today to their office's horizon."""
    horizons = [horizon for office in index.offices if (horizon := rule._horizon(office)) is not None]
    if not horizons:
        return
    cases, running = model.cases, index.running
    for i in range(bisect_left(running, rule.today, key=_deadline), bisect_right(running, max(horizons), key=_deadline)):
        deadline, case_id = running[i]
        case = cases[case_id]
        horizon = rule._horizon(case.issuer_unit)
        if horizon is not None and deadline <= horizon:
            yield case


def _deadline(entry: tuple[str, str]) -> str:
    return entry[0]


def _dashboard_figures(period: Period, notices_issued: int, prompt_letters: int, opened: int, closed: int, overdue: int,
                       lights: Counter, by_unit: dict[str, Counter]) -> dict:
    totals = MatterFigures(opened, closed)
    return {
        "period": period.label(),
        "notices_issued": notices_issued,
        "prompt_letters": prompt_letters,
        "matters": totals.matters,
        "under_rectification": sum(lights.values()),
        "closed": totals.closed,
        "overdue": overdue,
        "completion_rate": totals.completion_rate,
        "lights": {light: lights.get(light, 0) for light in (Light.GREEN, Light.YELLOW, Light.RED)},
        "by_unit": sorted(({"unit": unit, "open": c["open"], "overdue": c["overdue"]} for unit, c in by_unit.items()),
                          key=lambda row: (-row["open"], -row["overdue"], row["unit"])),
    }


def _dashboard_walk(model: PortalModel, viewer: Viewer, period: Period, rule) -> dict:
    """dashboard by walking every visible record (for a light rule other than LightRule)."""
    notices = [n for n in visible_notices(model, viewer) if period.contains(n.issued_on)]
    lights: Counter = Counter()
    by_unit: dict[str, Counter] = defaultdict(Counter)
    opened, closed, overdue = _tally_cases(visible_cases(model, viewer), period.contains, rule, lights, by_unit)
    return _dashboard_figures(period, len(notices), sum(n.kind in PROMPT_KINDS for n in notices), opened, closed,
                              overdue, lights, by_unit)


GROUPINGS = {
    "unit": "责任单位",
    "department": "督办对象",
    "task": "督导任务",
}


def status_table(model: PortalModel, viewer: Viewer, period: Period, by: str, rule: LightRule) -> list[dict]:
    """Open, overdue and closed matters, completion rate and average days to close, grouped by unit,
    department (the notice's target) or task.

    Closed cases come summed by day per group from the viewer's scope index, open ones are looked at one by
    one; rows are in the order of (-overdue, -open, label), rows equal in all three in the order their groups
    first appear among the cases (as when every case was walked in turn).
    """
    index = _scope_index(model, viewer)
    if by not in GROUPINGS or type(rule) is not LightRule or index is None:
        return _status_table_walk(model, viewer, period, by, rule)
    start, end = period.bounds()
    contains = _contains(period)
    groups: dict = {}  # key -> [total, open, overdue, closed, days summed, days counted]
    for key, sums in index.groups[by].items():
        closed, days, counted, open_ = sums.total(start, end)
        if closed or open_:
            groups[key] = [closed + open_, open_, 0, closed, days, counted]
    for case in _red_cases(model, index, rule):
        if contains(case.opened_on):
            for key in group_keys(case, by):
                groups[key][2] += 1
    red = Light.RED
    for case in index.live.values():
        if not contains(case.opened_on) or case.status == "withdrawn":
            continue
        keys = group_keys(case, by)
        light = rule.light(case)
        for key in keys:
            row = groups.get(key)
            if row is None:
                row = groups[key] = [0, 0, 0, 0, 0, 0]
            row[0] += 1
            if case.status == "closed":
                row[3] += 1
                if case.days_to_close is not None:
                    row[4] += case.days_to_close
                    row[5] += 1
            else:
                row[1] += 1
                row[2] += light == red
    rows = []
    for key, (total, open_, overdue, closed, days, counted) in groups.items():
        label = model.tasks[key].text if by == "task" and key in model.tasks else key
        rows.append({"key": key, "total": total, "open": open_, "overdue": overdue, "closed": closed, "label": label,
                     "completion_rate": rate(closed, total),
                     "avg_days_to_close": round(days / counted, 1) if counted else None})
    return _in_table_order(rows, lambda keys: _first_seen(model, viewer, index, by, keys, contains))


def _in_table_order(rows: list[dict], first_seen) -> list[dict]:
    """Sorted by (-overdue, -open, label); rows equal in those ordered by ``first_seen`` (where their group
    first appeared), which is only asked about such rows."""
    rows = sorted(rows, key=lambda row: (-row["overdue"], -row["open"], row["label"]))
    ties = set()
    for i in range(1, len(rows)):
        a, b = rows[i - 1], rows[i]
        if a["overdue"] == b["overdue"] and a["open"] == b["open"] and a["label"] == b["label"]:
            ties.add(i)
    if not ties:
        return rows
    places = first_seen({rows[i]["key"] for i in ties} | {rows[i - 1]["key"] for i in ties})
    start = 0
    result = []
    for i in range(1, len(rows) + 1):
        if i == len(rows) or i not in ties:
            run = rows[start:i]
            if len(run) > 1:
                run.sort(key=lambda row: places.get(row["key"], (float("inf"), 0)))
            result += run
            start = i
    return result


def _first_seen(model: PortalModel, viewer: Viewer, index: ScopeIndex, by: str, keys: set, contains) -> dict:
    """For each group key, (place in the model's cases, place in that case's keys) of the first case counted in it."""
    places: dict = {}
    order = model.case_order
    if by == "task" and all(type(key) is str for key in keys):
        for key in keys:
            for case_id in model.case_ids_by_task.get(key, ()):
                case = model.cases[case_id]
                if viewer.limited and case_id not in index.cases:
                    continue
                if not contains(case.opened_on) or case.status == "withdrawn":
                    continue
                case_keys = group_keys(case, by)
                if key in case_keys:
                    places[key] = (order[case_id], case_keys.index(key))
                    break
        return places
    for case in visible_cases(model, viewer):  # (by unit or department every label is its own key: not reached)
        if not contains(case.opened_on) or case.status == "withdrawn":
            continue
        case_keys = group_keys(case, by)
        for position, key in enumerate(case_keys):
            if key in keys and key not in places:
                places[key] = (order[case.id], position)
        if len(places) == len(keys):
            break
    return places


def _status_table_walk(model: PortalModel, viewer: Viewer, period: Period, by: str, rule: LightRule) -> list[dict]:
    """status_table by walking every visible case (for a grouping the indexes do not keep)."""
    groups: dict[str, dict] = {}
    for case in visible_cases(model, viewer):
        if not period.contains(case.opened_on) or case.status == "withdrawn":
            continue
        keys = {"unit": [case.responsible_unit], "department": case.target_units or [case.responsible_unit],
                "task": case.related_task_ids or [NO_TASK]}[by]
        light = rule.light(case)
        for key in keys:
            row = groups.setdefault(key, {"key": key, "total": 0, "open": 0, "overdue": 0, "closed": 0, "days": []})
            row["total"] += 1
            if case.status == "closed":
                row["closed"] += 1
                if case.days_to_close is not None:
                    row["days"].append(case.days_to_close)
            else:
                row["open"] += 1
                row["overdue"] += light == Light.RED
    rows = []
    for row in groups.values():
        days = row.pop("days")
        label = model.tasks[row["key"]].text if by == "task" and row["key"] in model.tasks else row["key"]
        rows.append({**row, "label": label, "completion_rate": rate(row["closed"], row["total"]),
                     "avg_days_to_close": round(sum(days) / len(days), 1) if days else None})
    return sorted(rows, key=lambda row: (-row["overdue"], -row["open"], row["label"]))


@dataclass(frozen=True)
class CaseFilter:
    unit: str | None = None
    department: str | None = None
    status: str | None = None
    light: str | None = None
    task_id: str | None = None
    notice_id: str | None = None
    kind: str | None = None
    listed: bool | None = None
    area: str | None = None
    period: Period = Period()

    def matches(self, case: CaseRecord, light: str | None) -> bool:
        return ((self.unit is None or case.responsible_unit == self.unit)
                and (self.department is None or self.department in case.target_units)
                and (self.status is None or case.status == self.status)
                and (self.light is None or light == self.light)
                and (self.task_id is None or self.task_id in case.related_task_ids)
                and (self.notice_id is None or case.notice_id == self.notice_id)
                and (self.kind is None or case.notice_kind == self.kind)
                and (self.listed is None or case.listed == self.listed)
                and (self.area is None or case.area == self.area)
                and (self.period.start is None and self.period.end is None or self.period.contains(case.opened_on)))


def ledger(model: PortalModel, viewer: Viewer, where: CaseFilter, rule: LightRule) -> list[tuple[CaseRecord, str | None]]:
    """The 整改台账: one row per problem, with today's light, in deadline order."""
    rows = []
    for case in visible_cases(model, viewer):
        light = rule.light(case)
        if where.matches(case, light):
            rows.append((case, light))
    return sorted(rows, key=lambda row: (row[0].deadline or "9999", row[0].notice_id, row[0].problem_id))


@dataclass(frozen=True)
class NoticeFilter:
    kind: str | None = None
    unit: str | None = None  # a target unit
    department: str | None = None  # a unit responsible for one of its problems
    status: str | None = None
    light: str | None = None  # the worst light among its open cases
    task_id: str | None = None
    listed: bool | None = None
    period: Period = Period()


def notice_rows(model: PortalModel, viewer: Viewer, where: NoticeFilter,
                rule: LightRule) -> list[tuple[NoticeRecord, str | None]]:
    """Notices newest first, each with the worst light among its open cases."""
    rows = []
    for notice in visible_notices(model, viewer):
        cases = model.cases_of(notice.id)
        light = worst_light(rule.light(case) for case in cases)
        if ((where.kind is None or notice.kind == where.kind)
                and (where.unit is None or where.unit in notice.target_units)
                and (where.department is None or any(c.responsible_unit == where.department for c in cases))
                and (where.status is None or notice.status == where.status)
                and (where.light is None or light == where.light)
                and (where.task_id is None or where.task_id in notice.related_task_ids)
                and (where.listed is None or notice.listed == where.listed)
                and (where.period.start is None and where.period.end is None or where.period.contains(notice.issued_on))):
            rows.append((notice, light))
    return sorted(rows, key=lambda row: (row[0].issued_on or "", row[0].id), reverse=True)


def worst_light(lights: Iterable[str | None]) -> str | None:
    order = {Light.RED: 3, Light.YELLOW: 2, Light.GREEN: 1}
    worst = max((light for light in lights if light), key=order.__getitem__, default=None)
    return worst


def statistics(model: PortalModel, viewer: Viewer, period: Period) -> dict:
    """The figures offices report, and the sentences they report them in."""
    notices = [n for n in visible_notices(model, viewer) if period.contains(n.issued_on)]
    cases = _statistics_cases(model, viewer, period)
    closed = [c for c in cases if c.status == "closed"]
    totals = case_figures(cases)
    areas = {c.area for c in cases if c.area}
    escalations = Counter(e["level"] for c in cases for e in c.escalations)
    manual = Counter(e["level"] for c in cases for e in c.escalations if not e.get("automatic"))
    figures = {
        "notices": len(notices),
        "prompt_letters": sum(n.kind in PROMPT_KINDS for n in notices),
        "listed": sum(n.listed for n in notices),
        "problems": totals.matters,
        "areas": len(areas),
        "units": len({c.responsible_unit for c in cases}),
        "closed": totals.closed,
        "closed_on_time": sum(bool(c.on_time) for c in closed),
        "completion_rate": totals.completion_rate,
        "reminders": escalations.get("reminder", 0),
        "warnings": escalations.get("warning", 0),
        "interviews": manual.get("interview", 0),
        "circulations": manual.get("circulation", 0),
        "accountability": manual.get("accountability", 0),
    }
    sentences = [
        f"下发督办通知及工作提示函共{figures['notices']}份（其中工作提示函{figures['prompt_letters']}份、挂牌督办{figures['listed']}份），"
        f"督促整改落实督办事项{figures['problems']}件（已销号{figures['closed']}件）。",
        f"跟踪督办{figures['areas']}个方面{figures['problems']}个问题，涉及{figures['units']}个责任单位，"
        f"已销号{figures['closed']}个，整改完成率{_percent(figures['completion_rate'])}，"
        f"其中按期完成{figures['closed_on_time']}个。",
        f"对逾期事项催办{figures['reminders']}次、预警{figures['warnings']}次，约谈{figures['interviews']}次，"
        f"通报{figures['circulations']}次，问责{figures['accountability']}次。",
    ]
    return {"period": period.label(), "figures": figures, "sentences": sentences}


def _statistics_cases(model: PortalModel, viewer: Viewer, period: Period) -> list[CaseRecord]:
    """What 统计 counts: the viewer's cases opened in the period, withdrawn ones not (no longer supervised)."""
    return [c for c in visible_cases(model, viewer) if period.contains(c.opened_on) and c.status != "withdrawn"]


def statistics_series(model: PortalModel, viewer: Viewer, period: Period) -> dict:
    """What 统计's charts draw, counted as statistics() counts (cases opened in the period, withdrawn ones not):
    problems by area (领域), closings (销号) by month, and by responsible unit the share closed on time among
    those closed."""
    cases = _statistics_cases(model, viewer, period)
    by_area = Counter(c.area or "未分类" for c in cases)
    closed = [c for c in cases if c.status == "closed" and c.closed_on]
    by_month = Counter(c.closed_on[:7] for c in closed)
    on_time: dict[str, list[int]] = defaultdict(lambda: [0, 0])  # unit -> [closed on time, closed]
    for case in closed:
        on_time[case.responsible_unit][0] += bool(case.on_time)
        on_time[case.responsible_unit][1] += 1
    return {
        "areas": sorted(by_area.items(), key=lambda item: (-item[1], item[0])),
        "closings_by_month": [(month, by_month.get(month, 0)) for month in _months(min(by_month, default=None),
                                                                              max(by_month, default=None))],
        "on_time_by_unit": sorted(((unit, rate(done, whole)) for unit, (done, whole) in on_time.items()),
                                  key=lambda item: (-item[1], item[0])),
    }


def _months(first: str | None, last: str | None) -> list[str]:
    """Every month from first to last ("YYYY-MM"), so a month without closings shows as 0, not as a gap."""
    if first is None or last is None:
        return []
    year, month = int(first[:4]), int(first[5:7])
    months = []
    while f"{year:04d}-{month:02d}" <= last:
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def _percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


def timeline(model: PortalModel, notice_id: str) -> list[TimelineEntry]:
    """Every event of the notice's story across the three services, in the order they were recorded."""
    return sorted(model.timelines.get(notice_id, []), key=lambda e: (e.recorded_at, e.stream_id, e.version))


def timeline_verification(model: PortalModel, entries: list[TimelineEntry]) -> list[dict]:
    """Each stream in the timeline with its hash-chain result (as received on the topics)."""
    results = []
    for stream_id in dict.fromkeys(e.stream_id for e in entries):
        check = model.streams[stream_id]
        results.append({"stream_id": stream_id, "ok": check.ok, "events": check.version,
                        "first_bad_event_id": check.first_bad_event_id, "reason": check.reason})
    return results


# -- the calendar ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class MovedDeadline:  # 暂定时限与已公布的放假安排不一致
    """A deadline counted on a provisional year that the year's published arrangement would put elsewhere.
    It stays as fixed (a notice's deadlines never move by themselves); the office decides whether to extend."""

    notice: NoticeRecord
    what: str  # 签收时限 or 问题P1整改时限
    fixed: str
    published: str


def moved_provisional_deadlines(model: PortalModel, viewer: Viewer) -> list[MovedDeadline]:
    """Every provisional deadline whose rule, counted again now that its years are published, gives another day."""
    moved = []
    for notice in visible_notices(model, viewer):
        if notice.status == "withdrawn" or not notice.issued_on:
            continue
        counted = []
        if notice.sign_for_deadline_provisional and notice.sign_for_rule:
            counted.append(("签收时限", notice.sign_for_rule, notice.sign_for_deadline))
        counted += [(f"问题{p.get('problem_id')}整改时限", p.get("deadline_rule"), p.get("deadline"))
                    for p in notice.problems if p.get("deadline_provisional") and p.get("deadline_rule")]
        for what, rule, fixed in counted:
            published = _counted_again(rule, notice.issued_on)
            if published is not None and published != fixed:
                moved.append(MovedDeadline(notice, what, fixed, published))
    return moved


def _counted_again(rule: dict, issued_on: str) -> str | None:
    """The rule's deadline from the issue date on today's calendar; None while that is still provisional."""
    try:
        period, start = DeadlinePeriod.from_dict(rule, field="rule"), date.fromisoformat(issued_on[:10])
        if period.provisional_after(start):
            return None
        return period.after(start).isoformat()
    except (InvalidInput, ValueError):  # a rule or date of an unexpected shape: nothing to compare
        return None
