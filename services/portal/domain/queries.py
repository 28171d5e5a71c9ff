"""What people ask the portal: dashboards, status tables, the ledger, statistics and timelines (pure Python).

Everything is filtered by what the viewer may see: a unit handler or department liaison only its own
unit's notices and cases, auditors, inspectors and office staff everything.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Iterable

from shared.auth import Role
from shared.deadlines import CalendarOutOfRange, Light, add_working_days
from shared.policy import PolicyBook
from services.portal.domain.model import CASE_ENDED, CLOCK_RUNNING, CaseRecord, NoticeRecord, PortalModel, TimelineEntry

SCOPED_ROLES = (Role.UNIT_HANDLER, Role.DEPARTMENT_LIAISON)
PROMPT_KINDS = ("工作提示函",)


@dataclass(frozen=True)
class Viewer:
    """Who is looking: their role and unit decide what they see."""

    user_id: str
    role: str
    unit: str | None = None
    name: str | None = None

    @property
    def scope(self) -> str | None:
        """The one unit this viewer is limited to, or None for roles that see everything."""
        return self.unit if self.role in SCOPED_ROLES else None

    def sees_case(self, case: CaseRecord) -> bool:
        return self.scope is None or self.scope == case.responsible_unit or self.scope in case.target_units

    def sees_notice(self, notice: NoticeRecord, model: PortalModel) -> bool:
        if self.scope is None:
            return True
        if self.scope in notice.target_units or self.scope in notice.copied_units:
            return True
        return any(case.responsible_unit == self.scope for case in model.cases_of(notice.id))


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


class LightRule:
    """Today's traffic light of a case: each issuing office's own yellow window (computed once per request)."""

    def __init__(self, today: date, policies: PolicyBook):
        self.today = today.isoformat()
        self._policies = policies
        self._horizons: dict[str | None, str | None] = {}

    def _horizon(self, office: str | None) -> str | None:
        if office not in self._horizons:
            try:
                window = self._policies.for_office(office).yellow_within_working_days
                self._horizons[office] = add_working_days(date.fromisoformat(self.today), window).isoformat()
            except CalendarOutOfRange:
                self._horizons[office] = None  # the calendar ends within the window: yellow cannot be told
        return self._horizons[office]

    def light(self, case: CaseRecord) -> str | None:
        if case.status in CASE_ENDED:
            return None
        if case.status not in CLOCK_RUNNING or case.deadline is None:
            return Light.GREEN
        if case.deadline < self.today:
            return Light.RED
        horizon = self._horizon(case.issuer_unit)
        return Light.YELLOW if horizon is not None and case.deadline <= horizon else Light.GREEN


def visible_cases(model: PortalModel, viewer: Viewer) -> Iterable[CaseRecord]:
    if viewer.scope is None:
        return model.cases.values()
    return (case for case in model.cases.values() if viewer.sees_case(case))


def visible_notices(model: PortalModel, viewer: Viewer) -> list[NoticeRecord]:
    return [n for n in model.notices.values() if n.status != "draft" and viewer.sees_notice(n, model)]


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def dashboard(model: PortalModel, viewer: Viewer, period: Period, rule: LightRule) -> dict:
    """The headline figures of a period, today's lights of the open items, and open/overdue by unit."""
    notices = [n for n in visible_notices(model, viewer) if period.contains(n.issued_on)]
    opened = closed = overdue = 0
    lights: Counter = Counter()
    by_unit: dict[str, Counter] = defaultdict(Counter)
    for case in visible_cases(model, viewer):
        if not period.contains(case.opened_on):
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
    return {
        "period": period.label(),
        "notices_issued": len(notices),
        "prompt_letters": sum(n.kind in PROMPT_KINDS for n in notices),
        "matters": opened,
        "under_rectification": sum(lights.values()),
        "closed": closed,
        "overdue": overdue,
        "completion_rate": _rate(closed, opened),
        "lights": {light: lights.get(light, 0) for light in (Light.GREEN, Light.YELLOW, Light.RED)},
        "by_unit": sorted(({"unit": unit, "open": c["open"], "overdue": c["overdue"]} for unit, c in by_unit.items()),
                          key=lambda row: (-row["open"], -row["overdue"], row["unit"])),
    }


GROUPINGS = {
    "unit": "责任单位",
    "department": "督办对象",
    "task": "督导任务",
}


def status_table(model: PortalModel, viewer: Viewer, period: Period, by: str, rule: LightRule) -> list[dict]:
    """Open, overdue and closed matters, completion rate and average days to close, grouped by unit,
    department (the notice's target) or task."""
    groups: dict[str, dict] = {}
    for case in visible_cases(model, viewer):
        if not period.contains(case.opened_on) or case.status == "withdrawn":
            continue
        keys = {"unit": [case.responsible_unit], "department": case.target_units or [case.responsible_unit],
                "task": case.related_task_ids or ["（未关联任务）"]}[by]
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
        rows.append({**row, "label": label, "completion_rate": _rate(row["closed"], row["total"]),
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
    cases = [c for c in visible_cases(model, viewer) if period.contains(c.opened_on) and c.status != "withdrawn"]
    closed = [c for c in cases if c.status == "closed"]
    areas = {c.area for c in cases if c.area}
    escalations = Counter(e["level"] for c in cases for e in c.escalations)
    manual = Counter(e["level"] for c in cases for e in c.escalations if not e.get("automatic"))
    figures = {
        "notices": len(notices),
        "prompt_letters": sum(n.kind in PROMPT_KINDS for n in notices),
        "listed": sum(n.listed for n in notices),
        "problems": len(cases),
        "areas": len(areas),
        "units": len({c.responsible_unit for c in cases}),
        "closed": len(closed),
        "closed_on_time": sum(bool(c.on_time) for c in closed),
        "completion_rate": _rate(len(closed), len(cases)),
        "reminders": escalations.get("reminder", 0),
        "warnings": escalations.get("warning", 0),
        "interviews": manual.get("interview", 0),
        "circulations": manual.get("circulation", 0),
        "accountability": manual.get("accountability", 0),
    }
    sentences = [
        f"下发督办通知及工作提示函共{figures['notices']}份（其中工作提示函{figures['prompt_letters']}份、挂牌督办{figures['listed']}份），"
        f"督促整改落实事项{figures['closed']}件。",
        f"跟踪督办{figures['areas']}个方面{figures['problems']}个问题，涉及{figures['units']}个责任单位，"
        f"已销号{figures['closed']}个，整改完成率{_percent(figures['completion_rate'])}，"
        f"其中按期完成{figures['closed_on_time']}个。",
        f"对逾期事项催办{figures['reminders']}次、预警{figures['warnings']}次，约谈{figures['interviews']}次，"
        f"通报{figures['circulations']}次，问责{figures['accountability']}次。",
    ]
    return {"period": period.label(), "figures": figures, "sentences": sentences}


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
