"""Quiet hours: SMS and group-robot messages wait until the quiet period (by default 22:00–07:30 Beijing time) ends."""
from __future__ import annotations

from datetime import datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

QUIET_START = time(22, 0)
QUIET_END = time(7, 30)
QUIET_TZ = "Asia/Shanghai"
# The channels that wake someone up; e-mail and the inbox are read when the reader chooses.
QUIET_CHANNELS = frozenset({"sms", "wecom", "dingtalk"})


def deferred_until(moment: datetime, start: time = QUIET_START, end: time = QUIET_END,
                   tz: str | tzinfo = QUIET_TZ) -> datetime | None:
    """The end of the quiet period (aware, in ``tz``) if ``moment`` falls in [start, end), else None.

    A window whose start is after its end spans midnight (22:00–07:30); start == end means no quiet hours.
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("deferred_until needs an aware datetime")
    if start.tzinfo is not None or end.tzinfo is not None:
        raise ValueError("quiet hours are wall-clock times in tz; pass naive times")
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    local = moment.astimezone(zone)
    now, today = local.time().replace(tzinfo=None), local.date()
    if start == end:
        return None
    if start < end:  # within one day, e.g. 12:00–14:00
        if start <= now < end:
            return datetime.combine(today, end, tzinfo=zone)
        return None
    if now >= start:  # the evening part of a window spanning midnight: it ends tomorrow
        return datetime.combine(today + timedelta(days=1), end, tzinfo=zone)
    if now < end:  # the early-morning part: it ends today
        return datetime.combine(today, end, tzinfo=zone)
    return None
