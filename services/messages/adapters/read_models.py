"""Read models of the messages service: its messages (from its own events), and what it needs to know of notices and
cases (kept from the notices and followups topics: a rule's words and recipients, the watchers' deadlines)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from mongoengine import BooleanField, DateTimeField, Document, IntField, ListField, StringField

from shared.envelope import EventEnvelope
from shared.paging import bucket_fields
from shared.read_models import Listed, Projection, in_order_update, insert_once
from services.messages.domain.model import DeliveryState, Status

SERVICE = "messages"
READ_BATCH = 200  # rows fetched per round trip when the dispatcher reads what is waiting


class MessageView(Listed):  # 消息（查询视图）
    meta = {"db_alias": SERVICE, "collection": "message_view",
            "indexes": ["recipient", "status", "notice_id", "case_id", "channel", *Listed.LIST_INDEXES]}

    id = StringField(primary_key=True)
    rule = StringField()
    channel = StringField()
    recipient = StringField()
    recipient_name = StringField()
    unit = StringField()
    address = StringField()
    subject = StringField()
    body = StringField()
    link = StringField()
    notice_id = StringField()
    case_id = StringField()
    occurrence = StringField()
    mentions = ListField(StringField())
    status = StringField(required=True)
    attempts = IntField(default=0)
    # The attempts a requeue left behind (the retry budget starts after them); None once requeued, as the event
    # does not say: the dispatcher then decides from the stream.
    attempts_before_requeue = IntField()
    due_at = StringField()  # ISO time it may be (re)tried
    lease_until = StringField()
    answer = StringField()
    last_error = StringField()
    queued_at = DateTimeField()
    sent_at = StringField()
    read_at = StringField()
    updated_at = DateTimeField()
    version = IntField(required=True)


@dataclass(frozen=True)
class Sendable:
    """A message waiting to be sent, as its row says: what its channel needs, and its delivery state."""

    id: str
    channel: str
    recipient_name: str
    unit: str | None
    address: str | None
    subject: str
    body: str
    link: str | None
    mentions: tuple[str, ...]
    queued_at: datetime | None
    state: DeliveryState


def waiting(status: str, keep: Callable[[Sendable], bool] | None = None, at_most: int | None = None) -> list[Sendable]:
    """The messages in ``status`` that ``keep`` accepts, at most ``at_most`` of them, in the order the rows are
    stored (about the order queued: a queued row is not rewritten until its outcome), as plain documents (making
    mongoengine objects of them costs more than sending them).

    The rows are read a batch at a time and the rest are never fetched once enough are found: a wave of thousands
    of 催办 is sent a pass at a time, and each pass reads its share, not the whole queue again."""
    cursor = MessageView._get_collection().find({"status": status}, {
        "status": 1, "version": 1, "channel": 1, "recipient": 1, "recipient_name": 1, "unit": 1, "address": 1,
        "subject": 1, "body": 1, "link": 1, "mentions": 1, "notice_id": 1, "case_id": 1, "attempts": 1,
        "attempts_before_requeue": 1, "due_at": 1, "lease_until": 1, "queued_at": 1},
        batch_size=min(at_most or READ_BATCH, READ_BATCH))
    found: list[Sendable] = []
    with cursor:
        for document in cursor:
            row = _sendable(document)
            if keep is None or keep(row):
                found.append(row)
                if at_most is not None and len(found) >= at_most:
                    break
    return found


def _sendable(row: dict) -> Sendable:
    state = DeliveryState(row["_id"], row["version"], row.get("channel"), row.get("recipient"), row["status"],
                          row.get("attempts") or 0, row.get("attempts_before_requeue"), _moment(row.get("due_at")),
                          _moment(row.get("lease_until")), row.get("notice_id"), row.get("case_id"))
    return Sendable(row["_id"], row.get("channel") or "", row.get("recipient_name") or "", row.get("unit"),
                    row.get("address"), row.get("subject") or "", row.get("body") or "", row.get("link"),
                    tuple(row.get("mentions") or ()), row.get("queued_at"), state)


def _moment(iso: str | None) -> datetime | None:
    return datetime.fromisoformat(iso) if iso else None


class TrackedNotice(Document):  # 督办通知（本服务所需的部分，来自 notices 主题）
    meta = {"db_alias": SERVICE, "collection": "tracked_notices", "indexes": ["live"]}

    id = StringField(primary_key=True)
    title = StringField()
    kind = StringField()
    doc_number = StringField()
    issuer_unit = StringField()
    target_units = ListField(StringField())
    signed_units = ListField(StringField())
    sign_for_deadline = StringField()
    issued_on = StringField()
    entered_on = StringField()
    live = BooleanField(default=True)  # issued and neither cleared nor withdrawn
    version = IntField()


class TrackedCase(Document):  # 整改事项（本服务所需的部分，来自 followups 主题）
    meta = {"db_alias": SERVICE, "collection": "tracked_cases", "indexes": ["open"]}

    id = StringField(primary_key=True)
    notice_id = StringField()
    description = StringField()
    responsible_unit = StringField()
    responsible_person = StringField()
    issuer_unit = StringField()
    notice_title = StringField()
    doc_number = StringField()
    deadline = StringField()
    entered_on = StringField()
    open = BooleanField(default=True)  # its clock runs (not reported, closed or withdrawn)
    version = IntField()


def _queued(event: EventEnvelope) -> None:
    data = event.data
    inbox = data["channel"] == "inbox"
    insert_once(MessageView(
        id=data["message_id"], rule=data["rule"], channel=data["channel"], recipient=data.get("recipient"),
        recipient_name=data.get("recipient_name"), unit=data.get("unit"), address=data.get("address"),
        subject=data["subject"], body=data["body"], link=data.get("link"), notice_id=data.get("notice_id"),
        case_id=data.get("case_id"), occurrence=data.get("occurrence"), mentions=data.get("mentions") or [],
        status=Status.UNREAD if inbox else Status.QUEUED, attempts_before_requeue=0, due_at=data.get("not_before"),
        queued_at=event.recorded_at, updated_at=event.recorded_at, version=event.version, **bucket_fields(event.recorded_at)))


def _update(changes, supersedes: int = 0):
    return in_order_update(MessageView, changes, supersedes=supersedes)


PROJECTION = Projection({
    "MessageQueued": _queued,
    "DeliveryAttempted": _update(lambda e: {"status": Status.SENDING, "attempts": e.data["attempt"],
                                            "lease_until": e.data["lease_until"]}),
    # An outcome sets all its claim set, so the dispatcher leaves the claim's row update to it (one update per
    # delivery, not two): it applies over a row that has not seen the claim (supersedes=1).
    "MessageSent": _update(lambda e: {"status": Status.SENT, "attempts": e.data["attempt"], "lease_until": None,
                                      "answer": e.data["answer"], "sent_at": e.data["sent_at"]}, supersedes=1),
    "DeliveryFailed": _update(lambda e: {"status": Status.RETRYING if e.data.get("retry_at") else Status.DEAD,
                                         "attempts": e.data["attempt"], "lease_until": None,
                                         "last_error": e.data["error"], "due_at": e.data.get("retry_at")}, supersedes=1),
    "MessageDeadLettered": _update(lambda e: {"status": Status.DEAD}),
    "MessageRequeued": _update(lambda e: {"status": Status.QUEUED, "due_at": None, "attempts_before_requeue": None}),
    "MessageRead": _update(lambda e: {"status": Status.READ, "read_at": e.data["read_at"]}),
}, [MessageView])
# Kept from other services' topics, not from this store: a rebuild of the projection leaves them alone.
TRACKED = (TrackedNotice, TrackedCase)
