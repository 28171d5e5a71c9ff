"""Read models of the followups service: one row per case, kept in step with its stream's version."""
from __future__ import annotations


from mongoengine import BooleanField, DateTimeField, DictField, IntField, ListField, StringField

from shared.envelope import EventEnvelope
from shared.paging import bucket_fields
from shared.read_models import Listed, Projection, apply_in_order, in_order_update, insert_once
from services.followups.domain.model import CaseStatus, EscalationLevel

SERVICE = "followups"


class CaseView(Listed):  # 整改事项（查询视图，即整改台账的一行）
    meta = {"db_alias": SERVICE, "collection": "case_view",
            "indexes": ["notice_id", "responsible_unit", "status", "deadline", "related_task_ids", "area", "open",
                        *Listed.LIST_INDEXES]}

    id = StringField(primary_key=True)
    notice_id = StringField(required=True)
    problem_id = StringField(required=True)
    description = StringField()
    requirement = StringField()
    responsible_unit = StringField()  # 责任单位
    responsible_person = StringField()  # 责任人
    area = StringField()  # 领域
    issuer_unit = StringField()
    notice_title = StringField()
    notice_kind = StringField()
    doc_number = StringField()  # 文号
    listed = BooleanField(default=False)  # 挂牌督办
    related_task_ids = ListField(StringField())
    deadline = StringField()  # current deadline (after extensions)
    original_deadline = StringField()
    deadline_provisional = BooleanField(default=False)  # counted on a not yet published calendar (shared/holidays.py)
    status = StringField(required=True)
    open = BooleanField(default=True)  # not yet closed or withdrawn: the lights' equality filter, the current workload
    plan = StringField()  # 整改方案
    measures = ListField(StringField())  # 整改措施
    planned_completion = StringField()
    progress = ListField(DictField())  # [{summary, evidence, at}]
    reported_on = StringField()
    reinspection_due = StringField()
    findings = StringField()  # latest 复查意见
    failed_reinspections = IntField(default=0)
    closed_on = StringField()  # 销号日期
    on_time = BooleanField()
    overdue = BooleanField(default=False)  # a RectificationOverdue stands for the current deadline
    escalation_level = StringField()  # highest rung reached on the ladder
    escalations = ListField(DictField())  # [{level, reason, doc_number, measure, target, automatic, at}]
    extensions = ListField(DictField())  # [{previous_deadline, new_deadline, reason, approver, at}]
    commendations = ListField(DictField())
    files = ListField(DictField())  # 佐证材料文件 [{sha256, size, type, name, step, attached_by, attached_at}]
    opened_at = DateTimeField()
    updated_at = DateTimeField()
    version = IntField(required=True)


def _opened(event: EventEnvelope) -> None:
    data = event.data
    insert_once(CaseView(
        id=data["case_id"], notice_id=data["notice_id"], problem_id=data["problem_id"],
        description=data["description"], requirement=data.get("requirement", ""),
        responsible_unit=data["responsible_unit"], responsible_person=data.get("responsible_person"), area=data.get("area"),
        issuer_unit=data.get("issuer_unit"), notice_title=data.get("notice_title"), notice_kind=data.get("notice_kind"),
        doc_number=data.get("doc_number"), listed=data.get("listed", False),
        related_task_ids=data.get("related_task_ids", []), deadline=data.get("deadline"),
        deadline_provisional=data.get("deadline_provisional", False),
        original_deadline=data.get("deadline"), status=CaseStatus.OPEN, opened_at=event.recorded_at,
        updated_at=event.recorded_at, version=event.version, **bucket_fields(event.recorded_at),
    ))


def _update(changes=None, push=None):
    def with_open_flag(event: EventEnvelope) -> dict:
        found = changes(event) if changes else {}
        if "status" in found:
            found["open"] = found["status"] not in CaseStatus.ENDED
        return found

    def with_files(event: EventEnvelope) -> dict:
        pushed = push(event) if push else {}
        if event.data.get("files"):  # a step's 佐证材料: listed on the case with the step that attached them
            pushed["files"] = {"$each": [
                {**{k: file.get(k) for k in ("sha256", "size", "type", "name")}, "step": event.type,
                 "attached_by": event.actor.to_dict(), "attached_at": event.recorded_at}
                for file in event.data["files"]]}
        return pushed

    return in_order_update(CaseView, with_open_flag, with_files)


def _escalated(event: EventEnvelope) -> None:
    """Only a rung above the current one raises the level; the ladder never goes down."""
    data = event.data
    row = CaseView.objects(id=event.stream_id).only("escalation_level", "version").first()
    changes = {"updated_at": event.recorded_at}
    if row is not None:
        ladder = EscalationLevel.LADDER
        current = ladder.index(row.escalation_level) if row.escalation_level in ladder else -1
        if ladder.index(data["level"]) > current:
            changes["escalation_level"] = data["level"]
    entry = {k: data.get(k) for k in ("level", "reason", "doc_number", "measure", "target", "automatic", "deadline")}
    apply_in_order(CaseView, event, changes, {"escalations": {**entry, **_when(event)}})


def _entry(event: EventEnvelope, *keys: str) -> dict:
    return {**{k: event.data.get(k) for k in keys}, **_when(event)}


def _when(event: EventEnvelope) -> dict:
    """When and by whom: ``on`` is the business date (补录 keeps the day it happened), ``at`` the moment recorded."""
    return {"on": event.data.get("occurred_on"), "at": event.recorded_at, "by": event.actor.to_dict(),
            "backfill": event.data.get("backfill")}


PROJECTION = Projection({
    "RectificationOpened": _opened,
    "RectificationPlanSubmitted": _update(lambda e: {
        "status": CaseStatus.PLANNED, "plan": e.data["plan"], "measures": e.data.get("measures", []),
        "planned_completion": e.data.get("planned_completion")}),
    "RectificationProgressReported": _update(
        lambda e: {"status": CaseStatus.RECTIFYING},
        lambda e: {"progress": _entry(e, "summary", "evidence")}),
    "RectificationReported": _update(
        lambda e: {"status": CaseStatus.REPORTED, "reported_on": e.data.get("reported_on"),
                   "reinspection_due": e.data.get("reinspection_due")},
        lambda e: {"progress": {**_entry(e, "summary", "evidence"), "final": True}}),
    "ReinspectionPassed": _update(lambda e: {"status": CaseStatus.VERIFIED, "findings": e.data["findings"]}),
    "ReinspectionFailed": _update(
        lambda e: {"status": CaseStatus.RECTIFYING, "findings": e.data["findings"], "reported_on": None}),
    "RectificationClosed": _update(lambda e: {
        "status": CaseStatus.CLOSED, "closed_on": e.data["closed_on"], "on_time": e.data.get("on_time")}),
    "RectificationWithdrawn": _update(lambda e: {"status": CaseStatus.WITHDRAWN}),
    "DeadlineExtended": _update(
        lambda e: {"deadline": e.data["new_deadline"], "overdue": False, "deadline_provisional": False},
        lambda e: {"extensions": _entry(e, "previous_deadline", "new_deadline", "reason", "approver")}),
    "RectificationOverdue": _update(lambda e: {"overdue": True}),
    "RectificationEscalated": _escalated,
    "RectificationCommended": _update(None, lambda e: {"commendations": _entry(e, "reason", "doc_number")}),
}, [CaseView])
