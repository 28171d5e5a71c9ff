"""The daily digest (每日待办摘要) on the real servers: the directory, notices, followups and messages services on the
real Kafka and MongoDB-protocol server, the e-mail to a real SMTP server process; once per person per day."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone

from services.directory.entrypoints.api import BLUEPRINTS as DIRECTORY_API, PUBLIC_PATHS
from services.messages.adapters.read_models import MessageView, TrackedCase, TrackedNotice
from services.messages.notifier import Notifier
from services.notices.entrypoints.api import blp as notices_api
from shared.clock import FixedClock
from tests.helpers import eventually
from tests.integration.test_messages_service import (
    BAZHOU,
    OFFICE,
    PEOPLE,
    call,
    client,
    four_services,
    ok,
    refresh,
    set_up_directory,
)

MONDAY_SEVEN = datetime(2026, 11, 1, 23, 0, tzinfo=timezone.utc)  # Monday 2026-11-02, 07:00 in Beijing
MONDAY_HALF_EIGHT = datetime(2026, 11, 2, 0, 30, tzinfo=timezone.utc)  # 08:30 in Beijing: past the digest's hour
TUESDAY_HALF_EIGHT = datetime(2026, 11, 3, 0, 30, tzinfo=timezone.utc)


def digests(smtp_sink, address: str) -> list:
    return [mail for mail in smtp_sink.messages()
            if mail.subject.startswith("【每日待办】") and mail.rcpt_tos == [address]]


def _exactly(items: list, count: int) -> list:
    assert len(items) == count, items
    return items


def test_each_person_with_something_due_gets_one_digest_e_mail_a_working_day(settings, tmp_path, smtp_sink):
    smtp_sink.clear()
    settings = replace(settings, digest_seconds=0.3, dispatch_seconds=0.1, quiet_hours="off")
    clock = FixedClock(MONDAY_SEVEN)
    config = {"smtp": {"host": "127.0.0.1", "port": smtp_sink.port, "sender": "duban@office.example.cn"}}
    with four_services(settings, clock, tmp_path / "channels.yaml", config) as contexts:
        directory = client(contexts["directory"], DIRECTORY_API, public_paths=PUBLIC_PATHS)
        notices = client(contexts["notices"], [notices_api])
        tokens = set_up_directory(directory, settings.jwt_secret)

        def learnt():
            refresh(contexts)
            assert len(contexts["messages"].directory.accounts()) == len(PEOPLE)
            assert BAZHOU in contexts["notices"].directory.unit_names()

        eventually(learnt, timeout=30, interval=0.5)
        notice_id = ok(call(notices, "post", "/notices", tokens["wang"], {
            "kind": "督办通知", "title": "关于校园安全隐患整改的督办通知", "doc_number": "巴教督〔2026〕31号",
            "issuer_unit": OFFICE, "target_units": [BAZHOU], "problems": [
                {"description": "部分学校消防通道堵塞", "requirement": "立即清理", "responsible_unit": BAZHOU,
                 "deadline": "2026-11-04"}]}), 201)["id"]
        case_id = f"{notice_id}:P1"
        # the messages service knows the notice and its case before the digest's hour comes
        def tracked():
            assert TrackedCase.objects(id=case_id).first() is not None
            assert TrackedNotice.objects(id=notice_id).first() is not None

        eventually(tracked, timeout=30)
        digest_timer = contexts["messages"].timers["message-digest"]
        assert digest_timer.run() == 0  # 07:00: not yet
        assert MessageView.objects(rule="digest").count() == 0

        clock.set(MONDAY_HALF_EIGHT)  # the worker's timer finds it due now
        [mail] = eventually(lambda: _exactly(digests(smtp_sink, "zhao@bazhou.example.cn"), 1), timeout=30)
        assert mail.subject == "【每日待办】巴州区教育局：1项整改临近时限，1份通知待签收"
        lines = mail.body.splitlines()
        assert lines[:2] == ["赵伟：", "截至2026年11月2日，巴州区教育局有以下事项需要办理。"]
        assert ("1. 部分学校消防通道堵塞——整改时限 2026-11-04；来源：《关于校园安全隐患整改的督办通知》（巴教督〔2026〕31号）"
                in lines)
        assert any(line.startswith("1. 《关于校园安全隐患整改的督办通知》（巴教督〔2026〕31号）——签收时限 2026-11-")
                   for line in lines)
        assert lines[-1] == f"查看详情：{settings.portal_url}/cases"
        # the unit's leader too; the office has nothing late, the inspector nothing of their own, 孙 no e-mail address
        eventually(lambda: _exactly(digests(smtp_sink, "qian@bazhou.example.cn"), 1), timeout=30)
        rows = eventually(lambda: _exactly(list(MessageView.objects(rule="digest", status="sent")), 2), timeout=30)
        assert {(row.recipient, row.channel, row.link) for row in rows} == {("zhao", "email", "/cases"),
                                                                            ("qian", "email", "/cases")}

        # The watcher again, and a second worker that has not seen today's pass: nothing new is queued or sent.
        before = contexts["messages"].store.count()
        assert digest_timer.run() == 0 and digest_timer.run() == 0
        first = digest_timer.run.__self__
        second_worker = Notifier(first.context, first.rules, first.available, first.robots, first.quiet, first.clock,
                                 first.policies)
        assert second_worker.digest() == 0
        assert contexts["messages"].store.count() == before
        assert MessageView.objects(rule="digest").count() == 2
        assert len(digests(smtp_sink, "zhao@bazhou.example.cn")) == 1

        # The next working day is another digest.
        clock.set(TUESDAY_HALF_EIGHT)
        [_, tuesday] = eventually(lambda: _exactly(digests(smtp_sink, "zhao@bazhou.example.cn"), 2), timeout=30)
        assert "截至2026年11月3日" in tuesday.body and tuesday.header("X-Duban-Message-Id") != mail.header(
            "X-Duban-Message-Id")
