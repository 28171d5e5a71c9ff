"""Shared set-up for benchmarks: the real servers (started here unless KAFKA_BOOTSTRAP/MONGO_URL are set)."""
from __future__ import annotations

import statistics
import sys
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from deploy.localstack import Stack, temporary_stack  # noqa: E402
from shared.config import Settings  # noqa: E402


def bench_stack():
    return temporary_stack("duban-bench-")


def bench_settings(stack: Stack) -> Settings:
    prefix = f"bench{uuid.uuid4().hex[:6]}"
    return Settings(mongo_url=stack.mongo_url, kafka_bootstrap=stack.kafka_bootstrap, db_prefix=prefix,
                    topic_prefix=prefix)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def report(title: str, rows: list[tuple[str, str]]) -> None:
    print(f"\n== {title}")
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"  {key:<{width}}  {value}")


__all__ = ["bench_stack", "bench_settings", "percentile", "report", "statistics"]
