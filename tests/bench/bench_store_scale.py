"""One service's event store as its history grows to 1k, 100k and (--full) 1M events (targets: appends ≥ 0.8× raw
insert_one, read and command latency flat from 1k to 1M, relay ≥ 0.7× a raw producer).

The history is not made by a million appends (hours at a few hundred appends/s): streams of 10 events, a case's
life, are sealed with the store's own ``seal_batch`` (valid hash chains), turned into documents by
``MongoEventStore._to_document``, flagged ``published: True`` (so the relay below only ever sees the backlog made
at that size) and written with ``insert_many`` in chunks of 1,000 by three processes (sealing is CPU work). The
store grows in steps, and at each size:

  (a) appends/s of ``store.append`` (one event per append, 100 fresh streams in turn, as handlers append after
      loading the aggregate) against raw ``insert_one``/s of a same-shaped document into another collection of
      the same database that carries the same indexes (empty apart from what it got at the smaller sizes); the
      two alternate in 6 rounds so load from other processes hits both alike. Raw ``insert_one`` of such
      documents into the store's own (large) collection runs in the same rounds, to tell the collection's size
      from the store's code, and the store's CPU per append (sealing and mapping, no I/O) is shown too;
  (b) ``read_stream`` of a random stored stream of ~10 events, p50/p99, and a "command": ``read_stream`` then
      ``append`` on such a stream (what every command handler does), p50/p99;
  (c) ``OutboxRelay`` publishing the backlog left by (a), (b) and a top-up (``--backlog``) to a fresh topic
      until ``publish_pending`` returns 0, against a raw kafka-python producer built by ``make_producer`` (the
      relay's own settings: acks=all, one request in flight, linger 5 ms) sending the same keys, values and
      headers to another fresh topic, timed before and after the relay (the mean is the reference); the relay's
      seconds are split into the store's ``unpublished``, the publishing and ``mark_published``. A raw ``find`` of
      the backlog's documents (no decoding) is timed too: no relay that reads its backlog from the store can
      publish faster than that, so its ratio to the raw producer is the ceiling of the relay's ratio.

    .venv/bin/python tests/bench/bench_store_scale.py                      # 1k and 100k ($DUBAN_BENCH_STORE_SIZES)
    .venv/bin/python tests/bench/bench_store_scale.py --full               # and 1M (the fill is ~4-5 min of it)
    .venv/bin/python tests/bench/bench_store_scale.py --sizes 1000,10000   # a quick run

The bench database is dropped at the end. Figures depend on the machine and on what else runs on it: the load
average is printed before and after.
"""
from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import signal
import sys
import time
from typing import Iterator

from common import bench_settings, bench_stack, case_opened_data, percentile, report, table, verdict

from kafka.admin import KafkaAdminClient, NewTopic
from pymongo import MongoClient

from shared.envelope import GENESIS_HASH, Actor, NewEvent
from shared.eventstore.base import AppendRequest, seal_batch
from shared.eventstore.mongo import MongoEventStore
from shared.kafka import make_producer
from shared.mongo import connect_service_database
from shared.relay import OutboxRelay

ACTOR = Actor("bench", "unit_handler", "巴州区教育局")
STREAM_LENGTH = 10
LIFE = ["RectificationOpened", "RectificationPlanSubmitted"] + ["RectificationProgressReported"] * 6 + [
    "RectificationReported", "ReinspectionPassed"]
CHUNK = 1000
APPEND_RATIO_TARGET = 0.8
RELAY_RATIO_TARGET = 0.7
DEFAULT_SIZES = "1000,100000"


def event_data(kind: str, n: int) -> dict:
    if kind == "RectificationOpened":
        return case_opened_data(n)
    return {"case_id": f"case-{n:08d}", "summary": f"第{n}号问题整改进展：已完成危房拆除和围挡设置，健康证已全部换发",
            "evidence": [f"evidence/{n:08d}/photo-1.jpg", f"evidence/{n:08d}/report.pdf"], "reported_on": "2026-06-30"}


def stream_id(n: int) -> str:
    return f"case-{n:08d}"


def history_documents(first: int, count: int) -> Iterator[dict]:
    """Sealed, already published case streams ``first`` … ``first + count - 1``, as the store would map them."""
    for n in range(first, first + count):
        request = AppendRequest(stream_id=stream_id(n), stream_type="case", expected_version=0,
                                events=[NewEvent(kind, event_data(kind, n)) for kind in LIFE], actor=ACTOR,
                                correlation_id=f"seed-{n}")
        for envelope in seal_batch(request, GENESIS_HASH, None):
            yield {**MongoEventStore._to_document(envelope), "published": True}


def _fill_streams(job: tuple[str, str, str, int, int]) -> int:
    """Runs in a worker process: seal, map and insert one range of streams with a client of its own."""
    mongo_url, database, collection, first, count = job
    client = MongoClient(mongo_url)
    try:
        documents = list(history_documents(first, count))
        client[database][collection].insert_many(documents, ordered=False)
        return len(documents)
    finally:
        client.close()


def fill(store: MongoEventStore, mongo_url: str, first_stream: int, streams: int, processes: int = 3) -> float:
    """Bulk-insert ``streams`` whole streams, CHUNK events a job, from a few processes; returns events/s.

    Sealing is CPU work (canonical JSON and a SHA-256 per event), so it runs in processes beside the
    inserts rather than in this one.
    """
    per_job = CHUNK // STREAM_LENGTH
    end = first_stream + streams
    jobs = [(mongo_url, store.collection.database.name, store.collection.name, first, min(per_job, end - first))
            for first in range(first_stream, end, per_job)]
    started = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        inserted = sum(pool.imap_unordered(_fill_streams, jobs))
    return inserted / (time.perf_counter() - started)


def seal_cost_us(samples: int = 500) -> float:
    """CPU time of the store's own work per single-event append, no I/O: seal (hash chain) and map to a document."""
    started = time.process_time()
    raw_documents("cpu", samples)
    return (time.process_time() - started) / samples * 1e6


def copy_indexes(source, target) -> None:
    for name, info in source.index_information().items():
        if name != "_id_":
            target.create_index(list(info["key"]), name=name, unique=bool(info.get("unique")))


def raw_documents(tag: str, count: int) -> list[dict]:
    documents = []
    for n in range(count):
        request = AppendRequest(stream_id=f"raw-{tag}-{n}", stream_type="case", expected_version=0,
                                events=[NewEvent("RectificationOpened", case_opened_data(n))], actor=ACTOR,
                                correlation_id="bench")
        documents.append({**MongoEventStore._to_document(seal_batch(request, GENESIS_HASH, None)[0]), "published": False})
    return documents


def append_rates(store: MongoEventStore, raw, size: int, count: int, rounds: int = 6) -> tuple[float, float, float]:
    """(raw insert_one/s, store append/s, raw insert_one/s into the store's own collection), alternating in rounds."""
    per_round = max(1, count // rounds)
    documents = raw_documents(str(size), per_round * rounds)
    # The same documents again under other keys, already published (the relay must not see them), into the
    # store's collection: separates what the collection's size costs from what the store's code costs.
    beside = [{**d, "_id": f"beside-{d['_id']}", "event_id": f"beside-{d['event_id']}", "published": True}
              for d in raw_documents(f"{size}-beside", per_round * rounds)]
    streams = [f"bench-{size}-{i:03d}" for i in range(100)]
    versions = dict.fromkeys(streams, 0)
    raw_seconds = store_seconds = beside_seconds = 0.0
    n = 0
    for r in range(rounds):
        started = time.perf_counter()
        for document in documents[r * per_round:(r + 1) * per_round]:
            raw.insert_one(document)
        raw_seconds += time.perf_counter() - started
        started = time.perf_counter()
        for document in beside[r * per_round:(r + 1) * per_round]:
            store.collection.insert_one(document)
        beside_seconds += time.perf_counter() - started
        started = time.perf_counter()
        for _ in range(per_round):
            stream = streams[n % len(streams)]
            store.append(AppendRequest(stream_id=stream, stream_type="case", expected_version=versions[stream],
                                       events=[NewEvent("RectificationOpened", case_opened_data(n))], actor=ACTOR,
                                       correlation_id="bench"))
            versions[stream] += 1
            n += 1
        store_seconds += time.perf_counter() - started
    total = per_round * rounds
    return total / raw_seconds, total / store_seconds, total / beside_seconds


def read_and_command_latencies(store: MongoEventStore, streams: int, reads: int, commands: int) -> tuple[list, list]:
    # With replacement: at 1k there are fewer streams than samples (a command finds the stream's new head).
    picks = random.choices(range(streams), k=reads + commands + 20)
    for n in picks[:20]:  # warm-up: connections, prepared plans
        store.read_stream(stream_id(n))
    read_ms, command_ms = [], []
    for n in picks[20:20 + reads]:
        started = time.perf_counter()
        events = store.read_stream(stream_id(n))
        read_ms.append((time.perf_counter() - started) * 1000)
        assert len(events) >= STREAM_LENGTH, f"{stream_id(n)} has {len(events)} events"
    for n in picks[20 + reads:]:
        started = time.perf_counter()
        events = store.read_stream(stream_id(n))
        store.append(AppendRequest(stream_id=stream_id(n), stream_type="case", expected_version=events[-1].version,
                                   events=[NewEvent("RectificationProgressReported", event_data("progress", n))],
                                   actor=ACTOR, correlation_id="bench"))
        command_ms.append((time.perf_counter() - started) * 1000)
    return read_ms, command_ms


def fresh_topics(settings, *names: str) -> list[str]:
    topics = [settings.topic(name) for name in names]
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap, client_id="duban-bench-admin")
    try:
        admin.create_topics([NewTopic(name=t, num_partitions=3, replication_factor=1) for t in topics])
    finally:
        admin.close()
    return topics


def relay_rates(store: MongoEventStore, settings, size: int, appended: int, backlog: int) -> dict:
    """Top the backlog up to ``backlog`` events, then raw producer, relay, raw producer again."""
    for n in range(max(0, backlog - appended)):
        stream = f"backlog-{size}-{n % 200:03d}"
        store.append(AppendRequest(stream_id=stream, stream_type="case", expected_version=n // 200,
                                   events=[NewEvent("RectificationOpened", case_opened_data(n))], actor=ACTOR,
                                   correlation_id="bench"))
    pending = store.unpublished(max(backlog, appended) * 2)
    messages = [(e.stream_id.encode(), e.to_json_bytes(), [("type", e.type.encode()), ("event_id", e.event_id.encode())])
                for e in pending]
    raw_topic, relay_topic = fresh_topics(settings, f"raw-{size}", f"relay-{size}")
    producer = make_producer(settings)
    try:
        for topic in (raw_topic, relay_topic):
            producer.partitions_for(topic)  # metadata before the clock starts, for both

        def raw_rate() -> float:
            started = time.perf_counter()
            for key, value, headers in messages:
                producer.send(raw_topic, key=key, value=value, headers=headers)
            producer.flush()
            return len(messages) / (time.perf_counter() - started)

        raw_before = raw_rate()
        # The floor under any relay that reads its backlog from the store: the backlog's documents fetched alone
        # (one indexed query, no decoding, nothing published or marked).
        started = time.perf_counter()
        fetched = sum(1 for _ in store.collection.find({"published": False}))
        fetch_rate = fetched / (time.perf_counter() - started)
        # Where the relay's time goes: the store's two calls are timed on this instance only.
        spent = {"query": 0.0, "mark": 0.0}
        store.unpublished = _timed(store.unpublished, spent, "query")
        store.mark_published = _timed(store.mark_published, spent, "mark")
        relay = OutboxRelay(store, producer, relay_topic, batch_size=settings.relay_batch_size)
        published, passes = 0, 0
        started = time.perf_counter()
        while (n := relay.publish_pending()) > 0:
            published += n
            passes += 1
        relay_seconds = time.perf_counter() - started
        raw_after = raw_rate()
    finally:
        producer.close()
        store.__dict__.pop("unpublished", None)
        store.__dict__.pop("mark_published", None)
    raw = (raw_before + raw_after) / 2
    return {"backlog": len(messages), "published": published, "passes": passes, "raw": raw,
            "raw_spread": (raw_before, raw_after), "relay": published / relay_seconds if relay_seconds else 0.0,
            "seconds": relay_seconds, "query": spent["query"], "mark": spent["mark"], "fetch": fetch_rate}


def _timed(method, spent: dict, key: str):
    def timed(*args, **kwargs):
        started = time.perf_counter()
        try:
            return method(*args, **kwargs)
        finally:
            spent[key] += time.perf_counter() - started
    return timed


def size_label(n: int) -> str:
    return f"{n // 1_000_000}M" if n >= 1_000_000 and n % 1_000_000 == 0 else (
        f"{n // 1000}k" if n >= 1000 and n % 1000 == 0 else str(n))


def run(stack, sizes: list[int] | None = None, appends: int = 600, reads: int = 300, commands: int = 200,
        backlog: int = 2000) -> dict:
    sizes = sorted(sizes or [int(s) for s in os.environ.get("DUBAN_BENCH_STORE_SIZES", DEFAULT_SIZES).split(",")])
    settings = bench_settings(stack)
    database = connect_service_database(settings, "bench")
    load_before = os.getloadavg()
    results: dict[int, dict] = {}
    try:
        bootstrap_store = MongoEventStore(database)
        bootstrap_store.ensure_indexes()
        raw = database.create_collection("raw_events")
        copy_indexes(bootstrap_store.collection, raw)
        streams = 0
        for size in sizes:
            wanted = size // STREAM_LENGTH
            fill_rate = fill(bootstrap_store, settings.mongo_url, streams, wanted - streams) if wanted > streams else float("nan")
            filled_by = wanted - streams
            streams = max(streams, wanted)
            store = MongoEventStore(database)  # a fresh process's view: no cached stream heads
            raw_rate, store_rate, beside_rate = append_rates(store, raw, size, appends)
            read_ms, command_ms = read_and_command_latencies(store, streams, reads, commands)
            relay = relay_rates(store, settings, size, appends + commands, backlog)
            results[size] = {"fill": fill_rate, "filled": filled_by * STREAM_LENGTH, "raw": raw_rate, "beside": beside_rate,
                             "append": store_rate, "read": read_ms, "command": command_ms, "relay": relay}
            report(f"event store at {size_label(size)} seeded events", [
                ("seeded now (+ this run's appends)", f"{streams * STREAM_LENGTH:,} in {streams:,} streams"),
                ("fill (insert_many, pre-sealed)", f"{fill_rate:,.0f} events/s for {filled_by * STREAM_LENGTH:,}"),
                ("raw insert_one/s", f"{raw_rate:,.0f}"),
                ("store.append/s", f"{store_rate:,.0f}"),
                ("store CPU per append, no I/O (seal + map)", f"{seal_cost_us():,.0f} µs"),
                (f"append ratio (target ≥ {APPEND_RATIO_TARGET})", f"{store_rate / raw_rate:.2f}"),
                ("raw insert_one/s into the store's own collection", f"{beside_rate:,.0f} "
                 f"(append / this: {store_rate / beside_rate:.2f})"),
                ("read_stream p50 / p99", f"{percentile(read_ms, 50):.1f} / {percentile(read_ms, 99):.1f} ms"),
                ("command p50 / p99", f"{percentile(command_ms, 50):.1f} / {percentile(command_ms, 99):.1f} ms"),
                ("relay backlog, published (passes)", f"{relay['backlog']:,}, {relay['published']:,} ({relay['passes']})"),
                ("raw producer msg/s (before, after)",
                 f"{relay['raw']:,.0f} ({relay['raw_spread'][0]:,.0f}, {relay['raw_spread'][1]:,.0f})"),
                ("relay ev/s", f"{relay['relay']:,.0f}"),
                ("relay seconds: unpublished / publish / mark",
                 f"{relay['query']:.2f} / {relay['seconds'] - relay['query'] - relay['mark']:.2f} / {relay['mark']:.2f}"),
                (f"relay ratio (target ≥ {RELAY_RATIO_TARGET})", f"{relay['relay'] / relay['raw']:.2f}"),
                ("backlog fetched alone, raw find (docs/s)", f"{relay['fetch']:,.0f} "
                 f"(ceiling for any relay reading the store, were publishing and marking free: "
                 f"{relay['fetch'] / relay['raw']:.2f}× raw)"),
            ])
    finally:
        database.client.drop_database(database.name)
    load_after = os.getloadavg()
    rows = []
    for size, r in results.items():
        rows.append([size_label(size), f"{r['raw']:,.0f}", f"{r['append']:,.0f}", f"{r['append'] / r['raw']:.2f}",
                     f"{r['beside']:,.0f}",
                     f"{percentile(r['read'], 50):.1f}", f"{percentile(r['read'], 99):.1f}",
                     f"{percentile(r['command'], 50):.1f}", f"{percentile(r['command'], 99):.1f}",
                     f"{r['relay']['raw']:,.0f}", f"{r['relay']['relay']:,.0f}",
                     f"{r['relay']['relay'] / r['relay']['raw']:.2f}"])
    table(f"event store vs history size (appends {appends}, reads {reads}, commands {commands}, backlog {backlog})",
          ["events", "raw ins/s", "append/s", "ratio", "raw in events/s", "read p50", "read p99", "cmd p50", "cmd p99",
           "raw msg/s", "relay ev/s", "ratio"], rows)
    if results:
        first, last = results[sizes[0]], results[sizes[-1]]
        report("goals", [
            (f"append ≥ {APPEND_RATIO_TARGET}× raw at every size",
             verdict(all(r["append"] / r["raw"] >= APPEND_RATIO_TARGET for r in results.values()))),
            (f"relay ≥ {RELAY_RATIO_TARGET}× raw at every size",
             verdict(all(r["relay"]["relay"] / r["relay"]["raw"] >= RELAY_RATIO_TARGET for r in results.values()))),
            (f"read p99 {size_label(sizes[0])} → {size_label(sizes[-1])}",
             f"{percentile(first['read'], 99):.1f} → {percentile(last['read'], 99):.1f} ms"),
            (f"command p99 {size_label(sizes[0])} → {size_label(sizes[-1])}",
             f"{percentile(first['command'], 99):.1f} → {percentile(last['command'], 99):.1f} ms"),
            ("load average before / after (1, 5, 15 min)",
             f"{' '.join(f'{x:.2f}' for x in load_before)} / {' '.join(f'{x:.2f}' for x in load_after)}"),
        ])
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=None,
                        help=f"comma-separated history sizes (default $DUBAN_BENCH_STORE_SIZES or {DEFAULT_SIZES})")
    parser.add_argument("--full", action="store_true", help="also 1,000,000 events")
    parser.add_argument("--appends", type=int, default=600, help="appends (and raw inserts) timed at each size")
    parser.add_argument("--reads", type=int, default=300)
    parser.add_argument("--commands", type=int, default=200)
    parser.add_argument("--backlog", type=int, default=2000, help="events the relay publishes at each size")
    args = parser.parse_args()
    sizes = [int(s) for s in (args.sizes or os.environ.get("DUBAN_BENCH_STORE_SIZES", DEFAULT_SIZES)).split(",")]
    if args.full and 1_000_000 not in sizes:
        sizes.append(1_000_000)
    # An interrupted run (Ctrl-C, timeout's SIGTERM) still drops its database and stops the servers it started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with bench_stack() as stack:
        run(stack, sizes, args.appends, args.reads, args.commands, args.backlog)


if __name__ == "__main__":
    main()
