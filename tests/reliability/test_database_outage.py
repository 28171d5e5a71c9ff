"""The database server paused (SIGSTOP) for 20 s and for 60 s under a running service: every request gets its
answer or a 503 with Retry-After in bounded time, never a 500 or a hang; once it resumes, the clients' retries
(same Idempotency-Key) store each notice exactly once, and nothing is half-written.

A paused server is the hard case: the kernel still accepts connections and takes requests, nothing answers. Only
the client's own timeouts end the wait (shared/mongo.py: server selection, connect, and one round trip of a web
process, 8 s, not retried). Paused are FerretDB itself, and separately its PostgreSQL
(FerretDB then waits on its backend).

The stack is private (PostgreSQL + FerretDB + the notices web process): pausing the session's shared servers
would stall every other test. No Kafka is started: a web process never talks to it (the relay, in the worker,
publishes later). Bounds are generous: a loaded 2-core machine must pass.
"""
from __future__ import annotations

import os
import shutil
import signal
import tempfile
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from deploy.localstack import Stack, free_port, mongo_engine
from shared.auth import Role, issue_token
from shared.config import Settings
from shared.eventstore.mongo import MongoEventStore
from shared.mongo import connect_service_database
from tests.helpers import assert_answers, eventually

# A web process fails a request within about one socket timeout (8 s; a timed-out read is not retried); the
# rest is slack for a loaded machine. Never the 30 s of a client's own timeout, never forever.
ANSWER_WITHIN = 20.0
UNIT = "巴中市教育督导室"
PAUSABLE = ("ferretdb", "postgres")

pytestmark = pytest.mark.skipif(bool(os.environ.get("MONGO_URL")),
                                reason="MONGO_URL names an outside database server: this test must pause its own")


def notice(title: str) -> dict:
    return {"kind": "工作提示函", "title": title, "issuer_unit": UNIT, "target_units": ["通江县人民政府"],
            "problems": [{"description": "控辍保学台账不全", "responsible_unit": "通江县教育局"},
                         {"description": "劝返复学学生未跟踪", "responsible_unit": "通江县财政局"}]}


def _process_tree(pid: int) -> list[int]:
    """``pid`` and every process below it (PostgreSQL's backends each lead a process group of their own)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue  # gone meanwhile
            children.setdefault(parent, []).append(int(entry.name))
    tree, pending = [], [pid]
    while pending:
        current = pending.pop()
        tree.append(current)
        pending.extend(children.get(current, ()))
    return tree


def _signal_server(stack: Stack, name: str, signum: int) -> None:
    process = stack.processes.get(name)
    if process is None or process.poll() is not None:
        return
    for pid in _process_tree(process.pid):  # the server first: a stopped postmaster starts no new backend
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            pass


@contextmanager
def paused(stack: Stack, name: str):
    """SIGSTOP the server and its children; SIGCONT them whatever happens (a stopped process cannot even stop)."""
    _signal_server(stack, name, signal.SIGSTOP)
    try:
        yield
    finally:
        _signal_server(stack, name, signal.SIGCONT)


@pytest.fixture(scope="module")
def service():
    run_dir = Path(tempfile.mkdtemp(prefix="duban-db-outage-"))
    stack = Stack(run_dir, durable=False)
    try:
        stack.start_ferretdb()
        stack.kafka_bootstrap = "127.0.0.1:9"  # never reached: only a web process runs here
        prefix = f"outage{uuid.uuid4().hex[:6]}"
        url = stack.start_web("notices", free_port(), web_workers=1, env={"DUBAN_DB_PREFIX": prefix,
                                                                         "DUBAN_TOPIC_PREFIX": prefix})
        eventually(lambda: assert_answers(url), timeout=180, interval=0.5)
        settings = Settings(mongo_url=stack.mongo_url, db_prefix=prefix, topic_prefix=prefix)
        yield stack, url, settings
    finally:
        for name in PAUSABLE:
            _signal_server(stack, name, signal.SIGCONT)
        stack.stop()
        shutil.rmtree(run_dir, ignore_errors=True)


def _headers() -> dict:
    token = issue_token(Settings().jwt_secret, "office-outage", Role.OFFICE_STAFF, UNIT)
    return {"Authorization": f"Bearer {token}"}


def _timed(method: str, url: str, headers_extra: dict | None = None, **kwargs) -> tuple[requests.Response, float]:
    started = time.monotonic()
    answer = requests.request(method, url, headers={**_headers(), **(headers_extra or {})}, timeout=120, **kwargs)
    return answer, time.monotonic() - started


def _assert_unavailable(answer: requests.Response, seconds: float, what: str) -> None:
    assert answer.status_code == 503, f"{what}: {answer.status_code} {answer.text[:500]}"
    assert seconds < ANSWER_WITHIN, f"{what} took {seconds:.1f} s"
    assert int(answer.headers["Retry-After"]) >= 1, what
    body = answer.json()
    assert body["code"] == "service_unavailable" and body["status"] == 503, body
    assert body["message_zh"] == "数据库暂时不可用，请稍后重试", body


@pytest.mark.parametrize("pause_seconds", (20, 60))
@pytest.mark.parametrize("server", PAUSABLE)
def test_a_paused_database_answers_503_with_retry_after_and_a_retry_stores_each_notice_once(service, server,
                                                                                            pause_seconds):
    stack, url, settings = service
    if server not in stack.processes:
        pytest.skip(f"no {server} process in this stack (DUBAN_MONGO_ENGINE={mongo_engine()})")
    run = uuid.uuid4().hex[:6]  # the stack is shared by the module's tests: this test counts its own notices
    before, _ = _timed("POST", f"{url}/notices", json=notice(f"停库前-{server}-{run}"))
    assert before.status_code == 201, before.text

    # While the server is paused, clients keep writing (each POST with its own Idempotency-Key) and reading:
    # every request gets an answer in bounded time, a 503 or, if it slipped in before the pause, its 201.
    sent: dict[str, str] = {}  # Idempotency-Key -> title
    answers: list[tuple[str, int, float]] = []
    paused_until = time.monotonic() + pause_seconds

    def keep_posting(client: int) -> None:
        n = 0
        while time.monotonic() < paused_until:
            key, title = f"outage-{run}-{client}-{n}", f"停库期间-{server}-{run}-{client}-{n}"
            sent[key] = title
            answer, seconds = _timed("POST", f"{url}/notices", json=notice(title), headers_extra={"Idempotency-Key": key})
            answers.append((f"POST {key}", answer.status_code, seconds))
            if answer.status_code != 201:
                _assert_unavailable(answer, seconds, f"POST /notices with {server} paused")
            n += 1

    def keep_reading() -> None:
        while time.monotonic() < paused_until:
            answer, seconds = _timed("GET", f"{url}/notices/{before.json()['id']}")
            answers.append(("GET", answer.status_code, seconds))
            if answer.status_code != 200:
                _assert_unavailable(answer, seconds, f"GET /notices/<id> with {server} paused")

    with paused(stack, server), ThreadPoolExecutor(3) as pool:
        futures = [pool.submit(keep_posting, 0), pool.submit(keep_posting, 1), pool.submit(keep_reading)]
        time.sleep(max(0.0, paused_until - time.monotonic()))
        ready = requests.get(f"{url}/readyz", timeout=120).status_code
    for future in futures:  # the last requests end after the server resumed; their answers were checked above
        future.result()
    assert ready == 503, f"/readyz answered {ready} with {server} paused"
    assert sum(1 for what, status, _ in answers if status == 503) >= 2, f"no outage was seen: {answers}"

    # Each client retries what was refused, with the same key: once the server is back, each notice is stored
    # exactly once, whether or not its first attempt reached the database before the 503 was answered.
    def stored_by_retry(key: str) -> str:
        answer, _ = _timed("POST", f"{url}/notices", json=notice(sent[key]), headers_extra={"Idempotency-Key": key})
        assert answer.status_code == 201, f"retry of {key}: {answer.status_code} {answer.text[:300]}"
        return answer.json()["id"]

    accepted = {key: eventually(lambda key=key: stored_by_retry(key), timeout=120, interval=1) for key in sent}
    store = MongoEventStore(connect_service_database(settings, "notices"))
    titles = Counter(event.data.get("title") for event in store.read_all() if event.type == "NoticeIssued")
    doubled = {title: count for title, count in titles.items() if count > 1 and run in title}
    assert not doubled, f"stored twice: {doubled}"
    assert all(titles[title] == 1 for title in sent.values()), f"missing: {set(sent.values()) - set(titles)}"
    assert len(set(accepted.values())) == len(sent)
    assert store.verify().ok
    for notice_id in accepted.values():
        answer, _ = _timed("GET", f"{url}/notices/{notice_id}")
        assert answer.status_code == 200 and len(answer.json()["problems"]) == 2, answer.text
