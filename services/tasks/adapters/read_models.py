"""Read models of the tasks service."""
from __future__ import annotations

from mongoengine import DateTimeField, Document, IntField, ListField, StringField

from shared.envelope import EventEnvelope
from shared.read_models import Projection, insert_once

SERVICE = "tasks"


class PlanView(Document):  # 工作要点（查询视图）
    meta = {"db_alias": SERVICE, "collection": "plan_view"}

    id = StringField(primary_key=True)
    title = StringField(required=True)
    year = IntField()
    issuer = StringField()
    doc_number = StringField()
    task_ids = ListField(StringField())
    source = StringField(default="manual")  # manual | imported
    document_date = StringField()
    recorded_at = DateTimeField()
    version = IntField(required=True)


class TaskView(Document):  # 督导任务（查询视图）
    meta = {"db_alias": SERVICE, "collection": "task_view", "indexes": ["plan_id", "lead_unit"]}

    id = StringField(primary_key=True)
    plan_id = StringField(required=True)
    number = StringField()
    text = StringField()
    lead_unit = StringField()
    partner_units = ListField(StringField())
    due_date = StringField()
    status = StringField(required=True)
    version = IntField(required=True)


def _plan_recorded(event: EventEnvelope) -> None:
    data = event.data
    insert_once(PlanView(
        id=data["plan_id"], title=data["title"], year=data.get("year"), issuer=data.get("issuer"),
        doc_number=data.get("doc_number"), task_ids=data.get("task_ids", []), recorded_at=event.recorded_at,
        source="imported" if event.type == "PlanImported" else "manual", document_date=data.get("document_date"),
        version=event.version,
    ))


def _task_created(event: EventEnvelope) -> None:
    data = event.data
    insert_once(TaskView(
        id=data["task_id"], plan_id=data["plan_id"], number=data["number"], text=data["text"],
        lead_unit=data.get("lead_unit"), partner_units=data.get("partner_units", []), due_date=data.get("due_date"),
        status="planned", version=event.version,
    ))


PROJECTION = Projection(
    {"PlanRecorded": _plan_recorded, "PlanImported": _plan_recorded, "TaskCreated": _task_created},
    [PlanView, TaskView],
)
