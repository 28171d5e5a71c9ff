"""The outside channels a message leaves by: e-mail (SMTP), an SMS gateway, and the 企业微信 / 钉钉 group robots."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import smtplib
import socket
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from email import policy
from email.header import Header
from email.mime.text import MIMEText
from email.utils import formataddr, formatdate
from pathlib import Path
from typing import Callable, Protocol

import yaml

CHANNEL_NAMES = ("email", "sms", "wecom", "dingtalk")
DEFAULT_TIMEOUT = 10.0
EXCERPT_CHARS = 200
MESSAGE_ID_HEADER = "X-Duban-Message-Id"
# How a composed mail is written for SMTP: CRLF, and headers as composed (the subject is folded when composed; the
# other headers are short), as refolding every header on every send cost more than the rest of the message.
WIRE = policy.compat32.clone(linesep="\r\n", max_line_length=None)

# errcodes of a robot's answer that mean "too many messages, try later" (or the platform is busy), not "this message is wrong".
WECOM_RETRYABLE_ERRCODES = frozenset({45009, -1})  # 45009 接口调用超过限制; -1 系统繁忙
DINGTALK_RETRYABLE_ERRCODES = frozenset({130101, -1})  # 130101 发送速度太快而限流; -1 系统繁忙
# The platforms' documented content limits, in UTF-8 bytes: the body is shortened (the link kept) rather than refused.
WECOM_MARKDOWN_BYTES = 4096
WECOM_TEXT_BYTES = 2048
DINGTALK_TEXT_BYTES = 18000  # documented 20000; a margin for the title and the @ list
SMS_CONTENT_CHARS = 500


@dataclass(frozen=True)
class Outgoing:
    """One message for one recipient on one channel."""

    message_id: str
    channel: str  # "email" | "sms" | "wecom" | "dingtalk"
    recipient_name: str
    address: str  # e-mail address, mobile number, or for the IM robots the unit whose group robot is configured
    subject: str
    body: str  # plain Chinese text, several lines
    link: str | None  # absolute URL into the portal
    mentions: tuple[str, ...] = ()  # mobiles to @ in an IM group


class DeliveryError(Exception):
    """A message that did not go out; ``retryable`` says whether sending it again later may succeed."""

    def __init__(self, message: str, *, retryable: bool):
        super().__init__(message)
        self.message = message
        self.retryable = retryable

    def __repr__(self) -> str:
        return f"DeliveryError({self.message!r}, retryable={self.retryable})"


class ChannelConfigError(ValueError):
    """The channel configuration cannot be used (malformed file, missing or wrong keys)."""


class Channel(Protocol):
    name: str

    def send(self, message: Outgoing) -> str:
        """Deliver to the gateway; return its answer as short text, or raise DeliveryError."""
        ...


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _cut_utf8(text: str, limit: int) -> str:
    """``text`` shortened to at most ``limit`` UTF-8 bytes (with an ellipsis when cut)."""
    if len(text.encode("utf-8")) <= limit:
        return text
    cut = text.encode("utf-8")[: max(limit - 3, 0)].decode("utf-8", errors="ignore")
    return cut + "…"


def _fit(head: str, body: str, tail: str, limit: int) -> str:
    """head + body + tail within ``limit`` UTF-8 bytes, shortening the body only (so the link at the tail survives)."""
    room = limit - len(head.encode("utf-8")) - len(tail.encode("utf-8"))
    return head + _cut_utf8(body, max(room, 0)) + tail


# -- e-mail ------------------------------------------------------------------------------------

_ADDRESS = re.compile(r"^[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+$")


def _one_line(text: str | None) -> str:
    """Header text on one line: a line break in a header value is refused by the email package (and is an injection)."""
    return " ".join((text or "").split())


def _message_id_header(message_id: str, domain: str) -> str:
    """A stable RFC 5322 Message-ID from our id, so a receiver can recognise a redelivery of the same message."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "", message_id)
    if safe != message_id or not safe:
        safe = f"{safe[:40]}.{hashlib.sha256(message_id.encode('utf-8')).hexdigest()[:16]}".lstrip(".")
    return f"<duban.{safe}@{domain}>"


class EmailChannel:
    """SMTP, one connection per message (a handful of mails per event: connection reuse would not pay for its states)."""

    name = "email"

    def __init__(self, host: str, port: int, sender: str, sender_name: str = "", *, starttls: bool = False,
                 ssl_on_connect: bool = False, username: str | None = None, password: str | None = None,
                 timeout: float = DEFAULT_TIMEOUT, ssl_context: ssl.SSLContext | None = None):
        if not _ADDRESS.match(sender):
            raise ChannelConfigError(f"smtp.sender is not an e-mail address: {sender!r}")
        self.host, self.port, self.sender, self.sender_name = host, int(port), sender, sender_name
        self.starttls, self.ssl_on_connect = starttls, ssl_on_connect
        self.username, self.password = username, password
        self.timeout = timeout
        self.ssl_context = ssl_context

    def compose(self, message: Outgoing) -> MIMEText:
        """The MIME message: UTF-8 text in base64 (7-bit clean for relays without 8BITMIME), RFC 2047 encoded
        subject and display names, a Message-ID derived from the message id.

        Built with the email package's compat32 classes: the same wire format as EmailMessage, at a fraction of
        the cost (the modern header parser and refolding took most of each message's time in the bench)."""
        # ASCII only: an internationalised address needs SMTPUTF8, which we do not negotiate.
        if not _ADDRESS.match(message.address or "") or not message.address.isascii():
            raise DeliveryError(f"not an e-mail address: {message.address!r}", retryable=False)
        text = message.body.rstrip("\n")
        if message.link:
            text += f"\n\n查看详情：{message.link}"
        mail = MIMEText(text + "\n", "plain", "utf-8", policy=WIRE)
        mail["Subject"] = Header(_one_line(message.subject), "utf-8", header_name="Subject").encode(linesep="\r\n")
        mail["From"] = formataddr((_one_line(self.sender_name), self.sender), charset="utf-8")
        mail["To"] = formataddr((_one_line(message.recipient_name), message.address), charset="utf-8")
        mail["Date"] = formatdate(localtime=True)
        mail["Message-ID"] = _message_id_header(message.message_id, self.sender.rsplit("@", 1)[1])
        mail[MESSAGE_ID_HEADER] = message.message_id
        return mail

    def _tls(self) -> ssl.SSLContext:
        # Made once, and only for a server spoken to over TLS: loading the system's CA certificates costs
        # tens of milliseconds, which made it most of each message's time when made per connection.
        if self.ssl_context is None:
            self.ssl_context = ssl.create_default_context()
        return self.ssl_context

    def _connect(self) -> smtplib.SMTP:
        if self.ssl_on_connect:
            return smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=self._tls())
        smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        if self.starttls:
            try:
                smtp.starttls(context=self._tls())
            except BaseException:
                smtp.close()
                raise
        return smtp

    def send(self, message: Outgoing) -> str:
        mail = self.compose(message)
        # smtplib's sendmail throws away the final answer; mail/rcpt/data by hand keep it ("250 OK queued as …").
        try:
            with self._connect() as smtp:
                if self.username:
                    smtp.login(self.username, self.password or "")
                smtp.ehlo_or_helo_if_needed()
                code, answer = smtp.mail(self.sender)
                if code != 250:
                    raise _smtp_refusal("sender", code, answer)
                code, answer = smtp.rcpt(message.address)
                if code not in (250, 251):
                    raise _smtp_refusal("recipient", code, answer)
                code, answer = smtp.data(mail.as_bytes())
                if code != 250:
                    raise _smtp_refusal("message", code, answer)
                return excerpt(f"{code} {answer.decode('utf-8', errors='replace')}")
        except DeliveryError:
            raise
        except smtplib.SMTPAuthenticationError as error:
            raise DeliveryError(f"SMTP login refused: {error.smtp_code} {_text(error.smtp_error)}", retryable=False) from None
        except smtplib.SMTPNotSupportedError as error:
            raise DeliveryError(f"SMTP server lacks a configured feature: {error}", retryable=False) from None
        except smtplib.SMTPResponseException as error:
            raise DeliveryError(f"SMTP {error.smtp_code} {_text(error.smtp_error)}",
                                retryable=not 500 <= error.smtp_code < 600) from None
        except (smtplib.SMTPException, OSError) as error:  # refused, reset, timeout, TLS failure, disconnects
            raise DeliveryError(f"SMTP {self.host}:{self.port} unreachable: {type(error).__name__}: {error}",
                                retryable=True) from None


def _text(answer: bytes | str) -> str:
    return excerpt(answer.decode("utf-8", errors="replace") if isinstance(answer, bytes) else str(answer))


def _smtp_refusal(what: str, code: int, answer: bytes) -> DeliveryError:
    # 4xx: transient (greylisting, mailbox busy); 5xx: permanent (no such mailbox, policy).
    return DeliveryError(f"SMTP refused the {what}: {code} {_text(answer)}", retryable=not 500 <= code < 600)


# -- HTTP gateways -----------------------------------------------------------------------------

@dataclass(frozen=True)
class HttpAnswer:
    status: int
    text: str

    def summary(self) -> str:
        return excerpt(f"{self.status} {self.text}")

    def json(self) -> dict | None:
        try:
            answer = json.loads(self.text)
        except ValueError:
            return None
        return answer if isinstance(answer, dict) else None


def post_json(url: str, payload: dict, message_id: str, *, timeout: float = DEFAULT_TIMEOUT,
              headers: dict[str, str] | None = None, body: bytes | None = None) -> HttpAnswer:
    """POST JSON; 2xx comes back, anything else raises DeliveryError classified retryable or not."""
    data = body if body is not None else json.dumps(payload, ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(url, data=data, method="POST", headers={
        "Content-Type": "application/json; charset=utf-8", "User-Agent": "duban-messages/1",
        MESSAGE_ID_HEADER: message_id, **(headers or {})})
    host = urllib.parse.urlsplit(url).netloc
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return HttpAnswer(response.status, response.read(4096).decode("utf-8", errors="replace"))
    except urllib.error.HTTPError as error:
        text = error.read(4096).decode("utf-8", errors="replace") if error.fp else ""
        answer = HttpAnswer(error.code, text)
        retryable = error.code == 429 or error.code == 408 or error.code >= 500
        raise DeliveryError(f"{host} answered {answer.summary()}", retryable=retryable) from None
    except urllib.error.URLError as error:  # refused, unknown host, TLS failure: the gateway never saw the request
        raise DeliveryError(f"{host} unreachable: {error.reason}", retryable=True) from None
    except (TimeoutError, socket.timeout) as error:
        raise DeliveryError(f"{host} did not answer within {timeout:g}s: {error}", retryable=True) from None
    except OSError as error:  # connection reset while reading the answer, and the like
        raise DeliveryError(f"{host} connection failed: {type(error).__name__}: {error}", retryable=True) from None


def _robot_answer(answer: HttpAnswer, platform: str, retryable_codes: frozenset[int]) -> str:
    """The robots answer HTTP 200 with {"errcode": 0, "errmsg": "ok"}; any other errcode is a failure."""
    parsed = answer.json()
    if parsed is None or "errcode" not in parsed:
        # Not the robot's answer (a proxy's page?): whether it was posted is unknown, and posting twice spams a group.
        raise DeliveryError(f"{platform} answered something unexpected: {answer.summary()}", retryable=False)
    errcode = parsed.get("errcode")
    if errcode != 0:
        raise DeliveryError(f"{platform} errcode {errcode}: {excerpt(str(parsed.get('errmsg', '')))}",
                            retryable=errcode in retryable_codes)
    return answer.summary()


def _webhook_url(url: object, where: str) -> str:
    if not isinstance(url, str) or urllib.parse.urlsplit(url).scheme not in ("http", "https") \
            or not urllib.parse.urlsplit(url).netloc:
        raise ChannelConfigError(f"{where}: not an http(s) URL: {url!r}")
    return url


def _unit_robot(robots: dict, message: Outgoing, platform: str):
    robot = robots.get(message.address)
    if robot is None:
        raise DeliveryError(f"no {platform} robot configured for {message.address!r}", retryable=False)
    return robot


class WeComRobotChannel:
    """企业微信群机器人: one webhook per unit's group."""

    # Without mentions: msgtype "markdown" ({"markdown": {"content": …}}, at most 4096 bytes) for the bold title and a
    # clickable link. With mentions: 企业微信 markdown can only @ by userid (<@userid>), which we do not know, so the
    # message goes as msgtype "text" ({"text": {"content": …, "mentioned_mobile_list": [...]}}, at most 2048 bytes),
    # the only format that @s by mobile; the link is then plain text, which the client still makes clickable.
    name = "wecom"

    def __init__(self, webhooks: dict[str, str], *, timeout: float = DEFAULT_TIMEOUT):
        self.webhooks = {unit: _webhook_url(url, f"wecom.{unit}") for unit, url in webhooks.items()}
        self.timeout = timeout

    @staticmethod
    def payload(message: Outgoing) -> dict:
        if message.mentions:
            tail = f"\n{message.link}" if message.link else ""
            content = _fit(f"{message.subject}\n", message.body.strip(), tail, WECOM_TEXT_BYTES)
            return {"msgtype": "text", "text": {"content": content, "mentioned_mobile_list": list(message.mentions)}}
        tail = f"\n[查看详情]({message.link})" if message.link else ""
        content = _fit(f"**{message.subject}**\n", message.body.strip(), tail, WECOM_MARKDOWN_BYTES)
        return {"msgtype": "markdown", "markdown": {"content": content}}

    def send(self, message: Outgoing) -> str:
        url = _unit_robot(self.webhooks, message, "企业微信")
        answer = post_json(url, self.payload(message), message.message_id, timeout=self.timeout)
        return _robot_answer(answer, "企业微信", WECOM_RETRYABLE_ERRCODES)


def dingtalk_sign(timestamp_ms: int, secret: str) -> str:
    """钉钉加签: urlencoded base64 of HMAC-SHA256(key=secret, f"{timestamp}\\n{secret}")."""
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp_ms}\n{secret}".encode("utf-8"), hashlib.sha256).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest))


def dingtalk_signed_url(url: str, secret: str | None, timestamp_ms: int) -> str:
    if not secret:
        return url
    separator = "&" if urllib.parse.urlsplit(url).query else "?"
    return f"{url}{separator}timestamp={timestamp_ms}&sign={dingtalk_sign(timestamp_ms, secret)}"


@dataclass(frozen=True)
class DingTalkRobot:
    url: str
    secret: str | None = None


class DingTalkRobotChannel:
    """钉钉自定义机器人: markdown, the mobiles in "at" (DingTalk only notifies them if the text holds "@<mobile>" too)."""

    name = "dingtalk"

    def __init__(self, robots: dict[str, DingTalkRobot], *, timeout: float = DEFAULT_TIMEOUT,
                 clock_ms: Callable[[], int] = lambda: int(time.time() * 1000)):
        self.robots = robots
        self.timeout = timeout
        self.clock_ms = clock_ms

    @staticmethod
    def payload(message: Outgoing) -> dict:
        # DingTalk's markdown joins single newlines; an empty line between the body's lines keeps them apart.
        lines = [line.strip() for line in message.body.strip().splitlines() if line.strip()]
        tail = (f"\n\n[查看详情]({message.link})" if message.link else "") + \
            ("\n\n" + " ".join(f"@{mobile}" for mobile in message.mentions) if message.mentions else "")
        text = _fit(f"#### {message.subject}\n\n", "\n\n".join(lines), tail, DINGTALK_TEXT_BYTES)
        return {"msgtype": "markdown", "markdown": {"title": message.subject, "text": text},
                "at": {"atMobiles": list(message.mentions), "isAtAll": False}}

    def send(self, message: Outgoing) -> str:
        robot = _unit_robot(self.robots, message, "钉钉")
        url = dingtalk_signed_url(robot.url, robot.secret, self.clock_ms())
        answer = post_json(url, self.payload(message), message.message_id, timeout=self.timeout)
        return _robot_answer(answer, "钉钉", DINGTALK_RETRYABLE_ERRCODES)


_MOBILE = re.compile(r"^\+?\d{6,15}$")
SIGNATURE_HEADER = "X-Signature"


def sms_signature(body: bytes, secret: str) -> str:
    """The X-Signature header: hex HMAC-SHA256 of the exact request body, keyed by the shared secret."""
    return hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


class SmsGatewayChannel:
    """A generic JSON SMS gateway: POST {"mobile", "content", "message_id"}, signed; any 2xx means sent."""

    name = "sms"

    def __init__(self, url: str, secret: str, *, timeout: float = DEFAULT_TIMEOUT):
        self.url = _webhook_url(url, "sms.url")
        if not secret:
            raise ChannelConfigError("sms.secret is required (the gateway checks X-Signature)")
        self.secret = secret
        self.timeout = timeout

    @staticmethod
    def payload(message: Outgoing) -> dict:
        mobile = re.sub(r"[\s-]", "", message.address or "")
        if not _MOBILE.match(mobile):
            raise DeliveryError(f"not a mobile number: {message.address!r}", retryable=False)
        tail = f"\n{message.link}" if message.link else ""
        room = max(SMS_CONTENT_CHARS - len(message.subject) - len(tail) - 1, 0)
        body = message.body.strip()
        body = body if len(body) <= room else body[: max(room - 1, 0)] + "…"
        return {"mobile": mobile, "content": f"{message.subject}\n{body}{tail}", "message_id": message.message_id}

    def send(self, message: Outgoing) -> str:
        body = json.dumps(self.payload(message), ensure_ascii=False).encode("utf-8")
        answer = post_json(self.url, {}, message.message_id, timeout=self.timeout, body=body,
                           headers={SIGNATURE_HEADER: sms_signature(body, self.secret)})
        return answer.summary()


# -- configuration -----------------------------------------------------------------------------

def _section(config: dict, key: str) -> dict | None:
    value = config.get(key)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ChannelConfigError(f"{key}: expected a mapping, got {type(value).__name__}")
    return value


def _required(section: dict, key: str, where: str):
    value = section.get(key)
    if value in (None, ""):
        raise ChannelConfigError(f"{where}.{key} is required")
    return value


def build_channels(config: dict) -> dict[str, Channel]:
    """The configured channels by name; a channel without configuration is absent."""
    if not isinstance(config, dict):
        raise ChannelConfigError(f"the channel configuration must be a mapping, got {type(config).__name__}")
    unknown = set(config) - {"smtp", "sms", "wecom", "dingtalk"}
    if unknown:
        raise ChannelConfigError(f"unknown channel sections: {', '.join(sorted(map(str, unknown)))} "
                                 "(expected smtp, sms, wecom, dingtalk)")
    channels: dict[str, Channel] = {}
    if (smtp := _section(config, "smtp")) is not None:
        try:
            port = int(smtp.get("port", 25))
            timeout = float(smtp.get("timeout", DEFAULT_TIMEOUT))
        except (TypeError, ValueError) as error:
            raise ChannelConfigError(f"smtp.port / smtp.timeout: {error}") from None
        channels["email"] = EmailChannel(
            str(_required(smtp, "host", "smtp")), port, str(_required(smtp, "sender", "smtp")),
            str(smtp.get("sender_name") or ""), starttls=bool(smtp.get("starttls", False)),
            ssl_on_connect=bool(smtp.get("ssl", False)), username=smtp.get("username") or None,
            password=smtp.get("password"), timeout=timeout)
    if (sms := _section(config, "sms")) is not None:
        channels["sms"] = SmsGatewayChannel(_required(sms, "url", "sms"), str(_required(sms, "secret", "sms")),
                                            timeout=float(sms.get("timeout", DEFAULT_TIMEOUT)))
    if (wecom := _section(config, "wecom")) is not None:
        channels["wecom"] = WeComRobotChannel({str(unit): url for unit, url in wecom.items()})
    if (dingtalk := _section(config, "dingtalk")) is not None:
        robots = {}
        for unit, robot in dingtalk.items():
            where = f"dingtalk.{unit}"
            if isinstance(robot, str):  # a bare URL: a robot secured by keyword or IP instead of 加签
                robot = {"url": robot}
            if not isinstance(robot, dict):
                raise ChannelConfigError(f"{where}: expected {{url, secret}}, got {type(robot).__name__}")
            robots[str(unit)] = DingTalkRobot(_webhook_url(robot.get("url"), f"{where}.url"),
                                              str(robot["secret"]) if robot.get("secret") else None)
        channels["dingtalk"] = DingTalkRobotChannel(robots)
    return channels


def load_channel_config(path: str | None) -> dict:
    """The channel configuration from a YAML file (DUBAN_MESSAGES_CONFIG); no path means no outside channels."""
    if not path:
        return {}
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ChannelConfigError(f"cannot read the channel configuration {path}: {error}") from None
    try:
        config = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None) or str(error)
        raise ChannelConfigError(f"the channel configuration {path} is not valid YAML{where}: {problem}") from None
    if config is None:
        return {}
    if not isinstance(config, dict):
        raise ChannelConfigError(f"the channel configuration {path} must be a mapping of sections "
                                 f"(smtp, sms, wecom, dingtalk), not a {type(config).__name__}")
    return config
