"""`make soak`: half an hour of mixed 督办 load against every service and the portal, watching errors and memory.

A temporary stack is started as `make bench` does (Kafka, PostgreSQL + FerretDB, each service's web and
worker, the portal). A SECOND process (this script with ``--load``) drives it through the public HTTP APIs
and the portal's pages with a few client threads, in whole 督办 lifecycles: the office issues notices (some
linked to a work plan's tasks), the target units' handlers sign for them (签收), followups opens the cases
over Kafka (polled until listed), the responsible units submit plans, report progress and completion, the
inspector re-inspects (sometimes sending a case back) and closes (销号); now and then the office records a
催办 or an extension, withdraws a notice or commends a unit, and some cases are left open on purpose.
Meanwhile other threads read: the list endpoints with filters, single items, and the portal (logging in as
the demo accounts, dashboard, notices, a notice, its timeline, cases, ledger, status, statistics, plans).
Every POST carries an Idempotency-Key; a few are sent twice, as a client retry would.

This process samples each server process's memory every few seconds: the RSS summed over its process group
and descendants (a gunicorn master and its workers, PostgreSQL and its backends), read from /proc. It prints
throughput, p50/p99 per endpoint, errors by status code or exception, the ERROR lines the servers logged, and
the memory of each process when the load began (cold), after the warm-up (start), half way, at the end and at
its peak; start, middle and end are the least RSS over 30 s, the floor a leak would raise, not a passing spike.

The bound: a duban process (web or worker of a service, the portal) may end at most 50% + 100 MB above its
start sample; Kafka (a JVM heap up to -Xmx), PostgreSQL (shared buffers touched by every backend) and
FerretDB grow into their configured caches by design, so their figures are shown but not judged.
Exit status 1 on a breach, on any 5xx, on any request that failed in transport (a timeout, a refused
connection; a reset of a kept-alive connection is sent again once, as browsers do, and counted), on a wrong
answer (a notice's cases not listed within 60 s, a retried POST not replayed), or when a server process
exited during the soak; 0 otherwise. Other 4xx answers are listed, not judged.

    DUBAN_SOAK_SECONDS         how long the load runs (1800)
    DUBAN_SOAK_THREADS         client threads in the load process (5: three run lifecycles, two browse)
    DUBAN_SOAK_WARMUP_SECONDS  load before the "start" memory sample (an eighth of the run, at most 60)
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid
from collections import Counter, defaultdict, deque
from datetime import date, timedelta
from pathlib import Path

import requests
import urllib3
from common import percentile, report, table, temporary_stack

from shared.auth import Role, issue_token
from shared.config import Settings

SERVICE_NAMES = ("tasks", "notices", "followups", "portal")
OFFICE = "巴中市人民政府教育督导委员会办公室"
UNITS = ("巴州区教育局", "恩阳区教育局", "通江县教育局", "南江县教育局", "平昌县教育局")  # the demo accounts' units
# the portal's demo accounts and the unit whose items each may open (None: every item)
PORTAL_ACCOUNTS = {"office": None, "inspector": None, "auditor": None, **dict(zip(
    ("bazhou", "enyang", "tongjiang", "nanjiang", "pingchang"), UNITS, strict=True))}
DEMO_PASSWORD = "duban-demo"  # services/portal/adapters/users.py (no DUBAN_PORTAL_USERS on the soak's stack)
NOTICE_KINDS = ("督办通知", "督办函", "工作提示函", "预警通知", "紧急通知")
AREAS = ("校园安全", "食品安全", "办学条件", "教师队伍", "课后服务", "控辍保学")
PROBLEMS = (("部分学校D级危房未按期拆除", "限期拆除并报送影像资料"), ("食堂从业人员健康证过期", "全部更新健康证"),
            ("寄宿制学校消防通道堵塞", "立即清理并设置标识"), ("课后服务收费不规范", "清退违规收费并公示"),
            ("校外培训机构证照不全", "停业整顿直至取得证照"), ("教师资格证持证率偏低", "制定培训和补证计划"))
GROWTH_FACTOR, GROWTH_ALLOWANCE = 1.5, 100 * 2 ** 20  # end ≤ start × 1.5 + 100 MB
SAMPLE_EVERY = 5.0  # seconds between memory samples
SETTLE = 30.0  # the start / middle / end figures are the least RSS over this many seconds
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


# =============================================================================================
# The load: runs in its own process (``soak.py --load config.json``), writes its figures as JSON.
# =============================================================================================

class Stats:
    """Every request's latency by endpoint, the statuses, errors and the lifecycle facts; thread-safe."""

    def __init__(self, began: float):
        self.began = began
        self.lock = threading.Lock()
        self.latencies: dict[str, list[tuple[float, float]]] = defaultdict(list)  # (offset s, seconds)
        self.statuses: dict[str, Counter] = defaultdict(Counter)
        self.errors: Counter = Counter()  # (endpoint, status code or exception name, kind)
        self.examples: dict[str, str] = {}  # the first answer of each kind of error
        self.facts: Counter = Counter()
        self.case_lags: list[float] = []  # seconds from POST /notices to every case listed by followups

    def request(self, endpoint: str, started: float, seconds: float, status: int) -> None:
        with self.lock:
            self.latencies[endpoint].append((started - self.began, seconds))
            self.statuses[endpoint][status] += 1

    def error(self, endpoint: str, what: str, example: str = "", kind: str = "status") -> None:
        """``kind``: status (an answer not expected), transport (no answer), check (a wrong answer), generator."""
        with self.lock:
            self.errors[(endpoint, what, kind)] += 1
            self.examples.setdefault(f"{endpoint} → {what}", example[:300])

    def fact(self, name: str, n: int = 1) -> None:
        with self.lock:
            self.facts[name] += n

    def summary(self, seconds: float) -> dict:
        with self.lock:
            endpoints = {}
            for endpoint, samples in self.latencies.items():
                ms = [s * 1000 for _, s in samples]
                third = seconds / 3
                early = [s * 1000 for t, s in samples if t < third]
                late = [s * 1000 for t, s in samples if t >= 2 * third]
                endpoints[endpoint] = {
                    "n": len(ms), "p50": percentile(ms, 50), "p99": percentile(ms, 99), "max": max(ms),
                    "p50_first_third": percentile(early, 50) if early else None,
                    "p50_last_third": percentile(late, 50) if late else None,
                    "statuses": {str(k): v for k, v in self.statuses[endpoint].items()},
                }
            return {"seconds": seconds, "endpoints": endpoints, "facts": dict(self.facts),
                    "errors": [[e, w, k, n] for (e, w, k), n in self.errors.most_common()], "examples": self.examples,
                    "case_lags": self.case_lags}


class Pools:
    """The recent ids the readers pick from (what a person would have on screen); thread-safe."""

    def __init__(self):
        self.lock = threading.Lock()
        self.items: dict[str, deque] = defaultdict(lambda: deque(maxlen=300))

    def add(self, kind: str, item) -> None:
        with self.lock:
            self.items[kind].append((time.monotonic(), item))

    def pick(self, rng: random.Random, kind: str, older_than: float = 0.0, unit: str | None = None):
        """A random recent item known for at least ``older_than`` seconds (the portal follows the topics), of
        ``unit`` if given (items are ``(id, units)``)."""
        with self.lock:
            now = time.monotonic()
            known = [item for at, item in self.items[kind] if now - at >= older_than and (unit is None or unit in item[1])]
        return rng.choice(known) if known else None


class Client:
    """One client thread's HTTP session; every request is timed and checked against the statuses it expects."""

    def __init__(self, load: "Load", rng: random.Random):
        self.load, self.rng, self.stats = load, rng, load.stats
        self.session = requests.Session()

    def call(self, method: str, service: str, path: str, endpoint: str, *, token: str | None = None,
             cookie: str | None = None, body: dict | None = None, form: dict | None = None, params: dict | None = None,
             expect: tuple[int, ...] = (200,), key: str | None = None) -> requests.Response | None:
        endpoint = f"{service} {method} {endpoint}"
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        if method == "POST" and service != "portal":
            headers["Idempotency-Key"] = key or str(uuid.uuid4())
        for attempt in (1, 2):
            started = time.perf_counter()
            try:
                response = self.session.request(method, self.load.urls[service] + path, headers=headers, json=body,
                                                data=form, params=params, timeout=30, allow_redirects=False,
                                                cookies={"duban_token": cookie} if cookie else None)
                break
            except requests.ConnectionError as error:
                # A kept-alive connection the server closed (gunicorn's keepalive) just as the request went out:
                # sent again once, as browsers do (a POST with the same Idempotency-Key); refused is not retried.
                if attempt == 1 and error.args and isinstance(error.args[0], urllib3.exceptions.ProtocolError):
                    self.stats.fact("requests sent again after a reset of a kept-alive connection")
                    continue
                self.stats.error(endpoint, type(error).__name__, str(error), kind="transport")
                return None
            except requests.RequestException as error:
                self.stats.error(endpoint, type(error).__name__, str(error), kind="transport")
                return None
        self.stats.request(endpoint, started, time.perf_counter() - started, response.status_code)
        if response.status_code not in expect:
            self.stats.error(endpoint, str(response.status_code), response.text)
            return None
        return response

    def command(self, service: str, path: str, endpoint: str, token: str, body: dict, expect: int = 200) -> dict | None:
        """POST a command; one in twenty is sent again with the same Idempotency-Key, as a retrying client would."""
        key = str(uuid.uuid4())
        response = self.call("POST", service, path, endpoint, token=token, body=body, expect=(expect,), key=key)
        if response is None:
            return None
        if self.rng.random() < 0.05:
            again = self.call("POST", service, path, endpoint + " (retried)", token=token, body=body, expect=(expect,),
                              key=key)
            self.stats.fact("POSTs retried with the same Idempotency-Key")
            if again is not None and again.headers.get("Idempotent-Replayed") != "true":
                self.stats.error(endpoint + " (retried)", "no Idempotent-Replayed header", again.text, kind="check")
        return response.json()


class Load:
    def __init__(self, config: dict):
        self.urls: dict[str, str] = config["urls"]
        self.seconds: float = config["seconds"]
        self.threads: int = config["threads"]
        self.stats = Stats(time.perf_counter())
        self.pools = Pools()
        self.stop = threading.Event()
        secret = config["jwt_secret"]
        self.tokens = {
            "office": issue_token(secret, "soak.office", Role.OFFICE_STAFF, OFFICE, "压测督导办"),
            "inspector": issue_token(secret, "soak.inspector", Role.INSPECTOR, OFFICE, "压测督学"),
            "auditor": issue_token(secret, "soak.auditor", Role.AUDITOR, None, "压测审计"),
            **{unit: issue_token(secret, f"soak.{n}", Role.UNIT_HANDLER, unit, f"{unit}经办人")
               for n, unit in enumerate(UNITS)},
        }
        self.today = date.today()

    def run(self) -> dict:
        lifecycles = max(1, self.threads - max(1, self.threads * 2 // 5))
        workers = [threading.Thread(target=self._guarded, args=(self.lifecycles if n < lifecycles else self.browse, n),
                                    name=f"soak-{n}", daemon=True) for n in range(self.threads)]
        began = time.perf_counter()
        for worker in workers:
            worker.start()
        progress_every = max(20.0, min(60.0, self.seconds / 6))
        next_progress = began + progress_every
        while (now := time.perf_counter()) < began + self.seconds:
            time.sleep(min(1.0, began + self.seconds - now))
            if time.perf_counter() >= next_progress:
                next_progress += progress_every
                self._progress(time.perf_counter() - began)
        self.stop.set()
        for worker in workers:
            worker.join(60)
        return self.stats.summary(time.perf_counter() - began)

    def _progress(self, elapsed: float) -> None:
        with self.stats.lock:
            requests_so_far = sum(len(v) for v in self.stats.latencies.values())
            errors = sum(self.stats.errors.values())
            closed = self.stats.facts["cases closed (销号)"]
        print(f"[soak] {elapsed:5.0f} s: {requests_so_far} requests ({requests_so_far / elapsed:.1f}/s), "
              f"{closed} cases closed, {errors} errors", flush=True)

    def _guarded(self, loop, n: int) -> None:
        rng = random.Random(n * 7919 + int(time.time()))
        client = Client(self, rng)
        while not self.stop.is_set():
            try:
                loop(client, rng)
            except Exception as error:  # noqa: BLE001 - a bug in the load generator must not end the soak silently
                self.stats.error("load generator", type(error).__name__, traceback.format_exc(), kind="generator")
                time.sleep(1)

    # -- lifecycles -------------------------------------------------------------------------------

    def lifecycles(self, client: Client, rng: random.Random) -> None:
        """One notice from issue to 销号 of its cases (or to where this round leaves it)."""
        office = self.tokens["office"]
        if self.pools.pick(rng, "task") is None or rng.random() < 0.04:
            self.record_plan(client, rng)
        if rng.random() < 0.15:
            self.task_progress(client, rng)
        units = rng.sample(UNITS, rng.choice((1, 1, 2, 3)))
        kind = rng.choices(NOTICE_KINDS, weights=(5, 2, 1, 1, 1))[0]
        count = 0 if kind == "工作提示函" and rng.random() < 0.5 else rng.randint(1, 3)
        problems = []
        for n in range(count):
            description, requirement = rng.choice(PROBLEMS)
            problem = {"description": f"{description}（第{n + 1}项）", "requirement": requirement,
                       "responsible_unit": rng.choice(units), "area": rng.choice(AREAS),
                       "responsible_person": rng.choice(("张三", "李四", "王五", None))}
            if rng.random() < 0.5:
                problem["deadline_days"] = rng.randint(15, 60)  # calendar days (working days stop where the calendar does)
            elif rng.random() < 0.8:
                problem["deadline"] = (self.today + timedelta(days=rng.randint(10, 90))).isoformat()
            problems.append(problem)
        task = self.pools.pick(rng, "task") if rng.random() < 0.5 else None
        body = {"kind": kind, "title": f"关于{rng.choice(AREAS)}问题整改的{kind}", "issuer_unit": OFFICE,
                "doc_number": f"巴教督〔{self.today.year}〕{rng.randint(1, 999)}号", "target_units": units,
                "problems": problems, "related_task_ids": [task] if task else [], "listed": rng.random() < 0.1}
        issued_at = time.perf_counter()
        notice = client.command("notices", "/notices", "/notices", office, body, expect=201)
        if notice is None:
            return
        notice_id, version = notice["id"], notice["version"]
        self.stats.fact("notices issued")
        self.pools.add("notice", (notice_id, units))
        if rng.random() < 0.3:
            client.call("GET", "notices", f"/notices/{notice_id}", "/notices/{id}", token=office)
        if rng.random() < 0.04:
            if client.command("notices", f"/notices/{notice_id}/withdrawal", "/notices/{id}/withdrawal", office,
                              {"reason": "督办事项已另行部署，撤回本通知", "expected_version": version}):
                self.stats.fact("notices withdrawn")
            return
        for unit in units:  # 签收, by each target unit's handler
            signed = client.command("notices", f"/notices/{notice_id}/signature", "/notices/{id}/signature",
                                    self.tokens[unit], {"expected_version": version})
            if signed is None:
                return
            version = signed["version"]
            self.stats.fact("signatures (签收)")
        if not problems:
            return
        cases = self.wait_for_cases(client, notice_id, len(problems), issued_at)
        for case in rng.sample(cases, len(cases)):
            if self.stop.is_set():
                return
            self.rectify(client, rng, case)

    def wait_for_cases(self, client: Client, notice_id: str, count: int, issued_at: float) -> list[dict]:
        """Followups opens the cases when NoticeIssued reaches it over Kafka: poll the list until all are there."""
        deadline = time.perf_counter() + 60
        while time.perf_counter() < deadline and not self.stop.is_set():
            listed = client.call("GET", "followups", "/cases", "/cases?notice_id=", token=self.tokens["auditor"],
                                 params={"notice_id": notice_id})
            cases = listed.json() if listed is not None else []
            if len(cases) == count:
                with self.stats.lock:
                    self.stats.case_lags.append(time.perf_counter() - issued_at)
                self.stats.fact("cases opened (seen listed)", count)
                for case in cases:
                    self.pools.add("case", (case["id"], (case["responsible_unit"],)))
                return cases
            time.sleep(0.1)
        if not self.stop.is_set():
            self.stats.error("followups GET /cases?notice_id=", f"not all {count} cases listed within 60 s", notice_id,
                             kind="check")
        return []

    def rectify(self, client: Client, rng: random.Random, case: dict) -> None:
        """The responsible unit's plan, progress and report; the inspector's 复查 and 销号; now and then the office."""
        case_id, handler, inspector, office = (case["id"], self.tokens[case["responsible_unit"]],
                                               self.tokens["inspector"], self.tokens["office"])
        path = f"/cases/{case_id}"
        version = case["version"]

        def step(action: str, token: str, body: dict) -> bool:
            nonlocal version
            done = client.command("followups", f"{path}/{action}", f"/cases/{{id}}/{action}", token,
                                  {**body, "expected_version": version})
            if done is not None:
                version = done["version"]
            return done is not None

        if rng.random() < 0.3:
            seen = client.call("GET", "followups", path, "/cases/{id}", token=handler)
            if seen is None:
                return
            version = seen.json()["version"]
        if rng.random() < 0.08 and not step("escalations", office, {"level": "reminder", "reason": "请加快整改进度并按时报送"}):
            return
        if rng.random() < 0.05 and case.get("deadline"):
            new_deadline = (date.fromisoformat(case["deadline"]) + timedelta(days=30)).isoformat()
            if not step("extension", office, {"new_deadline": new_deadline, "reason": "涉及工程招标，需延长整改期限",
                                              "approver": "李主任"}):
                return
        if not step("plan", handler, {"plan": "成立整改专班，分三步推进", "measures": ["全面排查", "限期整改", "建立长效机制"],
                                      "planned_completion": (self.today + timedelta(days=20)).isoformat()}):
            return
        for n in range(rng.randint(0, 2)):
            if not step("progress", handler, {"summary": f"第{n + 1}阶段整改已完成", "evidence": ["现场照片", "整改台账"]}):
                return
        if rng.random() < 0.1:
            self.stats.fact("cases left rectifying")
            return
        if not step("completion", handler, {"summary": "整改任务已全部完成", "evidence": ["整改报告", "验收记录"]}):
            return
        if rng.random() < 0.08:
            self.stats.fact("cases left waiting for 复查")
            return
        if rng.random() < 0.3:  # 复查不通过: back to rectifying, reported again
            if not step("reinspection", inspector, {"passed": False, "findings": "仍有一所学校未整改到位"}):
                return
            self.stats.fact("re-inspections failed")
            if not step("progress", handler, {"summary": "针对复查意见补充整改", "evidence": ["补充材料"]}):
                return
            if not step("completion", handler, {"summary": "复查意见已全部整改", "evidence": ["复查照片"]}):
                return
        if not step("reinspection", inspector, {"passed": True, "findings": "整改到位"}):
            return
        self.stats.fact("re-inspections passed")
        if not step("close", inspector, {}):
            return
        self.stats.fact("cases closed (销号)")
        if rng.random() < 0.05 and step("commendations", office, {"reason": "整改迅速、成效明显", "doc_number": None}):
            self.stats.fact("commendations")
        if rng.random() < 0.3:
            client.call("GET", "followups", path, "/cases/{id}", token=inspector)

    def record_plan(self, client: Client, rng: random.Random) -> None:
        plan = client.command("tasks", "/plans", "/plans", self.tokens["office"], {
            "title": f"{self.today.year}年教育督导工作要点（第{rng.randint(1, 99)}批）", "year": self.today.year,
            "issuer": OFFICE, "tasks": [
                {"number": str(n), "text": f"开展{area}专项督导", "lead_unit": rng.choice(UNITS),
                 "partner_units": ["巴中市财政局"], "category": rng.choice(("督政", "督学", "评估监测")),
                 "due_date": f"{self.today.year}-12-31"} for n, area in enumerate(rng.sample(AREAS, 3), start=1)],
        }, expect=201)
        if plan is not None:
            self.stats.fact("work plans recorded")
            self.pools.add("plan", plan["id"])
            for task_id in plan["task_ids"]:
                self.pools.add("task", task_id)

    def task_progress(self, client: Client, rng: random.Random) -> None:
        task = self.pools.pick(rng, "task")
        if task is not None and client.command("tasks", f"/tasks/{task}/progress", "/tasks/{id}/progress",
                                               self.tokens["office"], {"summary": "已完成阶段性督导",
                                                                       "percent": rng.randint(10, 90)}):
            self.stats.fact("task progress recorded")

    # -- readers ----------------------------------------------------------------------------------

    def browse(self, client: Client, rng: random.Random) -> None:
        """Someone reading: a batch of API reads and portal pages as one person, who logs in first."""
        account = rng.choice(list(PORTAL_ACCOUNTS))
        login = client.call("POST", "portal", "/login", "/login", form={"username": account, "password": DEMO_PASSWORD},
                            expect=(302,))
        cookie = login.cookies.get("duban_token") if login is not None else None
        client.session.cookies.clear()  # one host, several ports: keep the portal's cookie off the API calls
        if cookie is None:
            return
        for _ in range(40):
            if self.stop.is_set():
                return
            if rng.random() < 0.5:
                self.read_api(client, rng)
            else:
                self.read_portal(client, rng, cookie, PORTAL_ACCOUNTS[account])

    def read_api(self, client: Client, rng: random.Random) -> None:
        office, auditor = self.tokens["office"], self.tokens["auditor"]
        unit = rng.choice(UNITS)
        notice, case = self.pools.pick(rng, "notice"), self.pools.pick(rng, "case")
        choice = rng.randrange(11)
        if choice == 0:
            client.call("GET", "notices", "/notices", "/notices", token=office, params={"page_size": 20})
        elif choice == 1:
            client.call("GET", "notices", "/notices", "/notices?status=&page=", token=office,
                        params={"status": rng.choice(("issued", "acknowledged", "cleared")), "page": rng.randint(1, 3)})
        elif choice == 2:
            client.call("GET", "notices", "/notices", "/notices (unit handler)", token=self.tokens[unit])
        elif choice == 3 and notice:
            client.call("GET", "notices", f"/notices/{notice[0]}", "/notices/{id}", token=office)
        elif choice == 4:
            client.call("GET", "followups", "/cases", "/cases?status=", token=auditor,
                        params={"status": rng.choice(("open", "planned", "rectifying", "reported", "closed"))})
        elif choice == 5:
            client.call("GET", "followups", "/cases", "/cases?unit=&light=", token=auditor,
                        params={"unit": unit, "light": rng.choice(("green", "yellow", "red"))})
        elif choice == 6:
            client.call("GET", "followups", "/cases", "/cases (unit handler)", token=self.tokens[unit])
        elif choice == 7 and case:
            client.call("GET", "followups", f"/cases/{case[0]}", "/cases/{id}", token=self.tokens[case[1][0]])
        elif choice == 8:
            client.call("GET", "tasks", "/plans", "/plans", token=office)
            plan = self.pools.pick(rng, "plan")
            if plan:
                client.call("GET", "tasks", f"/plans/{plan}", "/plans/{id}", token=office)
        elif choice == 9:
            plan = self.pools.pick(rng, "plan")
            client.call("GET", "tasks", "/tasks", "/tasks?plan_id=", token=office, params={"plan_id": plan} if plan else None)
        else:
            task = self.pools.pick(rng, "task")
            if task:
                client.call("GET", "tasks", f"/tasks/{task}", "/tasks/{id}", token=auditor)

    def read_portal(self, client: Client, rng: random.Random, cookie: str, unit: str | None) -> None:
        # known for 5 s: the portal has read it from the topics by then (its model follows them); a unit's
        # handler opens its own unit's items, as the pages link them
        notice, case = self.pools.pick(rng, "notice", 5.0, unit), self.pools.pick(rng, "case", 5.0, unit)
        page = rng.choices(("/", "/notices", "/notices?status=", "/notices/{id}", "/notices/{id}/timeline",
                            "/cases/{id}", "/ledger", "/ledger?unit=", "/status", "/status?by=task", "/statistics",
                            "/plans"), weights=(4, 3, 1, 3, 1, 3, 1, 1, 1, 1, 1, 1))[0]
        params = None
        if page == "/notices?status=":
            params = {"status": rng.choice(("issued", "acknowledged", "cleared"))}
        elif page == "/ledger?unit=":
            params = {"unit": rng.choice(UNITS)}
        elif page == "/status?by=task":
            params = {"by": "task"}
        path = page.split("?")[0]
        if "{id}" in page:
            item = notice if page.startswith("/notices") else case
            if item is None:
                return
            path = path.replace("{id}", item[0])
        client.call("GET", "portal", path, page, cookie=cookie, params=params)


def load_main(config_path: str) -> None:
    config = json.loads(Path(config_path).read_text())
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    summary = Load(config).run()
    Path(config["out"]).write_text(json.dumps(summary, ensure_ascii=False))


# =============================================================================================
# The soak: the stack, the load process, memory samples, the report.
# =============================================================================================

def process_groups_rss(groups: dict[str, int]) -> dict[str, int | None]:
    """Bytes of RSS summed over each named process and what belongs to it, from /proc: its process group (a
    gunicorn master and its workers) and its descendants (PostgreSQL's backends each call setsid()).
    None: nothing of it is left."""
    processes: dict[int, tuple[int, int, int]] = {}  # pid -> (ppid, pgrp, bytes resident)
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
            ppid, pgrp = (int(field) for field in stat[stat.rindex(")") + 2:].split()[1:3])  # after "(comm)": state
            resident = int(Path(entry.path, "statm").read_text().split()[1]) * PAGE_SIZE
        except (OSError, ValueError, IndexError):
            continue  # exited meanwhile
        processes[int(entry.name)] = (ppid, pgrp, resident)
    children: dict[int, list[int]] = defaultdict(list)
    for pid, (ppid, _, _) in processes.items():
        children[ppid].append(pid)
    totals: dict[str, int | None] = {}
    for name, leader in groups.items():
        members = {pid for pid, (_, pgrp, _) in processes.items() if pgrp == leader}
        if leader in processes:
            members.add(leader)
        stack = list(members)
        while stack:
            for child in children.get(stack.pop(), ()):
                if child not in members:
                    members.add(child)
                    stack.append(child)
        totals[name] = sum(processes[pid][2] for pid in members) if members else None
    return totals


class MemorySampler(threading.Thread):
    def __init__(self, groups: dict[str, int]):
        super().__init__(name="memory-sampler", daemon=True)
        self.groups = groups
        self.samples: list[tuple[float, dict[str, int | None]]] = []
        self.done = threading.Event()

    def sample(self) -> dict[str, int | None]:
        taken = process_groups_rss(self.groups)
        self.samples.append((time.monotonic(), taken))
        return taken

    def run(self) -> None:
        while not self.done.wait(SAMPLE_EVERY):
            self.sample()

    def settled(self, begin: float, end: float) -> dict[str, int | None]:
        """Each process's least RSS among the samples from ``begin`` to ``end`` (time.monotonic()): its floor, not a
        moment's spike (the portal's scrypt password check takes tens of MB while a login lasts)."""
        window = [taken for at, taken in self.samples if begin <= at <= end] or \
            [min(self.samples, key=lambda s: abs(s[0] - begin))[1]]
        return {name: min((w[name] for w in window if w.get(name) is not None), default=None) for name in self.groups}


def mb(value: int | None) -> str:
    return "—" if value is None else f"{value / 2 ** 20:.0f}"


def server_log_errors(stack, names: list[str], offsets: dict[str, int]) -> dict[str, tuple[Counter, dict]]:
    """What each process logged at ERROR / CRITICAL (or as a bare traceback) during the soak, by message and
    exception, from its log beyond ``offsets``; with the last frames of duban's own code in the first traceback."""
    found = {}
    for name in names:
        try:
            with open(stack.log_path(name), "rb") as log:
                log.seek(offsets.get(name, 0))
                lines = log.read().decode(errors="replace").splitlines()
        except OSError:
            continue
        kinds: Counter = Counter()
        tracebacks: dict[str, str] = {}
        for line in lines:
            try:
                record = json.loads(line)
            except ValueError:
                record = None
            if isinstance(record, dict):
                if record.get("level") in ("ERROR", "CRITICAL"):
                    exception = (record.get("exc_info") or "").strip().splitlines()
                    what = f"{record.get('message')}" + (f": {exception[-1]}" if exception else "")
                    kinds[what] += 1
                    ours = [line.strip() for line in exception if line.strip().startswith("File ")
                            and "site-packages" not in line]
                    tracebacks.setdefault(what, "\n".join(ours[-4:]))
            elif re.search(r"\[(ERROR|CRITICAL)\]|^Traceback", line):  # gunicorn's own lines, stray tracebacks
                kinds[line.strip()] += 1
        if kinds:
            found[name] = (kinds, tracebacks)
    return found


def soak() -> int:
    from tests.helpers import running_services

    os.environ.pop("DUBAN_PORTAL_USERS", None)  # the portal gets the demo accounts the readers log in as
    seconds = float(os.environ.get("DUBAN_SOAK_SECONDS", "1800"))
    threads = int(os.environ.get("DUBAN_SOAK_THREADS", "5"))
    warmup = float(os.environ.get("DUBAN_SOAK_WARMUP_SECONDS") or min(60.0, seconds / 8))
    print(f"[soak] starting Kafka, PostgreSQL, FerretDB, {', '.join(SERVICE_NAMES)} …", flush=True)
    began = time.perf_counter()
    with temporary_stack("duban-soak-") as stack:
        infra_seconds = time.perf_counter() - began
        with running_services(stack, f"soak{uuid.uuid4().hex[:6]}", SERVICE_NAMES) as services:
            startup = time.perf_counter() - began
            print(f"[soak] stack up in {startup:.0f} s (servers {infra_seconds:.0f} s, services and portal "
                  f"{startup - infra_seconds:.0f} s); {seconds:.0f} s of load from a second process, "
                  f"{threads} client threads, memory start sample after {warmup:.0f} s", flush=True)
            duban = [name for name in stack.processes if name.startswith(services.instance)]
            infra = [name for name in ("kafka", "postgres", "ferretdb") if name in stack.processes]
            groups = {name: stack.processes[name].pid for name in duban + infra}  # each started in a session of its own
            log_offsets = {name: stack.log_path(name).stat().st_size for name in duban if stack.log_path(name).exists()}
            with tempfile.TemporaryDirectory(prefix="duban-soak-load-") as scratch:
                config = {"urls": services.urls, "seconds": seconds, "threads": threads,
                          "jwt_secret": Settings().jwt_secret, "out": str(Path(scratch, "figures.json"))}
                Path(scratch, "config.json").write_text(json.dumps(config))
                sampler = MemorySampler(groups)
                sampler.sample()
                load = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--load",
                                         str(Path(scratch, "config.json"))], cwd=Path(__file__).resolve().parents[2])
                load_started = time.monotonic()
                sampler.start()
                try:
                    code = load.wait(seconds + 180)
                except subprocess.TimeoutExpired:
                    code = None
                finally:
                    if load.poll() is None:
                        load.kill()
                        load.wait()
                    sampler.done.set()
                    sampler.join()
                end = sampler.sample()
                load_ended = time.monotonic()
                exited = {name: exit_.code for name, exit_ in stack.exited_children().items() if name in groups}
                figures = json.loads(Path(config["out"]).read_text()) if Path(config["out"]).exists() else None
            log_errors = server_log_errors(stack, duban, log_offsets)
    print(f"[soak] servers stopped; whole run {time.perf_counter() - began:.0f} s", flush=True)
    if figures is None:
        print(f"[soak] FAIL: the load process ended with {code} and left no figures")
        return 1
    # start, middle, end: the floor over SETTLE seconds (after the warm-up, around the middle, at the end)
    middle = load_started + warmup + (load_ended - load_started - warmup) / 2
    memory = {"cold": sampler.samples[0][1],
              "start": sampler.settled(load_started + warmup, load_started + warmup + SETTLE),
              "middle": sampler.settled(middle - SETTLE / 2, middle + SETTLE / 2),
              "end": {**sampler.settled(load_ended - SETTLE, load_ended), **{n: v for n, v in end.items() if v is None}}}
    return print_report(figures, memory, sampler,
                        duban, infra, services.instance, exited, log_errors, startup, code)


def print_report(figures: dict, memory: dict, sampler: MemorySampler, duban: list[str], infra: list[str], instance: str,
                 exited: dict[str, int], log_errors: dict[str, tuple[Counter, dict]], startup: float,
                 load_code: int | None) -> int:
    failures = []
    endpoints = figures["endpoints"]
    total = sum(e["n"] for e in endpoints.values())
    errors = figures["errors"]
    server_errors = sum(n for _, what, kind, n in errors if kind == "status" and int(what) >= 500)
    transport = sum(n for _, _, kind, n in errors if kind == "transport")
    generator = sum(n for _, _, kind, n in errors if kind == "generator")
    checks = sum(n for _, _, kind, n in errors if kind == "check")
    lags = [lag * 1000 for lag in figures["case_lags"]]
    report(f"Soak: {figures['seconds']:.0f} s of mixed load", [
        ("stack start (servers, services, portal)", f"{startup:.0f} s"),
        ("requests", f"{total} ({total / figures['seconds']:.1f}/s)"),
        *((name, str(n)) for name, n in sorted(figures["facts"].items())),
        ("notice issued → its cases listed, p50 / p99",
         f"{percentile(lags, 50):.0f} / {percentile(lags, 99):.0f} ms (n={len(lags)})" if lags else "n/a"),
        ("5xx responses (must be 0)", str(server_errors)),
        ("requests failed in transport (must be 0)", str(transport)),
        ("wrong answers: cases never listed, retries not replayed (must be 0)", str(checks)),
        ("load generator exceptions (must be 0)", str(generator)),
    ])

    def ms(value):
        return "—" if value is None else f"{value:.0f}"

    rows = []
    for name in sorted(endpoints, key=lambda k: (k.split()[0], k.split()[2], k.split()[1])):
        e = endpoints[name]
        other = ", ".join(f"{s}×{n}" for s, n in sorted(e["statuses"].items()) if not s.startswith(("2", "3")))
        rows.append([name, str(e["n"]), ms(e["p50"]), ms(e["p99"]), ms(e["max"]), ms(e["p50_first_third"]),
                     ms(e["p50_last_third"]), other or "—"])
    table("Latency per endpoint (ms)", ["endpoint", "n", "p50", "p99", "max", "p50 1st ⅓", "p50 last ⅓", "not 2xx/3xx"],
          rows)

    if errors:
        table("Errors (by status code / exception)", ["endpoint", "status / exception", "count"],
              [[endpoint, what, str(n)] for endpoint, what, _, n in errors])
        print("  first answer of each:")
        for what, example in figures["examples"].items():
            print(f"    {what}: {' '.join(example.split())[:240]}")
    else:
        print("\n== Errors (by status code / exception)\n  none")

    peak = {name: max((s.get(name) or 0) for _, s in sampler.samples) for name in duban + infra}
    rows = []
    for name in duban + infra:
        start, end = memory["start"].get(name), memory["end"].get(name)
        short = name.removeprefix(instance)
        if name in exited or start is None or end is None:
            verdict = f"FAIL (exited, code {exited.get(name)})" if name in exited else "FAIL (no process)"
            failures.append(f"{short} is not running")
        elif name in infra:
            verdict = "not judged"
        else:
            bound = start * GROWTH_FACTOR + GROWTH_ALLOWANCE
            verdict = "PASS" if end <= bound else "FAIL"
            if end > bound:
                failures.append(f"{short} grew from {mb(start)} MB to {mb(end)} MB (bound {mb(int(bound))} MB)")
        growth = f"{(end - start) / 2 ** 20:+.0f}" if start is not None and end is not None else "—"
        bound_text = mb(int(start * GROWTH_FACTOR + GROWTH_ALLOWANCE)) if start and name not in infra else "—"
        rows.append([short, mb(memory["cold"].get(name)), mb(start), mb(memory["middle"].get(name)), mb(end),
                     mb(peak[name]), growth, bound_text, verdict])
    table("Memory: RSS summed over each process group and its descendants, MB (cold: as the load began; start, "
          "middle, end: the least over 30 s after the warm-up, around the middle, at the end; bound: end ≤ start × "
          "1.5 + 100 MB)",
          ["process", "cold", "start", "middle", "end", "peak", "growth", "bound", "verdict"], rows)

    if log_errors:
        print("\n== ERROR lines in the server logs during the soak (message: exception)")
        for name, (kinds, tracebacks) in log_errors.items():
            for what, n in kinds.most_common(5):
                print(f"  {name.removeprefix(instance)}  {n}×  {what[:300]}")
                for line in tracebacks.get(what, "").splitlines():
                    print(f"      {line[:200]}")

    if server_errors:
        failures.append(f"{server_errors} responses were 5xx")
    if transport:
        failures.append(f"{transport} requests failed in transport")
    if checks:
        failures.append(f"{checks} wrong answers (cases never listed, retried POSTs not replayed)")
    if load_code != 0:
        failures.append(f"the load process ended with {load_code}")
    if generator:
        failures.append(f"the load generator raised {generator} times (see the errors above)")
    print()
    for failure in failures:
        print(f"[soak] FAIL: {failure}")
    print("[soak] PASS" if not failures else "[soak] FAILED", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--load", metavar="CONFIG", help="(internal) run the load generator with this JSON config")
    arguments = parser.parse_args()
    if arguments.load:
        load_main(arguments.load)
    else:
        # An interrupted run (Ctrl-C, timeout's SIGTERM) still stops the servers and the load process it started.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
        sys.exit(soak())
