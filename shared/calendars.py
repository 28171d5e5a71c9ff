"""The holiday arrangements offices have recorded, in every service (infrastructure around shared/deadlines.py).

The tasks service owns them: office staff record a year's published arrangement there (HolidayArrangementRecorded,
an ordinary hash-chained event on the tasks topic). Each service keeps its own copy in its own database
(``holiday_years``: the tasks service from its projection, the others from the tasks topic) and every process loads
that copy into shared.deadlines at start and then at most a minute after it changes, so deadlines, lights and
watchers everywhere count on the published calendar once it is entered.
"""
from __future__ import annotations

import logging
import threading
import time
from datetime import date

import pymongo
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError, PyMongoError

from shared.deadlines import use_recorded_arrangements
from shared.envelope import EventEnvelope
from shared.holidays import YearArrangement

log = logging.getLogger(__name__)

OWNER = "tasks"  # the service where office staff record them, and the topic the others learn them from
COLLECTION = "holiday_years"
RECORDED = "HolidayArrangementRecorded"
REFRESH_SECONDS = 60.0
REQUEST_BUDGET_SECONDS = 1.0  # what a web request may spend refreshing them


def keep_arrangement(database: Database, event: EventEnvelope) -> None:
    """Keep a recorded arrangement (idempotent: a redelivered or older version changes nothing)."""
    if event.type != RECORDED:
        return
    data = event.data
    row = {"holidays": list(data["holidays"]), "workdays": list(data.get("workdays") or []), "source": data["source"],
           "recorded_by": event.actor.to_dict(), "recorded_at": event.recorded_at, "version": event.version,
           "event_id": event.event_id}
    try:
        database[COLLECTION].update_one({"_id": int(data["year"]), "version": {"$lt": event.version}}, {"$set": row},
                                        upsert=True)
    except DuplicateKeyError:
        pass  # this version or a later one is kept already


def recorded_arrangements(database: Database) -> list[YearArrangement]:
    return [YearArrangement(int(row["_id"]), frozenset(date.fromisoformat(d) for d in row["holidays"]),
                            frozenset(date.fromisoformat(d) for d in row.get("workdays") or ()))
            for row in database[COLLECTION].find({}, {"holidays": 1, "workdays": 1})]


class CalendarRefresh:
    """Loads the recorded arrangements into shared.deadlines, at most every ``every`` seconds (forced: now)."""

    def __init__(self, database: Database, every: float = REFRESH_SECONDS):
        self.database = database
        self.every = every
        self._loaded_at: float | None = None
        self._lock = threading.Lock()

    def in_request(self) -> None:
        """Refresh if due, within ``REQUEST_BUDGET_SECONDS``: a web request never waits long on it (with the
        database paused it would wait its whole operation timeout: a POST answered its 503 after 24 s, not 8).
        A refresh that does not finish in time is tried again a minute later."""
        try:
            with pymongo.timeout(REQUEST_BUDGET_SECONDS):
                self()
        except PyMongoError as error:
            self._loaded_at = time.monotonic()
            log.warning("recorded holiday arrangements not refreshed", extra={"error": str(error)})

    def __call__(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and self._loaded_at is not None and now - self._loaded_at < self.every:
            return
        with self._lock:
            arrangements = recorded_arrangements(self.database)
            use_recorded_arrangements(arrangements)
            self._loaded_at = now
        if arrangements:
            log.debug("recorded holiday arrangements loaded", extra={"years": sorted(a.year for a in arrangements)})
