"""Each outside channel sends to a real receiver process: the SMTP sink and the HTTP gateway stand-in (tests/sinks.py)."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import urllib.parse

import pytest

from deploy.localstack import free_port
from services.messages.adapters.channels import (
    DeliveryError,
    EmailChannel,
    Outgoing,
    build_channels,
)

LINK = "https://portal.example.cn/cases/C-2026-017"
BODY = "整改事项：食堂后厨消防通道堵塞\n整改时限：2026年3月20日（还有3个工作日）\n请于时限前提交整改报告。"
SENDER = "noreply@duban.example.cn"


@pytest.fixture
def smtp(smtp_sink):
    smtp_sink.clear()
    return smtp_sink


@pytest.fixture
def http(http_sink):
    http_sink.reset()
    http_sink.clear()
    yield http_sink
    http_sink.reset()


def message(channel: str, address: str, mentions: tuple[str, ...] = (), message_id: str = "msg-int-0001") -> Outgoing:
    return Outgoing(message_id=message_id, channel=channel, recipient_name="李主任", address=address,
                    subject="整改时限临近：第一中学", body=BODY, link=LINK, mentions=mentions)


def email_channel(sink, **smtp) -> EmailChannel:
    config = {"host": sink.host, "port": sink.port, "sender": SENDER, "sender_name": "市教育督导室", **smtp}
    return build_channels({"smtp": config})["email"]


def refused(channel, outgoing: Outgoing) -> DeliveryError:
    with pytest.raises(DeliveryError) as failure:
        channel.send(outgoing)
    return failure.value


class TestEmailReachesTheSmtpServer:
    def test_chinese_subject_names_and_body_arrive_decoded_with_the_message_id(self, smtp):
        answer = email_channel(smtp).send(message("email", "li@school.example.cn"))

        (mail,) = smtp.wait_for(1)
        assert answer == f"250 OK queued as {mail.queue_id}"
        assert mail.mail_from == SENDER and mail.rcpt_tos == ["li@school.example.cn"]
        assert mail.subject == "整改时限临近：第一中学"
        assert mail.header("From") == f"市教育督导室 <{SENDER}>"
        assert mail.header("To") == "李主任 <li@school.example.cn>"
        assert mail.body.replace("\r\n", "\n") == f"{BODY}\n\n查看详情：{LINK}\n"
        assert mail.header("Message-ID") == "<duban.msg-int-0001@duban.example.cn>"
        assert mail.header("X-Duban-Message-Id") == "msg-int-0001"
        assert mail.raw.isascii(), "headers and body travel 7-bit clean"

    def test_a_redelivery_carries_the_same_message_id(self, smtp):
        channel = email_channel(smtp)
        channel.send(message("email", "li@school.example.cn"))
        channel.send(message("email", "li@school.example.cn"))
        first, second = smtp.wait_for(2)
        assert first.header("Message-ID") == second.header("Message-ID")
        assert first.queue_id != second.queue_id

    def test_a_configured_login_is_used(self, smtp):
        email_channel(smtp, username=smtp.user, password=smtp.password).send(message("email", "li@school.example.cn"))
        (mail,) = smtp.wait_for(1)
        assert mail.auth_login == smtp.user

    def test_a_refused_login_is_not_retryable(self, smtp):
        failure = refused(email_channel(smtp, username=smtp.user, password="wrong"), message("email", "li@school.example.cn"))
        assert failure.retryable is False and "535" in failure.message
        assert smtp.messages() == []

    def test_a_permanently_refused_mailbox_is_not_retryable(self, smtp):
        failure = refused(email_channel(smtp), message("email", "refuse@school.example.cn"))
        assert failure.retryable is False and "550" in failure.message

    def test_a_busy_mailbox_is_retryable(self, smtp):
        failure = refused(email_channel(smtp), message("email", "busy@school.example.cn"))
        assert failure.retryable is True and "451" in failure.message

    def test_starttls_required_by_the_configuration_but_not_offered_is_not_retryable(self, smtp):
        failure = refused(email_channel(smtp, starttls=True), message("email", "li@school.example.cn"))
        assert failure.retryable is False
        assert smtp.messages() == []

    def test_a_refused_connection_is_retryable(self):
        channel = build_channels({"smtp": {"host": "127.0.0.1", "port": free_port(), "sender": SENDER}})["email"]
        failure = refused(channel, message("email", "li@school.example.cn"))
        assert failure.retryable is True and "unreachable" in failure.message


class TestWeComRobotReachesTheWebhook:
    def channel(self, http):
        return build_channels({"wecom": {"第一中学": http.url("/cgi-bin/webhook/send?key=unit-1")}})["wecom"]

    def test_the_markdown_body_and_the_idempotency_key_arrive(self, http):
        answer = self.channel(http).send(message("wecom", "第一中学"))

        (request,) = http.wait_for(1)
        assert answer == '200 {"errcode": 0, "errmsg": "ok"}'
        assert request.method == "POST" and request.path == "/cgi-bin/webhook/send" and request.params == {"key": "unit-1"}
        assert request.header("Content-Type") == "application/json; charset=utf-8"
        assert request.header("X-Duban-Message-Id") == "msg-int-0001"
        assert request.json == {"msgtype": "markdown", "markdown": {
            "content": f"**整改时限临近：第一中学**\n{BODY}\n[查看详情]({LINK})"}}

    def test_mentions_arrive_as_text_with_the_mobile_list(self, http):
        self.channel(http).send(message("wecom", "第一中学", mentions=("13800000001",)))
        (request,) = http.wait_for(1)
        assert request.json == {"msgtype": "text", "text": {
            "content": f"整改时限临近：第一中学\n{BODY}\n{LINK}", "mentioned_mobile_list": ["13800000001"]}}

    def test_the_rate_limit_errcode_is_retryable(self, http):
        http.answer("/cgi-bin/webhook/send", {"errcode": 45009, "errmsg": "api freq out of limit"})
        failure = refused(self.channel(http), message("wecom", "第一中学"))
        assert failure.retryable is True and "45009" in failure.message

    def test_an_invalid_webhook_errcode_is_not_retryable(self, http):
        http.answer("/cgi-bin/webhook/send", {"errcode": 93000, "errmsg": "invalid webhook url"})
        failure = refused(self.channel(http), message("wecom", "第一中学"))
        assert failure.retryable is False and "93000" in failure.message

    def test_a_server_error_is_retryable_and_the_next_attempt_goes_through(self, http):
        http.fail(502, {"error": "bad gateway"}, times=1)
        channel = self.channel(http)
        failure = refused(channel, message("wecom", "第一中学"))
        assert failure.retryable is True and "502" in failure.message

        assert channel.send(message("wecom", "第一中学")).startswith("200 ")
        assert [r.header("X-Duban-Message-Id") for r in http.wait_for(2)] == ["msg-int-0001", "msg-int-0001"]

    def test_an_answer_that_is_not_the_robots_is_not_retryable(self, http):
        http.answer("/cgi-bin/webhook/send", "<html>portal login</html>")
        failure = refused(self.channel(http), message("wecom", "第一中学"))
        assert failure.retryable is False and "unexpected" in failure.message


class TestDingTalkRobotReachesTheWebhook:
    secret = "SEC0123456789abcdef"

    def channel(self, http, secret: str | None = secret):
        robot = {"url": http.url("/robot/send?access_token=unit-2"), **({"secret": secret} if secret else {})}
        return build_channels({"dingtalk": {"第二中学": robot}})["dingtalk"]

    def test_the_signed_request_and_its_markdown_arrive(self, http):
        before = int(time.time() * 1000)
        self.channel(http).send(message("dingtalk", "第二中学", mentions=("13800000002",)))

        (request,) = http.wait_for(1)
        params = request.params
        assert params["access_token"] == "unit-2"
        timestamp = int(params["timestamp"])
        assert before <= timestamp <= int(time.time() * 1000)
        expected = base64.b64encode(hmac.new(self.secret.encode(), f"{timestamp}\n{self.secret}".encode(),
                                             hashlib.sha256).digest()).decode()
        assert params["sign"] == expected
        assert urllib.parse.quote_plus(expected) in request.query
        assert request.header("X-Duban-Message-Id") == "msg-int-0001"
        assert request.json["msgtype"] == "markdown"
        assert request.json["markdown"]["title"] == "整改时限临近：第一中学"
        assert request.json["markdown"]["text"].endswith(f"[查看详情]({LINK})\n\n@13800000002")
        assert request.json["at"] == {"atMobiles": ["13800000002"], "isAtAll": False}

    def test_a_robot_without_a_secret_is_called_without_a_signature(self, http):
        self.channel(http, secret=None).send(message("dingtalk", "第二中学"))
        (request,) = http.wait_for(1)
        assert request.params == {"access_token": "unit-2"}

    def test_the_rate_limit_errcode_is_retryable(self, http):
        http.answer("/robot/send", {"errcode": 130101, "errmsg": "send too fast"})
        assert refused(self.channel(http), message("dingtalk", "第二中学")).retryable is True

    def test_a_signature_mismatch_errcode_is_not_retryable(self, http):
        http.answer("/robot/send", {"errcode": 310000, "errmsg": "sign not match"})
        failure = refused(self.channel(http), message("dingtalk", "第二中学"))
        assert failure.retryable is False and "310000" in failure.message


class TestSmsReachesTheGateway:
    secret = "gateway-secret"

    def channel(self, http, timeout: float | None = None):
        config = {"url": http.url("/sms/send"), "secret": self.secret, **({"timeout": timeout} if timeout else {})}
        return build_channels({"sms": config})["sms"]

    def test_the_signed_body_arrives(self, http):
        http.answer("/sms/send", {"result": "accepted", "id": "G-1"}, status=202)
        answer = self.channel(http).send(message("sms", "13800000003"))

        (request,) = http.wait_for(1)
        assert answer == '202 {"result": "accepted", "id": "G-1"}'
        assert request.json == {"mobile": "13800000003", "content": f"整改时限临近：第一中学\n{BODY}\n{LINK}",
                                "message_id": "msg-int-0001"}
        assert request.header("X-Signature") == hmac.new(self.secret.encode(), request.body.encode("utf-8"),
                                                         hashlib.sha256).hexdigest()
        assert request.header("X-Duban-Message-Id") == "msg-int-0001"

    @pytest.mark.parametrize("status, retryable", [(429, True), (500, True), (503, True), (400, False), (401, False),
                                                   (404, False)])
    def test_failures_on_demand_are_classified(self, http, status, retryable):
        http.fail(status, {"error": f"status {status} on demand"})
        failure = refused(self.channel(http), message("sms", "13800000003"))
        assert failure.retryable is retryable
        assert str(status) in failure.message and "on demand" in failure.message

    def test_after_two_failures_the_third_attempt_is_sent(self, http):
        http.fail(503, times=2)
        channel = self.channel(http)
        outcomes = []
        for _ in range(3):
            try:
                outcomes.append(channel.send(message("sms", "13800000003")))
            except DeliveryError as error:
                outcomes.append(error.retryable)
        assert outcomes[:2] == [True, True] and outcomes[2].startswith("200 ")
        assert len(http.wait_for(3)) == 3

    def test_a_gateway_that_does_not_answer_in_time_is_retryable(self, http):
        http.fail(200, times=1, delay=3)
        failure = refused(self.channel(http, timeout=0.5), message("sms", "13800000003"))
        assert failure.retryable is True

    def test_a_refused_connection_is_retryable(self):
        channel = build_channels({"sms": {"url": f"http://127.0.0.1:{free_port()}/sms", "secret": "s"}})["sms"]
        failure = refused(channel, message("sms", "13800000003"))
        assert failure.retryable is True and "unreachable" in failure.message

    def test_the_gateway_sees_every_header_of_one_message_once(self, http):
        self.channel(http).send(message("sms", "13800000003", message_id="msg-int-0002"))
        (request,) = http.wait_for(1)
        assert json.loads(request.body)["message_id"] == request.header("X-Duban-Message-Id") == "msg-int-0002"
