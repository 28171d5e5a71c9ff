"""Read models of the followups service: one row per case, kept in step with its stream's version."""
from __future__ import annotations

from datetime import date

from mongoengine import BooleanField, DateTimeField, DictField, Document, IntField, ListField, Q, StringField

from shared.deadlines import Light
from shared.envelope import EventEnvelope
from shared.policy import PolicyBook
from shared.read_models import Projection, apply_in_order, in_order_update, insert_once
from services.followups.domain.model import CaseStatus, EscalationLevel, yellow_horizon

SERVICE = "followups"


class CaseView(Document):  # 整改事项（查询视图，即整改台账的一行）
    meta = {"db_alias": SERVICE, "collection": "case_view",
            "indexes": ["notice_id", "responsible_unit", "status", "deadline", "related_task_ids", "area"]}

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
    status = StringField(required=True)
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
        original_deadline=data.get("deadline"), status=CaseStatus.OPEN, opened_at=event.recorded_at,
        updated_at=event.recorded_at, version=event.version,
    ))


def _update(changes=None, push=None):
    return in_order_update(CaseView, changes, push)


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
    apply_in_order(CaseView, event, changes, {"escalations": {**entry, "at": event.recorded_at, "by": event.actor.to_dict()}})


def _entry(event: EventEnvelope, *keys: str) -> dict:
    return {**{k: event.data.get(k) for k in keys}, "at": event.recorded_at, "by": event.actor.to_dict()}


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
        lambda e: {"deadline": e.data["new_deadline"], "overdue": False},
        lambda e: {"extensions": _entry(e, "previous_deadline", "new_deadline", "reason", "approver")}),
    "RectificationOverdue": _update(lambda e: {"overdue": True}),
    "RectificationEscalated": _escalated,
    "RectificationCommended": _update(None, lambda e: {"commendations": _entry(e, "reason", "doc_number")}),
}, [CaseView])


def light_filter(light: str, today: date, policies: PolicyBook):
    """Query for cases of one traffic light today; each office's own yellow window applies to its cases."""
    running = Q(status__in=CaseStatus.CLOCK_RUNNING)
    today_iso = today.isoformat()
    if light == Light.RED:
        return running & Q(deadline__lt=today_iso)
    by_window: dict[int, list[str]] = {}
    for office, policy in policies.offices.items():
        by_window.setdefault(policy.yellow_within_working_days, []).append(office)
    overridden = [office for offices in by_window.values() for office in offices]
    windows = [(policies.default.yellow_within_working_days, Q(issuer_unit__nin=overridden))]
    windows += [(window, Q(issuer_unit__in=offices)) for window, offices in by_window.items()]
    yellow = None
    for window, offices in windows:
        horizon = yellow_horizon(today, window).isoformat()
        clause = offices & Q(deadline__gte=today_iso, deadline__lte=horizon)
        yellow = clause if yellow is None else yellow | clause
    if light == Light.YELLOW:
        return running & yellow
    # green: the unit has already reported, or its deadline lies beyond its office's yellow window (or it has none)
    reported = Q(status__in=(CaseStatus.REPORTED, CaseStatus.VERIFIED))
    return reported | (running & _beyond_yellow(windows, today))


def _beyond_yellow(windows, today: date):
    beyond = None
    for window, offices in windows:
        clause = offices & (Q(deadline=None) | Q(deadline__gt=yellow_horizon(today, window).isoformat()))
        beyond = clause if beyond is None else beyond | clause
    return beyond
