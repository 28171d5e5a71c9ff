"""The broker paused or killed while notices arrive, the portal restarted mid-stream: nothing lost or doubled.

Each test runs a private Kafka + FerretDB (+ PostgreSQL): pausing the session's shared servers would stall
every other test. The web processes never wait for Kafka (an append is a database write; the relay publishes
later), so writes keep being accepted through the fault. Afterwards every notice has its two cases exactly
once in the followups store, the cases are listed, and the portal (restarted while events flowed) holds a
model equal to a rebuild from the topics.

Bounds are generous and the tests wait for progress, not speed: a loaded 2-core machine must pass them.
"""
from __future__ import annotations

import os
import signal
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

import pytest
import requests

from deploy.localstack import temporary_stack, wait_for_port
from shared.eventstore.mongo import MongoEventStore
from shared.mongo import connect_service_database
from services.portal.adapters.feed import rebuild_from_topics
from services.portal.entrypoints.api import COOKIE
from tests.helpers import eventually, running_services, two_problem_notice

NOTICES = 24
PROBLEMS_PER_NOTICE = 2


@pytest.fixture(scope="module")
def stack():
    with temporary_stack("duban-broker-faults-") as private:
        if "kafka" not in private.processes:
            pytest.skip("KAFKA_BOOTSTRAP names an outside broker: this test must pause its own")
        yield private


@pytest.fixture
def services(stack):
    # Supervised, as under `make run`: a worker that stops itself after a broker outage is started again.
    with running_services(stack, f"bf{uuid.uuid4().hex[:6]}", ("notices", "followups", "portal"),
                          supervised=True) as running:
        yield running


@dataclass
class Poster:
    """Posts the notices one after another from a thread, each with an Idempotency-Key, and counts answers."""

    client: object
    accepted: list[str] = field(default_factory=list)
    answers: Counter = field(default_factory=Counter)
    accepted_at: list[float] = field(default_factory=list)

    def __post_init__(self):
        self.thread = threading.Thread(target=self._post_all, daemon=True)

    def _post_all(self) -> None:
        for n in range(NOTICES):
            key = f"broker-fault-{n}-{uuid.uuid4().hex[:6]}"
            while True:  # a client retries a failed or refused attempt with the same key, as the README says
                try:
                    response = self.client.post("/notices", json=two_problem_notice(n), timeout=120,
                                                headers={"Idempotency-Key": key})
                except requests.RequestException as error:
                    self.answers[type(error).__name__] += 1
                    time.sleep(1)
                    continue
                self.answers[response.status_code] += 1
                if response.status_code == 201:
                    self.accepted.append(response.json()["id"])
                    self.accepted_at.append(time.monotonic())
                    break
                time.sleep(1)
            time.sleep(0.05)

    def wait_for(self, count: int, timeout: float) -> None:
        eventually(lambda: _assert(len(self.accepted) >= count, f"{len(self.accepted)} accepted; {self.answers}"),
                   timeout=timeout)

    def accepted_between(self, start: float, end: float) -> int:
        return sum(1 for moment in self.accepted_at if start <= moment <= end)


def _kafka_pid(stack) -> int:
    return stack.processes["kafka"].pid


def _assert(condition: bool, counted: str) -> None:
    assert condition, counted


def _every_notice_has_its_cases_once(services, accepted: list[str]) -> None:
    followups = services.client("followups", role="auditor")

    def all_cases_listed():
        response = followups.get("/cases", params={"page_size": 100, "page": 1}, timeout=60)
        assert response.status_code == 200, response.text
        header = response.headers["X-Pagination"]
        assert f'"total": {NOTICES * PROBLEMS_PER_NOTICE}' in header, f"listed: {header}"

    try:
        eventually(all_cases_listed, timeout=300, interval=1)
    except AssertionError as error:
        raise AssertionError(f"{error}\n{services.worker_logs()}") from error
    store = MongoEventStore(connect_service_database(services.settings, "followups"))
    opened = Counter(event.stream_id for event in store.read_all() if event.type == "RectificationOpened")
    assert len(opened) == NOTICES * PROBLEMS_PER_NOTICE, f"{len(opened)} cases opened for {NOTICES} notices"
    assert set(opened.values()) == {1}, f"cases opened twice: {[c for c, n in opened.items() if n > 1]}"
    assert {case_id.split(":")[0] for case_id in opened} == set(accepted)
    notices = MongoEventStore(connect_service_database(services.settings, "notices"))
    issued = Counter(event.stream_id for event in notices.read_all() if event.type == "NoticeIssued")
    assert sorted(issued) == sorted(accepted) and set(issued.values()) == {1}, f"stored notices: {issued}"


def _portal_equals_a_rebuild(services) -> None:
    portal_url = services.urls["portal"]
    cookies = {COOKIE: services.token("auditor", None)}

    def topics_hold_everything():
        # The stores hold every case already; a relay that has just reconnected may still be publishing them.
        rebuilt = rebuild_from_topics(services.settings)
        assert len(rebuilt.notices) == NOTICES and len(rebuilt.cases) == NOTICES * PROBLEMS_PER_NOTICE, (
            f"the topics hold {len(rebuilt.notices)} notices and {len(rebuilt.cases)} cases")
        return rebuilt

    try:
        rebuilt = eventually(topics_hold_everything, timeout=180, interval=2)
    except AssertionError as error:
        raise AssertionError(f"{error}\n{services.worker_logs()}") from error

    def portal_caught_up():
        state = requests.get(f"{portal_url}/state", cookies=cookies, timeout=30)
        assert state.status_code == 200, state.text
        body = state.json()
        assert body["events"] == rebuilt.events_applied, f"portal applied {body['events']} of {rebuilt.events_applied}"
        assert body["digest"] == rebuilt.digest(), "the portal's model differs from a rebuild"

    eventually(portal_caught_up, timeout=180, interval=1)


def _posting_started(services) -> Poster:
    poster = Poster(services.client("notices"))
    poster.thread.start()
    poster.wait_for(NOTICES // 4, timeout=300)
    return poster


def _all_accepted_and_settled(services, poster: Poster, fault_began: float, fault_ended: float, fault: str) -> None:
    """Every notice was accepted (some during the fault, none with a 5xx), has its cases once, and the portal
    equals a rebuild."""
    poster.thread.join(900)
    assert len(poster.accepted) == NOTICES, f"{len(poster.accepted)} of {NOTICES} accepted; answers {poster.answers}"
    assert poster.accepted_between(fault_began, fault_ended) > 0, (
        f"no notice was accepted while the broker was {fault}; answers {poster.answers}")
    assert not [code for code in poster.answers if isinstance(code, int) and code >= 500], poster.answers
    _every_notice_has_its_cases_once(services, poster.accepted)
    _portal_equals_a_rebuild(services)


def test_a_broker_paused_for_30_seconds_loses_and_doubles_nothing(stack, services):
    poster = _posting_started(services)

    paused_at = time.monotonic()
    os.killpg(_kafka_pid(stack), signal.SIGSTOP)
    try:
        time.sleep(30)
    finally:
        os.killpg(_kafka_pid(stack), signal.SIGCONT)

    _all_accepted_and_settled(services, poster, paused_at, time.monotonic(), "paused")


def test_a_broker_killed_and_restarted_and_a_portal_restarted_mid_stream_lose_and_double_nothing(stack, services):
    poster = _posting_started(services)

    killed_at = time.monotonic()
    os.killpg(_kafka_pid(stack), signal.SIGKILL)
    eventually(lambda: _assert("kafka" in stack.exited_children(), "kafka still running"), timeout=30)
    time.sleep(10)
    stack.restart("kafka")
    wait_for_port(int(stack.kafka_bootstrap.rsplit(":", 1)[1]), "Kafka", stack.processes["kafka"],
                  stack.log_path("kafka"), timeout=180)
    restarted_at = time.monotonic()

    poster.wait_for(NOTICES * 3 // 4, timeout=600)
    portal = f"{services.instance}portal-web"
    crashed = stack.processes[portal].pid
    os.killpg(crashed, signal.SIGKILL)  # mid-stream, as a crash: no clean snapshot; the supervisor restarts it
    eventually(lambda: _assert(stack.processes[portal].pid != crashed, f"portal not restarted: {services.restarts}"),
               timeout=120)

    _all_accepted_and_settled(services, poster, killed_at, restarted_at, "down")
