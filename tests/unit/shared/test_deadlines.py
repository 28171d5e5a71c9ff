from datetime import date, datetime, timezone

import pytest

from shared.deadlines import (
    FIRST_KNOWN_YEAR,
    LAST_KNOWN_YEAR,
    CalendarOutOfRange,
    DayKind,
    Light,
    Period,
    add_calendar_days,
    TrafficLights,
    add_working_days,
    case_light,
    describe_lateness_zh,
    is_provisional,
    lateness_in_working_days,
    use_recorded_arrangements,
    is_working_day,
    overdue_working_days,
    traffic_light,
    working_days_between,
)
from shared.errors import InvalidInput
from shared.holidays import LAST_PROVISIONAL_YEAR, provisional_arrangement, published_arrangement, statutory_holidays


class TestTheKnownYearsComeFromThePackage:
    def test_the_known_years_are_those_of_chinese_calendar(self):
        from chinese_calendar import constants

        assert FIRST_KNOWN_YEAR == min(constants.holidays).year == 2004
        assert LAST_KNOWN_YEAR == max(constants.holidays).year
        assert LAST_KNOWN_YEAR >= 2026

    def test_the_first_and_last_day_of_the_known_years_can_be_asked_about(self):
        import chinese_calendar

        assert is_working_day(date(FIRST_KNOWN_YEAR, 1, 1)) is False  # 元旦
        last = date(LAST_KNOWN_YEAR, 12, 31)
        assert is_working_day(last) is chinese_calendar.is_workday(last)


class TestWorkingDaysFollowTheOfficialCalendar:
    def test_a_plain_weekday_is_a_working_day_and_a_plain_weekend_is_not(self):
        assert is_working_day(date(2020, 9, 29)) is True  # Tuesday
        assert is_working_day(date(2020, 9, 26)) is False  # Saturday, no 调休

    def test_a_statutory_holiday_on_a_weekday_is_not_a_working_day(self):
        assert is_working_day(date(2020, 10, 1)) is False  # Thursday, National Day

    def test_a_weekend_make_up_workday_is_a_working_day(self):
        assert date(2020, 10, 10).weekday() == 5  # Saturday
        assert is_working_day(date(2020, 10, 10)) is True

    def test_a_datetime_is_refused_because_its_date_depends_on_its_zone(self):
        with pytest.raises(TypeError):
            is_working_day(datetime(2020, 10, 9, 20, tzinfo=timezone.utc))


class TestAddingWorkingDays:
    def test_five_working_days_from_the_eve_of_national_day_2020_skip_the_golden_week(self):
        # Oct 1-8 off, Oct 9 Fri, Oct 10 Sat (调休), then Oct 12, 13, 14.
        assert add_working_days(date(2020, 9, 30), 5) == date(2020, 10, 14)

    def test_a_weekend_make_up_workday_is_counted(self):
        # From Friday Oct 9 the next working day is Saturday Oct 10, not Monday Oct 12.
        assert add_working_days(date(2020, 10, 9), 1) == date(2020, 10, 10)
        assert add_working_days(date(2020, 10, 9), 2) == date(2020, 10, 12)

    def test_the_start_day_itself_is_not_counted(self):
        assert add_working_days(date(2020, 9, 28), 1) == date(2020, 9, 29)

    def test_zero_working_days_is_the_start_day_even_on_a_holiday(self):
        assert add_working_days(date(2020, 10, 3), 0) == date(2020, 10, 3)

    def test_from_a_holiday_the_first_working_day_after_it_counts_as_one(self):
        assert add_working_days(date(2020, 10, 3), 1) == date(2020, 10, 9)

    def test_spring_festival_2026_is_skipped_and_its_saturday_make_up_days_are_counted(self):
        # 2026: Feb 15-23 off; Saturdays Feb 14 and Feb 28 are make-up workdays.
        assert is_working_day(date(2026, 2, 14)) is True
        assert all(not is_working_day(date(2026, 2, d)) for d in range(15, 24))
        assert is_working_day(date(2026, 2, 28)) is True
        assert add_working_days(date(2026, 2, 13), 1) == date(2026, 2, 14)
        assert add_working_days(date(2026, 2, 13), 2) == date(2026, 2, 24)
        assert add_working_days(date(2026, 2, 26), 2) == date(2026, 2, 28)

    @pytest.mark.parametrize("n", [-1, True, 1.5, "3"])
    def test_a_count_that_is_not_a_whole_number_of_days_is_refused(self, n):
        with pytest.raises(InvalidInput) as caught:
            add_working_days(date(2020, 9, 30), n)
        assert caught.value.details["field"] == "n"


class TestAddingCalendarDays:
    def test_calendar_days_run_straight_through_holidays(self):
        assert add_calendar_days(date(2020, 9, 30), 5) == date(2020, 10, 5)

    def test_calendar_days_need_no_calendar_beyond_the_known_years(self):
        assert add_calendar_days(date(2026, 12, 20), 30) == date(2027, 1, 19)


class TestCountingWorkingDaysBetweenTwoDates:
    def test_the_start_is_excluded_and_the_end_included(self):
        # Mon Sep 28 -> Wed Sep 30: Tue and Wed.
        assert working_days_between(date(2020, 9, 28), date(2020, 9, 30)) == 2

    def test_the_same_day_is_zero(self):
        assert working_days_between(date(2020, 9, 30), date(2020, 9, 30)) == 0

    def test_across_the_national_day_holiday_only_working_days_count(self):
        assert working_days_between(date(2020, 9, 30), date(2020, 10, 14)) == 5
        assert working_days_between(date(2020, 9, 30), date(2020, 10, 8)) == 0

    def test_backwards_the_count_is_mirrored_and_negative(self):
        assert working_days_between(date(2020, 10, 14), date(2020, 9, 30)) == -5

    def test_it_agrees_with_adding_working_days(self):
        start = date(2026, 2, 10)
        for n in range(0, 15):
            assert working_days_between(start, add_working_days(start, n)) == n


class TestDatesOutsideTheCalendarAreAClearError:
    def test_a_date_past_the_last_provisional_year_is_refused_in_both_languages(self):
        with pytest.raises(CalendarOutOfRange) as caught:
            is_working_day(date(LAST_PROVISIONAL_YEAR + 1, 1, 4))
        error = caught.value
        day = f"{LAST_PROVISIONAL_YEAR + 1}-01-04"
        assert day in error.message_en and day in error.message_zh
        assert f"{FIRST_KNOWN_YEAR}–{LAST_PROVISIONAL_YEAR}" in error.message_en
        assert f"{FIRST_KNOWN_YEAR}–{LAST_PROVISIONAL_YEAR}" in error.message_zh
        assert "beyond" in error.message_en and "工作日" in error.message_zh
        assert error.details["date"] == day and error.details["last_known_year"] == LAST_KNOWN_YEAR

    def test_a_date_before_the_first_known_year_is_refused_in_both_languages(self):
        with pytest.raises(CalendarOutOfRange) as caught:
            is_working_day(date(2003, 6, 1))
        assert "2003-06-01" in caught.value.message_en and "2003-06-01" in caught.value.message_zh
        assert "before" in caught.value.message_en

    def test_it_is_invalid_input_with_the_field_when_one_is_given(self):
        error = CalendarOutOfRange(date(2100, 1, 4), field="due")
        assert isinstance(error, InvalidInput)
        assert error.status == 422
        assert error.details["field"] == "due"
        assert "field" not in CalendarOutOfRange(date(2100, 1, 4)).details


class TestYearsNotYetPublishedAreCountedProvisionally:
    """chinese-calendar 1.11.0 knows 2004–2026; later years follow the law until the State Council publishes."""

    def test_the_official_years_are_not_provisional_and_the_next_one_is(self):
        assert not is_provisional(date(LAST_KNOWN_YEAR, 12, 31))
        assert is_provisional(date(LAST_KNOWN_YEAR + 1, 1, 1))

    def test_working_days_run_on_into_2027_over_new_year(self):
        # Mon 28 Dec 2026 + 5: 29, 30, 31 Dec, (1 Jan 元旦 off, 2–3 weekend), 4, 5 Jan 2027.
        assert add_working_days(date(2026, 12, 28), 5) == date(2027, 1, 5)
        assert working_days_between(date(2026, 12, 1), date(2027, 1, 4)) == 23

    def test_a_working_day_period_into_2027_is_marked_provisional(self):
        period = Period(3, DayKind.WORKING)
        assert period.after(date(2026, 12, 30)) == date(2027, 1, 5)  # 31 Dec, 4 and 5 Jan
        assert period.provisional_after(date(2026, 12, 30))
        assert not period.provisional_after(date(2026, 12, 1))
        assert not Period(10, DayKind.CALENDAR).provisional_after(date(2026, 12, 30)), "calendar days need no calendar"

    def test_spring_festival_2027_is_off_from_new_years_eve_to_the_third_day(self):
        # 正月初一 is Saturday 6 February 2027: 除夕 Fri 5 Feb to 初三 Mon 8 Feb, plus the made-up days.
        assert not is_working_day(date(2027, 2, 5))
        assert not is_working_day(date(2027, 2, 8))
        assert is_working_day(date(2027, 2, 4))

    def test_a_holiday_on_a_weekend_is_made_up_on_the_next_working_day(self):
        # 正月初一 Sat 6 and 初二 Sun 7 Feb 2027: made up Tue 9 and Wed 10 Feb (Mon 8 is 初三 itself).
        assert not is_working_day(date(2027, 2, 9)) and not is_working_day(date(2027, 2, 10))
        assert is_working_day(date(2027, 2, 11))

    def test_the_lunar_and_solar_term_holidays_of_2027(self):
        days = statutory_holidays(2027)
        named = {day.isoformat(): name for day, name in days.items()}
        assert named["2027-04-05"] == "清明节"  # the 清明 solar term
        assert named["2027-06-09"] == "端午节"  # 农历五月初五
        assert named["2027-09-15"] == "中秋节"  # 农历八月十五
        assert [d for d, n in named.items() if n == "劳动节"] == ["2027-05-01", "2027-05-02"]
        assert [d for d, n in named.items() if n == "国庆节"] == ["2027-10-01", "2027-10-02", "2027-10-03"]
        assert len(days) == 13  # the law's 13 days off since 2025

    def test_the_law_agrees_with_the_published_2026_holidays(self):
        # The provisional rules, checked on a year the State Council has published: every statutory day is off.
        for day in statutory_holidays(2026):
            assert not is_working_day(day), day

    def test_a_provisional_arrangement_has_no_make_up_working_days(self):
        arrangement = provisional_arrangement(2027)
        assert arrangement.provisional and arrangement.workdays == frozenset()
        assert not arrangement.is_working_day(date(2027, 1, 9))  # an ordinary Saturday


class TestPeriods:
    def test_a_working_day_period_counts_working_days(self):
        assert Period(5, DayKind.WORKING).after(date(2020, 9, 30)) == date(2020, 10, 14)

    def test_a_calendar_day_period_ignores_holidays(self):
        assert Period(5, DayKind.CALENDAR).after(date(2020, 9, 30)) == date(2020, 10, 5)
        assert Period(30).after(date(2026, 2, 1)) == date(2026, 3, 3)

    def test_the_default_kind_is_calendar_days(self):
        assert Period(30).kind == DayKind.CALENDAR

    def test_periods_are_described_as_notices_write_them(self):
        assert Period(5, DayKind.WORKING).describe_zh() == "5个工作日"
        assert Period(30, DayKind.CALENDAR).describe_zh() == "30日"

    def test_a_period_survives_a_round_trip_through_plain_data(self):
        period = Period(5, DayKind.WORKING)
        assert period.to_dict() == {"amount": 5, "kind": "working"}
        assert Period.from_dict(period.to_dict()) == period
        assert Period.from_dict({"amount": 7}) == Period(7, DayKind.CALENDAR)

    @pytest.mark.parametrize("amount", [-1, True, 2.5, "5"])
    def test_an_amount_that_is_not_a_whole_number_of_days_is_refused(self, amount):
        with pytest.raises(InvalidInput) as caught:
            Period(amount)
        assert caught.value.details["field"] == "amount"

    def test_an_unknown_kind_is_refused(self):
        with pytest.raises(InvalidInput) as caught:
            Period(5, "lunar")
        assert caught.value.details["field"] == "kind"
        assert "lunar" in caught.value.message_en

    def test_bad_plain_data_is_refused_naming_the_key(self):
        with pytest.raises(InvalidInput) as caught:
            Period.from_dict({"amount": 5, "unit": "days"}, field="sign_for_period")
        assert caught.value.details["field"] == "sign_for_period.unit"
        with pytest.raises(InvalidInput) as caught:
            Period.from_dict({"kind": "working"}, field="sign_for_period")
        assert caught.value.details["field"] == "sign_for_period.amount"
        with pytest.raises(InvalidInput) as caught:
            Period.from_dict({"amount": 5, "kind": "weekly"}, field="sign_for_period")
        assert caught.value.details["field"] == "sign_for_period.kind"
        with pytest.raises(InvalidInput):
            Period.from_dict(5)


class TestTrafficLight:
    TODAY = date(2020, 9, 28)  # Monday

    def test_no_due_date_is_green(self):
        assert traffic_light(None, self.TODAY, 3) == Light.GREEN

    def test_due_yesterday_is_red(self):
        assert traffic_light(date(2020, 9, 27), self.TODAY, 3) == Light.RED

    @pytest.mark.parametrize("window", [0, 1, 3])
    def test_due_today_is_yellow_whatever_the_window(self, window):
        assert traffic_light(self.TODAY, self.TODAY, window) == Light.YELLOW

    def test_due_on_the_last_working_day_of_the_window_is_yellow(self):
        # Tue Sep 29, Wed Sep 30, then Oct 1-8 are off: the third working day is Fri Oct 9.
        assert add_working_days(self.TODAY, 3) == date(2020, 10, 9)
        assert traffic_light(date(2020, 10, 9), self.TODAY, 3) == Light.YELLOW

    def test_due_during_a_holiday_inside_the_window_is_yellow(self):
        assert traffic_light(date(2020, 10, 5), self.TODAY, 3) == Light.YELLOW

    def test_due_the_day_after_the_window_is_green(self):
        assert traffic_light(date(2020, 10, 10), self.TODAY, 3) == Light.GREEN

    def test_due_tomorrow_with_no_window_is_green(self):
        assert traffic_light(date(2020, 9, 29), self.TODAY, 0) == Light.GREEN

    def test_due_far_ahead_is_green(self):
        assert traffic_light(date(2020, 12, 31), self.TODAY, 3) == Light.GREEN

    def test_due_beyond_the_calendar_is_green_when_today_is_within_it(self):
        assert traffic_light(date(2027, 3, 1), date(2026, 11, 23), 3) == Light.GREEN

    def test_it_agrees_with_the_working_day_formula_around_a_holiday(self):
        today = date(2026, 2, 10)
        for offset in range(-3, 25):
            due = add_calendar_days(today, offset)
            expected = Light.RED if today > due else Light.YELLOW if due <= add_working_days(today, 3) else Light.GREEN
            assert traffic_light(due, today, 3) == expected, due

    def test_a_negative_window_is_refused(self):
        with pytest.raises(InvalidInput):
            traffic_light(self.TODAY, self.TODAY, -1)


class TestOverdueWorkingDays:
    def test_not_yet_due_or_due_today_is_zero(self):
        assert overdue_working_days(date(2020, 10, 14), date(2020, 9, 30)) == 0
        assert overdue_working_days(date(2020, 9, 30), date(2020, 9, 30)) == 0

    def test_overdue_counts_only_working_days_since_the_due_date(self):
        assert overdue_working_days(date(2020, 9, 30), date(2020, 10, 8)) == 0
        assert overdue_working_days(date(2020, 9, 30), date(2020, 10, 14)) == 5

    def test_no_due_date_is_never_overdue(self):
        assert overdue_working_days(None, date(2020, 9, 30)) == 0

    def test_a_due_date_beyond_the_calendar_is_not_overdue_and_needs_no_calendar(self):
        assert overdue_working_days(date(2027, 3, 1), date(2026, 11, 23)) == 0


class TestOneWayOfJudgingTime:
    """The lights and the lateness every surface shows come from shared.deadlines alone."""

    def test_lights_are_red_past_the_deadline_yellow_within_the_window_green_beyond(self):
        lights = TrafficLights(date(2020, 9, 24), 3)  # window: 25th, Sunday 27th (调休), 28th
        assert lights.horizon == "2020-09-28"
        assert [lights.of(d) for d in ("2020-09-23", "2020-09-24", "2020-09-28", "2020-09-29", None)] == [
            Light.RED, Light.YELLOW, Light.YELLOW, Light.GREEN, Light.GREEN]
        assert lights.of(date(2020, 9, 23)) == Light.RED

    def test_a_case_light_follows_its_status(self):
        lights = TrafficLights(date(2020, 9, 30), 3)
        assert case_light("rectifying", "2020-09-29", lights) == Light.RED
        assert case_light("reported", "2020-09-29", lights) == Light.GREEN, "the unit owes nothing while 复查 is due"
        assert case_light("closed", "2020-09-29", lights) is None and case_light(None, None, lights) is None

    def test_lateness_is_counted_in_working_days(self):
        assert lateness_in_working_days("2020-09-30", "2020-10-09") == 1  # across the National Day holiday
        assert lateness_in_working_days("2020-10-09", "2020-09-30") == -1
        assert lateness_in_working_days("2020-09-30", None) is None
        assert lateness_in_working_days("2099-12-30", "2100-01-05") is None, "past every calendar: unknown"
        assert describe_lateness_zh("2020-09-30", "2020-10-09") == "逾期1个工作日"
        assert describe_lateness_zh("2020-09-30", "2020-10-01") == "逾期不足1个工作日"
        assert describe_lateness_zh("2020-10-09", "2020-09-30") == "提前1个工作日"
        assert describe_lateness_zh("2020-10-09", "2020-10-09") == "按期"


class TestARecordedYearReplacesTheProvisionalOne:
    ARRANGEMENT = published_arrangement(2027, [date(2027, 1, 1), date(2027, 1, 4)], [date(2027, 1, 10)])

    @pytest.fixture(autouse=True)
    def recorded_2027(self):
        use_recorded_arrangements([self.ARRANGEMENT])
        yield
        use_recorded_arrangements([])

    def test_its_days_off_and_make_up_days_count_and_it_is_not_provisional(self):
        assert not is_working_day(date(2027, 1, 4)) and is_working_day(date(2027, 1, 10))  # Monday off, Sunday worked
        assert not is_provisional(date(2027, 6, 1)) and is_provisional(date(2028, 1, 3))
        assert add_working_days(date(2026, 12, 30), 3) == date(2027, 1, 6)
        assert not Period(3, DayKind.WORKING).provisional_after(date(2026, 12, 30))
        assert Period(300, DayKind.WORKING).provisional_after(date(2026, 12, 30)), "it runs on into 2028"

    def test_a_built_in_year_is_never_replaced(self):
        use_recorded_arrangements([published_arrangement(2026, [date(2026, 3, 2)], [])])
        assert is_working_day(date(2026, 3, 2))

    @pytest.mark.parametrize("holidays, workdays, field", [
        ([], [], "holidays"),
        ([date(2028, 1, 1)], [], "holidays.0"),
        ([date(2027, 1, 1)], [date(2027, 1, 11)], "workdays.0"),  # a Monday cannot be a make-up working day
        ([date(2027, 1, 9)], [date(2027, 1, 9)], "workdays"),  # both off and worked
    ])
    def test_what_cannot_be_a_years_arrangement_is_refused_naming_the_field(self, holidays, workdays, field):
        with pytest.raises(InvalidInput) as refused:
            published_arrangement(2027, holidays, workdays)
        assert refused.value.details["field"] == field
