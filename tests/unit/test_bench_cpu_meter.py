"""The benchmarks' CpuMeter (tests/bench/cpu.py): a process's CPU time, with or without its descendants."""
from __future__ import annotations

import os
import subprocess
import sys
import time

import psutil

from tests.helpers import bench_module

BURN = "import time\nstarted = time.process_time()\nwhile time.process_time() - started < {seconds}: pass\n{after}"


def test_a_finished_child_counts_for_its_parent_with_descendants_only():
    meter = bench_module("cpu").CpuMeter({"with": (os.getpid(), True), "alone": (os.getpid(), False)})
    before = meter.read()
    subprocess.run([sys.executable, "-c", BURN.format(seconds=0.4, after="")], check=True)
    spent = meter.spent(before, meter.read())
    assert spent["with"] - spent["alone"] >= 0.35  # the child's 0.4 s, reaped by this process
    assert spent["alone"] < 0.35  # waiting for the child costs this process little


def test_a_running_child_is_counted_while_it_runs():
    meter_class = bench_module("cpu").CpuMeter
    child = subprocess.Popen([sys.executable, "-c", BURN.format(seconds=0.3, after="time.sleep(60)")])
    try:
        meter = meter_class({"with": (os.getpid(), True), "child": (child.pid, False)})
        deadline = time.monotonic() + 30
        while sum(psutil.Process(child.pid).cpu_times()[:2]) < 0.3 and time.monotonic() < deadline:
            time.sleep(0.05)  # user + system: what the child's process_time counts
        readings = meter.read()
        assert readings["child"] >= 0.3
        assert readings["with"] >= readings["child"] + psutil.Process().cpu_times().user
    finally:
        child.kill()
        child.wait()
