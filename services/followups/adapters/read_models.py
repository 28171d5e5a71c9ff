"""Read models of the followups service."""
from __future__ import annotations

from mongoengine import DateTimeField, Document, IntField, StringField

from shared.envelope import EventEnvelope
from shared.read_models import Projection, insert_once

SERVICE = "followups"


class CaseView(Document):  # 整改事项（查询视图）
    meta = {"db_alias": SERVICE, "collection": "case_view", "indexes": ["notice_id", "responsible_unit", "status"]}

    id = StringField(primary_key=True)
    notice_id = StringField(required=True)
    problem_id = StringField(required=True)
    description = StringField()
    responsible_unit = StringField()
    deadline = StringField()
    status = StringField(required=True)
    opened_at = DateTimeField()
    version = IntField(required=True)


def _rectification_opened(event: EventEnvelope) -> None:
    data = event.data
    insert_once(CaseView(
        id=data["case_id"], notice_id=data["notice_id"], problem_id=data["problem_id"],
        description=data["description"], responsible_unit=data["responsible_unit"], deadline=data.get("deadline"),
        status="open", opened_at=event.recorded_at, version=event.version,
    ))


PROJECTION = Projection({"RectificationOpened": _rectification_opened}, [CaseView])
