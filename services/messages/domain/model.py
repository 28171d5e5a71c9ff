"""Messages (消息提醒): whom a rule reaches and by which channels, and each message's delivery as a state machine.

Plain Python. A message is one (rule, item, recipient, channel, occurrence): its id follows from those, so a
redelivered event, a restarted worker or a second worker meets the same stream and queues nothing new.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from shared.aggregate import Aggregate
from shared.auth import Role
from shared.contracts import (
    DeliveryAttempted,
    DeliveryFailed,
    MessageDeadLettered,
    MessageQueued,
    MessageRead,
    MessageRequeued,
    MessageSent,
)
from shared.directory import Account
from shared.errors import Forbidden, IllegalTransition
from services.messages.domain.rules import Rule

_NAMESPACE = uuid.UUID("0b0a3f7e-1f1a-4a0c-9a55-6c0de55a9e21")
MAX_ATTEMPTS = 6  # then the dead-letter list (待处理), where office staff see it and may send it again
FIRST_RETRY = timedelta(seconds=30)
LAST_RETRY = timedelta(hours=1)
LEASE = timedelta(seconds=60)  # a claimed message nobody recorded an outcome for is taken over after this
QUIET_CHANNELS = ("sms", "wecom", "dingtalk")  # not sent in quiet hours: deferred, never dropped


def message_id_for(rule: str, item: str, recipient: str, channel: str, occurrence: str) -> str:
    return f"msg-{uuid.uuid5(_NAMESPACE, '|'.join((rule, item, recipient, channel, occurrence)))}"


# -- what a rule asks for ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Notification:
    """What happened, worded once (shared/event_words.py), and the item it concerns."""

    event_type: str
    item: str  # the case or notice id
    subject: str
    body: str
    link: str | None
    occurrence: str
    notice_id: str | None = None
    case_id: str | None = None


@dataclass(frozen=True)
class Draft:
    """A message to queue (the fields of MessageQueued)."""

    message_id: str
    rule: str
    channel: str
    recipient: str | None
    recipient_name: str
    unit: str | None
    address: str | None
    subject: str
    body: str
    link: str | None
    notice_id: str | None
    case_id: str | None
    occurrence: str
    not_before: str | None = None
    mentions: list[str] = field(default_factory=list)


AUDIENCE_ROLES = {
    "handlers": (Role.UNIT_HANDLER, Role.DEPARTMENT_LIAISON),
    "leaders": (Role.UNIT_LEADER,),
    "office": (Role.OFFICE_STAFF,),
    "inspectors": (Role.INSPECTOR,),
}


def audience(people: list[Account], units: list[str], audiences: tuple[str, ...]) -> list[Account]:
    """The active people of ``units`` holding a role of one of ``audiences``, each once, in a stable order."""
    roles = {role for name in audiences for role in AUDIENCE_ROLES[name]}
    wanted = set(units)
    chosen = [p for p in people if p.active and p.unit in wanted and roles.intersection(p.roles)]
    return sorted(chosen, key=lambda p: (units.index(p.unit), p.username))


def plan_messages(rule: Rule, notification: Notification, people: list[Account], units: list[str],
                  issuer: str | None, available: set[str], robots: dict[str, str],
                  quiet_until) -> list[Draft]:
    """The messages a rule asks for: per person the inbox, e-mail and SMS (when they have an address and the channel
    is configured); per unit its IM group robot (``robots``: unit → wecom | dingtalk), mentioning the people told.

    ``quiet_until(channel) -> str | None``: when a channel that must not disturb may send (quiet hours), else None.
    """
    recipients = audience(people, units, rule.to)
    if rule.copy_to and issuer:
        recipients += [p for p in audience(people, [issuer], rule.copy_to) if p not in recipients]
    drafts: list[Draft] = []

    def draft(channel: str, recipient: str | None, name: str, unit: str | None, address: str | None,
              key: str, mentions: list[str] | None = None) -> Draft:
        return Draft(message_id_for(rule.id, notification.item, key, channel, notification.occurrence), rule.id, channel,
                     recipient, name, unit, address, notification.subject, notification.body, notification.link,
                     notification.notice_id, notification.case_id, notification.occurrence,
                     quiet_until(channel) if channel in QUIET_CHANNELS else None, mentions or [])

    for person in recipients:
        drafts.append(draft("inbox", person.username, person.name or person.username, person.unit, None, person.username))
        if "email" in rule.channels and "email" in available and person.email:
            drafts.append(draft("email", person.username, person.name or person.username, person.unit, person.email,
                                person.username))
        if "sms" in rule.channels and "sms" in available and person.mobile:
            drafts.append(draft("sms", person.username, person.name or person.username, person.unit, person.mobile,
                                person.username))
    if "im" in rule.channels:
        for unit in dict.fromkeys(p.unit for p in recipients):
            kind = robots.get(unit)
            if kind:
                mentions = [p.mobile for p in recipients if p.unit == unit and p.mobile]
                drafts.append(draft(kind, None, f"{unit}工作群", unit, None, f"group:{unit}", mentions))
    return drafts


# -- a message's delivery -----------------------------------------------------------------------------

class Status:
    UNREAD = "unread"  # an inbox message, delivered on arrival
    READ = "read"
    QUEUED = "queued"  # waiting for its first attempt (or past quiet hours)
    SENDING = "sending"  # claimed by a worker until its lease ends
    RETRYING = "retrying"  # failed; tried again at retry_at
    SENT = "sent"
    DEAD = "dead"  # failed for good: the dead-letter list (待处理)

    LABELS_ZH = {UNREAD: "未读", READ: "已读", QUEUED: "待发送", SENDING: "发送中", RETRYING: "等待重试", SENT: "已发送",
                 DEAD: "发送失败"}
    TO_SEND = (QUEUED, RETRYING, SENDING)


def retry_delay(attempt: int) -> timedelta:
    """Exponential backoff: 30 s, 1 min, 2 min, 4 min … at most an hour."""
    return min(FIRST_RETRY * (2 ** max(0, attempt - 1)), LAST_RETRY)


def due_for_sending(status: str | None, due: datetime | None, lease_until: datetime | None, now: datetime) -> bool:
    """Queued or retrying and its time has come, or claimed and the claim's lease ran out."""
    if status in (Status.QUEUED, Status.RETRYING):
        return due is None or due <= now
    return status == Status.SENDING and lease_until is not None and lease_until <= now


@dataclass(frozen=True)
class DeliveryState:
    """A message's delivery state at one version of its stream: what its read-model row says, or what a claim left.

    Deciding from it instead of re-reading the stream is safe because whatever is decided is appended at
    ``version`` + 1, which the store refuses if the stream has moved on since.
    """

    message_id: str
    version: int
    channel: str | None
    recipient: str | None
    status: str | None
    attempts: int
    attempts_before_requeue: int | None  # None: not known from the row (it was requeued); read the stream
    due: datetime | None
    lease_until: datetime | None
    notice_id: str | None
    case_id: str | None


@dataclass(frozen=True)
class Outcome:
    """What a channel made of one claimed message: its answer, or the error and whether trying again may help."""

    state: DeliveryState  # as the claim left it
    answer: str | None = None
    error: str | None = None
    retryable: bool = True
    handed_over: bool = True  # False: it never reached a channel (none is configured for it)


class Message(Aggregate):  # 消息
    stream_type = "message"

    @classmethod
    def resume(cls, state: DeliveryState) -> "Message":
        message = cls(state.message_id)
        message.version = state.version
        message.channel, message.recipient, message.status = state.channel, state.recipient, state.status
        if state.attempts_before_requeue is None:
            raise ValueError(f"the state of {state.message_id} does not tell its requeues: load it from its stream")
        message.attempts, message.attempts_before_requeue = state.attempts, state.attempts_before_requeue
        message.due, message.lease_until = state.due, state.lease_until
        message.notice_id, message.case_id = state.notice_id, state.case_id
        return message

    def state(self) -> DeliveryState:
        """Its state as of its last saved event (what it will be resumed from)."""
        return DeliveryState(self.id, self.version, self.channel, self.recipient, self.status, self.attempts,
                             self.attempts_before_requeue, self.due, self.lease_until, self.notice_id, self.case_id)

    def __init__(self, stream_id: str):
        super().__init__(stream_id)
        self.channel: str | None = None
        self.recipient: str | None = None
        self.status: str | None = None
        self.attempts = 0
        self.attempts_before_requeue = 0  # the attempts a requeue leaves behind: the retry budget starts afresh
        self.due: datetime | None = None  # when it may be (re)tried
        self.lease_until: datetime | None = None
        self.notice_id: str | None = None
        self.case_id: str | None = None

    def queue(self, draft: Draft) -> bool:
        """False when this message exists already (a redelivered event, another worker): nothing is recorded."""
        if self.exists:
            return False
        self._record(MessageQueued(**draft.__dict__))
        return True

    def due_for_sending(self, now: datetime) -> bool:
        return due_for_sending(self.status, self.due, self.lease_until, now)

    def claim(self, now: datetime) -> int | None:
        """Take the message for an attempt (its number), or None when it is not due or someone else holds it."""
        if not self.due_for_sending(now):
            return None
        self._record(DeliveryAttempted(message_id=self.id, attempt=self.attempts + 1, lease_until=(now + LEASE).isoformat()))
        return self.attempts

    def sent(self, attempt: int, answer: str, now: datetime) -> None:
        self._require_attempt(attempt)
        self._record(MessageSent(message_id=self.id, attempt=attempt, answer=answer[:500], sent_at=now.isoformat(),
                                 notice_id=self.notice_id, case_id=self.case_id))

    def failed(self, attempt: int, error: str, retryable: bool, now: datetime) -> None:
        self._require_attempt(attempt)
        tries = attempt - self.attempts_before_requeue
        if retryable and tries < MAX_ATTEMPTS:
            self._record(DeliveryFailed(message_id=self.id, attempt=attempt, error=error[:500],
                                        retry_at=(now + retry_delay(tries)).isoformat()))
            return
        self._record(DeliveryFailed(message_id=self.id, attempt=attempt, error=error[:500], retry_at=None))
        self._record(MessageDeadLettered(message_id=self.id, attempts=attempt, error=error[:500],
                                         notice_id=self.notice_id, case_id=self.case_id))

    def requeue(self, reason: str) -> None:
        """Office staff send a dead-lettered message again (after fixing an address or a gateway)."""
        if self.status != Status.DEAD:
            raise IllegalTransition(f"message {self.id} is {self.status}, not failed", "只有发送失败的消息可以重新发送",
                                    state=self.status)
        self._record(MessageRequeued(message_id=self.id, reason=reason))

    def read(self, reader: str, now: datetime) -> None:
        if self.channel != "inbox":
            raise IllegalTransition("only in-portal messages are read here", "只有站内消息可以标记已读", state=self.status)
        if reader != self.recipient:
            raise Forbidden("another person's message", "只能阅读本人的消息")
        if self.status == Status.UNREAD:
            self._record(MessageRead(message_id=self.id, read_at=now.isoformat()))

    def _require_attempt(self, attempt: int) -> None:
        if self.status != Status.SENDING or attempt != self.attempts:
            raise IllegalTransition(f"attempt {attempt} of {self.id} is not the current one", "该次发送已不是当前尝试",
                                    state=self.status)

    def apply(self, event) -> None:
        if isinstance(event, MessageQueued):
            self.channel, self.recipient = event.channel, event.recipient
            self.notice_id, self.case_id = event.notice_id, event.case_id
            self.status = Status.UNREAD if event.channel == "inbox" else Status.QUEUED
            self.due = datetime.fromisoformat(event.not_before) if event.not_before else None
        elif isinstance(event, DeliveryAttempted):
            self.status, self.attempts = Status.SENDING, event.attempt
            self.lease_until = datetime.fromisoformat(event.lease_until)
        elif isinstance(event, MessageSent):
            self.status = Status.SENT
        elif isinstance(event, DeliveryFailed):
            self.status = Status.RETRYING if event.retry_at else Status.DEAD
            self.due = datetime.fromisoformat(event.retry_at) if event.retry_at else None
        elif isinstance(event, MessageRequeued):
            self.status, self.attempts_before_requeue, self.due = Status.QUEUED, self.attempts, None
        elif isinstance(event, MessageRead):
            self.status = Status.READ
