"""The local stack without Docker: the real Kafka broker and FerretDB, then every duban process.

    python deploy/localstack.py install      fetch Kafka's jars (Maven) and build FerretDB (Go), cached
    python deploy/localstack.py infra        start Kafka + PostgreSQL + FerretDB, print their addresses, wait
    python deploy/localstack.py run          start infra and every service's web and worker, restart any that
                                             exits (back-off 1 s, 2 s, 4 s … 30 s), wait
    python deploy/localstack.py stop         stop whatever `run`/`infra` started (from their pid files)

Where KAFKA_BOOTSTRAP / MONGO_URL are set, those servers are used and nothing is started for them.
FerretDB runs on a private PostgreSQL cluster under the run directory (DUBAN_MONGO_ENGINE=postgresql, the
default) or on SQLite files (DUBAN_MONGO_ENGINE=sqlite, the fallback); see deploy/ferretdb_indexes.py for
the indexes each engine gets.
The test suite imports this module to start the same servers once per session.
"""
from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

try:
    from deploy import ferretdb_indexes
except ImportError:  # run as a script: deploy/ is on sys.path
    import ferretdb_indexes

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("DUBAN_CACHE_DIR", ROOT / ".cache"))
RUN_DIR = Path(os.environ.get("DUBAN_RUN_DIR", ROOT / ".run"))
KAFKA_VERSION = "3.9.1"
KAFKA_LIBS = CACHE / f"kafka-{KAFKA_VERSION}" / "libs"
FERRETDB_VERSION = "v1.24.2"
# The binary's name carries a digest of its sources, so a change to main.go or go.sum rebuilds it.
FERRETDB_SOURCES = ("main.go", "go.mod", "go.sum")
FERRETDB_BIN = CACHE / "bin" / "duban-ferretdb-{}-{}".format(FERRETDB_VERSION, hashlib.sha256(b"".join(
    (ROOT / "deploy/ferretdb" / name).read_bytes() for name in FERRETDB_SOURCES)).hexdigest()[:12])
MONGO_ENGINES = ("postgresql", "sqlite")
SERVICES = {"directory": 8004, "tasks": 8001, "notices": 8002, "followups": 8003, "messages": 8005}
PORTAL_PORT = 8000
SERVERS = ("kafka", "postgres", "ferretdb")


def say(message: str) -> None:
    print(f"[duban] {message}", flush=True)


# -- installing ------------------------------------------------------------------------------

def _require_tool(name: str, hint: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise SystemExit(f"[duban] '{name}' is not installed: {hint}")
    return path


def install_kafka() -> None:
    if (KAFKA_LIBS / f"kafka_2.13-{KAFKA_VERSION}.jar").exists():
        say(f"Kafka {KAFKA_VERSION} jars already in {KAFKA_LIBS}")
        return
    mvn = _require_tool("mvn", "apt-get install -y maven openjdk-17-jre-headless")
    say(f"fetching Apache Kafka {KAFKA_VERSION} and its runtime dependencies from Maven Central …")
    tmp = KAFKA_LIBS.with_name("libs.partial")
    shutil.rmtree(tmp, ignore_errors=True)
    subprocess.run(
        [mvn, "-B", "-f", str(ROOT / "deploy/kafka/pom.xml"), "dependency:copy-dependencies",
         f"-Dkafka.version={KAFKA_VERSION}", f"-DoutputDirectory={tmp}", "-DincludeScope=runtime"],
        check=True,
    )
    tmp.rename(KAFKA_LIBS)  # only a complete download counts as cached
    say(f"Kafka jars ready: {len(list(KAFKA_LIBS.glob('*.jar')))} jars")


def install_ferretdb() -> None:
    if FERRETDB_BIN.exists():
        say(f"FerretDB {FERRETDB_VERSION} already built at {FERRETDB_BIN}")
        return
    go = _require_tool("go", "install Go 1.22 or newer")
    say(f"building FerretDB {FERRETDB_VERSION} (Go modules from the module proxy; first build takes a few minutes) …")
    FERRETDB_BIN.parent.mkdir(parents=True, exist_ok=True)
    partial = FERRETDB_BIN.with_suffix(".partial")
    env = {**os.environ, "CGO_ENABLED": "0", "GOFLAGS": "-mod=readonly"}
    subprocess.run([go, "build", "-x" if os.environ.get("DUBAN_VERBOSE") else "-v", "-o", str(partial), "."],
                   cwd=ROOT / "deploy/ferretdb", env=env, check=True)
    partial.rename(FERRETDB_BIN)
    say("FerretDB built")


def install() -> None:
    _require_tool("java", "apt-get install -y openjdk-17-jre-headless")
    install_kafka()
    install_ferretdb()
    if mongo_engine() == "postgresql":
        say(f"PostgreSQL for FerretDB: {postgres_bin_dir()}")


def mongo_engine() -> str:
    """FerretDB's backend: PostgreSQL (indexes it can use) unless DUBAN_MONGO_ENGINE=sqlite."""
    engine = os.environ.get("DUBAN_MONGO_ENGINE") or "postgresql"
    if engine not in MONGO_ENGINES:
        raise SystemExit(f"[duban] DUBAN_MONGO_ENGINE={engine!r}: choose one of {', '.join(MONGO_ENGINES)}")
    return engine


def postgres_bin_dir() -> Path:
    """The newest Debian PostgreSQL server (`make install` brings the package with apt)."""
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name))
    if not candidates:
        raise SystemExit("[duban] PostgreSQL is not installed (FerretDB's default backend): run `make install`, "
                         "or apt-get install -y postgresql, or set DUBAN_MONGO_ENGINE=sqlite")
    return candidates[-1].parent


# -- processes -------------------------------------------------------------------------------

def kafka_cluster_id() -> str:
    """A random base64 cluster id that cannot be mistaken for a command-line option (no leading '-')."""
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, name: str, process: subprocess.Popen | None, log: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise SystemExit(f"[duban] {name} exited with {process.returncode}; see {log}:\n{_tail(log)}")
        with socket.socket() as s:
            s.settimeout(0.5)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise SystemExit(f"[duban] {name} did not answer on port {port} within {timeout:.0f}s; see {log}:\n{_tail(log)}")


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log)"


def _reap(process: subprocess.Popen) -> int | None:
    """The exit code of a child that has exited (None while it runs), once what it left behind in its process
    group (gunicorn's workers, PostgreSQL's backends) is killed too.

    The group is signalled before the child is reaped: until then its id cannot have been given to anyone else.
    """
    if process.returncode is not None:
        return process.returncode
    try:
        if os.waitid(os.P_PID, process.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None:
            return None
    except ChildProcessError:  # reaped behind Popen's back: nothing safe to signal any more
        return process.poll()
    _signal_group(process.pid, signal.SIGKILL)
    return process.wait()


@dataclass(frozen=True)
class ProcessSpec:
    """How a child was started, so that it can be started again the same way (same ports, same data)."""

    argv: list[str]
    env: dict | None = None
    cwd: Path | None = None
    user: str | None = None
    fresh_dir: Path | None = None  # emptied before every start (a gunicorn's multiprocess metrics)


@dataclass(frozen=True)
class ChildExit:
    code: int
    uptime: float  # seconds from its start until the exit was noticed


@dataclass
class Stack:
    """Processes started for one run; stopped together, children and all.

    Safe to use from two threads (the launcher's supervisor and whoever stops the stack): a child being stopped
    or killed leaves ``processes`` first, so it is never restarted.
    """

    run_dir: Path
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    specs: dict[str, ProcessSpec] = field(default_factory=dict)
    started_at: dict[str, float] = field(default_factory=dict)  # time.monotonic() of each child's latest start
    kafka_bootstrap: str | None = None
    mongo_url: str | None = None
    postgres_url: str | None = None  # FerretDB's backend, when the engine is PostgreSQL
    # A throw-away stack (tests) trades PostgreSQL's crash safety for speed; `make run` keeps it.
    durable: bool = True
    _sqlite_indexer: "ferretdb_indexes.SQLiteIdIndexer | None" = None
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False, compare=False)

    def spawn(self, name: str, argv: list[str], env: dict | None = None, cwd: Path | None = None,
              user: str | None = None, fresh_dir: Path | None = None) -> subprocess.Popen:
        with self._lock:
            running = self.processes.get(name)
            if running is not None and _reap(running) is None:
                raise RuntimeError(f"{name} is already running (pid {running.pid}); give the new one another name")
            return self._start(name, ProcessSpec(argv, env, cwd, user, fresh_dir))

    def _start(self, name: str, spec: ProcessSpec) -> subprocess.Popen:
        if spec.fresh_dir is not None:
            shutil.rmtree(spec.fresh_dir, ignore_errors=True)
            spec.fresh_dir.mkdir(parents=True)
        log_path = self.log_path(name)
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(log_path, "ab") as log:
            # A session of its own, so stopping kills the whole process group (gunicorn's workers too).
            process = subprocess.Popen(spec.argv, stdout=log, stderr=subprocess.STDOUT,
                                       env=spec.env or os.environ.copy(), cwd=spec.cwd or ROOT,
                                       start_new_session=True, user=spec.user, group=spec.user)
        self.processes[name] = process
        self.specs[name] = spec
        self.started_at[name] = time.monotonic()
        # `localstack.py stop` reads these: a restarted child replaces its predecessor's pid
        pid_file = self.run_dir / "pids" / f"{name}.pid"
        pid_file.parent.mkdir(parents=True, exist_ok=True)
        pid_file.write_text(str(process.pid))
        return process

    def exited_children(self) -> dict[str, ChildExit]:
        """The children that have exited on their own (not stopped or killed through this stack)."""
        now = time.monotonic()
        with self._lock:
            codes = {name: _reap(process) for name, process in self.processes.items()}
            return {name: ChildExit(code, now - self.started_at[name]) for name, code in codes.items()
                    if code is not None}

    def restart(self, name: str) -> subprocess.Popen | None:
        """Start an exited child again exactly as before; None if it has been stopped or killed meanwhile."""
        with self._lock:
            process = self.processes.get(name)
            if process is None:
                return None
            if _reap(process) is None:
                return process  # running already
            return self._start(name, self.specs[name])

    def log_path(self, name: str) -> Path:
        return self.run_dir / "logs" / f"{name}.log"

    def start_kafka(self, port: int | None = None) -> str:
        port = port or free_port()
        controller = free_port()
        data = self.run_dir / "kafka-data"
        config = self.run_dir / "kafka.properties"
        config.write_text("\n".join([
            "process.roles=broker,controller",
            "node.id=1",
            f"controller.quorum.voters=1@127.0.0.1:{controller}",
            f"listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller}",
            f"advertised.listeners=PLAINTEXT://127.0.0.1:{port}",
            "controller.listener.names=CONTROLLER",
            "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "inter.broker.listener.name=PLAINTEXT",
            f"log.dirs={data}",
            "num.partitions=3",
            "offsets.topic.replication.factor=1",
            "offsets.topic.num.partitions=10",
            "transaction.state.log.replication.factor=1",
            "transaction.state.log.min.isr=1",
            "group.initial.rebalance.delay.ms=0",
            "auto.create.topics.enable=true",
            "",
        ]))
        java = [_require_tool("java", "apt-get install -y openjdk-17-jre-headless"),
                os.environ.get("DUBAN_KAFKA_HEAP", "-Xmx768m"), "-cp", str(KAFKA_LIBS / "*"),
                f"-Dlog4j.configuration=file:{ROOT / 'deploy/kafka/log4j.properties'}"]
        if not (data / "meta.properties").exists():
            cluster_id = kafka_cluster_id()
            subprocess.run(java + ["kafka.tools.StorageTool", "format", "-t", cluster_id, "-c", str(config)],
                           check=True, stdout=subprocess.DEVNULL)
        say(f"starting Kafka {KAFKA_VERSION} (KRaft) on 127.0.0.1:{port} …")
        process = self.spawn("kafka", java + ["kafka.Kafka", str(config)])
        wait_for_port(port, "Kafka", process, self.log_path("kafka"))
        self.kafka_bootstrap = f"127.0.0.1:{port}"
        return self.kafka_bootstrap

    def start_postgres(self, port: int | None = None) -> str:
        """A private PostgreSQL cluster under the run directory, FerretDB's backend; returns its URL."""
        bin_dir = postgres_bin_dir()
        port = port or free_port()
        data, sockets = self.run_dir / "postgres-data", self.run_dir / "postgres-socket"
        # PostgreSQL refuses to run as root: as root, the cluster belongs to Debian's `postgres` account.
        user = "postgres" if os.geteuid() == 0 else None
        for folder in (data, sockets):
            folder.mkdir(parents=True, exist_ok=True)
            if user:
                shutil.chown(folder, user, user)
                folder.chmod(0o700)
        if user:
            self.run_dir.chmod(0o755)  # mkdtemp makes it 0700; the postgres account must reach its folders
        if not (data / "PG_VERSION").exists():
            subprocess.run([str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                            "--no-locale", "--no-sync"], check=True, stdout=subprocess.DEVNULL, user=user, group=user)
        settings = {"listen_addresses": "127.0.0.1", "unix_socket_directories": str(sockets), "max_connections": "200",
                    **({} if self.durable else {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"})}
        say(f"starting PostgreSQL ({bin_dir.parent.name}) on 127.0.0.1:{port} for FerretDB …")
        process = self.spawn("postgres", [str(bin_dir / "postgres"), "-D", str(data), "-p", str(port)]
                             + [arg for key, value in settings.items() for arg in ("-c", f"{key}={value}")], user=user)
        wait_for_port(port, "PostgreSQL", process, self.log_path("postgres"))
        self.postgres_url = ferretdb_indexes.prepare_postgres(bin_dir, port, process, self.log_path("postgres"))
        return self.postgres_url

    def start_ferretdb(self, port: int | None = None, engine: str | None = None) -> str:
        engine = engine or mongo_engine()
        port = port or free_port()
        if engine == "postgresql":
            backend = ["--postgresql-url", self.postgres_url or self.start_postgres()]
        else:
            backend = ["--data-dir", str(self.run_dir / "ferretdb-data")]
        say(f"starting FerretDB {FERRETDB_VERSION} ({engine}) on 127.0.0.1:{port} …")
        process = self.spawn("ferretdb", [str(FERRETDB_BIN), "--listen-addr", f"127.0.0.1:{port}", *backend])
        wait_for_port(port, "FerretDB", process, self.log_path("ferretdb"))
        if engine == "sqlite":
            self._sqlite_indexer = ferretdb_indexes.SQLiteIdIndexer(self.run_dir / "ferretdb-data")
            self._sqlite_indexer.start()
        self.mongo_url = f"mongodb://127.0.0.1:{port}/"
        return self.mongo_url

    def start_infra(self, kafka_port: int | None = None, mongo_port: int | None = None) -> None:
        self.kafka_bootstrap = os.environ.get("KAFKA_BOOTSTRAP") or self.start_kafka(kafka_port)
        self.mongo_url = os.environ.get("MONGO_URL") or self.start_ferretdb(mongo_port)

    def service_env(self, extra: dict | None = None) -> dict:
        env = {**os.environ, "KAFKA_BOOTSTRAP": self.kafka_bootstrap, "MONGO_URL": self.mongo_url,
               "PYTHONPATH": str(ROOT)}
        if self._sqlite_indexer is not None:
            env.setdefault("DUBAN_INDEX_CHECK", "warn")  # on SQLite only _id lookups can use an index
        env.update(extra or {})
        return env

    def start_service(self, service: str, port: int, python: str = sys.executable, web_workers: int = 2,
                      env: dict | None = None, instance: str = "") -> str:
        """The service's gunicorn web process and its worker process; returns the web URL.

        ``instance`` prefixes the process names, so several copies of a service can share one stack.
        """
        self.start_worker(service, python, env, instance)
        return self.start_web(service, port, python, web_workers, env, instance)

    def start_web(self, service: str, port: int, python: str = sys.executable, web_workers: int = 2,
                  env: dict | None = None, instance: str = "") -> str:
        name = f"{instance}{service}-web"
        metrics_dir = self.run_dir / "metrics" / name
        web_env = self.service_env({**(env or {}), "DUBAN_BIND": f"127.0.0.1:{port}",
                                    "DUBAN_WEB_WORKERS": str(web_workers),
                                    "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)})
        process = self.spawn(name, [python, "-m", "gunicorn", "-c", str(ROOT / "deploy/gunicorn.conf.py"),
                                                f"services.{service}.entrypoints.api:create_app()"], env=web_env,
                             fresh_dir=metrics_dir)
        wait_for_port(port, name, process, self.log_path(name))
        return f"http://127.0.0.1:{port}"

    def start_portal(self, port: int, python: str, urls: dict[str, str], env: dict | None = None,
                     instance: str = "") -> str:
        """The portal: one web process (its read models live in memory, fed from the topics), no worker.

        Its snapshots go to the run directory (unless DUBAN_PORTAL_SNAPSHOT_DIR says otherwise), so a restart
        replays only the tail of the topics.
        """
        service_urls = {f"DUBAN_{name.upper()}_URL": url for name, url in urls.items()}
        snapshots = os.environ.get("DUBAN_PORTAL_SNAPSHOT_DIR") or str(self.run_dir / f"{instance}portal-snapshots")
        return self.start_web("portal", port, python, 1,
                              {"DUBAN_PORTAL_SNAPSHOT_DIR": snapshots, **(env or {}), **service_urls}, instance)

    def start_worker(self, service: str, python: str = sys.executable, env: dict | None = None,
                     instance: str = "") -> subprocess.Popen:
        return self.spawn(f"{instance}{service}-worker", [python, "-m", f"services.{service}.entrypoints.worker"],
                          env=self.service_env(env))

    def kill(self, name: str) -> None:
        """SIGKILL a process group, as a crash would: no clean shutdown, no final commit (and no restart)."""
        with self._lock:
            process = self.processes.pop(name)
        _signal_group(process.pid, signal.SIGKILL)
        process.wait(10)

    def stop(self, names: list[str] | None = None, timeout: float = 15) -> None:
        """SIGTERM each process group, then SIGKILL what is still there; services before servers."""
        if self._sqlite_indexer is not None and names is None:
            self._sqlite_indexer.stop()
        with self._lock:  # out of `processes` first, so that no supervisor restarts them
            order = names or [n for n in reversed(list(self.processes))]
            stopping = [(name, self.processes.pop(name)) for name in order if name in self.processes]
            for _, process in stopping:
                if process.returncode is None:  # a group whose leader died (unreaped) may still have members
                    _signal_group(process.pid, signal.SIGTERM)
        for name, process in stopping:
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                _signal_group(process.pid, signal.SIGKILL)
                process.wait(5)
            (self.run_dir / "pids" / f"{name}.pid").unlink(missing_ok=True)


@contextlib.contextmanager
def _stopped_by_sigterm():
    """While the block runs, SIGTERM interrupts it like Ctrl-C does, so the block's cleanup runs.

    The servers run in process groups of their own: a `timeout`, or a CI runner ending a test or bench process
    with SIGTERM, would otherwise leave Kafka, FerretDB and PostgreSQL running behind it. KeyboardInterrupt, not
    SystemExit: pytest records a SystemExit as one test's failure and goes on, while it ends the session on
    KeyboardInterrupt and tears its fixtures down. Further SIGTERMs are ignored while that cleanup runs (SIGKILL
    still ends it). Only the main thread may set a handler, and one set by someone else is left alone.
    """
    if threading.current_thread() is not threading.main_thread() or \
            signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        yield
        return

    def interrupt(signum, frame):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


@contextlib.contextmanager
def temporary_stack(prefix: str = "duban-", durable: bool = False):
    """Kafka + FerretDB in a throw-away folder (or the servers named by KAFKA_BOOTSTRAP/MONGO_URL), stopped and
    removed on the way out, a SIGTERM included."""
    run_dir = Path(tempfile.mkdtemp(prefix=prefix))
    stack = Stack(run_dir, durable=durable)
    with _stopped_by_sigterm():
        try:
            stack.start_infra()
            yield stack
        finally:
            stack.stop()
            if os.environ.get("DUBAN_KEEP_RUN_DIR"):  # logs of a failed run, for a post-mortem
                print(f"[duban] kept {run_dir}", file=sys.stderr)
            else:
                shutil.rmtree(run_dir, ignore_errors=True)


def _signal_group(pid: int, signum: int) -> None:
    try:
        os.killpg(pid, signum)
    except ProcessLookupError:
        pass


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _read_pid(pid_file: Path) -> int | None:
    try:
        return int(pid_file.read_text())
    except (FileNotFoundError, ValueError):
        return None  # its owner removed it while we looked


def stop_from_pid_files(run_dir: Path = RUN_DIR) -> None:
    """`make stop`: ask the `run` launcher to stop everything in order, then end any leftovers."""
    launcher = _read_pid(run_dir / "launcher.pid")
    if launcher is not None and launcher != os.getpid() and _pid_alive(launcher):
        say(f"stopping the running stack (launcher pid {launcher}) …")
        os.kill(launcher, signal.SIGTERM)
        for _ in range(300):
            if not _pid_alive(launcher):
                break
            time.sleep(0.1)
    pid_dir = run_dir / "pids"
    servers = ("kafka", "ferretdb", "postgres")  # after the services, and PostgreSQL after FerretDB
    pid_files = sorted(pid_dir.rglob("*.pid"), key=lambda p: servers.index(p.stem) + 1 if p.stem in servers else 0) \
        if pid_dir.exists() else []
    for pid_file in pid_files:
        pid = _read_pid(pid_file)
        if pid is None:
            continue
        if _pid_alive(pid):
            say(f"stopping {pid_file.stem} (pid {pid})")
            _signal_group(pid, signal.SIGTERM)
            for _ in range(150):
                if not _pid_alive(pid):
                    break
                time.sleep(0.1)
            else:
                _signal_group(pid, signal.SIGKILL)
        pid_file.unlink(missing_ok=True)


# -- supervision -----------------------------------------------------------------------------

@dataclass(frozen=True)
class RestartPolicy:
    """When a child that exited is started again: after 1 s, 2 s, 4 s … (at most ``max_delay``) for exits in a
    row; a child that had stayed up ``stable_after`` seconds starts over at ``first_delay``."""

    first_delay: float = 1.0
    max_delay: float = 30.0
    stable_after: float = 60.0
    servers: bool = True  # Kafka, PostgreSQL, FerretDB too (same ports, same data); False: services only

    def should_restart(self, name: str) -> bool:
        return self.servers or name not in SERVERS

    def next_attempt(self, previous: int, uptime: float) -> int:
        """The number of this restart in a row, given the previous one's and how long the child stayed up."""
        return 1 if uptime >= self.stable_after else previous + 1

    def delay(self, attempt: int) -> float:
        """Seconds to wait before the ``attempt``-th restart in a row (1-based)."""
        return min(self.max_delay, self.first_delay * 2 ** min(max(attempt, 1) - 1, 32))


def describe_exit(code: int) -> str:
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"code {code} ({signal.Signals(-code).name})"
    return f"code {code}"


@dataclass
class ChildRestarts:
    attempt: int = 0  # restarts in a row, each after too short a life
    restarts: int = 0  # restarts so far
    due: float | None = None  # when the pending restart is due (the supervisor's clock)


class Supervisor:
    """Restarts the children of a stack that exit on their own, with the back-off of ``policy``.

    ``watch`` narrows which children it looks after (a test supervises its own services on a shared stack).
    Only ``check`` touches processes, through ``stack.exited_children()`` and ``stack.restart(name)``.
    """

    def __init__(self, stack, policy: RestartPolicy = RestartPolicy(), watch: Callable[[str], bool] = lambda _: True,
                 report: Callable[[str], None] = say, clock: Callable[[], float] = time.monotonic):
        self.stack = stack
        self.policy = policy
        self.watch = watch
        self.report = report
        self.clock = clock
        self.children: dict[str, ChildRestarts] = {}
        self.given_up: set[str] = set()

    def check(self) -> None:
        """One pass: schedule a restart for each newly exited child, and perform the restarts that are due."""
        now = self.clock()
        for name, ended in self.stack.exited_children().items():
            if not self.watch(name) or name in self.given_up:
                continue
            child = self.children.setdefault(name, ChildRestarts())
            if child.due is not None:
                continue  # noticed already, waiting for its turn
            if not self.policy.should_restart(name):
                self.given_up.add(name)
                self.report(f"{name} exited with {describe_exit(ended.code)}; not restarted; "
                            f"see {self.stack.log_path(name)}")
                continue
            self._schedule(name, child, now, ended.uptime, f"exited with {describe_exit(ended.code)}")
        for name, child in list(self.children.items()):
            if child.due is None or now < child.due:
                continue
            child.due = None
            try:
                process = self.stack.restart(name)
            except Exception as error:  # noqa: BLE001 - e.g. OSError: the next attempt may succeed
                self._schedule(name, child, now, 0.0, f"could not be started ({error})")
                continue
            if process is None:  # stopped meanwhile
                del self.children[name]
            else:
                self.report(f"{name} restarted (pid {process.pid})")

    def _schedule(self, name: str, child: ChildRestarts, now: float, uptime: float, what: str) -> None:
        child.attempt = self.policy.next_attempt(child.attempt, uptime)
        child.restarts += 1
        delay = self.policy.delay(child.attempt)
        child.due = now + delay
        self.report(f"{name} {what}; restarting in {delay:g} s (restart #{child.restarts}); "
                    f"see {self.stack.log_path(name)}")

    def run(self, should_stop: Callable[[], bool], interval: float = 0.5,
            sleep: Callable[[float], object] = time.sleep) -> None:
        """Check every ``interval`` seconds until ``should_stop()``."""
        while not should_stop():
            self.check()
            sleep(interval)


def _wait_until_signalled(stack: Stack) -> None:
    stopping = []  # a list, not a threading.Event: setting an Event from a signal handler can deadlock
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.append(True))
    try:
        Supervisor(stack).run(lambda: bool(stopping))
    finally:
        say("stopping …")
        stack.stop()
        (stack.run_dir / "launcher.pid").unlink(missing_ok=True)
        say("stopped")


def installation_secret(run_dir: Path = RUN_DIR) -> str:
    """This installation's token secret: made once (random), kept in the run directory readable by its owner alone."""
    path = run_dir / "jwt-secret"
    try:
        secret = path.read_text().strip()
    except FileNotFoundError:
        secret = ""
    if not secret:
        run_dir.mkdir(parents=True, exist_ok=True)
        secret = base64.urlsafe_b64encode(os.urandom(48)).decode().rstrip("=")
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as out:
            out.write(secret + "\n")
    os.chmod(path, 0o600)  # also a file an earlier version or a person left readable to others
    return secret


def use_installation_secret(run_dir: Path = RUN_DIR) -> None:
    """Every process `run` starts (services, portal, demo loader, `duban token`) inherits the launcher's environment:
    the installation's secret, unless DUBAN_JWT_SECRET is set, and development mode (the demo accounts of the portal),
    unless DUBAN_DEV_MODE says otherwise."""
    if not os.environ.get("DUBAN_JWT_SECRET"):
        os.environ["DUBAN_JWT_SECRET"] = installation_secret(run_dir)
    os.environ.setdefault("DUBAN_DEV_MODE", "1")


def load_demo(python: str, urls: dict[str, str]) -> None:
    """Load the demo year through the public APIs (DUBAN_DEMO=0 skips it; loading twice adds nothing)."""
    say("loading the demo year through the public APIs (DUBAN_DEMO=0 to skip) …")
    service_urls = [urls[name] for name in ("notices", "followups", "tasks", "directory") if name in urls]
    result = subprocess.run([python, "-m", "services.demo", *service_urls],
                            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    if result.returncode != 0:
        say("the demo data could not be loaded (see above); the services keep running")
    token = subprocess.run([str(Path(python).with_name("duban")), "token", "--user", "demo.office", "--role", "office_staff",
                            "--unit", "巴中市人民政府教育督导委员会办公室"], cwd=ROOT, capture_output=True, text=True)
    if token.returncode == 0:
        say(f"an office staff token for the APIs: {token.stdout.strip()}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["install", "infra", "run", "stop"])
    parser.add_argument("--python", default=sys.executable, help="interpreter with duban installed")
    args = parser.parse_args(argv)

    if args.command == "install":
        install()
        return
    if args.command == "stop":
        stop_from_pid_files()
        return

    install()
    stop_from_pid_files()  # leftovers of an earlier run that was killed hard
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    (RUN_DIR / "launcher.pid").write_text(str(os.getpid()))
    use_installation_secret(RUN_DIR)
    stack = Stack(RUN_DIR)
    try:
        stack.start_infra(int(os.environ.get("DUBAN_KAFKA_PORT", "9092")), int(os.environ.get("DUBAN_MONGO_PORT", "27017")))
        say(f"Kafka:   {stack.kafka_bootstrap}")
        say(f"MongoDB: {stack.mongo_url}" + (f" (FerretDB on PostgreSQL {stack.postgres_url})" if stack.postgres_url else ""))
        if args.command == "run":
            urls = {}
            for service, default_port in SERVICES.items():
                port = int(os.environ.get(f"DUBAN_{service.upper()}_PORT", default_port))
                urls[service] = stack.start_service(service, port, python=args.python)
                say(f"{service:<10} {urls[service]}  (API docs {urls[service]}/docs, OpenAPI {urls[service]}/openapi.json)")
            portal = stack.start_portal(int(os.environ.get("DUBAN_PORTAL_PORT", PORTAL_PORT)), args.python, urls)
            if os.environ.get("DUBAN_DEMO", "1") != "0":
                load_demo(args.python, urls)
            say(f"portal     {portal}  ← open this (demo accounts: office / inspector / auditor / bazhou / finance …, "
                f"password duban-demo)")
        say(f"running; a process that exits is restarted (logs in {stack.run_dir / 'logs'}); "
            "press Ctrl-C (or `make stop` elsewhere) to stop everything")
    except BaseException:
        stack.stop()
        raise
    _wait_until_signalled(stack)


if __name__ == "__main__":
    main()
