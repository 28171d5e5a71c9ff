"""Injectable clocks: the system clock in production, a fixed one that tests move by hand instead of sleeping."""
from __future__ import annotations

import threading
from datetime import date, datetime, time, timedelta, timezone
from typing import Protocol
from zoneinfo import ZoneInfo

# Offices work to Beijing time, so "today" (deadlines, traffic lights) is the date in Shanghai, not in UTC.
SHANGHAI = ZoneInfo("Asia/Shanghai")

# A FixedClock built from a bare date starts at the beginning of an office day, well clear of midnight in both zones.
_OFFICE_MORNING = time(9, 0)


class Clock(Protocol):
    """What services ask for the time."""

    def now(self) -> datetime:
        """The current instant, tz-aware, in UTC."""
        ...

    def today(self) -> date:
        """The current date in Asia/Shanghai."""
        ...


def _as_utc(moment: datetime | date) -> datetime:
    """A tz-aware datetime (UTC) or a date (09:00 Shanghai that day) as a UTC instant."""
    # datetime is a subclass of date, so it must be recognised first.
    if isinstance(moment, datetime):
        if moment.tzinfo is None or moment.utcoffset() is None:
            # A naive datetime could be meant in UTC or in Beijing time; guessing would shift dates by a day near midnight.
            raise ValueError(f"a clock needs a timezone-aware datetime, got naive {moment.isoformat()}")
        return moment.astimezone(timezone.utc)
    if isinstance(moment, date):
        return datetime.combine(moment, _OFFICE_MORNING, tzinfo=SHANGHAI).astimezone(timezone.utc)
    raise TypeError(f"a clock is set from a datetime or a date, got {type(moment).__name__}")


class SystemClock:
    """The real time."""

    def now(self) -> datetime:
        """The current instant in UTC."""
        return datetime.now(timezone.utc)

    def today(self) -> date:
        """Today's date in Asia/Shanghai."""
        return self.now().astimezone(SHANGHAI).date()


class FixedClock:
    """A clock that stands still until a test sets or advances it."""

    def __init__(self, moment: datetime | date):
        self._now = _as_utc(moment)
        # Worker threads read the clock while the test thread moves it.
        self._lock = threading.Lock()

    def now(self) -> datetime:
        """The instant the clock shows, in UTC."""
        with self._lock:
            return self._now

    def today(self) -> date:
        """The date in Asia/Shanghai at the instant the clock shows."""
        return self.now().astimezone(SHANGHAI).date()

    def advance(self, **timedelta_kwargs: float) -> datetime:
        """Move the clock on by timedelta(**timedelta_kwargs) and return the new instant."""
        step = timedelta(**timedelta_kwargs)
        with self._lock:
            self._now = self._now + step
            return self._now

    def set(self, moment: datetime | date) -> datetime:
        """Put the clock at a datetime (tz-aware) or a date (09:00 Shanghai) and return the new instant."""
        instant = _as_utc(moment)
        with self._lock:
            self._now = instant
            return instant

    def __repr__(self) -> str:
        return f"FixedClock({self.now().isoformat()})"
