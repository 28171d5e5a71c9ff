"""Event-store appends/s against raw pymongo insert_one/s on the same server, in the same run (target ≥ 0.8)."""
from __future__ import annotations

import time
import uuid

from common import bench_settings, bench_stack, report

from shared.envelope import Actor, NewEvent
from shared.eventstore.base import AppendRequest
from shared.eventstore.mongo import MongoEventStore
from shared.mongo import connect_service_database

ACTOR = Actor("bench", "office_staff", "巴中市教育督导室")
DATA = {"description": "部分学校D级危房未拆除，存在安全隐患", "responsible_unit": "巴州区教育局", "deadline": "2020-12-31"}


def run(stack, count: int = 3000) -> dict:
    database = connect_service_database(bench_settings(stack), "bench")
    store = MongoEventStore(database)
    store.ensure_indexes()
    raw = database["raw_inserts"]
    raw.create_index([("stream_id", 1), ("version", 1)], unique=True)

    def raw_inserts() -> float:
        started = time.perf_counter()
        for _ in range(count):
            raw.insert_one({"_id": str(uuid.uuid4()), "stream_id": f"raw-{uuid.uuid4()}",
                            "version": 1, "type": "RectificationOpened", "data": DATA, "actor": ACTOR.to_dict(),
                            "published": False})
        return count / (time.perf_counter() - started)

    def store_appends() -> float:
        # 100 streams, each appended to in turn, as handlers do after loading the aggregate.
        versions: dict[str, int] = {}
        started = time.perf_counter()
        for n in range(count):
            stream = f"case-{n % 100}"
            expected = versions.get(stream, 0)
            store.append(AppendRequest(stream_id=stream, stream_type="case", expected_version=expected,
                                       events=[NewEvent("RectificationOpened", DATA)], actor=ACTOR,
                                       correlation_id="bench"))
            versions[stream] = expected + 1
        return count / (time.perf_counter() - started)

    raw_inserts()  # warm-up: connections, collection creation
    raw_rate, store_rate = raw_inserts(), store_appends()
    report("event store vs raw pymongo insert_one", [
        ("events", str(count)),
        ("raw insert_one/s", f"{raw_rate:,.0f}"),
        ("event store append/s", f"{store_rate:,.0f}"),
        ("ratio (target ≥ 0.8)", f"{store_rate / raw_rate:.2f}"),
    ])
    return {"raw": raw_rate, "store": store_rate}


if __name__ == "__main__":
    with bench_stack() as stack:
        run(stack)
