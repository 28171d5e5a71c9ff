"""The list endpoints over a large ledger: GET /cases and GET /notices with 20 concurrent clients (target p99 ≤ 100 ms).

The read models are seeded directly, not through the services: ``--cases`` rows of followups' CaseView
(``case_view``) and one NoticeView (``notice_view``) per 5 cases, with the fields the projections write, inserted
with ``insert_many`` after the documents' own indexes are created (``ensure_indexes``, so FerretDB's PostgreSQL
backend gets its GIN twins). Then the real services run (gunicorn web + worker, as ``make run`` starts them) and
20 client threads on loopback send the same request, each until its share of ``--requests`` is done or
``--seconds`` have passed, as office staff (a JWT from shared.auth, which reads every unit). Each endpoint is
asked once before the clock starts; that first answer is shown apart. Last, the same clients ask ``/healthz`` of
the same web server (no token check, no database): the floor no list endpoint can go below on this machine.

    .venv/bin/python tests/bench/bench_list_endpoints.py                 # 100,000 cases, 20,000 notices
    .venv/bin/python tests/bench/bench_list_endpoints.py --cases 5000    # a quick run (or DUBAN_BENCH_LIST_CASES)
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
import uuid
from datetime import date, datetime, timedelta, timezone

import requests
from common import bench_stack, percentile, table, verdict

from shared.config import Settings
from shared.mongo import connect_service_database
from services.followups.adapters.read_models import CaseView
from services.notices.adapters.read_models import NoticeView
from tests.helpers import running_services

try:  # lists read one day bucket at a time (shared/paging.py): seeded rows get their buckets and list bounds
    from shared.paging import BOUNDS_COLLECTION, bucket_fields
except ImportError:  # lists that sort and count on the server
    BOUNDS_COLLECTION, bucket_fields = None, None

P99_TARGET_MS = 100.0
CLIENTS = 20
PROBLEMS_PER_NOTICE = 5
UNITS = [f"{county}教育局" for county in ("巴州区", "恩阳区", "通江县", "南江县", "平昌县")] + [
    f"巴中市第{n}中学" for n in range(1, 26)]
CASE_STATUSES = ["open", "planned", "rectifying", "reported", "verified", "closed", "closed", "closed"]
ACTOR = {"user_id": "bench", "role": "office_staff", "unit": "巴中市教育督导室", "name": "督导员"}


def notice_row(n: int, start: date) -> dict:
    issued = start + timedelta(days=n % 1000)
    units = [UNITS[(n + k) % len(UNITS)] for k in range(3)]
    at = datetime.combine(issued, datetime.min.time(), timezone.utc)
    problems = [{"problem_id": f"p{k + 1}", "description": f"第{n}号通知第{k + 1}个问题：校舍安全隐患未按期整改",
                 "responsible_unit": units[k % len(units)], "deadline": (issued + timedelta(days=60)).isoformat()}
                for k in range(PROBLEMS_PER_NOTICE)]
    return {"_id": f"notice-{n:07d}", "kind": "督导整改通知书", "title": f"关于第{n}号督导检查发现问题的整改通知",
            "doc_number": f"巴教督〔{issued.year}〕{n % 1000}号", "issuer_unit": "巴中市人民政府教育督导委员会办公室",
            "target_units": units, "copied_units": [], "related_task_ids": [f"task-{n % 97:04d}"], "problems": problems,
            "listed": n % 7 == 0, "status": "cleared" if n % 3 else "acknowledged", "issued_on": issued.isoformat(),
            "sign_for_deadline": (issued + timedelta(days=3)).isoformat(),
            "signatures": [{"unit": u, "signed_on": issued.isoformat(), "late": False, "by": ACTOR} for u in units],
            "signed_units": units, "sign_overdue": False, "closed_problem_ids": [], "created_at": at, "issued_at": at,
            "issued_by": ACTOR, "updated_at": at, "version": 1 + len(units)}


def case_rows(notice: dict) -> list[dict]:
    rows = []
    n = int(notice["_id"].split("-")[1])
    for k, problem in enumerate(notice["problems"]):
        status = CASE_STATUSES[(n + k) % len(CASE_STATUSES)]
        rows.append({
            "_id": f"case-{n:07d}-{k + 1}", "notice_id": notice["_id"], "problem_id": problem["problem_id"],
            "description": problem["description"], "requirement": "立即整改并书面报告",
            "responsible_unit": problem["responsible_unit"], "responsible_person": "张三", "area": "校园安全",
            "issuer_unit": notice["issuer_unit"], "notice_title": notice["title"], "notice_kind": notice["kind"],
            "doc_number": notice["doc_number"], "listed": notice["listed"], "related_task_ids": notice["related_task_ids"],
            "deadline": problem["deadline"], "original_deadline": problem["deadline"], "status": status,
            "progress": [], "failed_reinspections": 0, "closed_on": problem["deadline"] if status == "closed" else None,
            "on_time": True if status == "closed" else None, "overdue": False, "escalations": [], "extensions": [],
            "commendations": [], "opened_at": notice["issued_at"], "updated_at": notice["updated_at"], "version": 1,
        })
    return rows


def as_stored(document_class, row: dict, listed_at: datetime, days: list[int]) -> dict:
    """The row as the read model stores it: through its mongoengine document (defaults of fields added later
    included), with the list buckets of the event that created it; its day goes into ``days``."""
    fields = {("id" if key == "_id" else key): value for key, value in row.items()}
    stored = document_class(**fields).to_mongo().to_dict()
    if bucket_fields is not None:
        stored.update(bucket_fields(listed_at))
        days.append(stored["list_day"])
    return stored


def write_bounds(collection, days: list[int]) -> None:
    """What ``insert_once`` keeps per list: its row count and first and last day."""
    if BOUNDS_COLLECTION is not None and days:
        collection.database[BOUNDS_COLLECTION].replace_one(
            {"_id": collection.name}, {"rows": len(days), "first_day": min(days), "last_day": max(days)}, upsert=True)


def seed(settings: Settings, cases: int, chunk: int = 1000) -> tuple[int, int, float]:
    """Insert the read-model rows, oldest first; returns (notices, cases, seconds)."""
    connect_service_database(settings, "notices")
    connect_service_database(settings, "followups")
    NoticeView.ensure_indexes()
    CaseView.ensure_indexes()
    notices_collection, cases_collection = NoticeView._get_collection(), CaseView._get_collection()
    started = time.perf_counter()
    notices, batch_n, batch_c, made = 0, [], [], 0
    notice_days, case_days = [], []
    start = date(2024, 1, 1)
    while made < cases:
        notice = notice_row(notices, start)
        listed_at = notice["issued_at"] + timedelta(seconds=notices % 86_400)
        notices += 1
        batch_n.append(as_stored(NoticeView, notice, listed_at, notice_days))
        for row in case_rows(notice)[: cases - made]:
            made += 1
            if "open" in CaseView._fields:  # the lights' equality filter, where the read model has it
                row["open"] = row["status"] not in ("closed", "withdrawn")
            batch_c.append(as_stored(CaseView, row, listed_at, case_days))
        if len(batch_c) >= chunk:
            notices_collection.insert_many(batch_n, ordered=False)
            cases_collection.insert_many(batch_c, ordered=False)
            batch_n, batch_c = [], []
    if batch_n:
        notices_collection.insert_many(batch_n, ordered=False)
        cases_collection.insert_many(batch_c, ordered=False)
    write_bounds(notices_collection, notice_days)
    write_bounds(cases_collection, case_days)
    return notices, made, time.perf_counter() - started


def hammer(url: str, token: str, total: int, seconds: float) -> dict:
    """CLIENTS threads send GET url until ``total`` answers or ``seconds`` are reached; latencies in ms."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds
    counter = iter(range(total))

    def client():
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {token}"
        while time.monotonic() < deadline:
            with lock:
                if next(counter, None) is None:
                    return
            started = time.perf_counter()
            try:
                response = session.get(url, timeout=60)
                ok = response.status_code == 200
                failure = None if ok else f"HTTP {response.status_code}"
            except requests.RequestException as error:
                failure = type(error).__name__
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                if failure is None:
                    latencies.append(elapsed)
                else:
                    errors.append(failure)

    threads = [threading.Thread(target=client, daemon=True) for _ in range(CLIENTS)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 70)
    wall = time.perf_counter() - began
    return {"latencies": latencies, "errors": errors, "wall": wall}


def run(stack, cases: int | None = None, requests_per_endpoint: int = 400, seconds: float = 30.0) -> dict:
    cases = cases or int(os.environ.get("DUBAN_BENCH_LIST_CASES", "100000"))
    prefix = f"benchlist{uuid.uuid4().hex[:6]}"
    settings = Settings(mongo_url=stack.mongo_url, kafka_bootstrap=stack.kafka_bootstrap, db_prefix=prefix,
                        topic_prefix=prefix)
    notices, seeded, seed_seconds = seed(settings, cases)
    unit = UNITS[0]
    paths = ["/cases", f"/cases?unit={unit}", "/cases?status=open", "/notices", f"/notices?unit={unit}"]
    results = {}
    load_before = os.getloadavg()
    try:
        with running_services(stack, prefix, ("notices", "followups")) as services:
            token = services.token("office_staff", "巴中市教育督导室")
            for path in paths:
                url = services.urls["followups" if path.startswith("/cases") else "notices"] + path
                started = time.perf_counter()
                first = requests.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=120)
                first_ms = (time.perf_counter() - started) * 1000
                total_header = first.headers.get("X-Pagination", "")
                results[path] = {"first": first_ms, "status": first.status_code, "items": len(first.json()),
                                 "pagination": total_header, **hammer(url, token, requests_per_endpoint, seconds)}
            # The floor on this machine: the same clients against an endpoint that does nothing (no token check,
            # no database) on the same web server. No list can answer faster than this.
            floor = hammer(services.urls["followups"] + "/healthz", token, requests_per_endpoint, seconds)
    finally:
        client = connect_service_database(settings, "followups").client
        for service in ("notices", "followups", "tasks"):
            client.drop_database(settings.database(service))
    load_after = os.getloadavg()
    rows = []
    for path, r in results.items():
        lat = r["latencies"]
        rows.append([path, f"{r['first']:.0f}", str(len(lat)), str(len(r["errors"])), f"{len(lat) / r['wall']:.1f}",
                     f"{percentile(lat, 50):.0f}" if lat else "n/a", f"{percentile(lat, 99):.0f}" if lat else "n/a",
                     f"{max(lat):.0f}" if lat else "n/a"])
    lat = floor["latencies"]
    rows.append(["(floor: /healthz, does nothing)", "", str(len(lat)), str(len(floor["errors"])),
                 f"{len(lat) / floor['wall']:.1f}", f"{percentile(lat, 50):.0f}" if lat else "n/a",
                 f"{percentile(lat, 99):.0f}" if lat else "n/a", f"{max(lat):.0f}" if lat else "n/a"])
    table(f"list endpoints over {seeded:,} cases / {notices:,} notices, {CLIENTS} clients "
          f"(≤ {requests_per_endpoint} requests or {seconds:.0f} s each; ms)",
          ["GET", "first", "answers", "errors", "req/s", "p50", "p99", "max"], rows)
    print(f"  seeded in {seed_seconds:.0f} s; first page: "
          + "; ".join(f"{p} {r['items']} items {r['pagination']}" for p, r in results.items()))
    print(f"  load average before / after: {' '.join(f'{x:.2f}' for x in load_before)} / "
          f"{' '.join(f'{x:.2f}' for x in load_after)}")
    met = all(r["latencies"] and percentile(r["latencies"], 99) <= P99_TARGET_MS and not r["errors"]
              for r in results.values())
    print(f"  p99 ≤ {P99_TARGET_MS:.0f} ms on every endpoint, no errors: {verdict(met)}")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=None, help="cases seeded (default $DUBAN_BENCH_LIST_CASES or 100,000)")
    parser.add_argument("--requests", type=int, default=400, help="requests per endpoint, all clients together")
    parser.add_argument("--seconds", type=float, default=30.0, help="time bound per endpoint")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with bench_stack() as stack:
        run(stack, args.cases, args.requests, args.seconds)


if __name__ == "__main__":
    main()
