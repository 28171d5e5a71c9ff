"""Read models of the notices service (mongoengine documents, built only from its own events)."""
from __future__ import annotations

from mongoengine import BooleanField, DateTimeField, DictField, IntField, ListField, StringField

from shared.envelope import EventEnvelope
from shared.paging import bucket_fields
from shared.read_models import Listed, Projection, apply_in_order, in_order_update, insert_once
from services.notices.domain.model import NoticeStatus

SERVICE = "notices"


class NoticeView(Listed):  # 督办通知（查询视图）
    meta = {"db_alias": SERVICE, "collection": "notice_view",
            "indexes": ["status", "issuer_unit", "target_units", "related_task_ids", "kind", *Listed.LIST_INDEXES]}

    id = StringField(primary_key=True)
    kind = StringField()
    title = StringField()
    doc_number = StringField()
    issuer_unit = StringField()
    target_units = ListField(StringField())
    copied_units = ListField(StringField())
    related_task_ids = ListField(StringField())
    problems = ListField(DictField())
    listed = BooleanField(default=False)
    status = StringField(required=True)
    issued_on = StringField()
    sign_for_deadline = StringField()
    sign_for_deadline_provisional = BooleanField(default=False)
    signatures = ListField(DictField())  # [{unit, signed_on, late, by}]
    signed_units = ListField(StringField())
    sign_overdue = BooleanField(default=False)
    closed_problem_ids = ListField(StringField())
    cleared_on = StringField()
    withdrawn_reason = StringField()
    draft = DictField()
    created_at = DateTimeField()
    issued_at = DateTimeField()
    issued_by = DictField()
    updated_at = DateTimeField()
    version = IntField(required=True)


def _drafted(event: EventEnvelope) -> None:
    content = event.data["content"]
    insert_once(NoticeView(
        id=event.data["notice_id"], kind=content["kind"], title=content["title"], doc_number=content.get("doc_number"),
        issuer_unit=content["issuer_unit"], target_units=content["target_units"], listed=content.get("listed", False),
        related_task_ids=content.get("related_task_ids", []), copied_units=content.get("copied_units", []),
        status=NoticeStatus.DRAFT, draft=content, created_at=event.recorded_at, updated_at=event.recorded_at,
        version=event.version, **bucket_fields(event.recorded_at),
    ))


def _issued(event: EventEnvelope) -> None:
    data = event.data
    fields = dict(
        kind=data["kind"], title=data["title"], doc_number=data.get("doc_number"), issuer_unit=data["issuer_unit"],
        target_units=data["target_units"], copied_units=data.get("copied_units", []),
        related_task_ids=data.get("related_task_ids", []), problems=data["problems"], listed=data.get("listed", False),
        status=NoticeStatus.ISSUED, issued_on=data.get("issued_on"), sign_for_deadline=data.get("sign_for_deadline"),
        sign_for_deadline_provisional=data.get("sign_for_deadline_provisional", False),
        issued_at=event.recorded_at, issued_by=event.actor.to_dict(), updated_at=event.recorded_at,
    )
    if event.version == 1:
        insert_once(NoticeView(id=data["notice_id"], created_at=event.recorded_at, version=1, **fields,
                               **bucket_fields(event.recorded_at)))
    else:
        apply_in_order(NoticeView, event, {**fields, "issued_by": event.actor.to_dict(), "draft": None})


def _signed(event: EventEnvelope) -> None:
    data = event.data
    row = NoticeView.objects(id=event.stream_id).only("signed_units", "target_units", "status").first()
    changes = {"updated_at": event.recorded_at}
    if row is not None and row.status == NoticeStatus.ISSUED and set(row.signed_units) | {data["unit"]} >= set(row.target_units):
        changes["status"] = NoticeStatus.ACKNOWLEDGED
    apply_in_order(NoticeView, event, changes, {
        "signatures": {"unit": data["unit"], "signed_on": data["signed_on"], "late": data.get("late", False),
                       "by": event.actor.to_dict(), "backfill": data.get("backfill")},
        "signed_units": data["unit"],
    })


def _update(changes=None, push=None):
    return in_order_update(NoticeView, changes, push)


PROJECTION = Projection({
    "NoticeDrafted": _drafted,
    "NoticeIssued": _issued,
    "NoticeSigned": _signed,
    "NoticeSignOverdue": _update(lambda e: {"sign_overdue": True}),
    "NoticeProblemClosed": _update(None, lambda e: {"closed_problem_ids": e.data["problem_id"]}),
    "NoticeCleared": _update(lambda e: {"status": NoticeStatus.CLEARED, "cleared_on": e.data["cleared_on"]}),
    "NoticeWithdrawn": _update(lambda e: {"status": NoticeStatus.WITHDRAWN, "withdrawn_reason": e.data["reason"]}),
}, [NoticeView])
