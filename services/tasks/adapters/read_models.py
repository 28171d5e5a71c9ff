"""Read models of the tasks service."""
from __future__ import annotations

from mongoengine import DateTimeField, DictField, Document, IntField, ListField, StringField
from mongoengine.connection import get_db

from shared import calendars

from shared.envelope import EventEnvelope
from shared.read_models import Projection, in_order_update, insert_once
from services.tasks.domain.model import TaskStatus, task_counts

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
    meta = {"db_alias": SERVICE, "collection": "task_view", "indexes": ["plan_id", "lead_unit", "status"]}

    id = StringField(primary_key=True)
    plan_id = StringField(required=True)
    number = StringField()
    text = StringField()
    category = StringField()  # 督政 / 督学 / 评估监测
    targets = ListField(StringField())
    lead_unit = StringField()
    partner_units = ListField(StringField())
    due_date = StringField()
    status = StringField(required=True)
    progress = ListField(DictField())  # [{summary, percent, at, by}]
    outcome = StringField()  # completion summary or cancellation reason
    links = DictField()  # notice id -> its matters (督办事项)
    withdrawn_notices = ListField(StringField())
    closed_matters = ListField(StringField())
    updated_at = DateTimeField()
    version = IntField(required=True)

    @property
    def counts(self) -> dict:
        return task_counts(self.links or {}, set(self.withdrawn_notices), set(self.closed_matters))


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
        category=data.get("category"), targets=data.get("targets", []), status=TaskStatus.PLANNED,
        updated_at=event.recorded_at, version=event.version,
    ))


def _entry(event: EventEnvelope, *keys: str) -> dict:
    return {**{k: event.data.get(k) for k in keys}, "at": event.recorded_at, "by": event.actor.to_dict()}


def _task_update(changes=None, push=None):
    return in_order_update(TaskView, changes, push)


PROJECTION = Projection(
    {
        "PlanRecorded": _plan_recorded,
        "PlanImported": _plan_recorded,
        "TaskCreated": _task_created,
        "TaskProgressRecorded": _task_update(lambda e: {"status": TaskStatus.IN_PROGRESS},
                                             lambda e: {"progress": _entry(e, "summary", "percent")}),
        "TaskCompleted": _task_update(lambda e: {"status": TaskStatus.DONE, "outcome": e.data["summary"]}),
        "TaskCancelled": _task_update(lambda e: {"status": TaskStatus.CANCELLED, "outcome": e.data["reason"]}),
        "TaskNoticeLinked": _task_update(lambda e: {f"links.{e.data['notice_id']}": e.data["matter_ids"]}),
        "TaskNoticeWithdrawn": _task_update(None, lambda e: {"withdrawn_notices": e.data["notice_id"]}),
        "TaskMatterClosed": _task_update(None, lambda e: {"closed_matters": e.data["matter_id"]}),
        # the tasks service's own copy of the recorded holiday arrangements (the others keep theirs from the topic)
        calendars.RECORDED: lambda e: calendars.keep_arrangement(get_db(SERVICE), e),
    },
    [PlanView, TaskView],
)
