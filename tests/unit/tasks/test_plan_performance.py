"""Guards against slow or super-linear parsing.

The 1 MB / 1 s target itself is measured by ``tests/bench/bench_plan_parser.py``.
These bounds are hang guards, 30x the normal time: a busy machine (a 3 s limit failed once while a
benchmark ran beside the suite) must not make them flaky, while a quadratic path or catastrophic regex
backtracking, which takes minutes on these inputs, still fails at once.
"""
from __future__ import annotations

import time

import pytest

from services.tasks.plan_import import PlanParseError, parse_plan
from tests.helpers import bench_module

HANG_GUARD_SECONDS = 30.0


def _timed(text: str) -> float:
    started = time.perf_counter()
    try:
        parse_plan(text)
    except PlanParseError:
        pass
    return time.perf_counter() - started


def _bench():
    return bench_module("bench_plan_parser")


def test_one_megabyte_plan_parses_quickly():
    bench = _bench()
    document = bench.build_document(1024 * 1024)
    parse_plan(document)  # warm caches (OpenCC dictionaries)
    elapsed = _timed(document)
    result = parse_plan(document)
    assert len(result["sections"]) > 300
    assert all(len(section["items"]) == 12 for section in result["sections"])
    assert elapsed < HANG_GUARD_SECONDS, f"1 MB took {elapsed:.2f} s"


@pytest.mark.parametrize("shape", ["numbered", "numbered-flat"])
def test_five_megabytes_of_numbered_items_parse_in_seconds(shape):
    # Issue #12: these took minutes (the overlap checks of targets and units compared every match with
    # every earlier one, over the one item that takes in the rest). CPU time, so a busy machine does not count.
    document = _bench().build_numbered_document(5 * 1024 * 1024, shape)
    started = time.process_time()
    result = parse_plan(document)
    elapsed = time.process_time() - started
    assert result["sections"]
    assert elapsed < HANG_GUARD_SECONDS, f"5 MB of {shape} items took {elapsed:.2f} s of CPU"


@pytest.mark.parametrize(
    "text",
    [
        "教育督导" * 250_000,                                   # one huge line, no punctuation
        "教育督导，" * 200_000,                                  # one huge sentence
        "".join(f"{i}.教育督导工作\n" for i in range(1, 30_000)),  # numbers past the marker range
        "机(构" * 300_000,                                       # unbalanced parentheses
        "一、二、三、四、" * 100_000,                             # marker-like noise
        "《" * 200_000 + "》" * 100_000,
    ],
    ids=["long-line", "long-sentence", "many-numbers", "parentheses", "numerals", "brackets"],
)
def test_pathological_input_is_linear(text):
    assert _timed(text) < HANG_GUARD_SECONDS
