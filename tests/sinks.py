"""Real receivers for the outside channels, each its own process: an SMTP sink and an HTTP gateway stand-in.

    with SmtpSink(tmp_dir) as smtp:          # tests/smtp_sink_server.py (aiosmtpd)
        ... send to smtp.host:smtp.port ...
        mail = smtp.messages()[0]            # .subject, .body, .message["Message-ID"], .rcpt_tos, .raw
    with HttpSink(tmp_dir) as http:          # tests/http_sink_server.py (http.server)
        http.url("/wecom/unit-a")            # an absolute URL to configure a channel with
        http.fail(503, times=2)              # the next two requests answer 503
        http.requests()                      # what arrived: .path, .query, .headers, .json

The session fixtures `smtp_sink` and `http_sink` (tests/conftest.py) start one of each per session; a test calls
`.clear()` (and for HTTP `.reset()`) first, since the processes are shared.
"""
from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class SinkProcess:
    """A `python -m <module> --dir DIR` process that binds a free port and writes it to DIR/port."""

    module: str = ""

    def __init__(self, directory: Path | str, *extra_args: str, start_timeout: float = 20.0):
        self.directory = Path(directory)
        self.extra_args = extra_args
        self.start_timeout = start_timeout
        self.process: subprocess.Popen | None = None
        self.host = "127.0.0.1"
        self.port = 0

    def start(self) -> "SinkProcess":
        self.directory.mkdir(parents=True, exist_ok=True)
        (self.directory / "port").unlink(missing_ok=True)
        log = (self.directory / "sink.log").open("ab")
        self.process = subprocess.Popen([sys.executable, "-m", self.module, "--dir", str(self.directory),
                                         *self.extra_args], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                        env={**os.environ, "PYTHONPATH": os.pathsep.join(
                                            filter(None, (str(ROOT), os.environ.get("PYTHONPATH"))))})
        log.close()
        deadline = time.monotonic() + self.start_timeout
        port_file = self.directory / "port"
        while not port_file.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                log_text = (self.directory / "sink.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"{self.module} did not start; its log:\n{log_text}")
            time.sleep(0.05)
        self.port = int(port_file.read_text())
        return self

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.process = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def _read_jsonl(path: Path) -> list[dict]:
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def _wait(read, count: int, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while True:
        items = read()
        if len(items) >= count:
            return items
        if time.monotonic() > deadline:
            raise AssertionError(f"{len(items)} of {count} {what} arrived within {timeout:g}s: {items!r}")
        time.sleep(0.05)


# -- SMTP ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ReceivedMail:
    queue_id: str
    mail_from: str
    rcpt_tos: list[str]
    auth_login: str | None
    raw: bytes
    message: EmailMessage = field(repr=False)

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def body(self) -> str:
        """The text part, decoded from its transfer encoding and charset."""
        part = self.message.get_body(preferencelist=("plain",))
        return part.get_content() if part is not None else ""

    def header(self, name: str) -> str | None:
        value = self.message[name]
        return None if value is None else str(value)


class SmtpSink(SinkProcess):
    """The aiosmtpd sink; it accepts AUTH with `user`/`password` (not required), refuses "refuse@…" 550, "busy@…" 451."""

    module = "tests.smtp_sink_server"
    user, password = "duban", "sink-password"

    def __init__(self, directory: Path | str, **options):
        super().__init__(directory, "--auth", f"{self.user}:{self.password}", **options)

    def messages(self) -> list[ReceivedMail]:
        mails = []
        for entry in _read_jsonl(self.directory / "messages.jsonl"):
            raw = base64.b64decode(entry["raw_base64"])
            mails.append(ReceivedMail(entry["queue_id"], entry["mail_from"], entry["rcpt_tos"], entry["auth_login"], raw,
                                      BytesParser(policy=policy.default).parsebytes(raw)))
        return mails

    def wait_for(self, count: int, timeout: float = 10.0) -> list[ReceivedMail]:
        return _wait(self.messages, count, timeout, "mails")

    def clear(self) -> None:
        (self.directory / "messages.jsonl").write_text("")


# -- HTTP ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ReceivedRequest:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: str
    json: object

    @property
    def params(self) -> dict[str, str]:
        """The query string decoded, one value per name."""
        return dict(urllib.parse.parse_qsl(self.query, keep_blank_values=True))

    def header(self, name: str) -> str | None:
        lowered = {k.lower(): v for k, v in self.headers.items()}
        return lowered.get(name.lower())


class HttpSink(SinkProcess):
    """The HTTP gateway stand-in: records every request, answers {"errcode":0,"errmsg":"ok"} unless told otherwise."""

    module = "tests.http_sink_server"

    def url(self, path: str = "/") -> str:
        return f"http://{self.host}:{self.port}{path if path.startswith('/') else '/' + path}"

    def _control(self, action: str, order: dict | None = None) -> None:
        request = urllib.request.Request(self.url(f"/_sink/{action}"), data=json.dumps(order or {}).encode(),
                                         method="POST", headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=5) as response:
            response.read()

    def answer(self, path: str, body: object, status: int = 200) -> None:
        """Every request to ``path`` answers ``body`` (a JSON value, or a str sent as text) with ``status``."""
        self._control("answer", {"path": path, "status": status, "body": body})

    def fail(self, status: int, body: object = None, *, times: int | None = None, path: str | None = None,
             delay: float = 0.0) -> None:
        """The next ``times`` requests (all until reset if None; only ``path``'s if given) answer ``status``/``body``."""
        order = {"status": status, "times": times, "path": path, "delay": delay}
        if body is not None:
            order["body"] = body
        self._control("fail", order)

    def reset(self) -> None:
        """Forget the answers and failures (the recorded requests stay: see clear)."""
        self._control("reset")

    def clear(self) -> None:
        self._control("clear")

    def requests(self, path: str | None = None) -> list[ReceivedRequest]:
        entries = _read_jsonl(self.directory / "requests.jsonl")
        return [ReceivedRequest(e["method"], e["path"], e["query"], e["headers"], e["body"], e["json"])
                for e in entries if path is None or e["path"] == path]

    def wait_for(self, count: int, path: str | None = None, timeout: float = 10.0) -> list[ReceivedRequest]:
        return _wait(lambda: self.requests(path), count, timeout, "requests")
