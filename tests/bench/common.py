"""Shared set-up for benchmarks: the real servers (started here unless KAFKA_BOOTSTRAP/MONGO_URL are set)."""
from __future__ import annotations

import os
import secrets
import statistics
import sys
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
# Benchmarks run outside the test session (tests/conftest.py): they too give every process they start a secret of
# this run, and development mode for the portal's demo accounts.
os.environ.setdefault("DUBAN_JWT_SECRET", f"bench-{secrets.token_urlsafe(32)}")
os.environ.setdefault("DUBAN_DEV_MODE", "1")

from cpu import CpuMeter  # noqa: E402
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


def table(title: str, header: list[str], rows: list[list[str]]) -> None:
    """A figures table: first column left-aligned, the others right-aligned."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    print(f"\n== {title}")
    for row in [header, ["-" * w for w in widths], *rows]:
        cells = [f"{row[0]:<{widths[0]}}"] + [f"{c:>{w}}" for c, w in zip(row[1:], widths[1:], strict=True)]
        print("  " + "  ".join(cells))


def verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def postgres_url(stack: Stack) -> str | None:
    """The PostgreSQL cluster behind FerretDB: the stack's own, else DUBAN_POSTGRES_URL (None: not known)."""
    return getattr(stack, "postgres_url", None) or os.environ.get("DUBAN_POSTGRES_URL") or None


def case_opened_data(n: int) -> dict:
    """A RectificationOpened payload of realistic size (~0.8 KB of JSON, mostly Chinese text)."""
    return {
        "case_id": f"case-{n:08d}", "notice_id": f"notice-{n // 5:08d}", "problem_id": f"p{n % 5 + 1}",
        "description": f"第{n}号问题：部分学校D级危房未按期拆除，校园周边存在安全隐患，食堂从业人员健康证过期未换发",
        "requirement": "立即组织排查，制定整改方案，明确责任人和完成时限，整改完成后书面报告市教育督导室",
        "responsible_unit": "巴州区教育局", "responsible_person": "张三", "area": "校园安全",
        "issuer_unit": "巴中市人民政府教育督导委员会办公室", "notice_title": f"关于第{n // 5}号督导检查发现问题的整改通知",
        "notice_kind": "督导整改通知书", "doc_number": f"巴教督〔2026〕{n // 5 % 1000}号", "listed": n % 7 == 0,
        "related_task_ids": [f"task-{n % 97:04d}"], "deadline": "2026-12-31", "issued_on": "2026-03-01",
    }


__all__ = ["CpuMeter", "bench_stack", "bench_settings", "case_opened_data", "percentile", "postgres_url", "report",
           "statistics", "table", "verdict"]
