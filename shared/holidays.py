"""Holiday arrangements (放假安排) for years the official calendar package does not know yet.

The State Council publishes each year's arrangement (holidays and 调休 make-up working days) in the autumn
before; chinese-calendar ships it some time later. For a year nobody has published yet, the arrangement is
computed from the law itself, 《全国年节及纪念日放假办法》 (2024 revision, in force from 2025):

- 元旦 1 day (1 January), 春节 4 days (农历除夕 and 正月初一至初三), 清明节 1 day (the 清明 solar term),
  劳动节 2 days (1–2 May), 端午节 1 day (农历五月初五), 中秋节 1 day (农历八月十五), 国庆节 3 days (1–3 October);
- Article 6: a holiday that falls on a Saturday or Sunday is made up (补假) on the next working day.

The 调休 swaps that join holidays into long breaks are decided year by year and cannot be derived, so a
provisional arrangement has none; every deadline counted on it is marked provisional. Lunar dates and solar
terms come from lunar-python.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

from lunar_python import Lunar, Solar

from shared.errors import InvalidInput

# lunar-python's tables are exact well beyond this; a deadline further out is a typo, not a plan.
LAST_PROVISIONAL_YEAR = 2099


@dataclass(frozen=True)
class YearArrangement:  # 放假安排
    """Which days of one year are off and which weekend days are worked (调休)."""

    year: int
    holidays: frozenset[date]
    workdays: frozenset[date] = frozenset()  # 调休上班: weekend days worked
    provisional: bool = False  # computed from the law, not the State Council's published arrangement

    def is_working_day(self, day: date) -> bool:
        if day in self.workdays:
            return True
        return day not in self.holidays and day.weekday() < 5


def statutory_holidays(year: int) -> dict[date, str]:
    """The days the law gives off in ``year``, by name (before any 补假)."""
    new_year = Lunar.fromYmd(year, 1, 1).getSolar()
    spring_festival = date(new_year.getYear(), new_year.getMonth(), new_year.getDay())
    days = {date(year, 1, 1): "元旦"}
    days.update({spring_festival + timedelta(days=offset): "春节" for offset in (-1, 0, 1, 2)})  # 除夕 to 初三
    qingming = Solar.fromYmd(year, 4, 15).getLunar().getJieQiTable()["清明"]
    days[date(qingming.getYear(), qingming.getMonth(), qingming.getDay())] = "清明节"
    days.update({date(year, 5, 1): "劳动节", date(year, 5, 2): "劳动节"})
    for month, day, name in ((5, 5, "端午节"), (8, 15, "中秋节")):
        solar = Lunar.fromYmd(year, month, day).getSolar()
        days.setdefault(date(solar.getYear(), solar.getMonth(), solar.getDay()), name)
    days.update({date(year, 10, d): "国庆节" for d in (1, 2, 3)})
    return days


@cache
def provisional_arrangement(year: int) -> YearArrangement:
    """The arrangement the law implies for ``year``: statutory holidays, weekends made up on the next working day."""
    festival = statutory_holidays(year)
    holidays = set(festival)
    for day in sorted(festival):
        if day.weekday() >= 5:  # Article 6: made up on the next day that is neither a weekend nor a holiday
            make_up = day + timedelta(days=1)
            while make_up.weekday() >= 5 or make_up in holidays:
                make_up += timedelta(days=1)
            holidays.add(make_up)
    return YearArrangement(year, frozenset(holidays), provisional=True)


def published_arrangement(year: int, holidays: list[date], workdays: list[date]) -> YearArrangement:
    """The State Council's arrangement for ``year`` as an office records it: the days off (放假) and the weekend
    days worked instead (调休上班). Refused with the field named: a date outside the year, a make-up working
    day that is not a Saturday or Sunday, a day both off and worked, or no holiday at all."""
    if not holidays:
        raise InvalidInput(f"the arrangement for {year} lists no holidays", f"{year}年放假安排没有放假日期",
                           field="holidays")
    for field, days in (("holidays", holidays), ("workdays", workdays)):
        for number, day in enumerate(days):
            if day.year != year:
                raise InvalidInput(f"{field}.{number}: {day} is not in {year}", f"{day} 不在{year}年内",
                                   field=f"{field}.{number}")
    for number, day in enumerate(workdays):
        if day.weekday() < 5:
            raise InvalidInput(f"workdays.{number}: {day} is a weekday; a make-up working day (调休) is a weekend day",
                               f"{day} 是工作日，调休上班日应为周六或周日", field=f"workdays.{number}")
    both = sorted(set(holidays) & set(workdays))
    if both:
        raise InvalidInput(f"{both[0]} is listed as both a holiday and a working day", f"{both[0]} 不能既放假又上班",
                           field="workdays")
    return YearArrangement(year, frozenset(holidays), frozenset(workdays), provisional=False)
