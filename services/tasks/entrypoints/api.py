"""HTTP API of the tasks service."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from shared.auth import Role
from shared.errors import NotFound
from shared.web import allow, command_context, create_service_app, current_context, paginate
from services.tasks.adapters.read_models import PlanView, TaskView
from services.tasks.bootstrap import bootstrap
from services.tasks.domain.commands import RecordPlan, TaskInput
from services.tasks.entrypoints.schemas import PlanSchema, RecordPlanSchema, TaskQuerySchema, TaskSchema

plans = Blueprint("plans", __name__, url_prefix="/plans", description="工作要点 work plans")
tasks = Blueprint("tasks", __name__, url_prefix="/tasks", description="督导任务 supervision tasks")


@plans.route("")
class Plans(MethodView):
    @plans.response(200, PlanSchema(many=True))
    @plans.paginate()
    def get(self, pagination_parameters):
        """List work plans."""
        found = PlanView.objects
        return paginate(found, pagination_parameters, "-recorded_at")

    @allow(Role.OFFICE_STAFF)
    @plans.arguments(RecordPlanSchema)
    @plans.response(201, PlanSchema)
    def post(self, payload):
        """Record a work plan and its tasks (office staff)."""
        command = RecordPlan(
            title=payload["title"], year=payload["year"], issuer=payload["issuer"], doc_number=payload["doc_number"],
            tasks=tuple(TaskInput(number=t["number"], text=t["text"], lead_unit=t["lead_unit"],
                                  partner_units=tuple(t["partner_units"]), due_date=t["due_date"])
                        for t in payload["tasks"]),
        )
        plan_id = current_context().bus.handle(command, command_context())
        return _plan_or_404(plan_id)


@plans.route("/<plan_id>")
class PlanById(MethodView):
    @plans.response(200, PlanSchema)
    def get(self, plan_id):
        """One work plan."""
        return _plan_or_404(plan_id)


@tasks.route("")
class Tasks(MethodView):
    @tasks.arguments(TaskQuerySchema, location="query")
    @tasks.response(200, TaskSchema(many=True))
    @tasks.paginate()
    def get(self, query, pagination_parameters):
        """List tasks, by plan or lead unit."""
        found = TaskView.objects(**query)
        return paginate(found, pagination_parameters, "id")


def _plan_or_404(plan_id: str) -> PlanView:
    plan = PlanView.objects(id=plan_id).first()
    if plan is None:
        raise NotFound(f"plan {plan_id} not found", f"工作要点 {plan_id} 不存在")
    return plan


def create_app():
    """gunicorn entry: ``services.tasks.entrypoints.api:create_app()``."""
    return create_service_app(bootstrap, "duban tasks 督导任务服务", [plans, tasks])
