"""Deliveries on the real servers: SMS and IM robots through a real HTTP process, retries with backoff, the
dead-letter list and a retry from it, quiet hours, and the watchers' reminders (签收 due, 整改时限 near)."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone


from services.directory.entrypoints.api import BLUEPRINTS as DIRECTORY_API, PUBLIC_PATHS
from services.followups.entrypoints.api import blp as followups_api
from services.messages.domain.model import MAX_ATTEMPTS
from services.messages.entrypoints.api import BLUEPRINTS as MESSAGES_API
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


def start(settings, tmp_path, smtp_sink, http_sink, moment: datetime, quiet: str = "off"):
    smtp_sink.clear()
    http_sink.reset()
    http_sink.clear()
    settings = replace(settings, deadline_watch_seconds=0.3, dispatch_seconds=0.1, quiet_hours=quiet)
    clock = FixedClock(moment)
    config = {"smtp": {"host": "127.0.0.1", "port": smtp_sink.port, "sender": "duban@office.example.cn"},
              "sms": {"url": http_sink.url("/sms"), "secret": "sms-secret"},
              "wecom": {BAZHOU: http_sink.url("/wecom?key=bazhou")}}
    return clock, four_services(settings, clock, tmp_path / "channels.yaml", config)


def apps_of(contexts) -> dict:
    return {"directory": client(contexts["directory"], DIRECTORY_API, public_paths=PUBLIC_PATHS),
            "notices": client(contexts["notices"], [notices_api]),
            "followups": client(contexts["followups"], [followups_api]),
            "messages": client(contexts["messages"], MESSAGES_API)}


def ready(contexts, apps, secret: str) -> dict[str, str]:
    tokens = set_up_directory(apps["directory"], secret)

    def learnt():
        refresh(contexts)
        assert len(contexts["messages"].directory.accounts()) == len(PEOPLE)
        assert BAZHOU in contexts["notices"].directory.unit_names()

    eventually(learnt, timeout=30, interval=0.5)
    return tokens


def issue(apps, tokens, **extra) -> str:
    return ok(call(apps["notices"], "post", "/notices", tokens["wang"], {
        "kind": "督办通知", "title": "关于食堂食品安全问题整改的督办通知", "issuer_unit": OFFICE, "target_units": [BAZHOU],
        "problems": [{"description": "食堂从业人员健康证过期", "requirement": "全部更新", "responsible_unit": BAZHOU,
                      "deadline": "2026-11-30"}], **extra}), 201)["id"]


def escalate(apps, tokens, notice_id: str) -> str:
    case_id = f"{notice_id}:P1"
    eventually(lambda: ok(call(apps["followups"], "get", f"/cases/{case_id}", tokens["wang"])), timeout=30)
    ok(call(apps["followups"], "post", f"/cases/{case_id}/escalations", tokens["wang"],
            {"level": "warning", "reason": "逾期未整改"}))
    return case_id


def deliveries(apps, tokens, **params) -> list[dict]:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return ok(call(apps["messages"], "get", f"/messages?{query}&page_size=100", tokens["wang"]))


def test_sms_and_the_units_im_group_are_told_with_the_gateways_formats(settings, tmp_path, smtp_sink, http_sink):
    clock, services = start(settings, tmp_path, smtp_sink, http_sink, datetime(2026, 11, 2, 2, 0, tzinfo=timezone.utc))
    with services as contexts:
        apps = apps_of(contexts)
        tokens = ready(contexts, apps, settings.jwt_secret)
        escalate(apps, tokens, issue(apps, tokens))

        sms = eventually(lambda: _exactly(http_sink.requests("/sms"), 2), timeout=30)
        assert {r.json["mobile"] for r in sms} == {"13812341234", "13900001111"}  # the handler and the leader
        assert all("预警" in r.json["content"] and r.header("X-Signature") for r in sms)
        # the group heard of the notice (its handler mentioned) and of the warning (handler and leader mentioned)
        groups = eventually(lambda: _exactly(http_sink.requests("/wecom"), 2), timeout=30)
        [warning] = [r for r in groups if "预警" in r.json["text"]["content"]]
        assert warning.params["key"] == "bazhou" and set(warning.json["text"]["mentioned_mobile_list"]) == {
            "13812341234", "13900001111"}
        sent = eventually(lambda: _exactly(deliveries(apps, tokens, channel="sms", status="sent"), 2), timeout=30)
        assert all(row["answer"].startswith("200") for row in sent)


def test_a_failing_gateway_is_retried_with_backoff_then_dead_lettered_and_sent_again_from_the_list(
        settings, tmp_path, smtp_sink, http_sink):
    clock, services = start(settings, tmp_path, smtp_sink, http_sink, datetime(2026, 11, 2, 2, 0, tzinfo=timezone.utc))
    with services as contexts:
        apps = apps_of(contexts)
        tokens = ready(contexts, apps, settings.jwt_secret)
        http_sink.fail(503, {"error": "gateway down"}, path="/sms")
        escalate(apps, tokens, issue(apps, tokens))

        def attempts_reached(count: int):
            rows = deliveries(apps, tokens, channel="sms")
            assert len(rows) == 2 and all(row["attempts"] >= count and row["status"] != "sending" for row in rows), rows
            return rows

        rows = eventually(lambda: attempts_reached(1), timeout=30)
        assert {row["status"] for row in rows} == {"retrying"} and "503" in rows[0]["last_error"]
        for attempt in range(2, MAX_ATTEMPTS + 1):  # the clock moves past each backoff; nothing is sent meanwhile
            clock.advance(hours=1)
            rows = eventually(lambda a=attempt: attempts_reached(a), timeout=30)
        dead = eventually(lambda: _exactly(deliveries(apps, tokens, channel="sms", status="dead"), 2), timeout=30)
        assert len(http_sink.requests("/sms")) == 2 * MAX_ATTEMPTS

        # The office mends the gateway and sends one again from the dead-letter list; a unit handler may not.
        http_sink.reset()
        first = dead[0]["id"]
        assert call(apps["messages"], "post", f"/messages/{first}/retry", tokens["zhao"], {}).status_code == 403
        ok(call(apps["messages"], "post", f"/messages/{first}/retry", tokens["wang"], {"reason": "短信网关已恢复"}))
        eventually(lambda: _exactly([r for r in deliveries(apps, tokens, channel="sms", status="sent")
                                     if r["id"] == first], 1), timeout=30)
        types = [e.type for e in contexts["messages"].store.read_stream(first)]
        assert types.count("DeliveryFailed") == MAX_ATTEMPTS and types[-3:] == [
            "MessageRequeued", "DeliveryAttempted", "MessageSent"]


def test_sms_and_im_wait_for_the_end_of_quiet_hours_while_the_inbox_and_e_mail_do_not(
        settings, tmp_path, smtp_sink, http_sink):
    late_evening = datetime(2026, 11, 2, 15, 0, tzinfo=timezone.utc)  # 23:00 in Beijing
    clock, services = start(settings, tmp_path, smtp_sink, http_sink, late_evening, quiet="22:00-07:30")
    with services as contexts:
        apps = apps_of(contexts)
        tokens = ready(contexts, apps, settings.jwt_secret)
        escalate(apps, tokens, issue(apps, tokens))
        eventually(lambda: _at_least(smtp_sink.messages(), 2), timeout=30)  # e-mail goes at once (handler, leader)
        waiting = eventually(lambda: _exactly(deliveries(apps, tokens, channel="sms"), 2), timeout=30)
        assert all(row["status"] == "queued" and row["due_at"].startswith("2026-11-02T23:30") for row in waiting)
        assert http_sink.requests() == []

        clock.set(datetime(2026, 11, 2, 23, 31, tzinfo=timezone.utc))  # 07:31 the next morning
        eventually(lambda: _exactly(http_sink.requests("/sms"), 2), timeout=30)
        eventually(lambda: _exactly(http_sink.requests("/wecom"), 2), timeout=30)  # the notice's and the warning's


def test_the_watchers_remind_of_a_signature_due_tomorrow_and_a_deadline_coming_near_once_each(
        settings, tmp_path, smtp_sink, http_sink):
    clock, services = start(settings, tmp_path, smtp_sink, http_sink, datetime(2026, 11, 2, 2, 0, tzinfo=timezone.utc))
    with services as contexts:
        apps = apps_of(contexts)
        tokens = ready(contexts, apps, settings.jwt_secret)
        issue(apps, tokens, sign_for_deadline="2026-11-04")  # Wednesday; deadline of the problem 2026-11-30

        def subjects():
            return [m["subject"] for m in ok(call(apps["messages"], "get", "/inbox?page_size=100", tokens["zhao"]))]

        eventually(lambda: _at_least(subjects(), 1), timeout=30)  # the new notice
        clock.set(datetime(2026, 11, 3, 2, 0, tzinfo=timezone.utc))  # Tuesday: one working day before 签收时限
        eventually(lambda: _exactly([s for s in subjects() if s.startswith("【签收提醒】")], 1), timeout=30)

        clock.set(datetime(2026, 11, 26, 2, 0, tzinfo=timezone.utc))  # Thursday: 11-30 is 2 working days away
        eventually(lambda: _exactly([s for s in subjects() if s.startswith("【临近提醒】")], 1), timeout=30)
        clock.advance(days=1)  # the watchers run again and again: still one of each
        contexts["messages"].timers["message-watch"].run()
        assert len([s for s in subjects() if s.startswith("【临近提醒】")]) == 1
        assert len([s for s in subjects() if s.startswith("【签收提醒】")]) == 1


def _exactly(items: list, count: int) -> list:
    assert len(items) == count, items
    return items


def _at_least(items: list, count: int) -> list:
    assert len(items) >= count, items
    return items


