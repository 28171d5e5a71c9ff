"""Lag from HTTP POST of a notice to followups having its case, at a steady rate (target p99 ≤ 300 ms, 0 lost).

The case is listed by followups from the moment RectificationOpened is stored (the read model is written
in the same handler), so lag = that event's recorded_at - the moment the POST was sent, same clock.
"""
from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

import requests
from common import bench_stack, percentile, report

from shared.eventstore.mongo import MongoEventStore
from shared.mongo import connect_service_database
from tests.helpers import running_services


def notice(n: int) -> dict:
    return {"kind": "工作提示函", "title": f"第{n}号工作提示函", "issuer_unit": "巴中市教育督导室",
            "target_units": ["平昌县人民政府"],
            "problems": [{"description": f"第{n}号问题", "responsible_unit": "平昌县教育局", "deadline": "2026-12-31"}]}


def run(stack, rate: float = 50.0, seconds: float | None = None) -> dict:
    seconds = seconds or float(os.environ.get("DUBAN_BENCH_SECONDS", "60"))
    with running_services(stack, f"benchlag{int(time.time())}", ("notices", "followups")) as services:
        client = services.client("notices")
        sent: dict[str, datetime] = {}
        failures = 0

        def post(n: int):
            started = datetime.now(timezone.utc)
            response = requests.post(client.base_url + "/notices", json=notice(n),
                                     headers={"Authorization": f"Bearer {client.token}"}, timeout=30)
            return started, response

        # Warm-up, not timed: the first notice waits for the followups consumer to join its group.
        warm_up = client.post("/notices", json=notice(-1)).json()["id"]
        followups = services.client("followups")
        join_started = time.perf_counter()
        while not followups.get("/cases", params={"notice_id": warm_up}).json():
            time.sleep(0.1)
        join_seconds = time.perf_counter() - join_started

        total = int(rate * seconds)
        began = time.perf_counter()
        with ThreadPoolExecutor(max_workers=16) as pool:
            futures = []
            for n in range(total):
                delay = began + n / rate - time.perf_counter()  # steady schedule, not "as fast as possible"
                if delay > 0:
                    time.sleep(delay)
                futures.append(pool.submit(post, n))
            for future in futures:
                started, response = future.result()
                if response.status_code == 201:
                    sent[response.json()["id"]] = started
                else:
                    failures += 1
        posting_seconds = time.perf_counter() - began

        store = MongoEventStore(connect_service_database(services.settings, "followups"))
        deadline = time.monotonic() + 120
        opened: dict[str, datetime] = {}
        while time.monotonic() < deadline:
            opened = {e.data["notice_id"]: e.recorded_at for e in store.read_all()
                      if e.type == "RectificationOpened" and e.data["notice_id"] != warm_up}
            if len(opened) >= len(sent):
                break
            time.sleep(1)
        lags = [(opened[nid] - sent[nid]).total_seconds() * 1000 for nid in sent if nid in opened]
        lost = len(sent) - len(lags)
    report(f"POST notice → followups lists its case, {rate:.0f} notices/s for {seconds:.0f} s", [
        ("warm-up (consumer group join)", f"{join_seconds * 1000:.0f} ms, not counted"),
        ("notices posted (201)", f"{len(sent)} in {posting_seconds:.1f} s (failed POSTs: {failures})"),
        ("lag p50", f"{percentile(lags, 50):.0f} ms" if lags else "n/a"),
        ("lag p99 (target ≤ 300 ms)", f"{percentile(lags, 99):.0f} ms" if lags else "n/a"),
        ("lag max", f"{max(lags):.0f} ms" if lags else "n/a"),
        ("lost (must be 0)", str(lost)),
    ])
    return {"lags": lags, "lost": lost}


if __name__ == "__main__":
    with bench_stack() as stack:
        run(stack)
