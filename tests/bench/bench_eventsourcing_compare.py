"""Appends/s of the `eventsourcing` library's PostgreSQL recorder against duban's MongoEventStore.append through
FerretDB, on the same PostgreSQL server in the same run (for information: how much the MongoDB protocol costs).

Both sides write one event per call, round-robin over 100 streams (the first call of each stream creates it):

  eventsourcing  an ``Application`` with PERSISTENCE_MODULE=eventsourcing.postgres (POSTGRES_* from the cluster's
                 URL, tables in a throw-away schema of the URL's database); ``app.save(case)`` after one command
                 method, aggregates kept in memory as duban keeps stream heads in memory;
  duban          ``MongoEventStore.append`` of the same payload on a database of the stack's FerretDB, which keeps
                 its data on that same PostgreSQL server.

The two alternate in rounds so that load from other processes hits both alike. Reading a stream back
(``repository.get`` vs ``read_stream``) is timed too. The PostgreSQL URL is the stack's (``postgres_url``), else
$DUBAN_POSTGRES_URL; without either the benchmark says so and does nothing.

    .venv/bin/python tests/bench/bench_eventsourcing_compare.py                 # 1,500 appends each
    .venv/bin/python tests/bench/bench_eventsourcing_compare.py --appends 6000
"""
from __future__ import annotations

import argparse
import signal
import sys
import time
import uuid
from urllib.parse import unquote, urlsplit

from common import bench_settings, bench_stack, case_opened_data, percentile, postgres_url, report

import psycopg
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from shared.envelope import Actor, NewEvent
from shared.eventstore.base import AppendRequest
from shared.eventstore.mongo import MongoEventStore
from shared.mongo import connect_service_database

ACTOR = Actor("bench", "unit_handler", "巴州区教育局")
STREAMS = 100


class Case(Aggregate):
    """A rectification case reduced to what the comparison needs: created, then progress reported."""

    @event("Opened")
    def __init__(self, data: dict):
        self.data = data
        self.reports = 0

    @event("ProgressReported")
    def report_progress(self, data: dict) -> None:
        self.reports += 1


def eventsourcing_env(url: str, schema: str) -> dict[str, str]:
    parts = urlsplit(url)
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": parts.path.lstrip("/") or "postgres",
        "POSTGRES_HOST": parts.hostname or "127.0.0.1",
        "POSTGRES_PORT": str(parts.port or 5432),
        "POSTGRES_USER": unquote(parts.username or "postgres"),
        "POSTGRES_PASSWORD": unquote(parts.password or ""),  # trust auth: any
        "POSTGRES_SCHEMA": schema,
        "CREATE_TABLE": "y",
    }


def server_facts(url: str) -> tuple[str, bool]:
    """The server's version and durability settings, and whether FerretDB holds connections to it."""
    with psycopg.connect(url, autocommit=True) as connection:
        version = connection.execute("SHOW server_version").fetchone()[0]
        for setting in ("fsync", "synchronous_commit"):
            version += f", {setting}={connection.execute(f'SHOW {setting}').fetchone()[0]}"
        ferretdb = connection.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'FerretDB'").fetchone()[0] > 0
    return version, ferretdb


def run(stack, appends: int = 1500, rounds: int = 5) -> dict:
    url = postgres_url(stack)
    if url is None:
        report("eventsourcing (PostgreSQL) vs duban store (FerretDB)", [
            ("skipped", "no PostgreSQL URL: the stack has no postgres_url and DUBAN_POSTGRES_URL is not set")])
        return {}
    settings = bench_settings(stack)
    database = connect_service_database(settings, "bench")
    store = MongoEventStore(database)
    store.ensure_indexes()
    schema = f"bench_es_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    app = Application(env=eventsourcing_env(url, schema))
    version, ferretdb_there = server_facts(url)
    try:
        per_round = max(STREAMS, appends // rounds)
        cases: list[Case] = []
        versions = [0] * STREAMS
        es_seconds = duban_seconds = 0.0
        es_n = duban_n = 0
        for _ in range(rounds):
            started = time.perf_counter()
            for _ in range(per_round):
                data = case_opened_data(es_n)
                if len(cases) < STREAMS:
                    cases.append(Case(data))
                    case = cases[-1]
                else:
                    case = cases[es_n % STREAMS]
                    case.report_progress(data)
                app.save(case)
                es_n += 1
            es_seconds += time.perf_counter() - started
            started = time.perf_counter()
            for _ in range(per_round):
                i = duban_n % STREAMS
                store.append(AppendRequest(stream_id=f"case-{schema}-{i:03d}", stream_type="case",
                                           expected_version=versions[i],
                                           events=[NewEvent("RectificationProgressReported", case_opened_data(duban_n))],
                                           actor=ACTOR, correlation_id="bench"))
                versions[i] += 1
                duban_n += 1
            duban_seconds += time.perf_counter() - started

        es_read, duban_read = [], []
        for i in range(STREAMS):
            started = time.perf_counter()
            loaded = app.repository.get(cases[i].id)
            es_read.append((time.perf_counter() - started) * 1000)
            assert loaded.version == cases[i].version
            started = time.perf_counter()
            events = store.read_stream(f"case-{schema}-{i:03d}")
            duban_read.append((time.perf_counter() - started) * 1000)
            assert len(events) == versions[i]
    finally:
        app.close()
        with psycopg.connect(url, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA "{schema}" CASCADE')
        database.client.drop_database(database.name)
    es_rate, duban_rate = es_n / es_seconds, duban_n / duban_seconds
    report("eventsourcing PostgreSQL recorder vs duban MongoEventStore through FerretDB, same PostgreSQL", [
        ("PostgreSQL", f"{version} (FerretDB connected to it: {'yes' if ferretdb_there else 'NO'})"),
        ("appends each (one event per call, 100 streams)", f"{es_n:,} / {duban_n:,} in {rounds} alternating rounds"),
        ("eventsourcing app.save/s", f"{es_rate:,.0f}"),
        ("duban store.append/s", f"{duban_rate:,.0f}"),
        ("ratio duban / eventsourcing", f"{duban_rate / es_rate:.2f}"),
        (f"read a {versions[0]}-event stream p50 / p99, eventsourcing",
         f"{percentile(es_read, 50):.1f} / {percentile(es_read, 99):.1f} ms"),
        (f"read a {versions[0]}-event stream p50 / p99, duban",
         f"{percentile(duban_read, 50):.1f} / {percentile(duban_read, 99):.1f} ms"),
    ])
    return {"eventsourcing": es_rate, "duban": duban_rate, "es_read": es_read, "duban_read": duban_read}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--appends", type=int, default=1500, help="appends on each side")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with bench_stack() as stack:
        run(stack, args.appends, args.rounds)


if __name__ == "__main__":
    main()
