"""Pages of a read model whose cost follows the page, not the history.

FerretDB 1.24 hands only equality filters to its backend's indexes: a sort, a range or a count over a list
would read every row of the collection on every page. So every listed row carries the moment the event that
created it was recorded (``listed_at``) and, from it, two indexed bucket numbers: ``list_day`` (days since
1970-01-01, UTC) and ``list_span`` (``DAYS_PER_SPAN`` days). A page is read newest first, one equality query
per day (the list's own equality filters ride along, so the backend returns only matching rows); once the
matches prove sparse, whole spans are read instead. Ranges and set filters are applied to those few rows here.
Everything is derived from the events, so a rebuilt read model lists its rows in the same order.

Small documents per list (a tally per writing process) keep its row count and first and last day. A row is
counted by the process that inserted it; a process killed between the insert and the count is made good by a
sweep (``ListBounds.settle``), so the count never drifts from the rows. The total
is exact when it is cheap: for an unfiltered list it is that count, and for a filtered one when the walk
reaches the first day within a small budget (short lists: a notice's cases, a unit's letters). Otherwise the
answer says only whether another page may follow (``has_more``).
"""
from __future__ import annotations

import os
import socket
import threading
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Callable, Iterable, Mapping

from pymongo import ASCENDING
from pymongo.collection import Collection
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from shared.mongo import stored_utc

DAYS_PER_SPAN = 32
BOUNDS_COLLECTION = "list_bounds"
# After the page is full, the walk goes on to learn the exact total only while it stays this cheap.
TOTAL_BUDGET_QUERIES = 8
TOTAL_BUDGET_ROWS = 2_000
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)

Row = Mapping[str, object]
Fetch = Callable[[str, int], Iterable[Row]]  # ("list_day" | "list_span", number) -> rows matching the list's filters


def bucket_fields(listed_at: datetime) -> dict[str, object]:
    """The fields of a row created by an event recorded at ``listed_at``."""
    listed_at = stored_utc(listed_at)
    day = (listed_at - _EPOCH).days
    return {"listed_at": listed_at, "list_day": day, "list_span": day // DAYS_PER_SPAN}


def _newest_first_key(row: Row) -> tuple:
    return stored_utc(row["listed_at"]), str(row["_id"])


@dataclass(frozen=True)
class Bounds:
    rows: int
    first_day: int | None
    last_day: int | None


class ListBounds:
    """How many rows one list holds and the first and last day it has rows on.

    Kept as one small tally per writing process, summed when read: FerretDB applies ``$inc``/``$min``/``$max``
    as a read-modify-write in Go, so two processes updating one document lose each other's updates (eight first
    rows counted at once were counted as six). Each process serialises its own updates with a lock, and the
    list's bounds are the sum, min and max over its tallies (one indexed equality query on ``list``).

    An insert and its count are two writes, and a process may die between them (SIGKILL, OOM): so each row
    names the tally that counts it and its place in that tally (``counted_in``, ``tally_seq``), and a tally
    moves from ``rows`` n to n + 1 only for its row n + 1. A tally that has gone quiet with its next row already
    inserted is one whose writer died mid-way: ``settle`` counts that row for it (nothing is counted twice:
    both counts are conditional on the tally still standing at n).
    """

    def __init__(self, database: Database, name: str):
        self.collection: Collection = database[BOUNDS_COLLECTION]
        self.name = name
        self._key = (database.name, name)  # tests keep lists of one name in many databases

    def ensure_indexes(self) -> None:
        self.collection.create_index([("list", ASCENDING)], name="list")
        # A list counted by an earlier version has one untagged document keyed by its name: tag it as a tally.
        self.collection.update_one({"_id": self.name, "list": {"$exists": False}}, {"$set": {"list": self.name}})

    def insert_counted(self, insert: Callable[[str, int], bool], day: int) -> bool:
        """Insert one row of day ``day`` and count it; ``insert(tally, seq)`` stores the row with those two
        values and says whether it was new (False: a redelivered event found it there, nothing to count)."""
        with _tally_lock(self._key):
            tally, seq = _writer_tally(self._key)
            if not insert(tally, seq):
                return False
            _advance(self._key)  # the row holds this seq now: the next row gets the next, counted or not
            self._count(tally, seq, day)
            return True

    def _count(self, tally: str, seq: int, day: int) -> None:
        update = {"$set": {"list": self.name, "updated_at": datetime.now(timezone.utc)}, "$inc": {"rows": 1},
                  "$min": {"first_day": day}, "$max": {"last_day": day}}
        try:
            # Only if the tally stands just before this row: an earlier count that failed leaves it behind, and
            # then `settle` catches up row by row.
            self.collection.update_one({"_id": tally, "rows": seq - 1}, update, upsert=seq == 1)
        except DuplicateKeyError:
            pass  # the first row was counted by a sweep already

    def settle(self, rows: Collection, now: datetime, quiet_for: timedelta) -> int:
        """Count the rows whose writer inserted them but died before counting (tallies quiet for ``quiet_for``
        with their next row present); returns how many."""
        settled = 0
        for tally in self.collection.find({"list": self.name, "updated_at": {"$lt": now - quiet_for}}):
            counted = int(tally.get("rows", 0))
            while (row := rows.find_one({"counted_in": tally["_id"], "tally_seq": counted + 1},
                                        {"list_day": 1})) is not None:
                day = row["list_day"]
                result = self.collection.update_one(
                    {"_id": tally["_id"], "rows": counted},
                    {"$inc": {"rows": 1}, "$min": {"first_day": day}, "$max": {"last_day": day}})
                if result.modified_count != 1:
                    break  # its writer is alive after all and counted it
                counted += 1
                settled += 1
        return settled

    def read(self) -> Bounds:
        tallies = list(self.collection.find({"list": self.name}))
        firsts = [t["first_day"] for t in tallies if t.get("first_day") is not None]
        lasts = [t["last_day"] for t in tallies if t.get("last_day") is not None]
        return Bounds(sum(int(t.get("rows", 0)) for t in tallies), min(firsts, default=None), max(lasts, default=None))

    def reset(self) -> None:
        """Forget every tally (a rebuild empties the list); this process starts a new one."""
        self.collection.delete_many({"list": self.name})
        self.collection.delete_one({"_id": self.name})
        with _locks_guard:
            _next_seq.pop(self._key, None)


_SEPARATOR = "\x1f"
_locks_guard = threading.Lock()
_locks: dict[tuple[str, str], threading.Lock] = {}
_writer_of_pid: tuple[int, str] | None = None
# (database, list) -> (this process's tally, the seq its next row gets)
_next_seq: dict[tuple[str, str], tuple[str, int]] = {}


def _tally_lock(key: tuple[str, str]) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(key, threading.Lock())


def _writer() -> str:
    """This process's tally name; a forked child (a gunicorn worker) gets its own."""
    global _writer_of_pid
    pid = os.getpid()
    if _writer_of_pid is None or _writer_of_pid[0] != pid:
        _writer_of_pid = (pid, f"{socket.gethostname()}:{pid}:{uuid.uuid4().hex[:8]}")
        _next_seq.clear()  # inherited from the parent: its tallies are not ours
    return _writer_of_pid[1]


def _writer_tally(key: tuple[str, str]) -> tuple[str, int]:
    """This process's tally of a list and the seq of its next row (a reset list gets a fresh tally)."""
    writer = _writer()
    with _locks_guard:
        if key not in _next_seq:
            _next_seq[key] = (f"{key[1]}{_SEPARATOR}{writer}:{uuid.uuid4().hex[:6]}", 1)
        return _next_seq[key]


def _advance(key: tuple[str, str]) -> None:
    with _locks_guard:
        tally, seq = _next_seq[key]
        _next_seq[key] = (tally, seq + 1)


@dataclass(frozen=True)
class Page:
    rows: list[Row]
    total: int | None  # None: not known cheaply
    has_more: bool


def newest_first(fetch: Fetch, bounds: Bounds, first: int, size: int, keep: Callable[[Row], bool] | None = None,
                 unfiltered: bool = False) -> Page:
    """Rows ``first`` … ``first + size - 1`` of the list, newest first, reading as few buckets as it can.

    ``keep`` applies what the equality filters inside ``fetch`` cannot (ranges, sets); ``unfiltered`` says that
    every row counts, so the total is the list's row count.
    """
    wanted = first + size
    found: list[Row] = []
    if bounds.last_day is None or bounds.first_day is None:
        return Page([], 0, False)
    day, reads, extra_reads, extra_rows = bounds.last_day, 0, 0, 0
    while day >= bounds.first_day:
        page_full = len(found) >= wanted
        if page_full and (unfiltered or extra_rows >= TOTAL_BUDGET_ROWS
                          or extra_reads + _reads_to_reach(day, bounds.first_day) > TOTAL_BUDGET_QUERIES):
            break  # the total is known already, or out of cheap reach: reading on would only be thrown away
        sparse = reads >= 2 and len(found) < (reads * size) // 4
        if (sparse or page_full) and day % DAYS_PER_SPAN == DAYS_PER_SPAN - 1:
            rows = fetch("list_span", day // DAYS_PER_SPAN)
            day -= DAYS_PER_SPAN
        else:
            rows = fetch("list_day", day)
            day -= 1
        matched = sorted((row for row in rows if keep is None or keep(row)), key=_newest_first_key, reverse=True)
        reads += 1
        if page_full:
            extra_reads, extra_rows = extra_reads + 1, extra_rows + len(matched)
        found.extend(matched)
    exhausted = day < bounds.first_day
    total = bounds.rows if unfiltered else (len(found) if exhausted else None)
    return Page(found[first:wanted], total, len(found) > wanted or not exhausted)


def _reads_to_reach(day: int, first_day: int) -> int:
    """The fewest bucket reads from ``day`` down to ``first_day``: single days down to the top of a span, then
    whole spans (as the walk reads once its page is full)."""
    loose = (day + 1) % DAYS_PER_SPAN  # single days read before the walk stands at a span's top (0: it does)
    if day - loose < first_day:
        return day - first_day + 1
    return loose + -(-(day - loose - first_day + 1) // DAYS_PER_SPAN)


def query_fetch(collection: Collection, equality: Mapping[str, object]) -> Fetch:
    """``fetch`` for ``newest_first`` over a collection: the list's equality filters plus one bucket."""
    return lambda field, number: collection.find({**equality, field: number})


def date_between(field: str, low: date | None, high: date | None) -> Callable[[Row], bool] | None:
    """A check that the row's ISO date ``field`` lies within the bounds given (None when neither is)."""
    if low is None and high is None:
        return None
    low_iso, high_iso = low.isoformat() if low else None, high.isoformat() if high else None

    def within(row: Row) -> bool:
        value = row.get(field)
        if value is None:
            return False  # no date: outside any bounds (as a MongoDB range query would have it)
        return (low_iso is None or value >= low_iso) and (high_iso is None or value <= high_iso)

    return within


def all_of(*checks: Callable[[Row], bool] | None) -> Callable[[Row], bool] | None:
    """One check from several (None ones ignored); None when there are none."""
    present = [check for check in checks if check is not None]
    if not present:
        return None
    return lambda row: all(check(row) for check in present)
