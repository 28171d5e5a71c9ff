"""A list's bounds on the real server: first rows counted at the same moment by several processes all count.

FerretDB applies ``$inc``/``$max`` as a read-modify-write, so concurrent updates of one document lose each
other's effect (seen: 8 rows counted as 6); the bounds are kept as one tally per process instead.
"""
from __future__ import annotations

import multiprocessing
import threading

from shared.config import Settings
from shared.mongo import connect_service_database
from shared.paging import ListBounds

PROCESSES, THREADS = 3, 4


def _count_rows(settings: Settings, name: str, first_day: int, start, failures) -> None:
    """One writing process (a gunicorn worker, a consumer): its threads count a row each, all at once."""
    bounds = ListBounds(connect_service_database(settings, "bounds"), name)
    barrier = threading.Barrier(THREADS)

    def count(day: int) -> None:
        barrier.wait()
        try:
            bounds.count_row(day)
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


def test_a_list_counted_by_an_earlier_version_keeps_its_count_and_days(settings):
    database = connect_service_database(settings, "bounds")
    database["list_bounds"].insert_one({"_id": "notices", "rows": 5, "first_day": 19_000, "last_day": 19_400})
    bounds = ListBounds(database, "notices")
    bounds.ensure_indexes()

    bounds.count_row(19_500)

    read = bounds.read()
    assert (read.rows, read.first_day, read.last_day) == (6, 19_000, 19_500)
    bounds.reset()
    assert bounds.read().rows == 0 and database["list_bounds"].count_documents({}) == 0
