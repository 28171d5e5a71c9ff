"""HTTP API of the notices service: schema in, command to the bus, schema out."""
from __future__ import annotations

from flask_smorest import Blueprint

from shared.auth import Role
from shared.errors import NotFound
from shared.paging import date_between
from shared.scope import notice_units
from shared.web import (allow, command_context, create_service_app, current_context, page_newest_first,
                        require_caller_sees, scoped_equality)
from services.notices.adapters.read_models import NoticeView
from services.notices.bootstrap import bootstrap
from services.notices.domain import commands as c
from services.notices.entrypoints.schemas import (
    IssueDraftSchema,
    NoticeContentSchema,
    NoticeQuerySchema,
    NoticeSchema,
    SignSchema,
    WithdrawSchema,
)

blp = Blueprint("notices", __name__, url_prefix="/notices", description="督办通知 supervision notices")


@blp.route("", methods=["GET"])
@blp.arguments(NoticeQuerySchema, location="query")
@blp.response(200, NoticeSchema(many=True))
@blp.paginate()
def list_notices(query, pagination_parameters):
    """List notices (newest first), filtered by status, unit, kind, task, 挂牌督办 or issue date."""
    equality = {field: query[name] for name, field in (
        ("status", "status"), ("unit", "target_units"), ("kind", "kind"), ("issuer_unit", "issuer_unit"),
        ("task_id", "related_task_ids"), ("listed", "listed"), ("sign_overdue", "sign_overdue")) if name in query}
    equality = scoped_equality(equality, "target_units")  # shared/scope.py: a notice is its target units'
    if equality is None:  # another unit's notices: none that this caller may read
        pagination_parameters.item_count = 0
        return []
    keep = date_between("issued_on", query.get("issued_from"), query.get("issued_to"))
    return page_newest_first(NoticeView, pagination_parameters, equality, keep)


@blp.route("", methods=["POST"])
@allow(Role.OFFICE_STAFF)
@blp.arguments(NoticeContentSchema)
@blp.response(201, NoticeSchema)
def issue_notice(payload):
    """Issue a notice with its problem list; deadlines are fixed from today (office staff)."""
    return _handled(c.IssueNotice(content=_content(payload), notice_id=payload["notice_id"]))


@blp.route("/drafts", methods=["POST"])
@allow(Role.OFFICE_STAFF)
@blp.arguments(NoticeContentSchema)
@blp.response(201, NoticeSchema)
def draft_notice(payload):
    """Save a notice as a draft, to issue later (office staff)."""
    return _handled(c.DraftNotice(content=_content(payload), notice_id=payload["notice_id"]))


@blp.route("/<notice_id>", methods=["GET"])
@blp.response(200, NoticeSchema)
def get_notice(notice_id):
    """One notice with its problem list, signatures and closures."""
    row = _notice_or_404(notice_id)
    require_caller_sees(*notice_units(row.target_units))
    return row


@blp.route("/<notice_id>/issue", methods=["POST"])
@allow(Role.OFFICE_STAFF)
@blp.arguments(IssueDraftSchema)
@blp.response(200, NoticeSchema)
def issue_draft(payload, notice_id):
    """Issue a saved draft (office staff)."""
    return _handled(c.IssueDraft(notice_id, payload["expected_version"]))


@blp.route("/<notice_id>/signature", methods=["POST"])
@allow(Role.UNIT_HANDLER, Role.OFFICE_STAFF)
@blp.arguments(SignSchema)
@blp.response(200, NoticeSchema)
def sign_notice(payload, notice_id):
    """Sign for the notice on behalf of the caller's own unit (签收; a target unit's handler), or record a unit's
    signature on paper as a 补录 (office staff: unit, occurred_on and backfill_reason)."""
    return _handled(c.SignNotice(notice_id, payload["expected_version"], unit=payload["unit"],
                                 occurred_on=payload["occurred_on"], backfill_reason=payload["backfill_reason"]))


@blp.route("/<notice_id>/withdrawal", methods=["POST"])
@allow(Role.OFFICE_STAFF)
@blp.arguments(WithdrawSchema)
@blp.response(200, NoticeSchema)
def withdraw_notice(payload, notice_id):
    """Withdraw a draft or an issued notice with a reason; its open cases end with it (office staff)."""
    return _handled(c.WithdrawNotice(notice_id, payload["reason"], payload["expected_version"]))


def _content(payload: dict) -> c.NoticeContent:
    return c.NoticeContent(
        kind=payload["kind"], title=payload["title"], issuer_unit=payload["issuer_unit"],
        target_units=tuple(payload["target_units"]), problems=tuple(c.ProblemInput(**p) for p in payload["problems"]),
        doc_number=payload["doc_number"], related_task_ids=tuple(payload["related_task_ids"]), listed=payload["listed"],
        copied_units=tuple(payload["copied_units"]), sign_for_deadline=payload["sign_for_deadline"],
        issued_on=payload["issued_on"],
    )


def _handled(command) -> NoticeView:
    return _notice_or_404(current_context().bus.handle(command, command_context()))


def _notice_or_404(notice_id: str) -> NoticeView:
    notice = NoticeView.objects(id=notice_id).first()
    if notice is None:
        raise NotFound(f"notice {notice_id} not found", f"督办通知 {notice_id} 不存在")
    return notice


def create_app():
    """gunicorn entry: ``services.notices.entrypoints.api:create_app()``."""
    return create_service_app(bootstrap, "duban notices 督办通知服务", [blp])
