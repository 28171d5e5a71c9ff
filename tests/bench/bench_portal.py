"""The portal's read models over three years of history (targets: status and dashboard p99 ≤ 50 ms; rebuild ≥ 10,000 events/s).

A synthetic history (tests/bench/portal_history.py: 100 units, 3 years, ~1,000,000 events with valid hash
chains) is published to the three topics of a fresh topic prefix, then:

  (a) rebuild: the portal's feed from offset 0 to caught up (what ``rebuild_from_topics`` and a start without a
      snapshot do), events applied / seconds — and the pure in-memory rate of ``PortalModel.apply`` on the same
      envelopes (so the Kafka fetch and decoding cost shows as the difference), with the memory (RSS) the
      rebuilt model takes; then a snapshot of it is written and a new feed restarts from it (read, HMAC, unpickle,
      digest check, positions checked against the topics, no tail), which a start with a snapshot does;
  (b) queries on the rebuilt model: dashboard and status_table (by unit, department, task) for an auditor,
      two unit handlers and a department liaison over the whole range, one year and one month, in a random mix;
      ledger and statistics for information. The first call of each kind is shown apart from the mix.

    .venv/bin/python tests/bench/bench_portal.py                 # 1,000,000 events (~20 min on 2 slow cores)
    .venv/bin/python tests/bench/bench_portal.py --events 50000  # a quick run (or DUBAN_BENCH_PORTAL_EVENTS)
    .venv/bin/python tests/bench/bench_portal.py --without-crc   # also rebuild with the Kafka CRC check off

Figures depend on the machine: the first table shows how long a plain Python loop takes on it.
"""
from __future__ import annotations

import argparse
import gc
import os
import random
import signal
import sys
import tempfile
import time
from datetime import date
from functools import partial
from pathlib import Path

from common import bench_settings, bench_stack, percentile, report
from portal_history import generate_history, publish_history

from kafka import KafkaConsumer

from shared.auth import Role
from shared.policy import load_policy_book
from services.portal.adapters import feed
from services.portal.adapters import snapshot as snapshots
from services.portal.adapters.feed import TopicFeed, rebuild_from_topics
from services.portal.domain.model import PortalModel
from services.portal.domain.queries import CaseFilter, LightRule, Period, Viewer, dashboard, ledger, statistics, status_table

DASHBOARD_P99_MS = 50.0
STATUS_P99_MS = 50.0
REBUILD_EVENTS_PER_S = 10_000


def verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def rss_mb() -> float:
    """Resident memory of this process (VmRSS), in MiB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


class GcTimer:
    """Time spent in the cyclic garbage collector while it is installed."""

    def __init__(self):
        self.seconds = 0.0
        self._started = 0.0

    def __call__(self, phase, info):
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._started

    def __enter__(self):
        gc.callbacks.append(self)
        return self

    def __exit__(self, *exc):
        gc.callbacks.remove(self)


def viewers(history_units: list[str]) -> dict[str, Viewer]:
    return {
        "auditor": Viewer("bench.auditor", Role.AUDITOR),
        "handler 巴州区第一中学": Viewer("bench.school", Role.UNIT_HANDLER, "巴州区第一中学"),
        "handler 通江县教育局": Viewer("bench.bureau", Role.UNIT_HANDLER, "通江县教育局"),
        "liaison 平昌县财政局": Viewer("bench.finance", Role.DEPARTMENT_LIAISON, "平昌县财政局"),
    }


def periods(end: date) -> dict[str, Period]:
    month_start = date(end.year, end.month, 1)
    return {"whole range": Period(), "one year": Period(date(end.year, 1, 1), end),
            "one month": Period(month_start, end)}


def python_speed() -> str:
    """A yardstick for comparing machines: 10 million additions in a plain Python loop."""
    started = time.perf_counter()
    total = 0
    for n in range(10_000_000):
        total += n
    return f"10M-addition Python loop {time.perf_counter() - started:.2f} s, {os.cpu_count()} CPUs"


def timed(call) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def figures_ms(samples: list[float]) -> str:
    return (f"p50 {percentile(samples, 50):7.2f}  p95 {percentile(samples, 95):7.2f}  p99 {percentile(samples, 99):7.2f}"
            f"  max {max(samples):7.2f} ms")


def measure_queries(model: PortalModel, end: date, units: list[str], calls: int, slow_calls: int, seed: int = 7) -> dict:
    rule = LightRule(end, load_policy_book(None))
    who, when = viewers(units), periods(end)
    combos = [(v, p) for v in who for p in when]
    kinds = {
        "dashboard": lambda v, p: dashboard(model, who[v], when[p], rule),
        "status_table by unit": lambda v, p: status_table(model, who[v], when[p], "unit", rule),
        "status_table by department": lambda v, p: status_table(model, who[v], when[p], "department", rule),
        "status_table by task": lambda v, p: status_table(model, who[v], when[p], "task", rule),
    }
    slow_kinds = {
        "ledger (all rows)": lambda v, p: ledger(model, who[v], CaseFilter(period=when[p]), rule),
        "statistics": lambda v, p: statistics(model, who[v], when[p]),
    }
    first = {name: timed(partial(call, *combos[0])) for name, call in {**kinds, **slow_kinds}.items()}
    # every combination once before the mix (what a first visit of each page would cost is in `first` above)
    for call in kinds.values():
        for combo in combos:
            call(*combo)
    rng = random.Random(seed)
    plan = [(name, rng.choice(combos)) for name in kinds for _ in range(calls)]
    plan += [(name, rng.choice(combos)) for name in slow_kinds for _ in range(slow_calls)]
    rng.shuffle(plan)
    samples: dict[str, list[float]] = {name: [] for name in {**kinds, **slow_kinds}}
    by_combo: dict[tuple[str, str, str], list[float]] = {}
    every = {**kinds, **slow_kinds}
    with GcTimer() as gc_time:
        for name, combo in plan:
            took = timed(partial(every[name], *combo))
            samples[name].append(took)
            by_combo.setdefault((name, *combo), []).append(took)
    worst = {name: max(((max(v), k[1], k[2]) for k, v in by_combo.items() if k[0] == name), default=(0, "", ""))
             for name in kinds}
    return {"samples": samples, "first": first, "worst": worst, "gc_seconds": gc_time.seconds,
            "sizes": {name: _size(every[name](*combos[0])) for name in every}}


def _size(result) -> str:
    if isinstance(result, list):
        return f"{len(result)} rows"
    if isinstance(result, dict) and "by_unit" in result:
        return f"{result['matters']} matters"
    return "-"


def rebuild_without_crc_check(settings) -> tuple[float, int]:
    """rebuild_from_topics with the consumer's per-batch CRC32C check off (kafka-python computes it in pure
    Python unless the crc32c package is installed): what the feed would reach without it, for information."""
    original = feed.KafkaConsumer
    feed.KafkaConsumer = partial(KafkaConsumer, check_crcs=False)
    try:
        started = time.perf_counter()
        model = rebuild_from_topics(settings)
        return time.perf_counter() - started, model.events_applied
    finally:
        feed.KafkaConsumer = original


def measure_snapshot(settings, feed_: TopicFeed, consumer, partitions, directory: Path) -> tuple[float, list]:
    """Write a snapshot of the rebuilt model, then restart a fresh feed from it (what a portal start does)."""
    digest_started = time.perf_counter()
    digest = feed_.model.digest()
    digest_seconds = time.perf_counter() - digest_started
    started = time.perf_counter()
    path = feed_.snapshot(consumer, partitions)
    write_seconds = time.perf_counter() - started
    size = path.stat().st_size
    events = feed_.model.events_applied
    gc.collect()

    started = time.perf_counter()
    with feed._collector_paused():
        loaded = snapshots.read_snapshot(path, settings)  # read + HMAC + unpickle + digest check
    read_seconds = time.perf_counter() - started
    del loaded
    gc.collect()
    restarted = TopicFeed(settings, PortalModel(), snapshot_dir=directory)
    started = time.perf_counter()
    consumer2, partitions2 = restarted._consumer()
    try:
        restored = restarted.restore(consumer2, partitions2)
        tail = restarted.catch_up(consumer2, partitions2)
    finally:
        consumer2.close()
    restart_seconds = time.perf_counter() - started
    same = restored and restarted.model.digest() == digest and restarted.model.events_applied == events
    return restart_seconds, [
        ("digest of the model", f"{digest_seconds:.1f} s (taken for each snapshot, checked at each restore)"),
        ("snapshot written", f"{write_seconds:.1f} s, {size / 2**20:,.0f} MiB (digest, pickle, HMAC, fsync, rename)"),
        ("  of it read back", f"{read_seconds:.1f} s (read, HMAC, unpickle with the collector paused, digest check)"),
        ("restart from the snapshot", f"{restart_seconds:.1f} s to caught up (connect, read, check the positions "
                                      f"against the topics, {tail:,} tail events); same digest as the rebuild: {same}"),
    ]


def crc32c_implementation() -> str:
    from kafka.record import util

    return "C (crc32c package)" if util.crc32c_c is not None else "pure Python (no crc32c package)"


def run(stack, events: int | None = None, calls: int = 200, slow_calls: int = 20, in_memory: bool = True,
        without_crc: bool = False) -> dict:
    events = events or int(os.environ.get("DUBAN_BENCH_PORTAL_EVENTS", "1000000"))
    settings = bench_settings(stack)
    history = generate_history(events)
    gc.collect()
    gc.freeze()  # the history is the benchmark's, not the portal's: keep it out of the collector's way
    published = publish_history(history, settings)
    total = len(history.events)
    report(f"portal history ({settings.topic_prefix}.*)", [
        ("machine", python_speed()),
        ("history", history.summary()),
        ("generated + sealed", f"{history.generate_seconds:.1f} s + {history.seal_seconds:.1f} s"),
        ("published to Kafka", f"{published['events']:,} events, {published['bytes'] / 2**20:,.0f} MiB in "
                               f"{published['seconds']:.1f} s ({published['events'] / published['seconds']:,.0f} events/s)"),
    ])

    # (a) rebuild from the topics, as `duban rebuild portal` and a portal start without a snapshot do
    rss_before = rss_mb()
    directory = Path(tempfile.mkdtemp(prefix="duban-bench-snapshots-"))
    with GcTimer() as gc_rebuild:
        started = time.perf_counter()
        model = PortalModel()
        rebuilding = TopicFeed(settings, model, snapshot_dir=directory)
        consumer, partitions = rebuilding._consumer()
        rebuilding.catch_up(consumer, partitions)
        rebuild_seconds = time.perf_counter() - started
    rss_after = rss_mb()
    rebuild_rate = model.events_applied / rebuild_seconds
    broken = [stream for stream, check in model.streams.items() if not check.ok]
    rows = [
        ("events applied", f"{model.events_applied:,} of {total:,} published"),
        ("rebuild_from_topics", f"{rebuild_seconds:.1f} s → {rebuild_rate:,.0f} events/s "
                                f"(target ≥ {REBUILD_EVENTS_PER_S:,}: {verdict(rebuild_rate >= REBUILD_EVENTS_PER_S)})"),
        ("  of which garbage collection", f"{gc_rebuild.seconds:.1f} s"),
        ("  Kafka batch CRC32C check", crc32c_implementation()),
        ("hash chains", f"{len(model.streams):,} streams, {len(broken)} broken"),
        ("read models", f"{len(model.notices):,} notices, {len(model.cases):,} cases, {len(model.tasks):,} tasks, "
                        f"{len(model.plans)} plans"),
        ("memory (RSS) of the model", f"{rss_after - rss_before:,.0f} MiB (process {rss_after:,.0f} MiB)"),
    ]
    try:
        restart_seconds, snapshot_rows = measure_snapshot(settings, rebuilding, consumer, partitions, directory)
        rows += snapshot_rows
    finally:
        consumer.close()
        for path in directory.iterdir():
            path.unlink()
        directory.rmdir()
    gc.collect()
    memory_rate = None
    if in_memory:
        replica = PortalModel()
        with GcTimer() as gc_memory:
            started = time.perf_counter()
            for service, envelope in history.events:
                replica.apply(service, envelope)
            memory_seconds = time.perf_counter() - started
        memory_rate = replica.events_applied / memory_seconds
        same = (replica.events_applied == model.events_applied and len(replica.cases) == len(model.cases)
                and len(replica.notices) == len(model.notices))
        rows += [
            ("PortalModel.apply in memory", f"{memory_seconds:.1f} s → {memory_rate:,.0f} events/s "
                                            f"(GC {gc_memory.seconds:.1f} s; same records as the rebuild: {same})"),
            ("Kafka fetch + decode share", f"{max(0.0, 1 - memory_seconds / rebuild_seconds):.0%} "
                                           f"of the rebuild time"),
        ]
        del replica
        gc.collect()
    if without_crc:
        seconds, applied = rebuild_without_crc_check(settings)
        gc.collect()
        rows.append(("rebuild, consumer check_crcs=False", f"{seconds:.1f} s → {applied / seconds:,.0f} events/s "
                                                           "(not what the feed does; for information)"))
    report("(a) rebuilding every portal read model", rows)
    if model.events_applied != total or broken:
        print("  !! the rebuild did not reproduce the published history")

    # (b) queries on the rebuilt model
    open_cases = sum(case.status not in ("closed", "withdrawn") for case in model.cases.values())
    queries = measure_queries(model, history.end, history.units, calls, slow_calls)
    samples, first = queries["samples"], queries["first"]
    rows = [("today (LightRule)", f"{history.end}; {open_cases:,} cases not yet closed"),
            ("mix", f"{calls} calls of each kind over {len(viewers([]))} viewers × {len(periods(history.end))} periods "
                    "(random), after one call of each combination")]
    met = {}
    for name, values in samples.items():
        target = DASHBOARD_P99_MS if name == "dashboard" else STATUS_P99_MS if name.startswith("status_table") else None
        p99 = percentile(values, 99)
        note = "" if target is None else f"  target ≤ {target:.0f} ms: {verdict(p99 <= target)}"
        if target is not None:
            met[name] = p99 <= target
        rows.append((f"{name} ({len(values)} calls)", figures_ms(values) + note))
    for name, (slowest, viewer, period) in queries["worst"].items():
        rows.append((f"slowest {name}", f"{slowest:.2f} ms ({viewer}, {period})"))
    for name, took in first.items():
        rows.append((f"first {name} after rebuild", f"{took:.2f} ms (auditor, whole range; {queries['sizes'][name]})"))
    rows.append(("GC during the mix", f"{queries['gc_seconds'] * 1000:.0f} ms"))
    report("(b) queries on the rebuilt model (ms)", rows)

    summary = [("rebuild ≥ 10,000 events/s", f"{rebuild_rate:,.0f} events/s: {verdict(rebuild_rate >= REBUILD_EVENTS_PER_S)}"),
               ("restart to caught up", f"{rebuild_seconds:.1f} s without a snapshot, {restart_seconds:.1f} s from one")]
    summary += [(f"{name} p99 ≤ 50 ms", f"{percentile(samples[name], 99):.2f} ms: {'met' if ok else 'MISSED'}")
                for name, ok in met.items()]
    report(f"portal targets with {total:,} events", summary)
    return {"events": total, "rebuild_rate": rebuild_rate, "memory_rate": memory_rate, "restart_seconds": restart_seconds,
            "model_mib": rss_after - rss_before, "p99": {n: percentile(v, 99) for n, v in samples.items()}}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=None,
                        help="size of the history (default $DUBAN_BENCH_PORTAL_EVENTS or 1,000,000)")
    parser.add_argument("--calls", type=int, default=200, help="calls of each dashboard/status query")
    parser.add_argument("--slow-calls", type=int, default=20, help="calls of ledger and statistics")
    parser.add_argument("--no-in-memory", action="store_true", help="skip the in-memory apply rate")
    parser.add_argument("--without-crc", action="store_true",
                        help="also rebuild with the Kafka consumer's CRC check off (for information)")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with bench_stack() as stack:
        run(stack, args.events, args.calls, args.slow_calls, not args.no_in_memory, args.without_crc)


if __name__ == "__main__":
    main()
