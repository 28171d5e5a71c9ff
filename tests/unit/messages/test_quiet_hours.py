"""Quiet hours: when an SMS or IM message must wait, and until when."""
from __future__ import annotations

from datetime import datetime, time, timezone
from zoneinfo import ZoneInfo

import pytest

from services.messages.domain.quiet_hours import QUIET_CHANNELS, deferred_until

BEIJING = ZoneInfo("Asia/Shanghai")


def beijing(day: int, hour: int, minute: int = 0, second: int = 0, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, minute, second, tzinfo=BEIJING)


class TestTheDefaultWindowAcrossMidnight:
    def test_a_moment_in_the_day_is_not_deferred(self):
        assert deferred_until(beijing(10, 14)) is None

    def test_the_evening_waits_until_half_past_seven_next_morning(self):
        assert deferred_until(beijing(10, 23, 15)) == beijing(11, 7, 30)

    def test_the_small_hours_wait_until_half_past_seven_the_same_morning(self):
        assert deferred_until(beijing(11, 3, 0)) == beijing(11, 7, 30)

    def test_the_start_is_inside_and_the_end_is_outside(self):
        assert deferred_until(beijing(10, 22, 0)) == beijing(11, 7, 30)
        assert deferred_until(beijing(10, 21, 59, 59)) is None
        assert deferred_until(beijing(11, 7, 29, 59)) == beijing(11, 7, 30)
        assert deferred_until(beijing(11, 7, 30)) is None

    def test_midnight_itself_is_quiet(self):
        assert deferred_until(beijing(11, 0, 0)) == beijing(11, 7, 30)

    def test_the_last_evening_of_a_month_and_a_year_ends_in_the_next(self):
        assert deferred_until(datetime(2026, 2, 28, 23, 0, tzinfo=BEIJING)) == datetime(2026, 3, 1, 7, 30, tzinfo=BEIJING)
        assert deferred_until(datetime(2026, 12, 31, 22, 30, tzinfo=BEIJING)) == datetime(2027, 1, 1, 7, 30, tzinfo=BEIJING)


class TestMomentsInOtherZones:
    def test_a_utc_moment_is_judged_by_beijing_time(self):
        # 15:00 UTC is 23:00 in Beijing (UTC+8, no daylight saving).
        until = deferred_until(datetime(2026, 3, 10, 15, 0, tzinfo=timezone.utc))
        assert until == beijing(11, 7, 30) and until.utcoffset().total_seconds() == 8 * 3600

    def test_a_utc_morning_is_a_beijing_afternoon(self):
        assert deferred_until(datetime(2026, 3, 10, 2, 0, tzinfo=timezone.utc)) is None

    def test_midsummer_and_midwinter_have_the_same_offset(self):
        summer = deferred_until(datetime(2026, 7, 1, 14, 30, tzinfo=timezone.utc))
        winter = deferred_until(datetime(2026, 1, 1, 14, 30, tzinfo=timezone.utc))
        assert summer == datetime(2026, 7, 2, 7, 30, tzinfo=BEIJING)
        assert winter == datetime(2026, 1, 2, 7, 30, tzinfo=BEIJING)
        assert summer.utcoffset() == winter.utcoffset()

    def test_another_zone_can_be_named(self):
        until = deferred_until(datetime(2026, 3, 10, 23, 0, tzinfo=timezone.utc), tz="UTC")
        assert until == datetime(2026, 3, 11, 7, 30, tzinfo=ZoneInfo("UTC"))


class TestConfiguredWindows:
    def test_a_window_within_one_day_defers_to_its_end_the_same_day(self):
        assert deferred_until(beijing(10, 12, 30), time(12, 0), time(14, 0)) == beijing(10, 14, 0)
        assert deferred_until(beijing(10, 12, 0), time(12, 0), time(14, 0)) == beijing(10, 14, 0)

    def test_outside_a_window_within_one_day_nothing_waits(self):
        for hour, minute in ((11, 59), (14, 0), (23, 0), (0, 30)):
            assert deferred_until(beijing(10, hour, minute), time(12, 0), time(14, 0)) is None

    def test_another_window_across_midnight(self):
        assert deferred_until(beijing(10, 21, 0), time(21, 0), time(8, 0)) == beijing(11, 8, 0)
        assert deferred_until(beijing(10, 20, 59), time(21, 0), time(8, 0)) is None

    def test_equal_start_and_end_means_no_quiet_hours(self):
        assert deferred_until(beijing(10, 23, 0), time(22, 0), time(22, 0)) is None
        assert deferred_until(beijing(10, 22, 0), time(22, 0), time(22, 0)) is None


class TestWhatIsRefused:
    def test_a_naive_moment_is_refused(self):
        with pytest.raises(ValueError, match="aware"):
            deferred_until(datetime(2026, 3, 10, 23, 0))

    def test_only_sms_and_the_group_robots_keep_quiet_hours(self):
        assert QUIET_CHANNELS == {"sms", "wecom", "dingtalk"}
