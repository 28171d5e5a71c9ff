"""HTTP API of the followups service."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from shared.errors import NotFound
from shared.web import create_service_app, paginate
from services.followups.adapters.read_models import CaseView
from services.followups.bootstrap import bootstrap
from services.followups.entrypoints.schemas import CaseQuerySchema, CaseSchema

blp = Blueprint("cases", __name__, url_prefix="/cases", description="整改事项 rectification cases")


@blp.route("")
class Cases(MethodView):
    @blp.arguments(CaseQuerySchema, location="query")
    @blp.response(200, CaseSchema(many=True))
    @blp.paginate()
    def get(self, query, pagination_parameters):
        """List rectification cases, filtered by notice, responsible unit or status."""
        cases = CaseView.objects
        if "notice_id" in query:
            cases = cases.filter(notice_id=query["notice_id"])
        if "unit" in query:
            cases = cases.filter(responsible_unit=query["unit"])
        if "status" in query:
            cases = cases.filter(status=query["status"])
        return paginate(cases, pagination_parameters, "notice_id", "problem_id")


@blp.route("/<case_id>")
class CaseById(MethodView):
    @blp.response(200, CaseSchema)
    def get(self, case_id):
        """One rectification case."""
        case = CaseView.objects(id=case_id).first()
        if case is None:
            raise NotFound(f"case {case_id} not found", f"整改事项 {case_id} 不存在")
        return case


def create_app():
    """gunicorn entry: ``services.followups.entrypoints.api:create_app()``."""
    return create_service_app(bootstrap, "duban followups 整改跟踪服务", [blp])
