"""HTTP API of the tasks service."""
from __future__ import annotations

import hashlib
import logging
from datetime import date, timedelta

from flask.views import MethodView
from flask_smorest import Blueprint
from mongoengine.queryset.visitor import Q

from shared import calendars
from shared.auth import Role
from shared.deadlines import FIRST_KNOWN_YEAR, LAST_KNOWN_YEAR, is_working_day
from shared.holidays import LAST_PROVISIONAL_YEAR, provisional_arrangement
from shared.errors import DeadlineExceeded, InvalidInput, NotFound
from shared.openapi import step_arguments
from shared.scope import task_units
from shared.web import (allow, caller_scope, command_context, create_service_app, current_context, paginate,
                        require_caller_sees)
from services.tasks.adapters.read_models import PlanView, TaskView
from services.tasks.bootstrap import bootstrap
from services.tasks.domain.commands import (
    CancelTask,
    CompleteTask,
    ImportPlan,
    RecordHolidayArrangement,
    RecordPlan,
    RecordTaskProgress,
    TaskInput,
)
from services.tasks.entrypoints.schemas import (
    CalendarsSchema,
    HolidayYearSchema,
    RecordHolidaysSchema,
    ImportPlanSchema,
    PlanPreviewSchema,
    PlanSchema,
    PreviewFileSchema,
    PreviewTextSchema,
    RecordPlanSchema,
    TaskOutcomeSchema,
    TaskProgressSchema,
    TaskQuerySchema,
    TaskSchema,
)
from services.tasks.plan_import import (
    MAX_BYTES,
    ParseDeadline,
    PlanParseError,
    PlanParseTimeout,
    decode_document,
    draft_tasks,
    parse_plan,
    same_name,
)

# Who reads what: a work plan (工作要点) is a published document, read by every role (GET /plans, /plans/<id>);
# its tasks are units' work, so a unit handler or a department liaison reads the tasks its unit leads or
# partners in (协办), as it reads only its own unit's notices and cases; other roles read every task.
plans = Blueprint("plans", __name__, url_prefix="/plans",
                  description="工作要点 work plans: published documents, read by every role")
tasks = Blueprint("tasks", __name__, url_prefix="/tasks",
                  description="督导任务 supervision tasks: a unit handler or department liaison reads those its unit "
                              "leads or partners in")
calendars_api = Blueprint("calendars", __name__, url_prefix="/calendars",
                          description="工作日历 the holiday arrangements working days are counted on: built in, recorded "
                                      "by office staff from the State Council's notice, or provisional")
log = logging.getLogger(__name__)


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
            tasks=_task_inputs(payload["tasks"]),
        )
        plan_id = current_context().bus.handle(command, command_context())
        return _plan_or_404(plan_id)


@plans.route("/preview")
class PlanPreview(MethodView):
    @allow(Role.OFFICE_STAFF)
    @plans.arguments(PreviewTextSchema)
    @plans.response(200, PlanPreviewSchema)
    def post(self, payload):
        """Parse pasted plan text into a preview and editable draft tasks (nothing is stored)."""
        return _preview(payload["text"].encode("utf-8"), "text")


@plans.route("/preview/upload")
class PlanPreviewUpload(MethodView):
    @allow(Role.OFFICE_STAFF)
    @plans.arguments(PreviewFileSchema, location="files")
    @plans.response(200, PlanPreviewSchema)
    def post(self, files):
        """Parse an uploaded plan document (text file, UTF-8 or GB18030) into a preview."""
        return _preview(files["file"].read(MAX_BYTES + 1), "file")


@plans.route("/import")
class PlanImport(MethodView):
    @allow(Role.OFFICE_STAFF)
    @plans.arguments(ImportPlanSchema)
    @plans.response(201, PlanSchema)
    def post(self, payload):
        """Confirm an (edited) preview: PlanImported and one TaskCreated per task."""
        command = ImportPlan(
            title=payload["title"], year=payload["year"], issuer=payload["issuer"], doc_number=payload["doc_number"],
            document_date=payload["document_date"], source_sha256=payload["source_sha256"],
            tasks=_task_inputs(payload["tasks"]),
        )
        return _plan_or_404(current_context().bus.handle(command, command_context()))


def _preview(data: bytes, field: str) -> dict:
    # Started before decoding: the whole request counts against the budget (gunicorn's timeout does not stop
    # a busy thread, so the parser stops itself).
    deadline = ParseDeadline(current_context().settings.plan_parse_deadline_seconds)
    try:
        document = parse_plan(decode_document(data), deadline=deadline)
    except PlanParseTimeout as error:
        log.warning("plan preview stopped at its deadline", extra={"bytes": len(data), "seconds": error.seconds})
        raise DeadlineExceeded(error.en, error.zh, field=field, reason=error.code, seconds=error.seconds) from error
    except PlanParseError as error:
        raise InvalidInput(error.en, error.zh, field=field, reason=error.code) from error
    return {
        "document": document,
        "draft": {
            "title": document["title"], "issuer": document["issuer"], "doc_number": document["doc_number"],
            "document_date": document["date"], "year": document["year"],
            "source_sha256": hashlib.sha256(data).hexdigest(), "tasks": draft_tasks(document, resolve=_resolver()),
        },
    }


def _resolver():
    """The bodies a plan names, mapped onto the directory's units (each name as written when it has none)."""
    directory = current_context().directory
    return directory.resolve_unit if directory is not None else same_name


def _task_inputs(tasks: list[dict]) -> tuple[TaskInput, ...]:
    return tuple(TaskInput(number=t["number"], text=t["text"], lead_unit=t["lead_unit"],
                           partner_units=tuple(t["partner_units"]), due_date=t["due_date"],
                           category=t.get("category"), targets=tuple(t.get("targets", ()))) for t in tasks)


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
        """List tasks, by plan, lead unit, status or category, each with its notice counts and completion rate.

        A reader limited to some units (shared/scope.py) gets the tasks any of them leads or partners in.
        """
        found = TaskView.objects(**query)
        scope = caller_scope()
        if scope.everything:
            return paginate(found, pagination_parameters, "plan_id", "id")
        if len(scope.units) == 1:
            # an $or, which FerretDB does not hand to its indexes: it reads the whole task list, a few hundred
            # tasks a year (notices and cases, the lists that grow, are scoped by indexed equality instead)
            [unit] = scope.units
            return paginate(found.filter(Q(lead_unit=unit) | Q(partner_units=unit)), pagination_parameters, "plan_id", "id")
        # several units (a leader, a district office): the same few hundred rows, kept by the scope here and
        # ordered here (no $in, no server-side sort)
        rows = sorted((task for task in found if scope.sees_task(task.lead_unit, task.partner_units)),
                      key=lambda task: (task.plan_id, task.id))
        pagination_parameters.item_count = len(rows)
        start = pagination_parameters.first_item
        return rows[start:start + pagination_parameters.page_size]


@tasks.route("/<task_id>", methods=["GET"])
@tasks.response(200, TaskSchema)
def get_task(task_id):
    """One task with its progress records and counts (403 for a unit that neither leads nor partners in it)."""
    task = _task_or_404(task_id)
    require_caller_sees(*task_units(task.lead_unit, task.partner_units))
    return task


def _task_action(path: str, schema, make_command, doc: str):
    """Register ``POST /tasks/<id>/<path>`` for office staff and the lead unit's handler."""

    @tasks.route(f"/<task_id>/{path}", methods=["POST"], endpoint=f"task_{path}")
    @allow(Role.OFFICE_STAFF, Role.UNIT_HANDLER)
    @tasks.arguments(schema)
    @tasks.response(200, TaskSchema)
    @tasks.doc(summary=doc)
    def action(payload, task_id):
        current_context().bus.handle(make_command(task_id, payload), command_context())
        return _task_or_404(task_id)

    return action


_task_action("progress", TaskProgressSchema, lambda task_id, p: RecordTaskProgress(
    task_id, p["summary"], p["percent"], p["expected_version"], **step_arguments(p)), "Record progress on a task (任务进展)")
_task_action("completion", TaskOutcomeSchema, lambda task_id, p: CompleteTask(
    task_id, p["summary"], p["expected_version"], **step_arguments(p)), "Mark a task done (任务完成)")
_task_action("cancellation", TaskOutcomeSchema, lambda task_id, p: CancelTask(
    task_id, p["summary"], p["expected_version"], **step_arguments(p)), "Cancel a task with the reason as summary (取消任务)")


def _task_or_404(task_id: str) -> TaskView:
    task = TaskView.objects(id=task_id).first()
    if task is None:
        raise NotFound(f"task {task_id} not found", f"督导任务 {task_id} 不存在")
    return task


def _plan_or_404(plan_id: str) -> PlanView:
    plan = PlanView.objects(id=plan_id).first()
    if plan is None:
        raise NotFound(f"plan {plan_id} not found", f"工作要点 {plan_id} 不存在")
    return plan


@calendars_api.route("")
class Calendars(MethodView):
    @calendars_api.response(200, CalendarsSchema)
    def get(self):
        """Which years are built in, which an office has recorded (who and when), and from when counting is
        provisional."""
        recorded = [_recorded_year(row) for row in current_context().database[calendars.COLLECTION].find().sort("_id")]
        years = {row["year"] for row in recorded}
        provisional_from = LAST_KNOWN_YEAR + 1
        while provisional_from in years:
            provisional_from += 1
        return {"official_years": [FIRST_KNOWN_YEAR, LAST_KNOWN_YEAR], "recorded": recorded,
                "provisional_from": provisional_from}


@calendars_api.route("/<int(signed=True):year>")
class CalendarYear(MethodView):
    @calendars_api.response(200, HolidayYearSchema)
    def get(self, year):
        """One year's days off and make-up working days, and where they come from."""
        return _calendar_year(year)

    @allow(Role.OFFICE_STAFF)
    @calendars_api.arguments(RecordHolidaysSchema)
    @calendars_api.response(201, HolidayYearSchema)
    def post(self, payload, year):
        """Record the State Council's published arrangement of a year (office staff); every service counts working
        days on it within a minute. Deadlines already fixed stay fixed."""
        command = RecordHolidayArrangement(year=year, holidays=tuple(payload["holidays"]),
                                           workdays=tuple(payload["workdays"]), source=payload["source"],
                                           expected_version=payload["expected_version"])
        current_context().bus.handle(command, command_context())
        if current_context().calendar is not None:
            current_context().calendar(force=True)  # this process counts on it at once
        return _calendar_year(year)


def _calendar_year(year: int) -> dict:
    if not FIRST_KNOWN_YEAR <= year <= LAST_PROVISIONAL_YEAR:
        raise NotFound(f"no calendar for {year} (years {FIRST_KNOWN_YEAR}–{LAST_PROVISIONAL_YEAR})",
                       f"没有 {year} 年的工作日历（{FIRST_KNOWN_YEAR}–{LAST_PROVISIONAL_YEAR} 年）")
    row = current_context().database[calendars.COLLECTION].find_one({"_id": year})
    if row is not None:
        return _recorded_year(row)
    if year <= LAST_KNOWN_YEAR:
        days = [date(year, 1, 1) + timedelta(days=n) for n in range((date(year, 12, 31) - date(year, 1, 1)).days + 1)]
        return {"year": year, "status": "official",
                "holidays": [d.isoformat() for d in days if d.weekday() < 5 and not is_working_day(d)],
                "workdays": [d.isoformat() for d in days if d.weekday() >= 5 and is_working_day(d)],
                "source": "chinese-calendar"}
    arrangement = provisional_arrangement(year)
    return {"year": year, "status": "provisional", "holidays": sorted(d.isoformat() for d in arrangement.holidays),
            "workdays": [], "source": "《全国年节及纪念日放假办法》推算"}


def _recorded_year(row: dict) -> dict:
    return {"year": int(row["_id"]), "status": "recorded", "holidays": row["holidays"], "workdays": row.get("workdays", []),
            "source": row.get("source"), "recorded_by": row.get("recorded_by"), "recorded_at": row.get("recorded_at"),
            "version": row.get("version")}


def create_app():
    """gunicorn entry: ``services.tasks.entrypoints.api:create_app()``."""
    return create_service_app(bootstrap, "duban tasks 督导任务服务", [plans, tasks, calendars_api])
