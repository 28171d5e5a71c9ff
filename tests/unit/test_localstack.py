import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from deploy.localstack import ChildExit, RestartPolicy, Stack, Supervisor, describe_exit, kafka_cluster_id


def test_kafka_cluster_ids_never_look_like_an_option():
    ids = {kafka_cluster_id() for _ in range(2000)}
    assert len(ids) == 2000
    assert not any(i.startswith("-") for i in ids)
    assert all(len(i) == 22 for i in ids)


class TestRestartPolicy:
    def test_the_delay_doubles_from_one_second_up_to_thirty(self):
        policy = RestartPolicy()
        assert [policy.delay(n) for n in range(1, 9)] == [1, 2, 4, 8, 16, 30, 30, 30]
        assert policy.delay(10_000) == 30

    def test_quick_exits_in_a_row_count_up_and_a_child_that_stayed_up_a_minute_starts_over(self):
        policy = RestartPolicy()
        assert policy.next_attempt(0, uptime=0.5) == 1
        assert policy.next_attempt(3, uptime=59.9) == 4
        assert policy.next_attempt(5, uptime=60) == 1

    def test_services_are_always_restarted_servers_unless_told_not_to(self):
        assert RestartPolicy().should_restart("followups-worker")
        assert RestartPolicy().should_restart("kafka")
        assert RestartPolicy(servers=False).should_restart("t1/portal-web")
        assert not RestartPolicy(servers=False).should_restart("postgres")

    def test_exit_codes_name_the_signal(self):
        assert describe_exit(-9) == "code -9 (SIGKILL)"
        assert describe_exit(1) == "code 1"


class FakeProcess:
    def __init__(self, pid: int):
        self.pid = pid


class FakeStack:
    """Children that exit when a test says so, restarted on request: the supervisor's whole view of a stack."""

    def __init__(self, *names: str):
        self.next_pid = 100
        self.running = {name: self._new_pid() for name in names}
        self.exits: dict[str, ChildExit] = {}
        self.restarted: list[str] = []
        self.fail_restarts = 0

    def _new_pid(self) -> int:
        self.next_pid += 1
        return self.next_pid

    def exit(self, name: str, code: int = -9, uptime: float = 1.0) -> None:
        self.exits[name] = ChildExit(code, uptime)

    def exited_children(self) -> dict[str, ChildExit]:
        return dict(self.exits)

    def restart(self, name: str):
        if name not in self.running:
            return None
        if self.fail_restarts:
            self.fail_restarts -= 1
            raise OSError("no such interpreter")
        self.exits.pop(name)
        self.running[name] = self._new_pid()
        self.restarted.append(name)
        return FakeProcess(self.running[name])

    def log_path(self, name: str) -> Path:
        return Path("logs") / f"{name}.log"


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def supervised(*names: str, **options):
    stack, clock, lines = FakeStack(*names), Clock(), []
    return stack, clock, lines, Supervisor(stack, clock=clock, report=lines.append, **options)


def test_an_exited_worker_is_restarted_after_one_second_and_the_restart_is_logged():
    stack, clock, lines, supervisor = supervised("followups-worker", "followups-web")
    stack.exit("followups-worker", -9)
    supervisor.check()
    assert lines == ["followups-worker exited with code -9 (SIGKILL); restarting in 1 s (restart #1); "
                     "see logs/followups-worker.log"]
    clock.now += 0.9
    supervisor.check()
    assert stack.restarted == [], "not before its delay"
    clock.now += 0.1
    supervisor.check()
    assert stack.restarted == ["followups-worker"]
    assert lines[-1] == f"followups-worker restarted (pid {stack.running['followups-worker']})"
    clock.now += 10
    supervisor.check()
    assert stack.restarted == ["followups-worker"], "a running child is left alone"


def test_a_child_that_keeps_crashing_waits_longer_each_time_and_starts_over_once_it_stayed_up():
    stack, clock, lines, supervisor = supervised("notices-worker")
    delays = []
    for uptime in (0.5, 2, 3, 1, 5, 8, 2, 61, 1):
        stack.exit("notices-worker", 1, uptime)
        supervisor.check()
        delay = supervisor.children["notices-worker"].due - clock.now
        delays.append(delay)
        clock.now += delay
        supervisor.check()
    assert delays == [1, 2, 4, 8, 16, 30, 30, 1, 2]
    assert lines[-2].startswith("notices-worker exited with code 1; restarting in 2 s (restart #9)")
    assert len(stack.restarted) == 9


def test_a_failed_restart_is_retried_with_the_next_delay():
    stack, clock, lines, supervisor = supervised("tasks-web")
    stack.fail_restarts = 1
    stack.exit("tasks-web", 3)
    supervisor.check()
    clock.now += 1
    supervisor.check()
    assert lines[-1].startswith("tasks-web could not be started (no such interpreter); restarting in 2 s (restart #2)")
    clock.now += 2
    supervisor.check()
    assert stack.restarted == ["tasks-web"]


def test_children_stopped_meanwhile_or_outside_its_watch_or_policy_are_not_restarted():
    stack, clock, lines, supervisor = supervised("kafka", "a/notices-worker", "b/notices-worker",
                                                 watch=lambda name: not name.startswith("b/"),
                                                 policy=RestartPolicy(servers=False))
    stack.exit("kafka", 1)
    stack.exit("a/notices-worker")
    stack.exit("b/notices-worker")
    supervisor.check()
    supervisor.check()
    assert [line.split(";")[:2] for line in lines] == [
        ["kafka exited with code 1", " not restarted"],
        ["a/notices-worker exited with code -9 (SIGKILL)", " restarting in 1 s (restart #1)"],
    ]
    del stack.running["a/notices-worker"]  # the stack stopped it meanwhile
    clock.now += 5
    supervisor.check()
    assert stack.restarted == [] and "a/notices-worker" not in supervisor.children


@pytest.fixture
def stack(tmp_path):
    stack = Stack(tmp_path)
    yield stack
    stack.stop()


def _alive(pid: int) -> bool:
    """Running (a zombie waiting for init to reap it counts as gone)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


def _logged_grandchild(log: Path) -> str:
    words = log.read_text().split() if log.exists() else []
    assert "grandchild" in words, f"log: {words}"
    return words[words.index("grandchild") + 1]


def _eventually(check, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while True:
        try:
            return check()
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def test_a_real_child_killed_with_sigkill_comes_back_with_its_pid_file_updated_and_its_leftovers_gone(stack):
    # the child leaves a grandchild in its process group, as gunicorn leaves its workers
    script = "import subprocess, sys, time; p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)']); " \
             "print('grandchild', p.pid, flush=True); time.sleep(600)"
    first = stack.spawn("sleeper", [sys.executable, "-c", script])
    pid_file = stack.run_dir / "pids" / "sleeper.pid"
    assert pid_file.read_text() == str(first.pid)
    lines = []
    supervisor = Supervisor(stack, RestartPolicy(first_delay=0.1), report=lines.append)
    grandchild = int(_eventually(lambda: _logged_grandchild(stack.run_dir / "logs" / "sleeper.log")))
    os.kill(first.pid, signal.SIGKILL)

    def restarted():
        supervisor.check()
        assert stack.processes["sleeper"].pid != first.pid, lines

    _eventually(restarted)
    second = stack.processes["sleeper"]
    assert second.poll() is None
    assert pid_file.read_text() == str(second.pid)
    assert lines[0].startswith("sleeper exited with code -9 (SIGKILL); restarting in 0.1 s (restart #1)")
    _eventually(lambda: _assert_equal(_alive(grandchild), False))  # it went with its parent
    stack.stop()
    assert not _alive(second.pid) and not pid_file.exists()


def test_a_child_being_stopped_is_never_restarted(stack):
    process = stack.spawn("sleeper", [sys.executable, "-c", "import time; time.sleep(600)"])
    os.kill(process.pid, signal.SIGKILL)
    process.wait(30)
    stack.stop(["sleeper"])
    assert stack.exited_children() == {} and stack.restart("sleeper") is None


def _assert_equal(actual, expected):
    assert actual == expected, f"{actual!r} != {expected!r}"


TERMINATED_CHILD = """
import sys, time
from pathlib import Path
from deploy import localstack

def start_infra(self, *args, **kwargs):  # a stand-in server: a process in its own group, like Kafka's
    self.spawn("server", ["sleep", "300"])
    Path(sys.argv[1]).write_text(f"{self.run_dir}\\n{self.processes['server'].pid}")

localstack.Stack.start_infra = start_infra
with localstack.temporary_stack("duban-sigterm-test-"):
    time.sleep(300)
"""


def test_a_temporary_stack_ended_by_sigterm_stops_its_servers_and_removes_its_folder(tmp_path):
    started = tmp_path / "started"
    child = subprocess.Popen([sys.executable, "-c", TERMINATED_CHILD, str(started)],
                             cwd=Path(__file__).resolve().parents[2])
    try:
        deadline = time.monotonic() + 30
        while not started.exists() or not started.read_text():
            assert child.poll() is None and time.monotonic() < deadline, "the stack did not start"
            time.sleep(0.05)
        run_dir, server = started.read_text().split("\n")
        child.send_signal(signal.SIGTERM)
        assert child.wait(30) != 0
        assert not Path(run_dir).exists()
        with pytest.raises(ProcessLookupError):  # stopped (and reaped by its parent), not left behind
            os.kill(int(server), 0)
    finally:
        if child.poll() is None:
            child.kill()


def test_sigterm_is_back_to_its_default_once_the_stack_is_gone_and_a_handler_of_someone_else_stays():
    from deploy.localstack import _stopped_by_sigterm

    def theirs(signum, frame):
        pass

    previous = signal.signal(signal.SIGTERM, signal.SIG_DFL)  # the session's own stack may be up, handler and all
    try:
        with _stopped_by_sigterm():
            assert signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL
        assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
        signal.signal(signal.SIGTERM, theirs)
        with _stopped_by_sigterm():
            assert signal.getsignal(signal.SIGTERM) is theirs
        assert signal.getsignal(signal.SIGTERM) is theirs
    finally:
        signal.signal(signal.SIGTERM, previous)
