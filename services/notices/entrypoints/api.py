"""HTTP API of the notices service: schema in, command to the bus, schema out."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from shared.auth import Role
from shared.errors import NotFound
from shared.web import allow, command_context, create_service_app, current_context, paginate
from services.notices.adapters.read_models import NoticeView
from services.notices.bootstrap import bootstrap
from services.notices.domain.commands import IssueNotice, ProblemInput
from services.notices.entrypoints.schemas import IssueNoticeSchema, NoticeQuerySchema, NoticeSchema

blp = Blueprint("notices", __name__, url_prefix="/notices", description="督办通知 supervision notices")


@blp.route("")
class Notices(MethodView):
    @blp.arguments(NoticeQuerySchema, location="query")
    @blp.response(200, NoticeSchema(many=True))
    @blp.paginate()
    def get(self, query, pagination_parameters):
        """List notices (newest first)."""
        notices = NoticeView.objects
        if "status" in query:
            notices = notices.filter(status=query["status"])
        if "unit" in query:
            notices = notices.filter(target_units=query["unit"])
        return paginate(notices, pagination_parameters, "-issued_at")

    @allow(Role.OFFICE_STAFF)
    @blp.arguments(IssueNoticeSchema)
    @blp.response(201, NoticeSchema)
    def post(self, payload):
        """Issue a notice with its problem list (office staff)."""
        command = IssueNotice(
            kind=payload["kind"], title=payload["title"], issuer_unit=payload["issuer_unit"],
            target_units=tuple(payload["target_units"]),
            problems=tuple(ProblemInput(**p) for p in payload["problems"]),
            doc_number=payload["doc_number"], related_task_ids=tuple(payload["related_task_ids"]),
            listed=payload["listed"],
        )
        notice_id = current_context().bus.handle(command, command_context())
        return _notice_or_404(notice_id)


@blp.route("/<notice_id>")
class NoticeById(MethodView):
    @blp.response(200, NoticeSchema)
    def get(self, notice_id):
        """One notice with its problem list."""
        return _notice_or_404(notice_id)


def _notice_or_404(notice_id: str) -> NoticeView:
    notice = NoticeView.objects(id=notice_id).first()
    if notice is None:
        raise NotFound(f"notice {notice_id} not found", f"督办通知 {notice_id} 不存在")
    return notice


def create_app():
    """gunicorn entry: ``services.notices.entrypoints.api:create_app()``."""
    return create_service_app(bootstrap, "duban notices 督办通知服务", [blp])
