"""Each process's CPU time around a benchmark's measured part (no side effects on import: unit-tested)."""
from __future__ import annotations

import os
from typing import TYPE_CHECKING

import psutil

if TYPE_CHECKING:
    from deploy.localstack import Stack


class CpuMeter:  # 各进程的 CPU 用时
    """CPU seconds spent by named processes between two readings: where a benchmark's time goes when all its
    processes share the machine's cores. A process counted ``with_descendants`` includes its live descendants and
    those it has reaped (PostgreSQL's backends come and go with FerretDB's pool); a backend that exits between two
    readings before its parent reaps it is missed, which only undercounts."""

    def __init__(self, processes: dict[str, tuple[int, bool]]):
        self.processes = {name: (psutil.Process(pid), with_descendants)
                          for name, (pid, with_descendants) in processes.items()}

    @classmethod
    def for_stack(cls, stack: "Stack", **more: tuple[int, bool]) -> "CpuMeter":
        """This process (without its children: the stack's servers are those), the stack's servers it started
        (none when KAFKA_BOOTSTRAP/MONGO_URL name servers elsewhere), and ``more``."""
        started = {name: (process.pid, True) for name, process in stack.processes.items() if process.poll() is None}
        return cls({"bench process": (os.getpid(), False), **started, **more})

    def read(self) -> dict[str, float]:
        return {name: _cpu_seconds(process, with_descendants)
                for name, (process, with_descendants) in self.processes.items()}

    @staticmethod
    def spent(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
        return {name: after[name] - before[name] for name in before}


def _cpu_seconds(process: psutil.Process, with_descendants: bool) -> float:
    family = [process, *process.children(recursive=True)] if with_descendants else [process]
    seconds = 0.0
    for member in family:
        try:
            times = member.cpu_times()
        except psutil.NoSuchProcess:
            continue
        seconds += times.user + times.system
        if with_descendants:
            seconds += times.children_user + times.children_system
    return seconds
