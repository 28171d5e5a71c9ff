"""The messages worker killed with SIGKILL while 200 reminders are being sent: none is lost, and a message goes out
a second time only if the worker died between the gateway accepting it and the record of that — at most the ones
in flight (sent and not yet recorded, at most IN_FLIGHT; the stream then shows the second attempt, and the mail carries the same
Message-ID so that the receiver can tell).

The services run as `make run` starts them (gunicorn web + worker processes, supervised: a killed worker is started
again), e-mail goes to a real SMTP server process.
"""
from __future__ import annotations

import json
import os
import signal
import time
from collections import Counter

import pytest
import yaml

from services.messages.dispatcher import IN_FLIGHT
from tests.helpers import eventually, running_services

OFFICE, UNIT = "巴中市人民政府教育督导委员会办公室", "南江县教育局"
PASSWORD = "Reliable-2026"
NOTICES, PROBLEMS = 20, 10  # 200 cases, each reminded (催办) once
KILLS = (40, 130)  # the worker is killed once this many reminder e-mails have arrived


@pytest.fixture
def services(infra, session_prefix, smtp_sink, tmp_path):
    smtp_sink.clear()
    channels = tmp_path / "channels.yaml"
    channels.write_text(yaml.safe_dump({"smtp": {"host": "127.0.0.1", "port": smtp_sink.port,
                                                 "sender": "duban@office.example.cn"}}), encoding="utf-8")
    env = {"DUBAN_MESSAGES_CONFIG": str(channels), "DUBAN_QUIET_HOURS": "off", "DUBAN_DISPATCH_SECONDS": "0.05"}
    with running_services(infra, f"{session_prefix}_msgkill", ("directory", "notices", "followups", "messages"),
                          supervised=True, extra_env=env) as running:
        yield running


def reminders(smtp_sink) -> list:
    return [mail for mail in smtp_sink.messages() if mail.subject.startswith("【催办】")]


def test_each_reminder_reaches_its_recipient_though_the_worker_is_killed_twice(services, smtp_sink):
    admin = services.client("directory", role="admin", unit=None)
    for body in ({"name": OFFICE, "kind": "office"}, {"name": UNIT, "kind": "bureau", "parent": OFFICE}):
        assert admin.post("/units", json=body).status_code == 201
    person = admin.post("/people", json={"username": "nanjiang", "name": "赵伟", "unit": UNIT, "roles": ["unit_handler"],
                                         "email": "zhaowei@nanjiang.example.cn", "password": PASSWORD})
    assert person.status_code == 201, person.text

    office = services.client("notices", role="office_staff", unit=OFFICE)
    followups = services.client("followups", role="office_staff", unit=OFFICE)

    def issue(n: int) -> str:
        answer = office.post("/notices", json={
            "kind": "督办通知", "title": f"关于第{n}批问题整改的督办通知", "issuer_unit": OFFICE, "target_units": [UNIT],
            "problems": [{"description": f"第{n}批问题{p}", "requirement": "限期整改", "responsible_unit": UNIT,
                          "deadline_days": 30} for p in range(1, PROBLEMS + 1)]})
        assert answer.status_code == 201, answer.text
        return answer.json()["id"]

    notice_ids = [eventually(lambda n=n: issue(n), timeout=60, interval=1) for n in range(NOTICES)]
    case_ids = [f"{notice_id}:P{p}" for notice_id in notice_ids for p in range(1, PROBLEMS + 1)]
    eventually(lambda: _assert(followups.get(f"/cases/{case_ids[-1]}").status_code == 200), timeout=120, interval=1)
    for case_id in case_ids:
        answer = followups.post(f"/cases/{case_id}/escalations", json={"level": "reminder", "reason": "整改进度滞后"})
        assert answer.status_code == 200, answer.text

    worker = f"{services.instance}messages-worker"
    for count in KILLS:
        eventually(lambda c=count: _assert(len(reminders(smtp_sink)) >= c), timeout=180, interval=0.05)
        old_pid = services.stack.processes[worker].pid
        os.kill(old_pid, signal.SIGKILL)  # `kill -9`: no clean shutdown, as a crash or the OOM killer would
        killed_at = time.monotonic()
        eventually(lambda pid=old_pid: _assert(worker in services.stack.processes and services.stack.processes[worker].pid
                                               != pid and services.stack.processes[worker].poll() is None),
                   timeout=60, interval=0.2)
        print(f"messages worker killed at {count} reminders; running again after {time.monotonic() - killed_at:.1f} s")

    messages = services.client("messages", role="office_staff", unit=OFFICE)

    def every_reminder_sent() -> list[dict]:
        rows = _all(messages, "/messages", channel="email", status="sent")
        assert len([r for r in rows if r["rule"] == "reminder"]) == len(case_ids), len(rows)
        return rows

    sent = eventually(every_reminder_sent, timeout=300, interval=1)
    wanted = {row["id"] for row in sent if row["rule"] == "reminder"}
    arrived = Counter(mail.header("X-Duban-Message-Id") for mail in reminders(smtp_sink))
    assert set(arrived) == wanted  # none lost, none made up
    twice = {message_id: n for message_id, n in arrived.items() if n > 1}
    print(f"{len(wanted)} reminders, {sum(arrived.values())} e-mails, sent twice: {len(twice)} "
          f"(a kill between the SMTP server's acceptance and its record)")
    # a kill catches at most the messages in flight: sent, and their outcomes not yet recorded
    assert len(twice) <= len(KILLS) * IN_FLIGHT and all(n == 2 for n in twice.values())
    for message_id in twice:  # each repeat is one the store knows it tried again after a lost claim
        attempts = [row["attempts"] for row in sent if row["id"] == message_id]
        assert attempts == [2], attempts
    # Once each. Read until it holds: the inbox message is queued before the e-mail, and a kill between a message's
    # append and its row leaves the row to the projection from the service's own topic, a moment after the restart.
    def every_inbox_reminder() -> None:
        inbox = _all(messages, "/messages", channel="inbox")
        assert Counter(row["case_id"] for row in inbox if row["rule"] == "reminder") == Counter(case_ids)

    eventually(every_inbox_reminder, timeout=120, interval=1)


def _all(client, path: str, **params) -> list[dict]:
    rows, page = [], 1
    while True:
        answer = client.get(path, params={**params, "page": page, "page_size": 100})
        assert answer.status_code == 200, answer.text
        rows += answer.json()
        meta = json.loads(answer.headers.get("X-Pagination") or "{}")
        if not answer.json() or (meta.get("total") is not None and len(rows) >= meta["total"]) or \
                meta.get("has_more") is False:
            return rows
        page += 1


def _assert(condition) -> None:
    assert condition
