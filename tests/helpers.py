"""Test helpers: waits that poll with a deadline, a Kafka topic reader, a consumer running in a thread."""
from __future__ import annotations

import importlib.util
import io
import json
import sys
import threading
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Callable

import requests

from kafka import KafkaConsumer, TopicPartition
from tenacity import Retrying, retry_if_exception_type, stop_after_delay, wait_fixed

from deploy.localstack import Stack, Supervisor, free_port
from shared.auth import issue_token
from shared.config import Settings
from shared.consumer import ConsumerRunner, ProcessedLog
from shared.kafka import ensure_topics, make_consumer, make_producer


BENCH_DIR = Path(__file__).resolve().parent / "bench"


def bench_module(name: str) -> ModuleType:
    """A module of tests/bench (not a package: its scripts run on their own) loaded by path, for unit tests of
    what the benchmarks build or measure with."""
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH_DIR / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def eventually(check: Callable[[], object], timeout: float = 30.0, interval: float = 0.1):
    """Call ``check`` until it stops raising AssertionError (or time runs out); returns its result."""
    for attempt in Retrying(stop=stop_after_delay(timeout), wait=wait_fixed(interval), reraise=True,
                            retry=retry_if_exception_type(AssertionError)):
        with attempt:
            return check()


def read_topic(settings: Settings, topic: str, at_least: int, timeout: float = 30.0) -> list:
    """Every message of a topic from the beginning, once at least ``at_least`` are there."""
    consumer = KafkaConsumer(bootstrap_servers=settings.kafka_bootstrap, enable_auto_commit=False,
                             consumer_timeout_ms=500)
    try:
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or [])]
        assert partitions, f"topic {topic} does not exist"
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        messages: list = []

        def enough():
            messages.extend(consumer)
            assert len(messages) >= at_least, f"{len(messages)} of {at_least} messages on {topic}"
            return messages

        return eventually(enough, timeout)
    finally:
        consumer.close()


def decoded(messages) -> list[dict]:
    return [json.loads(m.value) for m in messages]


@contextmanager
def running_consumer(settings: Settings, database, topic_name: str, handle, group: str = "test-group",
                     **consumer_options):
    """A ConsumerRunner in a background thread, stopped (and joined) on exit.

    The group id carries the test's own prefix: a group shared between tests can stall in a rebalance
    waiting for a member of an earlier test.
    """
    group = f"{settings.topic_prefix}.{group}"
    ensure_topics(settings)
    producer = make_producer(settings)
    runner = ConsumerRunner(
        make_consumer(settings, group, [settings.topic(topic_name)], **consumer_options), group, handle,
        ProcessedLog(database["processed_events"], group), producer, settings.dead_letter_topic,
        retry_seconds=0.2,
    )
    stop = threading.Event()
    thread = threading.Thread(target=runner.run, args=(stop,), daemon=True)
    thread.start()
    try:
        yield runner
    finally:
        stop.set()
        thread.join(20)
        producer.close()


@dataclass
class ApiClient:
    base_url: str
    token: str | None = None

    def _headers(self, extra: dict | None) -> dict:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        headers.update(extra or {})
        return headers

    def get(self, path: str, headers: dict | None = None, **kwargs) -> requests.Response:
        return requests.get(self.base_url + path, headers=self._headers(headers), **{"timeout": 10, **kwargs})

    def post(self, path: str, headers: dict | None = None, **kwargs) -> requests.Response:
        return requests.post(self.base_url + path, headers=self._headers(headers), **{"timeout": 10, **kwargs})

    def as_(self, token: str) -> "ApiClient":
        return ApiClient(self.base_url, token)


@dataclass
class RunningServices:
    urls: dict[str, str]
    settings: Settings
    stack: Stack
    env: dict = field(default_factory=dict)

    instance: str = ""
    restarts: list[str] = field(default_factory=list)  # what the supervisor did (supervised runs only)

    def kill_worker(self, service: str) -> None:
        self.stack.kill(f"{self.instance}{service}-worker")

    def restart_worker(self, service: str) -> None:
        self.stack.start_worker(service, sys.executable, self.env, self.instance)

    def worker_logs(self, lines: int = 40) -> str:
        """The tail of each worker's log and the supervisor's restarts: what to keep beside a failure."""
        tails = []
        for name in sorted(p for p in self.stack.specs if p.startswith(self.instance) and p.endswith("-worker")):
            path = self.stack.log_path(name)
            text = path.read_text(errors="replace").splitlines()[-lines:] if path.exists() else ["(no log)"]
            tails.append(f"--- {name} ---\n" + "\n".join(text))
        return "\n".join(tails + ["--- restarts ---", *self.restarts])

    def token(self, role: str, unit: str | None = None, user: str | None = None) -> str:
        return issue_token(self.settings.jwt_secret, user or f"{role}-{uuid.uuid4().hex[:4]}", role, unit)

    def client(self, service: str, role: str = "office_staff", unit: str | None = "巴中市教育督导室") -> ApiClient:
        return ApiClient(self.urls[service], self.token(role, unit))


def assert_answers(url: str, path: str = "/readyz", timeout: float = 10) -> None:
    """``url + path`` answers 200 (for ``eventually``: a service that is up and, by default, ready)."""
    try:
        status = requests.get(f"{url}{path}", timeout=timeout).status_code
    except requests.RequestException as error:
        raise AssertionError(f"{url} not answering: {error}") from error
    assert status == 200, f"{url}{path} answered {status}"


def two_problem_notice(n: int) -> dict:
    """A 工作提示函 with two problems for two units: it opens two cases."""
    return {"kind": "工作提示函", "title": f"第{n}号工作提示函", "issuer_unit": "巴中市教育督导室",
            "target_units": ["通江县人民政府"],
            "problems": [{"description": f"问题{n}-1", "responsible_unit": "通江县教育局"},
                         {"description": f"问题{n}-2", "responsible_unit": "通江县财政局"}]}


@contextmanager
def running_services(stack: Stack, prefix: str, names, supervised: bool = False,
                     extra_env: dict | None = None) -> RunningServices:
    """Start web + worker of each named service on the stack's servers, with databases/topics of ``prefix``.

    ``supervised``: restart any of them that exits, with the launcher's back-off, as ``make run`` does (a worker
    stops itself when one of its threads dies, counting on that). The restarts are kept in ``restarts``.
    ``extra_env``: more settings for every process (e.g. the messages service's channels).
    """
    env = {"DUBAN_DB_PREFIX": prefix, "DUBAN_TOPIC_PREFIX": prefix, "DUBAN_RELAY_IDLE_SECONDS": "0.02",
           "DUBAN_DEADLINE_WATCH_SECONDS": "1", **(extra_env or {})}
    settings = Settings(mongo_url=stack.mongo_url, kafka_bootstrap=stack.kafka_bootstrap, db_prefix=prefix,
                        topic_prefix=prefix)
    ensure_topics(settings)
    instance = f"{prefix}/"
    restarts: list[str] = []
    stop_supervising = threading.Event()
    supervisor = threading.Thread(
        target=Supervisor(stack, watch=lambda name: name.startswith(instance), report=restarts.append).run,
        args=(stop_supervising.is_set,), daemon=True)
    try:
        urls = {name: stack.start_service(name, free_port(), python=sys.executable, env=env, instance=instance)
                for name in names if name != "portal"}
        if "portal" in names:  # after the services it calls
            urls["portal"] = stack.start_portal(free_port(), sys.executable, dict(urls), env=env, instance=instance)
            eventually(lambda: assert_answers(urls["portal"]), timeout=60, interval=0.3)
        if supervised:
            supervisor.start()
        yield RunningServices(urls, settings, stack, env, instance, restarts)
    finally:
        stop_supervising.set()
        if supervisor.is_alive():
            supervisor.join(10)
        stack.stop([p for p in list(stack.processes) if p.startswith(instance)])


def xlsx(rows: list[list], merge: tuple[str, ...] = (), sheet_title: str | None = None) -> bytes:
    """A workbook of ``rows`` (the first sheet, named ``sheet_title``), with the cell ranges in ``merge`` merged."""
    from openpyxl import Workbook  # only the tests that build workbooks need it

    book = Workbook()
    sheet = book.active
    if sheet_title:
        sheet.title = sheet_title
    for cells in rows:
        sheet.append(cells)
    for block in merge:
        sheet.merge_cells(block)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
