"""The launcher's supervisor brings back a worker and a web process killed with SIGKILL; nothing else stops.

The services run on the session's stack as `make run` starts them (Stack.start_service), and the same
Supervisor the launcher runs watches them from a thread (only this test's processes: the stack is shared).
"""
from __future__ import annotations

import os
import re
import signal
import threading
import time
from pathlib import Path

import pytest
import requests

from deploy.localstack import SERVERS, Supervisor, say
from tests.helpers import eventually, running_services

SERVICES = ("notices", "followups")
NOTICE = {"kind": "工作提示函", "title": "重启后的工作提示函", "issuer_unit": "巴中市教育督导室",
          "target_units": ["通江县人民政府"],
          "problems": [{"description": "问题一", "responsible_unit": "通江县教育局"},
                       {"description": "问题二", "responsible_unit": "通江县财政局"}]}


@pytest.fixture
def services(infra, session_prefix):
    with running_services(infra, f"{session_prefix}_sup", SERVICES) as running:
        yield running


@pytest.fixture
def launcher_log(services):
    """The launcher's supervision loop over this test's processes, in a thread; yields what it reported."""
    lines: list[str] = []

    def report(line: str) -> None:
        lines.append(line)
        say(line)

    supervisor = Supervisor(services.stack, watch=lambda name: name.startswith(services.instance), report=report)
    stop = threading.Event()
    thread = threading.Thread(target=supervisor.run, args=(stop.is_set,), kwargs={"sleep": stop.wait}, daemon=True,
                              name="supervisor")
    thread.start()
    yield lines
    stop.set()
    thread.join(60)  # before running_services stops the processes (it would not restart them anyway)


def test_a_killed_worker_and_web_process_are_restarted_and_the_rest_keeps_running(services, launcher_log):
    stack, instance = services.stack, services.instance
    worker, web = f"{instance}followups-worker", f"{instance}followups-web"
    before = {name: process.pid for name, process in stack.processes.items()}
    old_worker, old_web = before[worker], before[web]

    os.kill(old_worker, signal.SIGKILL)  # `kill -9 <pid>`: the process alone, as a crash or the OOM killer would
    os.kill(old_web, signal.SIGKILL)  # gunicorn's master: its workers are left holding the port

    def restarted(name: str, old_pid: int) -> int:
        process = stack.processes.get(name)
        assert process is not None, f"{name} is no longer in the stack; launcher said: {launcher_log}"
        assert process.pid != old_pid and _running(process.pid), (
            f"{name}: pid {process.pid} (killed: {old_pid}), running: {_running(process.pid)}; "
            f"launcher said: {launcher_log}")
        return process.pid

    # a loaded machine may take long to start gunicorn and a worker: wait for progress, not speed
    new_worker = eventually(lambda: restarted(worker, old_worker), timeout=300, interval=0.5)
    new_web = eventually(lambda: restarted(web, old_web), timeout=300, interval=0.5)

    for name in (worker, web):
        expected = re.compile(rf"^{re.escape(name)} exited with code -9 \(SIGKILL\); restarting in 1 s \(restart #1\)")
        assert any(expected.match(line) for line in launcher_log), f"no restart of {name} logged: {launcher_log}"
    pid_files = {name: (stack.run_dir / "pids" / f"{name}.pid").read_text() for name in (worker, web)}
    assert pid_files == {worker: str(new_worker), web: str(new_web)}, "`make stop` must find the new processes"
    assert _group_gone(old_web), f"processes of the killed gunicorn (group {old_web}) are still running"

    def healthy():
        try:
            response = requests.get(f"{services.urls['followups']}/healthz", timeout=10)
        except requests.RequestException as error:
            raise AssertionError(f"followups web not answering after its restart: {error}") from error
        assert response.status_code == 200, f"/healthz answered {response.status_code}: {response.text[:200]}"

    eventually(healthy, timeout=300, interval=0.5)

    # everything else kept running, untouched: the servers, the other service, and nothing was restarted twice
    for name, pid in before.items():
        if name in (worker, web) or not (name in SERVERS or name.startswith(instance)):
            continue
        process = stack.processes.get(name)
        assert process is not None and process.pid == pid and _running(pid), (
            f"{name} (pid {pid}) should have kept running: now pid {process and process.pid}, "
            f"running: {_running(pid)}")
    restarts = [line for line in launcher_log if " restarting in " in line]
    assert len(restarts) == 2, f"only the two killed processes were restarted: {launcher_log}"

    # and the restarted pair does its work: a notice issued now opens its cases in followups
    notice = services.client("notices").post("/notices", json=NOTICE, timeout=120)
    assert notice.status_code == 201, notice.text
    notice_id = notice.json()["id"]
    followups = services.client("followups", role="auditor")

    def cases_opened():
        response = followups.get("/cases", params={"notice_id": notice_id, "page_size": 10, "page": 1}, timeout=60)
        assert response.status_code == 200, f"/cases answered {response.status_code}: {response.text[:200]}"
        assert len(response.json()) == 2, f"cases of {notice_id} so far: {response.json()}"

    eventually(cases_opened, timeout=300, interval=0.5)


def _stat(pid: int | str) -> list[str] | None:
    """/proc/<pid>/stat after the command name: state, ppid, pgid …; None once the process is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def _running(pid: int) -> bool:
    """Alive, without reaping it (a zombie counts as gone)."""
    fields = _stat(pid)
    return fields is not None and fields[0] != "Z"


def _group_gone(pgid: int, timeout: float = 60) -> bool:
    """No live process left in the group."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        members = [pid for pid in os.listdir("/proc") if pid.isdigit()
                   and (fields := _stat(pid)) is not None and fields[0] != "Z" and int(fields[2]) == pgid]
        if not members:
            return True
        time.sleep(0.2)
    return False
