"""The outside channels' formats: robot JSON bodies, the DingTalk signature, the SMS body, the e-mail, the configuration."""
from __future__ import annotations

import json
from email import policy
from email.parser import BytesParser

import pytest

from services.messages.adapters.channels import (
    DINGTALK_TEXT_BYTES,
    WECOM_MARKDOWN_BYTES,
    WECOM_TEXT_BYTES,
    WIRE,
    ChannelConfigError,
    DeliveryError,
    DingTalkRobot,
    DingTalkRobotChannel,
    EmailChannel,
    Outgoing,
    SmsGatewayChannel,
    WeComRobotChannel,
    build_channels,
    dingtalk_sign,
    dingtalk_signed_url,
    load_channel_config,
    sms_signature,
)

LINK = "https://portal.example.cn/notices/N-2026-001"
BODY = "督办通知：关于开展校园安全隐患排查的通知\n签收时限：2026年3月5日\n请及时登录平台签收。"


def outgoing(channel: str, address: str, mentions: tuple[str, ...] = (), body: str = BODY, link: str | None = LINK,
             message_id: str = "msg-0001") -> Outgoing:
    return Outgoing(message_id=message_id, channel=channel, recipient_name="王老师", address=address,
                    subject="新的督办通知", body=body, link=link, mentions=mentions)


class TestWeComRobotFormat:
    def test_a_message_without_mentions_goes_as_markdown_with_a_bold_title_and_a_link(self):
        payload = WeComRobotChannel.payload(outgoing("wecom", "第一中学"))
        assert payload == {"msgtype": "markdown", "markdown": {
            "content": f"**新的督办通知**\n{BODY}\n[查看详情]({LINK})"}}

    def test_mentions_switch_to_text_with_the_mobile_list_because_markdown_cannot_at_by_mobile(self):
        payload = WeComRobotChannel.payload(outgoing("wecom", "第一中学", mentions=("13800000001", "13800000002")))
        assert payload == {"msgtype": "text", "text": {
            "content": f"新的督办通知\n{BODY}\n{LINK}", "mentioned_mobile_list": ["13800000001", "13800000002"]}}

    def test_a_long_body_is_shortened_within_the_byte_limits_and_keeps_its_link(self):
        long_body = "整改" * 3000
        markdown = WeComRobotChannel.payload(outgoing("wecom", "第一中学", body=long_body))["markdown"]["content"]
        text = WeComRobotChannel.payload(outgoing("wecom", "第一中学", ("13800000001",), body=long_body))["text"]["content"]
        assert len(markdown.encode("utf-8")) <= WECOM_MARKDOWN_BYTES and markdown.endswith(f"[查看详情]({LINK})")
        assert len(text.encode("utf-8")) <= WECOM_TEXT_BYTES and text.endswith(LINK)
        assert "…" in markdown and "…" in text

    def test_a_message_without_a_link_has_no_link_line(self):
        payload = WeComRobotChannel.payload(outgoing("wecom", "第一中学", link=None))
        assert payload["markdown"]["content"] == f"**新的督办通知**\n{BODY}"

    def test_a_unit_without_a_robot_is_not_retryable(self):
        channel = WeComRobotChannel({"第一中学": "http://127.0.0.1:9/robot"})
        with pytest.raises(DeliveryError) as refused:
            channel.send(outgoing("wecom", "第二中学"))
        assert refused.value.retryable is False and "第二中学" in refused.value.message


class TestDingTalkRobotFormat:
    def test_the_body_goes_as_markdown_with_title_separate_lines_link_and_the_mobiles_at_ed(self):
        payload = DingTalkRobotChannel.payload(outgoing("dingtalk", "第一中学", mentions=("13800000001",)))
        lines = BODY.splitlines()
        assert payload == {
            "msgtype": "markdown",
            "markdown": {"title": "新的督办通知",
                         "text": f"#### 新的督办通知\n\n{lines[0]}\n\n{lines[1]}\n\n{lines[2]}\n\n[查看详情]({LINK})"
                                 "\n\n@13800000001"},
            "at": {"atMobiles": ["13800000001"], "isAtAll": False},
        }

    def test_without_mentions_nobody_is_at_ed(self):
        payload = DingTalkRobotChannel.payload(outgoing("dingtalk", "第一中学"))
        assert payload["at"] == {"atMobiles": [], "isAtAll": False}
        assert "@" not in payload["markdown"]["text"]

    def test_a_long_body_stays_within_the_limit(self):
        text = DingTalkRobotChannel.payload(outgoing("dingtalk", "第一中学", body="整改" * 10000))["markdown"]["text"]
        assert len(text.encode("utf-8")) <= DINGTALK_TEXT_BYTES and text.endswith(f"[查看详情]({LINK})")

    def test_the_signature_matches_the_documented_algorithm_on_a_known_vector(self):
        # printf '1577262236757\nthis is secret' | openssl dgst -sha256 -hmac 'this is secret' -binary | base64
        assert dingtalk_sign(1577262236757, "this is secret") == "hmPWwU%2B7lVdm3ZZz0r9tSfx0L4Q26jWOZr9%2BGs6EZQM%3D"

    def test_the_signed_url_appends_timestamp_and_sign_to_the_webhook(self):
        url = "https://oapi.dingtalk.com/robot/send?access_token=abc"
        assert dingtalk_signed_url(url, "this is secret", 1577262236757) == (
            f"{url}&timestamp=1577262236757&sign=hmPWwU%2B7lVdm3ZZz0r9tSfx0L4Q26jWOZr9%2BGs6EZQM%3D")
        assert dingtalk_signed_url("http://sink/robot", "s", 1).startswith("http://sink/robot?timestamp=1&sign=")

    def test_a_robot_without_a_secret_is_called_unsigned(self):
        assert dingtalk_signed_url("https://oapi.dingtalk.com/robot/send?access_token=abc", None, 1) == (
            "https://oapi.dingtalk.com/robot/send?access_token=abc")

    def test_a_unit_without_a_robot_is_not_retryable(self):
        channel = DingTalkRobotChannel({"第一中学": DingTalkRobot("http://127.0.0.1:9/robot")})
        with pytest.raises(DeliveryError) as refused:
            channel.send(outgoing("dingtalk", "第二中学"))
        assert refused.value.retryable is False


class TestSmsFormat:
    def test_the_body_carries_mobile_content_and_message_id(self):
        payload = SmsGatewayChannel.payload(outgoing("sms", "+86 138-0000-0001"))
        assert payload == {"mobile": "+8613800000001", "content": f"新的督办通知\n{BODY}\n{LINK}", "message_id": "msg-0001"}

    def test_the_signature_is_the_hex_hmac_of_the_exact_body(self):
        # printf '{"mobile": "13800000000"}' | openssl dgst -sha256 -hmac 'gateway-secret' -hex
        assert sms_signature(b'{"mobile": "13800000000"}', "gateway-secret") == (
            "6c0b6c27ddd748e12507c92c28c5e7282979a81f836298d587ab47a6fecc8979")

    @pytest.mark.parametrize("mobile", ["", "王老师", "138-abc", "12345"])
    def test_a_bad_mobile_is_not_retryable(self, mobile):
        with pytest.raises(DeliveryError) as refused:
            SmsGatewayChannel.payload(outgoing("sms", mobile))
        assert refused.value.retryable is False

    def test_a_long_text_is_shortened_but_keeps_the_link(self):
        content = SmsGatewayChannel.payload(outgoing("sms", "13800000001", body="整改" * 1000))["content"]
        assert len(content) <= 500 and content.endswith(LINK)


class TestEmailFormat:
    channel = EmailChannel("127.0.0.1", 25, "noreply@duban.example.cn", "督办平台")

    def parsed(self, message: Outgoing):
        raw = self.channel.compose(message).as_bytes(policy=WIRE)  # as it is sent
        assert raw.isascii(), "the mail is 7-bit clean"
        return BytesParser(policy=policy.default).parsebytes(raw)

    def test_chinese_subject_names_and_body_are_encoded_and_decode_back(self):
        mail = self.parsed(outgoing("email", "wang@school.example.cn"))
        assert str(mail["Subject"]) == "新的督办通知"
        assert str(mail["From"]) == "督办平台 <noreply@duban.example.cn>"
        assert str(mail["To"]) == "王老师 <wang@school.example.cn>"
        assert mail.get_body().get_content() == f"{BODY}\n\n查看详情：{LINK}\n"

    def test_a_long_chinese_subject_and_name_are_folded_and_decode_back_whole(self):
        subject = "【催办】" + "部分学校消防通道堵塞整改进度滞后" * 8
        raw = self.channel.compose(Outgoing("m", "email", "王老师" * 10, "wang@school.example.cn", subject, "正文" * 300,
                                            LINK)).as_bytes(policy=WIRE)
        assert b"\n" not in raw.replace(b"\r\n", b""), "every line ends CRLF"
        assert max(len(line) for line in raw.split(b"\r\n")) <= 998  # RFC 5322's hard limit
        mail = BytesParser(policy=policy.default).parsebytes(raw)
        assert str(mail["Subject"]) == subject and str(mail["To"]) == f"{'王老师' * 10} <wang@school.example.cn>"

    def test_the_message_id_is_derived_from_our_id_so_a_redelivery_is_recognisable(self):
        first = self.parsed(outgoing("email", "wang@school.example.cn", message_id="msg-0001"))
        again = self.parsed(outgoing("email", "wang@school.example.cn", message_id="msg-0001"))
        other = self.parsed(outgoing("email", "wang@school.example.cn", message_id="msg-0002"))
        assert first["Message-ID"] == again["Message-ID"] == "<duban.msg-0001@duban.example.cn>"
        assert other["Message-ID"] != first["Message-ID"]
        assert first["X-Duban-Message-Id"] == "msg-0001"

    def test_an_id_with_characters_a_message_id_cannot_hold_still_gives_a_valid_stable_one(self):
        first = str(self.parsed(outgoing("email", "wang@school.example.cn", message_id="通知/1:王"))["Message-ID"])
        again = str(self.parsed(outgoing("email", "wang@school.example.cn", message_id="通知/1:王"))["Message-ID"])
        assert first == again and first.isascii() and " " not in first and first.startswith("<duban.1.")

    def test_line_breaks_in_subject_or_name_do_not_reach_the_headers(self):
        message = Outgoing("m", "email", "王\n老师", "wang@school.example.cn", "新的\r\nBcc: x@evil.example", "正文", None)
        mail = self.parsed(message)
        assert mail["Bcc"] is None and str(mail["Subject"]) == "新的 Bcc: x@evil.example"

    @pytest.mark.parametrize("address", ["", "wang", "wang@", "王@学校.cn", "a b@c.cn"])
    def test_a_bad_address_is_not_retryable(self, address):
        with pytest.raises(DeliveryError) as refused:
            self.channel.compose(outgoing("email", address))
        assert refused.value.retryable is False


class TestChannelConfiguration:
    def test_no_configuration_means_no_outside_channels(self):
        assert build_channels({}) == {}

    def test_each_configured_section_gives_its_channel(self):
        channels = build_channels({
            "smtp": {"host": "mail.example.cn", "port": 465, "ssl": True, "username": "u", "password": "p",
                     "sender": "noreply@example.cn", "sender_name": "督办平台"},
            "sms": {"url": "https://sms.example.cn/send", "secret": "s"},
            "wecom": {"第一中学": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k"},
            "dingtalk": {"第一中学": {"url": "https://oapi.dingtalk.com/robot/send?access_token=t", "secret": "SEC1"},
                         "第二中学": "https://oapi.dingtalk.com/robot/send?access_token=u"},
        })
        assert {name: channel.name for name, channel in channels.items()} == {
            "email": "email", "sms": "sms", "wecom": "wecom", "dingtalk": "dingtalk"}
        assert channels["email"].port == 465 and channels["email"].ssl_on_connect
        assert channels["dingtalk"].robots["第二中学"].secret is None

    @pytest.mark.parametrize("config, complaint", [
        ({"stmp": {}}, "unknown channel sections: stmp"),
        ({"smtp": {"port": 25, "sender": "a@b.cn"}}, "smtp.host is required"),
        ({"smtp": {"host": "h", "sender": "nobody"}}, "smtp.sender"),
        ({"smtp": {"host": "h", "port": "twenty-five", "sender": "a@b.cn"}}, "smtp.port"),
        ({"sms": {"url": "https://sms.example.cn"}}, "sms.secret is required"),
        ({"wecom": {"第一中学": "not a url"}}, "wecom.第一中学"),
        ({"dingtalk": {"第一中学": {"secret": "s"}}}, "dingtalk.第一中学.url"),
        ({"wecom": ["x"]}, "wecom: expected a mapping"),
    ])
    def test_a_wrong_configuration_is_refused_with_the_key_named(self, config, complaint):
        with pytest.raises(ChannelConfigError, match=complaint):
            build_channels(config)

    def test_the_yaml_file_is_read(self, tmp_path):
        path = tmp_path / "messages.yaml"
        path.write_text("sms:\n  url: https://sms.example.cn/send\n  secret: s\nwecom:\n  第一中学: https://x.cn/k\n",
                        encoding="utf-8")
        assert load_channel_config(str(path)) == {"sms": {"url": "https://sms.example.cn/send", "secret": "s"},
                                                  "wecom": {"第一中学": "https://x.cn/k"}}

    def test_no_path_or_an_empty_file_means_no_configuration(self, tmp_path):
        (tmp_path / "empty.yaml").write_text("")
        assert load_channel_config(None) == {} and load_channel_config(str(tmp_path / "empty.yaml")) == {}

    def test_a_malformed_file_is_refused_with_its_line(self, tmp_path):
        path = tmp_path / "bad.yaml"
        path.write_text("smtp:\n  host: mail\n  port: [25\n", encoding="utf-8")
        with pytest.raises(ChannelConfigError, match=r"bad.yaml is not valid YAML at line \d+"):
            load_channel_config(str(path))

    def test_a_file_that_is_not_a_mapping_is_refused(self, tmp_path):
        path = tmp_path / "list.yaml"
        path.write_text(json.dumps(["smtp"]))
        with pytest.raises(ChannelConfigError, match="must be a mapping"):
            load_channel_config(str(path))

    def test_a_missing_file_is_refused(self, tmp_path):
        with pytest.raises(ChannelConfigError, match="cannot read"):
            load_channel_config(str(tmp_path / "absent.yaml"))
