"""`make fuzz`: schemathesis at length against each service's OpenAPI, as office staff and as a unit handler.

The runs of tests/integration/test_openapi_fuzz.py on a stack of its own, with more examples and a longer time
budget: DUBAN_FUZZ_EXAMPLES (test cases per operation and phase, default 100), DUBAN_FUZZ_SECONDS (each run's
budget, default 600), DUBAN_FUZZ_SEED, DUBAN_FUZZ_PARALLEL (runs side by side, default 6). Prints each run's
counts (test cases generated, failures by check, errors) and where its full report is; exits 1 if a run found
anything. Not part of `make test`.
"""
from __future__ import annotations

import os
import signal
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

os.environ.setdefault("DUBAN_FUZZ_EXAMPLES", "100")
os.environ.setdefault("DUBAN_FUZZ_SECONDS", "600")
os.environ.setdefault("DUBAN_JWT_SECRET", f"fuzz-{uuid.uuid4().hex}{uuid.uuid4().hex}")  # as tests/conftest.py does
os.environ.setdefault("DUBAN_DEV_MODE", "1")

from deploy.localstack import RUN_DIR, temporary_stack  # noqa: E402
from tests.helpers import running_services  # noqa: E402
from tests.integration import test_openapi_fuzz as fuzz  # noqa: E402


def main() -> int:
    # An interrupted run (Ctrl-C, timeout's SIGTERM) still stops the servers it started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    out = Path(os.environ.get("DUBAN_FUZZ_DIR") or RUN_DIR / "fuzz" / time.strftime("%Y%m%d-%H%M%S"))
    pairs = [(service, role) for service in fuzz.SERVICES for role in fuzz.ROLES]
    print(f"[duban] fuzz: seed {fuzz.SEED}, {fuzz.EXAMPLES} examples per operation and phase, "
          f"{fuzz.SECONDS or 'no'} s budget per run, {len(pairs)} runs {fuzz.PARALLEL} at a time; reports in {out}",
          flush=True)
    started = time.monotonic()
    with temporary_stack("duban-fuzz-") as stack:
        with running_services(stack, f"fuzz{uuid.uuid4().hex[:6]}", fuzz.SERVICES) as running:
            fuzz.wait_for_schemas(running)
            fuzz.seed_world(running)
            runs = fuzz.run_all(running, pairs, out)
    for run in runs.values():
        (out / f"{run.service}-{run.role}" / "output.txt").write_text(run.output, encoding="utf-8")

    print(f"\n== schemathesis: {sum(run.generated for run in runs.values())} test cases generated in "
          f"{time.monotonic() - started:.0f} s")
    for run in runs.values():
        print(run.counts())
    by_check = Counter()
    for run in runs.values():
        for failure in run.failures:
            by_check[f"{failure['code']} {failure['title']}"] += failure["count"]
    print("\n== failures by check, all runs")
    for check, count in sorted(by_check.items()) or [("none", 0)]:
        print(f"  {check}: {count}")
    print(f"\nfull output and JSON report of each run: {out}/<service>-<role>/")
    return 0 if all(run.exit_code == 0 for run in runs.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
