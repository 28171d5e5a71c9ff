"""Deadline maths on the Chinese working calendar (holidays and make-up workdays 调休).

Years chinese-calendar knows (the State Council's published arrangements) are official; a later year is
counted on the arrangement the law implies (shared/holidays.py) and everything counted on it is provisional:
an office never stops issuing notices because a year has not been published yet.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache

import chinese_calendar
from chinese_calendar import constants as _calendar_data

from shared.errors import InvalidInput
from shared.holidays import LAST_PROVISIONAL_YEAR, YearArrangement, provisional_arrangement
from shared.vocabulary import CaseStatus

# The package only knows the years the State Council has published; derive them as the package itself does.
FIRST_KNOWN_YEAR: int = min(_calendar_data.holidays).year
LAST_KNOWN_YEAR: int = max(_calendar_data.holidays).year
FIRST_KNOWN_DAY = date(FIRST_KNOWN_YEAR, 1, 1)
LAST_KNOWN_DAY = date(LAST_KNOWN_YEAR, 12, 31)
LAST_COUNTABLE_DAY = date(LAST_PROVISIONAL_YEAR, 12, 31)


class CalendarOutOfRange(InvalidInput):
    """A working-day question about a date no calendar covers: before the official years, or past 2099."""

    code = "calendar_out_of_range"

    def __init__(self, day: date, field: str | None = None):
        direction_en = "beyond" if day > LAST_COUNTABLE_DAY else "before"
        details = {"date": day.isoformat(), "first_known_year": FIRST_KNOWN_YEAR, "last_known_year": LAST_KNOWN_YEAR,
                   "last_provisional_year": LAST_PROVISIONAL_YEAR}
        if field is not None:
            details["field"] = field
        covered = f"{FIRST_KNOWN_YEAR}–{LAST_PROVISIONAL_YEAR}"
        super().__init__(
            f"{day.isoformat()} is {direction_en} the working calendar (years {covered}; "
            f"official through {LAST_KNOWN_YEAR}, provisional after)",
            f"{day.isoformat()} 超出工作日日历的范围（{covered} 年），无法按工作日计算",
            **details,
        )
        self.day = day


class DayKind:
    """How a period counts days."""

    CALENDAR = "calendar"  # 自然日
    WORKING = "working"  # 工作日


_DAY_KINDS = (DayKind.CALENDAR, DayKind.WORKING)


class Light:
    """Traffic-light status of a deadline."""

    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"


def _check_date(day: object, field: str = "date") -> date:
    """The argument itself, if it is a plain date."""
    # A datetime's .date() is in its own zone (usually UTC), which is the wrong day around midnight in Beijing.
    if isinstance(day, datetime) or not isinstance(day, date):
        raise TypeError(f"{field} must be a datetime.date, got {type(day).__name__}")
    return day


def _check_count(n: object, field: str) -> int:
    """The argument itself, if it is a whole number of days >= 0."""
    # bool is an int subclass; True days is a bug, not 1.
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise InvalidInput(
            f"{field} must be a whole number of days >= 0, got {n!r}",
            f"{field} 必须是不小于 0 的整数天数，当前为 {n!r}",
            field=field,
        )
    return n


@cache
def _is_workday_known(day: date) -> bool:
    """chinese_calendar's answer for a date already known to be in range."""
    # The package re-scans its whole holiday table on every call; deadline loops ask about the same days again and again.
    return chinese_calendar.is_workday(day)


# Years after the package's last one whose published arrangement an office has recorded (the tasks service
# keeps them; every process loads them through shared/calendars.py). Replaced whole, never mutated: readers
# on other threads see the old or the new mapping.
_recorded: dict[int, YearArrangement] = {}


def use_recorded_arrangements(arrangements: list[YearArrangement]) -> None:
    """The published arrangements offices have recorded: they replace the provisional ones of their years."""
    global _recorded
    _recorded = {a.year: a for a in arrangements if a.year > LAST_KNOWN_YEAR and not a.provisional}


def arrangement_of(year: int) -> YearArrangement | None:
    """A year's arrangement beyond the package: recorded by an office, else provisional (None: the package's)."""
    if FIRST_KNOWN_YEAR <= year <= LAST_KNOWN_YEAR:
        return None
    if not LAST_KNOWN_YEAR < year <= LAST_PROVISIONAL_YEAR:
        raise CalendarOutOfRange(date(year, 1, 1))
    return _recorded.get(year) or provisional_arrangement(year)


def is_working_day(day: date) -> bool:
    """Whether offices work on this day (statutory holidays off, make-up workdays 调休 on)."""
    _check_date(day, "day")
    if FIRST_KNOWN_DAY <= day <= LAST_KNOWN_DAY:
        return _is_workday_known(day)
    if LAST_KNOWN_DAY < day <= LAST_COUNTABLE_DAY:
        return (_recorded.get(day.year) or provisional_arrangement(day.year)).is_working_day(day)
    raise CalendarOutOfRange(day)


def is_provisional(day: date) -> bool:
    """Whether working-day questions about this day are answered by a provisional calendar (not yet published)."""
    _check_date(day, "day")
    return day > LAST_KNOWN_DAY and day.year not in _recorded


def add_calendar_days(start: date, n: int) -> date:
    """The date n calendar days after start."""
    _check_date(start, "start")
    return start + timedelta(days=n)


def add_working_days(start: date, n: int) -> date:
    """The n-th working day after start (start itself not counted; n=0 gives start)."""
    _check_date(start, "start")
    _check_count(n, "n")
    day = start
    while n > 0:
        day += timedelta(days=1)
        if is_working_day(day):
            n -= 1
    return day


def working_days_between(start: date, end: date) -> int:
    """The number of working days d with start < d <= end, negated when end is before start."""
    _check_date(start, "start")
    _check_date(end, "end")
    if end < start:
        return -working_days_between(end, start)
    count = 0
    day = start
    while day < end:
        day += timedelta(days=1)
        count += is_working_day(day)
    return count


class TrafficLights:  # 红黄绿灯
    """Today's lights for deadlines: red once past, yellow when due within a window of working days from today,
    otherwise green. The window's last day is found once, so a page of lights walks the calendar once; the
    followups API, its domain and the portal all judge lights with this one class."""

    def __init__(self, today: date, yellow_within_working_days: int):
        _check_date(today, "today")
        _check_count(yellow_within_working_days, "yellow_within_working_days")
        self.today = today.isoformat()
        try:
            self.horizon: str | None = add_working_days(today, yellow_within_working_days).isoformat()
        except CalendarOutOfRange:
            self.horizon = None  # past every calendar (2099): yellow cannot be told, so it is not guessed

    def of(self, deadline: str | date | None) -> str:
        """The light of a deadline (an ISO date or a date)."""
        if deadline is None:
            return Light.GREEN
        due = deadline.isoformat() if isinstance(deadline, date) else deadline
        if due < self.today:
            return Light.RED
        return Light.YELLOW if self.horizon is not None and due <= self.horizon else Light.GREEN


def traffic_light(due: date | None, today: date, yellow_within_working_days: int) -> str:
    """Red once past due, yellow when due within the window of working days from today, otherwise green."""
    if due is not None:
        _check_date(due, "due")
    return TrafficLights(today, yellow_within_working_days).of(due)


# Case statuses as the followups service names them in its events, as every reader of them needs them.
CASE_CLOCK_RUNNING = CaseStatus.CLOCK_RUNNING  # the unit still owes work: its deadline applies
CASE_ENDED = CaseStatus.ENDED


def case_light(status: str | None, deadline: str | None, lights: TrafficLights) -> str | None:
    """A case's light: by its deadline while the unit owes work, green once it has reported, None once ended."""
    if status is None or status in CASE_ENDED:
        return None
    if status not in CASE_CLOCK_RUNNING:
        return Light.GREEN
    return lights.of(deadline)


def lateness_in_working_days(due: str | None, on: str | None) -> int | None:
    """How many working days after ``due`` something happened ``on`` (ISO dates; negative: that many before,
    0: on the day); None without both dates or outside every calendar.

    Lateness is counted in working days everywhere (timeline, CLI, exports): the rules that judge it (签收时限,
    催办, 预警 after N working days) count working days, so "逾期3个工作日" means the same on every page."""
    if not due or not on:
        return None
    try:
        return working_days_between(date.fromisoformat(due[:10]), date.fromisoformat(on[:10]))
    except (CalendarOutOfRange, ValueError):
        return None


def describe_lateness_zh(due: str | None, on: str | None) -> str:
    """逾期N个工作日, 提前N个工作日 or 按期 for something due ``due`` and done ``on`` ("" when unknown).

    Done on a rest day just after the deadline is late by less than one working day, and says so."""
    days = lateness_in_working_days(due, on)
    if days is None:
        return ""
    if on[:10] > due[:10]:
        return f"逾期{days}个工作日" if days else "逾期不足1个工作日"
    return f"提前{-days}个工作日" if days < 0 else "按期"


def overdue_working_days(due: date | None, today: date) -> int:
    """Working days today is past due (0 when not overdue or no due date)."""
    _check_date(today, "today")
    if due is None:
        return 0
    _check_date(due, "due")
    # Not overdue needs no calendar, so a due date beyond the known years is fine until it passes.
    if today <= due:
        return 0
    return working_days_between(due, today)


@dataclass(frozen=True)
class Period:
    """A time limit: so many calendar days or working days."""

    amount: int
    kind: str = DayKind.CALENDAR

    def __post_init__(self) -> None:
        _check_count(self.amount, "amount")
        if self.kind not in _DAY_KINDS:
            raise InvalidInput(
                f"period kind must be one of {', '.join(_DAY_KINDS)}, got {self.kind!r}",
                f"期限类型必须是 calendar（自然日）或 working（工作日），当前为 {self.kind!r}",
                field="kind",
            )

    def after(self, start: date) -> date:
        """The date this period after start falls due."""
        if self.kind == DayKind.WORKING:
            return add_working_days(start, self.amount)
        return add_calendar_days(start, self.amount)

    def provisional_after(self, start: date) -> bool:
        """Whether the due date this period gives from start was counted (partly) on a provisional calendar."""
        if self.kind != DayKind.WORKING:
            return False
        due = self.after(start)
        return any(is_provisional(date(year, 12, 31)) for year in range(start.year, due.year + 1))

    def describe_zh(self) -> str:
        """The period as written in a notice, e.g. 5个工作日 or 30日."""
        return f"{self.amount}个工作日" if self.kind == DayKind.WORKING else f"{self.amount}日"

    def to_dict(self) -> dict:
        """The period as plain data."""
        return {"amount": self.amount, "kind": self.kind}

    @classmethod
    def from_dict(cls, data: object, *, field: str = "period") -> Period:
        """A period from {"amount": n, "kind": "calendar"|"working"}; errors name field."""
        if not isinstance(data, dict):
            raise InvalidInput(
                f"{field} must be a mapping with amount and kind, got {data!r}",
                f"{field} 必须包含 amount 和 kind，当前为 {data!r}",
                field=field,
            )
        unknown = sorted(set(data) - {"amount", "kind"}, key=str)
        if unknown:
            path = f"{field}.{unknown[0]}"
            raise InvalidInput(f"unknown key {path!r}", f"未知的配置项 {path!r}", field=path)
        if "amount" not in data:
            raise InvalidInput(f"{field}.amount is missing", f"缺少 {field}.amount", field=f"{field}.amount")
        try:
            return cls(data["amount"], data.get("kind", DayKind.CALENDAR))
        except InvalidInput as error:
            inner = f"{field}.{error.details.get('field')}"
            raise InvalidInput(f"{inner}: {error.message_en}", f"{inner}：{error.message_zh}", field=inner) from error
