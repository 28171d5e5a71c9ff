"""Workers killed with SIGKILL mid-stream lose nothing and duplicate nothing once restarted."""
from __future__ import annotations

import threading
import time
from collections import Counter

import pytest

from shared.eventstore.mongo import MongoEventStore
from shared.mongo import connect_service_database
from tests.helpers import eventually, running_services, two_problem_notice

NOTICES = 40


@pytest.fixture
def services(infra, session_prefix):
    with running_services(infra, f"{session_prefix}_rel", ("notices", "followups")) as running:
        yield running


def test_killing_both_workers_while_notices_arrive_loses_and_duplicates_nothing(services):
    client = services.client("notices")
    posted: list[str] = []

    def post_notices():
        for n in range(NOTICES):
            # a busy machine may take long to answer: this test waits for progress, never for speed
            response = client.post("/notices", json=two_problem_notice(n), timeout=120)
            assert response.status_code == 201, response.text
            posted.append(response.json()["id"])
            time.sleep(0.02)

    poster = threading.Thread(target=post_notices)
    poster.start()
    eventually(lambda: _assert(len(posted) >= NOTICES // 4, f"{len(posted)} notices posted"), timeout=300)
    services.kill_worker("followups")  # consumer dies mid-batch: uncommitted offsets come back
    eventually(lambda: _assert(len(posted) >= NOTICES // 2, f"{len(posted)} notices posted"), timeout=300)
    services.kill_worker("notices")  # relay dies: possibly published but not yet marked
    poster.join(600)
    assert len(posted) == NOTICES, f"{len(posted)} of {NOTICES} notices accepted"
    services.restart_worker("notices")
    services.restart_worker("followups")

    followups = services.client("followups", role="auditor")

    def all_cases_opened():
        response = followups.get("/cases", params={"page_size": 100, "page": 1})
        total = response.headers["X-Pagination"]
        assert f'"total": {NOTICES * 2}' in total, total

    try:
        eventually(all_cases_opened, timeout=300, interval=0.5)
    except AssertionError as error:
        raise AssertionError(f"{error}\n{services.worker_logs()}") from error

    store = MongoEventStore(connect_service_database(services.settings, "followups"))
    per_case = Counter(e.stream_id for e in store.read_all())
    assert len(per_case) == NOTICES * 2
    assert set(per_case.values()) == {1}, "no case was opened twice"
    assert {sid.split(":")[0] for sid in per_case} == set(posted)
    assert store.verify().ok


def _assert(condition: bool, counted: str = "") -> None:
    assert condition, counted
