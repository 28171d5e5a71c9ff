"""The messages service on the real servers: who is told what, in the inbox and by e-mail, each message once.

The directory, notices, followups and messages services run in this process (Flask test clients, workers as
threads) on the real Kafka broker and MongoDB-protocol server; e-mail goes to a real SMTP server process.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import pytest
import yaml

from shared.auth import issue_token
from shared.clock import FixedClock
from shared.web import create_service_app
from shared.worker import Worker
from services.directory.bootstrap import bootstrap as bootstrap_directory
from services.directory.entrypoints.api import BLUEPRINTS as DIRECTORY_API, PUBLIC_PATHS
from services.followups.bootstrap import bootstrap as bootstrap_followups
from services.followups.entrypoints.api import blp as followups_api
from services.messages.bootstrap import bootstrap as bootstrap_messages
from services.messages.entrypoints.api import BLUEPRINTS as MESSAGES_API
from services.notices.bootstrap import bootstrap as bootstrap_notices
from services.notices.entrypoints.api import blp as notices_api
from tests.helpers import eventually

OFFICE = "巴中市人民政府教育督导委员会办公室"
BAZHOU, ENYANG = "巴州区教育局", "恩阳区教育局"
PASSWORD = "Messages-2026"
PEOPLE = [  # username, name, roles, unit, mobile, e-mail
    ("wang", "王科长", ["office_staff"], OFFICE, "13800000001", "wang@office.example.cn"),
    ("liu", "刘督学", ["inspector"], OFFICE, None, "liu@office.example.cn"),
    ("zhao", "赵伟", ["unit_handler"], BAZHOU, "13812341234", "zhao@bazhou.example.cn"),
    ("qian", "钱局长", ["unit_leader"], BAZHOU, "13900001111", "qian@bazhou.example.cn"),
    ("sun", "孙经办", ["unit_handler"], ENYANG, None, None),
]


@contextmanager
def four_services(settings, clock, channels_file: Path | None = None, channels_config: dict | None = None):
    """Directory, notices, followups and messages wired on the real servers with one clock, workers running."""
    if channels_config is not None:
        channels_file.write_text(yaml.safe_dump(channels_config, allow_unicode=True), encoding="utf-8")
        settings = replace(settings, messages_config=str(channels_file))
    contexts = {"directory": bootstrap_directory(settings, clock=clock), "notices": bootstrap_notices(settings, clock=clock),
                "followups": bootstrap_followups(settings, clock=clock), "messages": bootstrap_messages(settings, clock=clock)}
    workers = [Worker(context) for context in contexts.values()]
    for worker in workers:
        worker.start()
    try:
        yield contexts
    finally:
        for worker in workers:
            worker.shutdown()


def client(context, blueprints, **options):
    return create_service_app(lambda: context, context.name, blueprints, **options).test_client()


def call(app, method: str, path: str, token: str, body: dict | None = None):
    return getattr(app, method)(path, json=body, headers={"Authorization": f"Bearer {token}"})


def ok(response, status: int = 200):
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()


def set_up_directory(directory, secret: str) -> dict[str, str]:
    """Units and people; returns each person's token (their own epoch)."""
    admin = issue_token(secret, "root", "admin")
    for name, kind, parent in ((OFFICE, "office", None), (BAZHOU, "bureau", OFFICE), (ENYANG, "bureau", OFFICE)):
        ok(call(directory, "post", "/units", admin, {"name": name, "kind": kind, "parent": parent}), 201)
    tokens = {}
    for username, name, roles, unit, mobile, email in PEOPLE:
        ok(call(directory, "post", "/people", admin, {"username": username, "name": name, "roles": roles, "unit": unit,
                                                      "mobile": mobile, "email": email, "password": PASSWORD}), 201)
        tokens[username] = ok(directory.post("/sessions", json={"username": username, "password": PASSWORD}), 201)["token"]
    return tokens


@pytest.fixture
def world(settings, smtp_sink, tmp_path):
    smtp_sink.clear()
    settings = replace(settings, deadline_watch_seconds=0.3, dispatch_seconds=0.1, quiet_hours="off")
    clock = FixedClock(datetime(2026, 11, 2, 2, 0, tzinfo=timezone.utc))  # a Monday, 10:00 in Beijing
    config = {"smtp": {"host": "127.0.0.1", "port": smtp_sink.port, "sender": "duban@office.example.cn",
                       "sender_name": "巴中市教育督导办"}}
    with four_services(settings, clock, tmp_path / "channels.yaml", config) as contexts:
        apps = {"directory": client(contexts["directory"], DIRECTORY_API, public_paths=PUBLIC_PATHS),
                "notices": client(contexts["notices"], [notices_api]),
                "followups": client(contexts["followups"], [followups_api]),
                "messages": client(contexts["messages"], MESSAGES_API)}
        tokens = set_up_directory(apps["directory"], settings.jwt_secret)
        # every service has learnt the directory (the notices service checks the notice's units against it)
        eventually(lambda: _assert(len(contexts["messages"].directory.accounts()) == len(PEOPLE) and
                                   contexts["notices"].directory.unit_names() >= {OFFICE, BAZHOU, ENYANG}),
                   timeout=30, interval=0.5)
        yield clock, contexts, apps, tokens


def _assert(condition) -> None:
    if not condition:
        raise AssertionError("not yet")


def refresh(contexts) -> None:
    for context in contexts.values():
        if context.directory is not None:
            context.directory.refresh()


def issue(apps, tokens) -> str:
    notice = ok(call(apps["notices"], "post", "/notices", tokens["wang"], {
        "kind": "督办通知", "title": "关于校园安全隐患整改的督办通知", "doc_number": "巴教督〔2026〕31号",
        "issuer_unit": OFFICE, "target_units": [BAZHOU], "problems": [
            {"description": "部分学校消防通道堵塞", "requirement": "立即清理", "responsible_unit": BAZHOU,
             "deadline": "2026-11-30"}]}), 201)
    return notice["id"]


def inbox(apps, token: str) -> list[dict]:
    return ok(call(apps["messages"], "get", "/inbox", token))


def test_a_new_notice_reaches_the_target_units_handler_in_the_inbox_and_by_e_mail_once(world, smtp_sink):
    clock, contexts, apps, tokens = world
    refresh(contexts)
    notice_id = issue(apps, tokens)

    def told():
        messages = inbox(apps, tokens["zhao"])
        assert len(messages) == 1, messages
        return messages[0]

    message = eventually(told, timeout=30)
    assert message["subject"].startswith("【下发督办通知】") and "消防" not in message["subject"]
    assert message["link"] == f"/notices/{notice_id}" and message["status"] == "unread"
    assert "巴教督〔2026〕31号" in message["body"]
    assert inbox(apps, tokens["sun"]) == []  # 恩阳区 is no target
    assert ok(call(apps["messages"], "get", "/inbox/unread", tokens["zhao"])) == {"unread": 1}

    mail = eventually(lambda: _one(smtp_sink.messages()), timeout=30)
    assert mail.rcpt_tos == ["zhao@bazhou.example.cn"]
    assert mail.subject == message["subject"] and "关于校园安全隐患整改的督办通知" in mail.body
    assert f"/notices/{notice_id}" in mail.body

    # Read: the count goes down; another person cannot mark it.
    assert call(apps["messages"], "post", f"/inbox/{message['id']}/read", tokens["sun"]).status_code == 403
    assert ok(call(apps["messages"], "post", f"/inbox/{message['id']}/read", tokens["zhao"]))["status"] == "read"
    assert ok(call(apps["messages"], "get", "/inbox/unread", tokens["zhao"])) == {"unread": 0}

    # The e-mail's delivery is an event with the gateway's answer; the office sees it.
    sent = eventually(lambda: _one(ok(call(apps["messages"], "get", "/messages?channel=email&status=sent",
                                            tokens["wang"]))), timeout=30)
    assert sent["address"] == "zhao@bazhou.example.cn" and sent["answer"].startswith("250")
    types = [e.type for e in contexts["messages"].store.read_stream(sent["id"])]
    assert types == ["MessageQueued", "DeliveryAttempted", "MessageSent"]

    # The same event once more (a redelivery, a second worker): nothing new is queued or sent.
    before = contexts["messages"].store.count()
    notifier = contexts["messages"].reactions["notices"]
    for envelope in contexts["notices"].store.read_stream(notice_id):
        notifier(envelope)
    assert contexts["messages"].store.count() == before
    assert len(smtp_sink.messages()) == 1


def _one(items: list):
    assert len(items) == 1, items
    return items[0]


def test_a_reminder_reaches_the_unit_and_its_leader_and_a_report_the_inspectors(world, smtp_sink):
    clock, contexts, apps, tokens = world
    refresh(contexts)
    notice_id = issue(apps, tokens)
    case_id = f"{notice_id}:P1"
    eventually(lambda: ok(call(apps["followups"], "get", f"/cases/{case_id}", tokens["wang"])), timeout=30)
    ok(call(apps["followups"], "post", f"/cases/{case_id}/escalations", tokens["wang"],
            {"level": "reminder", "reason": "整改进度滞后"}))

    def reminded(username):
        subjects = [m["subject"] for m in inbox(apps, tokens[username])]
        assert any(s.startswith("【催办】") for s in subjects), subjects

    eventually(lambda: reminded("zhao"), timeout=30)
    eventually(lambda: reminded("qian"), timeout=30)  # the unit's leader too
    assert all(not m["subject"].startswith("【催办】") for m in inbox(apps, tokens["liu"]))

    ok(call(apps["followups"], "post", f"/cases/{case_id}/plan", tokens["zhao"], {"plan": "三日内清理完毕"}))
    ok(call(apps["followups"], "post", f"/cases/{case_id}/completion", tokens["zhao"],
            {"summary": "消防通道已全部清理", "evidence": ["整改前后照片"]}))

    def inspector_told():
        subjects = [m["subject"] for m in inbox(apps, tokens["liu"])]
        assert any(s.startswith("【提交整改报告】") for s in subjects), subjects

    eventually(inspector_told, timeout=30)
