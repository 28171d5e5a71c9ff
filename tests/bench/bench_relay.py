"""Relay publish rate against a raw kafka-python producer with the same acks, same run (target ≥ 0.7)."""
from __future__ import annotations

import time

from common import bench_settings, bench_stack, report

from shared.envelope import Actor, NewEvent
from shared.eventstore.base import AppendRequest
from shared.eventstore.mongo import MongoEventStore
from shared.kafka import ensure_topics, make_producer
from shared.mongo import connect_service_database
from shared.relay import OutboxRelay

ACTOR = Actor("bench", "office_staff", "巴中市教育督导室")
DATA = {"description": "食堂从业人员健康证过期", "responsible_unit": "恩阳区教育局", "deadline": "2020-11-30"}


def run(stack, count: int = 5000) -> dict:
    settings = bench_settings(stack)
    ensure_topics(settings)
    store = MongoEventStore(connect_service_database(settings, "bench"))
    store.ensure_indexes()
    for n in range(count):
        store.append(AppendRequest(stream_id=f"notice-{n % 200}", stream_type="notice", expected_version=n // 200,
                                   events=[NewEvent("NoticeIssued", DATA)], actor=ACTOR, correlation_id="bench"))
    events = store.unpublished(count)
    payloads = [(e.stream_id.encode(), e.to_json_bytes()) for e in events]

    producer = make_producer(settings)
    started = time.perf_counter()
    for key, value in payloads:
        producer.send(settings.topic("tasks"), key=key, value=value)
    producer.flush()
    raw_rate = count / (time.perf_counter() - started)

    relay = OutboxRelay(store, producer, settings.topic("notices"), batch_size=settings.relay_batch_size)
    started = time.perf_counter()
    published = 0
    while (n := relay.publish_pending()) > 0:
        published += n
    relay_rate = published / (time.perf_counter() - started)
    producer.close()
    assert published == count, f"relay published {published} of {count}"
    report("outbox relay vs raw kafka-python producer (acks=all, 1 request in flight)", [
        ("events", str(count)),
        ("raw producer msg/s", f"{raw_rate:,.0f}"),
        ("relay (query + publish + mark) ev/s", f"{relay_rate:,.0f}"),
        ("ratio (target ≥ 0.7)", f"{relay_rate / raw_rate:.2f}"),
    ])
    return {"raw": raw_rate, "relay": relay_rate}


if __name__ == "__main__":
    with bench_stack() as stack:
        run(stack)
