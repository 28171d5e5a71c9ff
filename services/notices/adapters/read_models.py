"""Read models of the notices service (mongoengine documents, built only from its own events)."""
from __future__ import annotations

from mongoengine import BooleanField, DateTimeField, Document, DictField, IntField, ListField, StringField

from shared.envelope import EventEnvelope
from shared.read_models import Projection, insert_once

SERVICE = "notices"


class NoticeView(Document):  # 督办通知（查询视图）
    meta = {"db_alias": SERVICE, "collection": "notice_view", "indexes": ["status", "issuer_unit", "target_units"]}

    id = StringField(primary_key=True)
    kind = StringField(required=True)
    title = StringField(required=True)
    doc_number = StringField()
    issuer_unit = StringField()
    target_units = ListField(StringField())
    related_task_ids = ListField(StringField())
    problems = ListField(DictField())
    listed = BooleanField(default=False)
    status = StringField(required=True)
    issued_at = DateTimeField()
    issued_by = DictField()
    version = IntField(required=True)


def _notice_issued(event: EventEnvelope) -> None:
    data = event.data
    insert_once(NoticeView(
        id=data["notice_id"], kind=data["kind"], title=data["title"], doc_number=data.get("doc_number"),
        issuer_unit=data["issuer_unit"], target_units=data["target_units"],
        related_task_ids=data.get("related_task_ids", []), problems=data["problems"], listed=data.get("listed", False),
        status="issued", issued_at=event.recorded_at, issued_by=event.actor.to_dict(), version=event.version,
    ))


PROJECTION = Projection({"NoticeIssued": _notice_issued}, [NoticeView])
