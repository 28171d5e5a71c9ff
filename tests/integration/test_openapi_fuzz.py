"""Schemathesis against each service's own OpenAPI, as office staff and as a unit handler (issue #12).

Each service runs as real processes (gunicorn web + worker) on the session's Kafka and FerretDB, with a little
data of its own (a work plan, issued notices with their cases, a draft) so that there are ids to be found.
Then ``schemathesis run`` (the CLI as a subprocess: its own summary is what a failure shows) goes over the
service's ``GET /openapi.json`` with every check (all of schemathesis' built-in checks are on unless configured
off: no 5xx, only documented status codes and content types, bodies and headers that match the schema,
schema-valid requests accepted and invalid ones rejected, no ignored auth, 405 with Allow for unsupported
methods, no use after free, no object of one unit readable by another unit's handler, answers within
``RESPONSE_LIMIT``, …) in all its phases: the schema's examples, coverage (boundary values and
each constraint broken), fuzzing, and stateful sequences along the links schemathesis infers from the schema
and the responses (create → read and act on what was created).

Every check runs on every operation, but where the documented behaviour is one no OpenAPI 3.0 document can state
(``EXCEPTIONS``, each with its reason): a plan preview, issuing a notice and extending a deadline may refuse a
schema-valid request with 422 (what makes text a plan, dates against today and the official calendar); a work
plan, a published document, is read by every unit (no object-level authorization to check); recording a plan
of up to 300 tasks may take longer than other requests. Everything else the services refuse is in their
schemas (shared/openapi.py: control characters, blank text, JSON types, rules across fields).

Bounded and seeded: a fixed seed, ten examples per operation and phase, and a time budget of 120 s for each of
the six runs, which run side by side (the file takes about three minutes with the services' start).
``make fuzz`` (tests/bench/fuzz.py) runs the same with more examples and a longer budget and prints the counts;
``DUBAN_FUZZ_EXAMPLES`` / ``DUBAN_FUZZ_SEED`` / ``DUBAN_FUZZ_SECONDS`` change this file's run the same way.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from tests.helpers import RunningServices, eventually, running_services

SERVICES = ("tasks", "notices", "followups")
OFFICE, OWN, OTHER = "巴中市教育督导室", "巴州区教育局", "恩阳区教育局"
PARTNER = "通江县教育局"  # a third district: partners in the first task (see seed_world)
# who schemathesis is: the office (acts and reads everywhere) and one district's handler (its own unit only)
ROLES = {"office_staff": OFFICE, "unit_handler": OWN}
# the directory is changed by administrators alone; a district's handler reads its own unit's people
DIRECTORY_ROLES = {"admin": None, "unit_handler": OWN}
RUNS = ([(service, role) for service in SERVICES for role in ROLES] + [("directory", role) for role in DIRECTORY_ROLES]
        + [("messages", role) for role in ROLES])

SEED = int(os.environ.get("DUBAN_FUZZ_SEED", "20261212"))
# test cases per operation and phase (coverage enumerates boundaries and broken constraints regardless)
EXAMPLES = int(os.environ.get("DUBAN_FUZZ_EXAMPLES", "10"))
# each run's time budget: coverage gets at most a third of it, then fuzzing and stateful sequences take turns
# with fresh cases until it is spent; 0: no budget, each phase runs once (then the time follows the machine)
SECONDS = int(os.environ.get("DUBAN_FUZZ_SECONDS", "120")) or None
PARALLEL = int(os.environ.get("DUBAN_FUZZ_PARALLEL", "6"))
# seconds an answer may take (max_response_time, ST112): a slower one is a finding
RESPONSE_LIMIT = float(os.environ.get("DUBAN_FUZZ_RESPONSE_LIMIT", "10"))
# the same for recording a plan: one write per task, and a plan may have 300 of them (tasks' MAX_PLAN_TASKS);
# tens of seconds while six runs share two cores
PLAN_RESPONSE_LIMIT = float(os.environ.get("DUBAN_FUZZ_PLAN_RESPONSE_LIMIT", "60"))
# per request, so that the slowest documented request is answered and judged rather than cut off
REQUEST_TIMEOUT = float(os.environ.get("DUBAN_FUZZ_REQUEST_TIMEOUT", str(max(RESPONSE_LIMIT, PLAN_RESPONSE_LIMIT) + 30)))
# a run that has not finished by then is stopped and fails with what it printed so far
RUN_TIMEOUT = float(os.environ.get("DUBAN_FUZZ_RUN_TIMEOUT", str((SECONDS or 0) * 2 + 420)))
# lines of the printed report kept in a failure message (reproductions of big bodies run to megabytes)
LINE_LIMIT = 600


# -- the world the fuzzer finds ---------------------------------------------------------------------------

def seed_world(running: RunningServices) -> dict[str, str]:
    """A work plan with a task for each district, an issued notice to each, a draft; waits for the cases.

    No task is shared by the two districts the fuzzer acts as: a unit reads the tasks it leads or partners in,
    and one both may read is shared by design, which object_level_authorization cannot tell from a leak.
    """
    office = {name: running.client(name, "office_staff", OFFICE) for name in SERVICES}
    plan = office["tasks"].post("/plans", json={
        "title": "2026年教育督导工作要点", "year": 2026, "issuer": "巴中市教育督导委员会办公室",
        "doc_number": "巴教督〔2026〕1号",
        "tasks": [{"number": "1", "text": "开展校园安全专项督导", "lead_unit": OWN, "partner_units": [PARTNER]},
                  {"number": "2", "text": "开展食品安全专项督导", "lead_unit": OTHER}]})
    assert plan.status_code == 201, plan.text
    task_ids = plan.json()["task_ids"]
    ids = {"plan": plan.json()["id"], "task": task_ids[0]}
    for unit, task_id in ((OWN, task_ids[0]), (OTHER, task_ids[1])):
        notice = office["notices"].post("/notices", json={
            "kind": "督办通知", "title": f"关于{unit}校园安全问题的督办通知", "doc_number": "巴教督〔2026〕21号",
            "issuer_unit": OFFICE, "target_units": [unit], "related_task_ids": [task_id],
            "problems": [{"description": "部分学校D级危房未拆除", "requirement": "限期拆除并报送影像资料",
                          "responsible_unit": unit, "area": "校园安全", "deadline_days": 20},
                         {"description": "食堂从业人员健康证过期", "responsible_unit": unit, "area": "食品安全",
                          "deadline_days": 30}]})
        assert notice.status_code == 201, notice.text
        ids.setdefault("notice", notice.json()["id"])
    draft = office["notices"].post("/notices/drafts", json={
        "kind": "工作提示函", "title": "关于做好汛期校园安全工作的提示函", "issuer_unit": OFFICE, "target_units": [OWN],
        "problems": []})
    assert draft.status_code == 201, draft.text
    ids["draft"] = draft.json()["id"]

    def cases_opened():
        cases = office["followups"].get("/cases", params={"notice_id": ids["notice"]})
        assert cases.status_code == 200 and len(cases.json()) == 2, cases.text
        return cases.json()[0]["id"]

    ids["case"] = eventually(cases_opened, timeout=60, interval=0.3)
    return ids


# -- one schemathesis run -----------------------------------------------------------------------------------

@dataclass
class FuzzRun:
    service: str
    role: str
    exit_code: int | None  # None: stopped after RUN_TIMEOUT
    output: str
    report: dict | None  # the run's JSON report (--report json), when it got that far
    seconds: float

    @property
    def name(self) -> str:
        return f"{self.service} as {self.role}"

    def __repr__(self) -> str:  # what pytest shows of it beside a failed assertion: the message has the rest
        return f"<schemathesis run: {self.name}, exit {self.exit_code}>"

    @property
    def generated(self) -> int:
        return (self.report or {}).get("test_cases", {}).get("generated", 0)

    @property
    def failures(self) -> list[dict]:
        return (self.report or {}).get("failures", [])

    @property
    def errors(self) -> list[dict]:
        return (self.report or {}).get("errors", [])

    def counts(self) -> str:
        """Requests generated, then each kind of failure (with its check code) and error, with the operations."""
        cases = (self.report or {}).get("test_cases", {})
        lines = [f"{self.name}: exit {self.exit_code}, {self.seconds:.0f} s, {cases.get('generated', 0)} test cases "
                 f"generated, {cases.get('with_failures', 0)} with failures ({cases.get('unique_failures', 0)} unique), "
                 f"{cases.get('errored', 0)} errored"]
        lines += [f"  {f['code']} {f['title']}: {f['count']} — {', '.join(f['operations'])}" for f in self.failures]
        lines += [f"  error: {e['title']}: {e['count']}" for e in self.errors]
        return "\n".join(lines)

    def explain(self) -> str:
        printed = "\n".join(line if len(line) <= LINE_LIMIT else line[:LINE_LIMIT] + " …[cut]"
                            for line in self.output.splitlines())
        return f"{self.counts()}\n\n{printed}"


def write_identities(running: RunningServices, service: str, role: str, workdir: Path) -> Path:
    """Who schemathesis is, as a Web Fuzzing Commons auth file and the config naming it (with the service's
    ``EXCEPTIONS``); returns the config.

    A unit handler's run is pinned to its own unit's handler, with the next district's handler as a peer:
    schemathesis replays what the one reads as the other (object_level_authorization) and expects a refusal.
    """
    people = {role: (role, {**ROLES, **DIRECTORY_ROLES}[role])}
    if role == "unit_handler":
        people["other_unit_handler"] = (role, OTHER)
    auth = {"auth": [{"name": name, "fixedHeaders": [
        {"name": "Authorization", "value": f"Bearer {running.token(r, unit, user=f'fuzz.{name}')}"}]}
        for name, (r, unit) in people.items()]}
    (workdir / "auth.json").write_text(json.dumps(auth), encoding="utf-8")
    config = workdir / "schemathesis.toml"
    peers = f"\npeers = {json.dumps(list(people))}" if len(people) > 1 else ""
    # no crash cache: a run replays nothing a former run found (each starts from its seed alone)
    # every built-in check is on by default; naming them with ``--checks all`` would override the exceptions
    config.write_text(f'[cache]\nenabled = false\n\n[checks]\nmax_response_time = {RESPONSE_LIMIT}\n\n'
                      f'[auth.wfc]\npath = "{workdir / "auth.json"}"\nuser = "{role}"{peers}\n'
                      f'{operations_config(service)}', encoding="utf-8")
    return config


# Per operation, where the documented behaviour is one no OpenAPI 3.0 document can state, so that a check would
# take it for a bug. Each service's run gets its own operations' entries, named "METHOD /path" (include-name: an
# include-path and an include-method in one entry would each select operations on their own).
SEMANTIC_422 = ["2xx", "3xx", "401", "403", "404", "409", "422", "429", "5xx"]  # the default + 422


@dataclass(frozen=True)
class KnownBehaviour:
    operation: str  # "METHOD /path" as in the OpenAPI document
    why: str
    positive_may_be_422: bool = False  # a schema-valid request may be refused for what it means
    read_by_every_unit: bool = False  # no object of one unit: object_level_authorization does not apply
    response_limit: float | None = None  # seconds, instead of RESPONSE_LIMIT

    def toml(self) -> str:
        lines = [f"# {self.why}", "[[operations]]", f"include-name = {json.dumps(self.operation)}"]
        if self.positive_may_be_422:
            lines.append(f"checks.positive_data_acceptance.expected-statuses = {json.dumps(SEMANTIC_422)}")
        if self.read_by_every_unit:
            lines.append("checks.object_level_authorization.enabled = false")
        if self.response_limit is not None:
            lines.append(f"checks.max_response_time = {self.response_limit}")
        return "\n".join(lines) + "\n"


_DATES = ("dates are checked against today and the official working-day calendar (issued_on not in the future, "
          "the sign-for deadline and each problem's deadline not before the issue date, working days only within "
          "the years the calendar knows): a 422 naming the field")
_PLAN = "a plan records one task per write, up to 300 tasks (MAX_PLAN_TASKS)"
_STEP_DATES = ("a step's occurred_on (业务日期) is checked against today, the notice's issue date and the case's "
               "previous step, and an earlier day needs a backfill_reason (shared/backfill.py): a 422 naming the field")
CASE_STEPS = ("plan", "progress", "completion", "reinspection", "close", "escalations", "commendations")
EXCEPTIONS = {
    "tasks": [
        KnownBehaviour(
            "POST /plans/preview", "a preview parses a document: text that is no Chinese work plan (too little "
            "text, not Chinese, binary, no numbered sections or measures) is a 422 naming the reason; what makes a "
            "document a plan is no JSON Schema", positive_may_be_422=True),
        KnownBehaviour("POST /plans/preview/upload", "the same for an uploaded file", positive_may_be_422=True),
        KnownBehaviour(
            "GET /plans/{plan_id}", "a work plan (工作要点) is a published document every role reads, unit handlers "
            "of every district too, so no object of one unit (the check takes it for the owner's when the office's "
            "run, creating plans meanwhile, shifts the page of GET /plans it was listed on); tasks are scoped to "
            "their units and stay checked", read_by_every_unit=True),
        KnownBehaviour(
            "POST /calendars/{year}", "a year's holiday arrangement is checked as a whole against its year: only years "
            "after the built-in ones up to 2099, every date within the year, make-up working days on weekends, no day "
            "both off and worked: a 422 naming the field", positive_may_be_422=True),
        *(KnownBehaviour(f"POST /tasks/{{task_id}}/{step}", _STEP_DATES, positive_may_be_422=True)
          for step in ("progress", "completion", "cancellation")),
        KnownBehaviour("POST /plans", _PLAN, response_limit=PLAN_RESPONSE_LIMIT),
        KnownBehaviour("POST /plans/import", _PLAN, response_limit=PLAN_RESPONSE_LIMIT),
    ],
    "notices": [
        # POST /notices/drafts takes the same body without these checks, and stays fully checked
        KnownBehaviour("POST /notices", f"issuing a notice: {_DATES}", positive_may_be_422=True),
        KnownBehaviour("POST /notices/{notice_id}/issue", f"issuing a saved draft: its {_DATES}",
                       positive_may_be_422=True),
        KnownBehaviour("POST /notices/{notice_id}/signature", f"签收: {_STEP_DATES}; office staff's 补录 names the "
                       "unit", positive_may_be_422=True),
    ],
    "directory": [
        *(KnownBehaviour(operation, f"{why}: a 422 naming the field", positive_may_be_422=True) for operation, why in (
            ("POST /units", "the parent must be a registered unit not merged into another"),
            ("POST /units/{unit_id}/parent", "the new parent must be registered, active, and neither the unit itself "
                                             "nor one of its descendants"),
            ("POST /units/{unit_id}/merger", "the surviving unit must be registered, active and another one"),
            ("POST /people", "the unit must be registered and active, a unit's role needs a unit, and the password "
                             "must meet the policy (10 characters of two kinds, not holding the username)"),
            ("POST /people/{person_id}/unit", "the unit must be registered and active, and the person's roles may "
                                              "need one"),
            ("POST /people/{person_id}/roles", "a unit's role needs the person to have a unit"),
            ("POST /people/{person_id}/password", "the current password must be right and the new one meet the policy"),
            ("POST /people/{person_id}/password-reset", "the new password must meet the policy"),
        )),
        KnownBehaviour("GET /units/{unit_id}", "the units are the directory every signed-in person picks from (a notice's "
                       "units, a person's unit): no object of one unit", read_by_every_unit=True),
        KnownBehaviour("POST /sessions", "signing in with a name and password that are schema-valid but not an "
                       "account's is a 401 (429 once repeated failures lock it)", positive_may_be_422=True),
    ],
    "followups": [
        KnownBehaviour("POST /cases/{case_id}/extension", "a new deadline must not be before the day it is granted "
                       f"and must be after the current one: a 422 naming new_deadline; {_STEP_DATES}",
                       positive_may_be_422=True),
        *(KnownBehaviour(f"POST /cases/{{case_id}}/{step}", _STEP_DATES, positive_may_be_422=True)
          for step in CASE_STEPS),
        KnownBehaviour("POST /cases/{case_id}/files", "佐证材料 are judged by their content (images, PDF, OFD, Office "
                       "and WPS documents; not empty, at most 20 MB): other bytes are a 422 naming the file",
                       positive_may_be_422=True),
    ],
}


def operations_config(service: str) -> str:
    return "".join(f"\n{exception.toml()}" for exception in EXCEPTIONS.get(service, ()))


def assert_exceptions_name_operations(running: RunningServices, services) -> None:
    """Each exception names an operation of its service's document (a renamed one would silently match nothing)."""
    for service in services:
        paths = requests.get(f"{running.urls[service]}/openapi.json", timeout=10).json()["paths"]
        for exception in EXCEPTIONS.get(service, ()):
            method, path = exception.operation.split(" ", 1)
            assert method.lower() in paths.get(path, {}), f"{service}: no {exception.operation} in its OpenAPI document"


def schemathesis_argv(url: str, config: Path, report: Path, examples: int = EXAMPLES, seed: int = SEED,
                      seconds: int | None = SECONDS) -> list[str]:
    argv = [sys.executable, "-m", "schemathesis.cli", "--config-file", str(config), "run", f"{url}/openapi.json",
            "--seed", str(seed), "--max-examples", str(examples),
            "--request-timeout", str(REQUEST_TIMEOUT),
            # nothing kept between runs (a database of past failures would make runs differ), no colours
            "--generation-database", "none", "--no-color",
            "--report", "json", "--report-json-path", str(report)]
    if seconds:
        argv += ["--max-time", str(seconds)]
    return argv


def run_schemathesis(running: RunningServices, service: str, role: str, workdir: Path, **options) -> FuzzRun:
    workdir.mkdir(parents=True, exist_ok=True)
    report = workdir / "report.json"
    argv = schemathesis_argv(running.urls[service], write_identities(running, service, role, workdir), report, **options)
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "120"}
    started = time.monotonic()
    # its own process group, so that a run stopped at RUN_TIMEOUT leaves nothing behind
    process = subprocess.Popen(argv, cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, errors="replace", start_new_session=True)
    try:
        output, _ = process.communicate(timeout=RUN_TIMEOUT)
        exit_code: int | None = process.returncode
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        output += f"\n[stopped after {RUN_TIMEOUT:.0f} s]"
        exit_code = None
    seconds = time.monotonic() - started
    parsed = json.loads(report.read_text(encoding="utf-8")) if report.exists() else None
    return FuzzRun(service, role, exit_code, output, parsed, seconds)


def run_all(running: RunningServices, pairs, workdir: Path, parallel: int = PARALLEL, **options) -> dict:
    """Every (service, role) run, ``parallel`` at a time; {(service, role): FuzzRun}."""
    wait_for_schemas(running, {service for service, _ in pairs})
    assert_exceptions_name_operations(running, {service for service, _ in pairs})
    with ThreadPoolExecutor(max_workers=parallel) as pool:
        futures = {pair: pool.submit(run_schemathesis, running, *pair, workdir / f"{pair[0]}-{pair[1]}", **options)
                   for pair in pairs}
        return {pair: future.result() for pair, future in futures.items()}


def wait_for_schemas(running: RunningServices, services=SERVICES) -> None:
    for service in services:
        eventually(lambda s=service: _assert_schema_served(running.urls[s]), timeout=60, interval=0.3)


def _assert_schema_served(url: str) -> None:
    try:
        status = requests.get(f"{url}/openapi.json", timeout=5).status_code
    except requests.RequestException as error:
        raise AssertionError(f"{url} not answering: {error}") from error
    assert status == 200, f"{url}/openapi.json answered {status}"


# -- the tests --------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def fuzz_services(infra, session_prefix):
    with running_services(infra, f"{session_prefix}_fuzz", (*SERVICES, "directory", "messages")) as running:
        wait_for_schemas(running)
        seed_world(running)
        yield running


@pytest.fixture(scope="module")
def fuzz_runs(request, fuzz_services, tmp_path_factory):
    """The runs of the tests selected in this session, started together (DUBAN_FUZZ_PARALLEL at a time)."""
    pairs = sorted({(item.callspec.params["service"], item.callspec.params["role"]) for item in request.session.items
                    if item.module is request.module and hasattr(item, "callspec")})
    runs = run_all(fuzz_services, pairs, tmp_path_factory.mktemp("schemathesis"))
    print("\n" + "\n".join(run.counts() for run in runs.values()))
    return runs


@pytest.mark.parametrize("service, role", RUNS)
def test_the_service_keeps_what_its_openapi_promises(fuzz_runs, service, role):
    run = fuzz_runs[(service, role)]
    generated, exit_code = run.generated, run.exit_code
    assert generated > 0, run.explain()
    assert exit_code == 0, run.explain()
