"""`make bench`: every benchmark, printing its figures (they are measurements, not pass/fail tests)."""
from __future__ import annotations

import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_event_store  # noqa: E402
import bench_eventsourcing_compare  # noqa: E402
import bench_lag  # noqa: E402
import bench_ledger_import  # noqa: E402
import bench_list_endpoints  # noqa: E402
import bench_messages  # noqa: E402
import bench_plan_parser  # noqa: E402
import bench_portal  # noqa: E402
import bench_relay  # noqa: E402
import bench_store_scale  # noqa: E402
from common import bench_stack  # noqa: E402

if __name__ == "__main__":
    # An interrupted run (Ctrl-C, timeout's SIGTERM) still stops the servers it started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    bench_plan_parser.main()
    with bench_stack() as stack:
        bench_event_store.run(stack)
        bench_relay.run(stack)
        bench_store_scale.run(stack)
        bench_eventsourcing_compare.run(stack)
        bench_list_endpoints.run(stack)
        bench_lag.run(stack)
        bench_portal.run(stack)
        bench_ledger_import.run(stack)
        bench_messages.run(stack)
