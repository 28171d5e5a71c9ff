"""A real SMTP server for the tests (aiosmtpd): stores every accepted message as a JSON line; tests/sinks.py drives it.

    python -m tests.smtp_sink_server --dir DIR [--port 0] [--auth USER:PASSWORD]

Listens on 127.0.0.1 (port 0: any free port), then writes the port to DIR/port. Each message goes to
DIR/messages.jsonl as {"queue_id", "mail_from", "rcpt_tos", "auth_login", "raw_base64"}. A recipient whose local
part is "refuse" is answered 550 and one whose local part is "busy" 451, so tests can see both kinds of refusal.
With --auth, AUTH PLAIN/LOGIN is offered on the plain connection (not required); STARTTLS is not offered.
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import signal
import threading
import time
import uuid
from pathlib import Path

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class Recorder:
    def __init__(self, directory: Path):
        self.file = directory / "messages.jsonl"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@", 1)[0].lower()
        if local == "refuse":
            return "550 5.1.1 mailbox unavailable"
        if local == "busy":
            return "451 4.3.0 mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        queue_id = uuid.uuid4().hex[:12].upper()
        login = session.auth_data.login.decode("utf-8", "replace") if isinstance(session.auth_data, LoginPassword) else None
        line = json.dumps({"queue_id": queue_id, "mail_from": envelope.mail_from, "rcpt_tos": list(envelope.rcpt_tos),
                           "auth_login": login, "raw_base64": base64.b64encode(envelope.original_content).decode()})
        with self.file.open("a", encoding="utf-8") as out:
            out.write(line + "\n")
        return f"250 OK queued as {queue_id}"


def authenticator(user: str, password: str):
    def check(server, session, envelope, mechanism, auth_data):
        if isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user \
                and auth_data.password.decode() == password:
            return AuthResult(success=True, auth_data=auth_data)
        return AuthResult(success=False, handled=False)
    return check


async def serve(directory: Path, port: int, auth: str | None) -> None:
    loop = asyncio.get_running_loop()
    recorder = Recorder(directory)
    options = {}
    if auth:
        user, _, password = auth.partition(":")
        options = {"authenticator": authenticator(user, password), "auth_require_tls": False}
    server = await loop.create_server(lambda: SMTP(recorder, hostname="duban-smtp-sink", **options), "127.0.0.1", port)
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    bound = server.sockets[0].getsockname()[1]
    partial = directory / "port.partial"
    partial.write_text(str(bound))
    os.replace(partial, directory / "port")
    await stop.wait()
    server.close()
    await server.wait_closed()


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
    parser.add_argument("--auth", help="USER:PASSWORD accepted by AUTH PLAIN/LOGIN")
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    exit_with_parent()
    asyncio.run(serve(args.dir, args.port, args.auth))


if __name__ == "__main__":
    main()
