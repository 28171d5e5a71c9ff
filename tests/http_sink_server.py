"""An HTTP receiver standing in for the SMS gateway and the 企业微信 / 钉钉 robots; tests/sinks.py drives it.

    python -m tests.http_sink_server --dir DIR [--port 0]

Listens on 127.0.0.1 (port 0: any free port), then writes the port to DIR/port. Every request outside /_sink/ is
appended to DIR/requests.jsonl as {"method", "path", "query", "headers", "body", "json"} and answered, in order of
precedence, by: a queued failure ("next N requests"), the standing failure ("all until reset"), the answer set for
its path, or {"errcode": 0, "errmsg": "ok"} with 200.

Control (JSON bodies):
    POST /_sink/answer  {"path", "status": 200, "body": {...} | "text"}        the answer for one path
    POST /_sink/fail    {"status", "body", "times": N | null, "path": null, "delay": 0}
                        the next N requests (of that path, if given) answer so; times null: all until reset;
                        delay: seconds to wait before answering (for timeouts)
    POST /_sink/reset   forget answers and failures;  POST /_sink/clear   forget the recorded requests
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

OK = {"errcode": 0, "errmsg": "ok"}


class State:
    def __init__(self, directory: Path):
        self.file = directory / "requests.jsonl"
        self.file.touch()
        self.lock = threading.Lock()
        self.answers: dict[str, dict] = {}
        self.queued: list[dict] = []  # each {"status", "body", "path", "delay", "left"}
        self.standing: dict | None = None

    def record(self, entry: dict) -> None:
        with self.lock, self.file.open("a", encoding="utf-8") as out:
            out.write(json.dumps(entry, ensure_ascii=False) + "\n")

    def answer_for(self, path: str) -> dict:
        with self.lock:
            for failure in self.queued:
                if failure.get("path") in (None, path):
                    failure["left"] -= 1
                    if failure["left"] <= 0:
                        self.queued.remove(failure)
                    return failure
            if self.standing is not None and self.standing.get("path") in (None, path):
                return self.standing
            return self.answers.get(path, {"status": 200, "body": OK})

    def control(self, action: str, order: dict) -> None:
        with self.lock:
            if action == "answer":
                self.answers[order["path"]] = {"status": int(order.get("status", 200)), "body": order.get("body", OK)}
            elif action == "fail":
                failure = {"status": int(order["status"]), "body": order.get("body", {"error": "failing on demand"}),
                           "path": order.get("path"), "delay": float(order.get("delay", 0))}
                if order.get("times") is None:
                    self.standing = failure
                else:
                    self.queued.append({**failure, "left": int(order["times"])})
            elif action == "reset":
                self.answers, self.queued, self.standing = {}, [], None
            elif action == "clear":
                self.file.write_text("")
            else:
                raise KeyError(action)


class Handler(BaseHTTPRequestHandler):
    server_version = "duban-http-sink/1"
    state: State

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass

    def _reply(self, status: int, body) -> None:
        data = (json.dumps(body, ensure_ascii=False) if not isinstance(body, str) else body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8" if not isinstance(body, str) else
                         "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        split = urllib.parse.urlsplit(self.path)
        if split.path.startswith("/_sink/"):
            try:
                self.state.control(split.path.removeprefix("/_sink/"), json.loads(raw or b"{}"))
            except (KeyError, ValueError, TypeError) as error:
                self._reply(400, {"error": repr(error)})
                return
            self._reply(200, {"ok": True})
            return
        text = raw.decode("utf-8", errors="replace")
        try:
            parsed = json.loads(text) if text else None
        except ValueError:
            parsed = None
        self.state.record({"method": self.command, "path": split.path, "query": split.query,
                           "headers": dict(self.headers.items()), "body": text, "json": parsed, "at": time.time()})
        answer = self.state.answer_for(split.path)
        if answer.get("delay"):
            time.sleep(answer["delay"])
        self._reply(answer["status"], answer["body"])

    do_POST = do_PUT = do_GET = _handle


def exit_with_parent() -> None:
    """A test run killed outright must not leave its sink behind: exit once the parent process is gone."""
    parent = os.getppid()

    def watch():
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(0)

    threading.Thread(target=watch, daemon=True).start()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", required=True, type=Path)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    exit_with_parent()
    Handler.state = State(args.dir)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    partial = args.dir / "port.partial"
    partial.write_text(str(server.server_address[1]))
    os.replace(partial, args.dir / "port")
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    server.server_close()


if __name__ == "__main__":
    main()
