"""Read models of the messages service: its messages (from its own events), and what it needs to know of notices and
cases (kept from the notices and followups topics: a rule's words and recipients, the watchers' deadlines)."""
from __future__ import annotations

from mongoengine import BooleanField, DateTimeField, Document, IntField, ListField, StringField

from shared.envelope import EventEnvelope
from shared.paging import bucket_fields
from shared.read_models import Listed, Projection, in_order_update, insert_once
from services.messages.domain.model import Status

SERVICE = "messages"


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
    due_at = StringField()  # ISO time it may be (re)tried
    lease_until = StringField()
    answer = StringField()
    last_error = StringField()
    queued_at = DateTimeField()
    sent_at = StringField()
    read_at = StringField()
    updated_at = DateTimeField()
    version = IntField(required=True)


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
        status=Status.UNREAD if inbox else Status.QUEUED, due_at=data.get("not_before"), queued_at=event.recorded_at,
        updated_at=event.recorded_at, version=event.version, **bucket_fields(event.recorded_at)))


def _update(changes):
    return in_order_update(MessageView, changes)


PROJECTION = Projection({
    "MessageQueued": _queued,
    "DeliveryAttempted": _update(lambda e: {"status": Status.SENDING, "attempts": e.data["attempt"],
                                            "lease_until": e.data["lease_until"]}),
    "MessageSent": _update(lambda e: {"status": Status.SENT, "answer": e.data["answer"], "sent_at": e.data["sent_at"]}),
    "DeliveryFailed": _update(lambda e: {"status": Status.RETRYING if e.data.get("retry_at") else Status.DEAD,
                                         "last_error": e.data["error"], "due_at": e.data.get("retry_at")}),
    "MessageDeadLettered": _update(lambda e: {"status": Status.DEAD}),
    "MessageRequeued": _update(lambda e: {"status": Status.QUEUED, "due_at": None}),
    "MessageRead": _update(lambda e: {"status": Status.READ, "read_at": e.data["read_at"]}),
}, [MessageView])
# Kept from other services' topics, not from this store: a rebuild of the projection leaves them alone.
TRACKED = (TrackedNotice, TrackedCase)
