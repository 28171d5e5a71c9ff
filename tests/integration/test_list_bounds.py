"""A list's bounds on the real server: first rows counted at the same moment by several processes all count,
and a row whose writer died between inserting and counting it is counted by the sweep, once.

FerretDB applies ``$inc``/``$max`` as a read-modify-write, so concurrent updates of one document lose each
other's effect (seen: 8 rows counted as 6); the bounds are kept as one tally per process instead.
"""
from __future__ import annotations

import multiprocessing
import threading
import uuid
from datetime import datetime, timedelta, timezone

from shared.config import Settings
from shared.mongo import connect_service_database
from shared.paging import ListBounds

PROCESSES, THREADS = 3, 4


def _count_rows(settings: Settings, name: str, first_day: int, start, failures) -> None:
    """One writing process (a gunicorn worker, a consumer): its threads count a row each, all at once."""
    database = connect_service_database(settings, "bounds")
    bounds = ListBounds(database, name)
    barrier = threading.Barrier(THREADS)

    def count(day: int) -> None:
        barrier.wait()
        try:
            bounds.insert_counted(_inserting(database[name], day), day)
        except Exception as error:  # noqa: BLE001 - reported to the test through the queue
            failures.put(repr(error))

    start.wait(60)
    threads = [threading.Thread(target=count, args=(first_day + n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)


def test_rows_counted_at_once_by_several_processes_are_all_counted(settings):
    context = multiprocessing.get_context("spawn")
    database = connect_service_database(settings, "bounds")
    for attempt in range(3):
        name = f"cases-{attempt}"
        start, failures = context.Event(), context.Queue()
        workers = [context.Process(target=_count_rows, args=(settings, name, 20_000 + p * THREADS, start, failures))
                   for p in range(PROCESSES)]
        for worker in workers:
            worker.start()
        start.set()
        for worker in workers:
            worker.join(120)

        assert failures.empty(), f"round {attempt}: {failures.get()}"
        assert [worker.exitcode for worker in workers] == [0] * PROCESSES
        read = ListBounds(database, name).read()
        expected = (PROCESSES * THREADS, 20_000, 20_000 + PROCESSES * THREADS - 1)
        assert (read.rows, read.first_day, read.last_day) == expected, f"round {attempt}: {read}"


def _inserting(rows, day: int, row_id: str | None = None):
    """``insert`` for ``insert_counted``: one row of ``day`` in ``rows``, False when it exists already."""
    row_id = row_id or uuid.uuid4().hex

    def insert(tally: str, seq: int) -> bool:
        if rows.find_one({"_id": row_id}) is not None:
            return False
        rows.insert_one({"_id": row_id, "list_day": day, "counted_in": tally, "tally_seq": seq})
        return True

    return insert


def test_a_row_whose_writer_died_before_counting_it_is_counted_by_the_sweep_once(settings):
    database = connect_service_database(settings, "bounds")
    rows, bounds = database["killed"], ListBounds(database, "killed")
    for day in (20_001, 20_002):
        assert bounds.insert_counted(_inserting(rows, day), day)
    assert not bounds.insert_counted(_inserting(rows, 20_002, row_id=rows.find_one({"list_day": 20_002})["_id"]),
                                     20_002), "a redelivered row is neither inserted nor counted again"
    # A writer killed after its insert: its tally stands at 2, its third row is stored but not counted.
    tally = database["list_bounds"].find_one({"list": "killed"})
    rows.insert_one({"_id": "orphan", "list_day": 20_003, "counted_in": tally["_id"], "tally_seq": 3})
    assert bounds.read().rows == 2

    later = datetime.now(timezone.utc) + timedelta(minutes=1)
    assert bounds.settle(rows, datetime.now(timezone.utc), timedelta(minutes=1)) == 0, "a fresh tally is left alone"
    assert bounds.settle(rows, later, timedelta(seconds=30)) == 1
    assert bounds.settle(rows, later, timedelta(seconds=30)) == 0, "settled once"
    read = bounds.read()
    assert (read.rows, read.first_day, read.last_day) == (3, 20_001, 20_003)
    assert rows.count_documents({}) == 3


def test_a_list_counted_by_an_earlier_version_keeps_its_count_and_days(settings):
    database = connect_service_database(settings, "bounds")
    database["list_bounds"].insert_one({"_id": "notices", "rows": 5, "first_day": 19_000, "last_day": 19_400})
    bounds = ListBounds(database, "notices")
    bounds.ensure_indexes()

    bounds.insert_counted(_inserting(database["notices"], 19_500), 19_500)

    read = bounds.read()
    assert (read.rows, read.first_day, read.last_day) == (6, 19_000, 19_500)
    bounds.reset()
    assert bounds.read().rows == 0 and database["list_bounds"].count_documents({}) == 0
