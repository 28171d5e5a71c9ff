"""HTTP API of the followups service: schema in, command to the bus, schema out."""
from __future__ import annotations

from typing import Callable

from flask_smorest import Blueprint

from shared.auth import Role
from shared.deadlines import TrafficLights, case_light
from shared.errors import NotFound
from shared.openapi import step_arguments
from shared.paging import all_of, date_between
from shared.scope import case_units
from shared.web import (allow, command_context, create_service_app, current_context, page_newest_first,
                        require_caller_sees, scoped_equality)
from services.followups.adapters.read_models import CaseView
from services.followups.bootstrap import bootstrap
from services.followups.domain import commands as c
from services.followups.entrypoints.files import add_file_routes
from services.followups.entrypoints.schemas import (
    CaseQuerySchema,
    CaseSchema,
    CloseSchema,
    CommendSchema,
    EscalateSchema,
    ExtendDeadlineSchema,
    ReinspectSchema,
    ReportSchema,
    SubmitPlanSchema,
)

blp = Blueprint("cases", __name__, url_prefix="/cases", description="整改事项 rectification cases")


@blp.route("", methods=["GET"])
@blp.arguments(CaseQuerySchema, location="query")
@blp.response(200, CaseSchema(many=True))
@blp.paginate()
def list_cases(query, pagination_parameters):
    """List rectification cases (the 整改台账), newest first, filtered by notice, unit, status, light, deadline or task."""
    equality = {field: query[name] for name, field in (
        ("notice_id", "notice_id"), ("unit", "responsible_unit"), ("area", "area"), ("status", "status"),
        ("overdue", "overdue"), ("task_id", "related_task_ids"), ("listed", "listed"),
        ("escalation_level", "escalation_level")) if name in query}
    light = query.get("light")
    if light:
        equality["open"] = True  # only cases that have not ended have a light
    scoped = scoped_equality(equality, "responsible_unit")  # shared/scope.py: a case is its responsible unit's
    if scoped is None:  # another unit's cases: none that this caller may read
        pagination_parameters.item_count = 0
        return []
    keep = all_of(date_between("deadline", query.get("deadline_from"), query.get("deadline_to")),
                  (lambda row: _light_of(row) == light) if light else None)
    return [_with_light(row) for row in page_newest_first(CaseView, pagination_parameters, scoped, keep)]


@blp.route("/<case_id>", methods=["GET"])
@blp.response(200, CaseSchema)
def get_case(case_id):
    """One rectification case with its plan, progress, re-inspections, extensions and escalations."""
    return _with_light(_readable_case(case_id))


def _case_action(path: str, schema, roles: tuple[str, ...], make_command: Callable[[str, dict], object], doc: str):
    """Register ``POST /cases/<id>/<path>``: the schema loads the body, the bus handles the command."""

    @blp.route(f"/<case_id>/{path}", methods=["POST"], endpoint=f"case_{path}")
    @allow(*roles)
    @blp.arguments(schema)
    @blp.response(200, CaseSchema)
    @blp.doc(summary=doc)
    def action(payload, case_id):
        current_context().bus.handle(make_command(case_id, payload), command_context())
        return _with_light(_case_or_404(case_id))

    return action


def _step(payload: dict) -> dict:
    """A step's date fields and the 佐证材料 files it attaches (uploaded first: POST /cases/<id>/files)."""
    return {**step_arguments(payload), "files": tuple(c.FileRef(f["sha256"], f["name"]) for f in payload["files"])}


# Office staff may record the others' steps too, but only as a 补录 (checked by the handlers: shared/backfill.py).
UNIT_STEP = (Role.UNIT_HANDLER, Role.OFFICE_STAFF)
INSPECTOR_STEP = (Role.INSPECTOR, Role.OFFICE_STAFF)

_case_action("plan", SubmitPlanSchema, UNIT_STEP, lambda case_id, p: c.SubmitRectificationPlan(
    case_id, p["plan"], tuple(p["measures"]), p["planned_completion"], p["expected_version"], **_step(p)),
    "Submit the rectification plan (整改方案; the responsible unit's handler, or office staff as 补录)")
_case_action("progress", ReportSchema, UNIT_STEP, lambda case_id, p: c.ReportProgress(
    case_id, p["summary"], tuple(p["evidence"]), p["expected_version"], **_step(p)),
    "Report progress with evidence (整改进展; the responsible unit's handler, or office staff as 补录)")
_case_action("completion", ReportSchema, UNIT_STEP, lambda case_id, p: c.ReportCompletion(
    case_id, p["summary"], tuple(p["evidence"]), p["expected_version"], **_step(p)),
    "Report completion and ask for re-inspection (整改报告; the responsible unit's handler, or office staff as 补录)")
_case_action("reinspection", ReinspectSchema, INSPECTOR_STEP, lambda case_id, p: c.Reinspect(
    case_id, p["passed"], p["findings"], p["expected_version"], **_step(p)),
    "Re-inspect: pass, or send back to rectifying with findings (复查; inspector, or office staff as 补录)")
_case_action("close", CloseSchema, INSPECTOR_STEP, lambda case_id, p: c.CloseCase(
    case_id, p["expected_version"], **step_arguments(p)),
    "Close a case that passed re-inspection (销号; inspector, or office staff as 补录)")
_case_action("extension", ExtendDeadlineSchema, (Role.OFFICE_STAFF,), lambda case_id, p: c.ExtendDeadline(
    case_id, p["new_deadline"], p["reason"], p["approver"], p["expected_version"], **_step(p)),
    "Extend the deadline with a reason and an approver (延期; office staff)")
_case_action("escalations", EscalateSchema, (Role.OFFICE_STAFF,), lambda case_id, p: c.Escalate(
    case_id, p["level"], p["reason"], p["doc_number"], p["measure"], p["target"], p["expected_version"], **step_arguments(p)),
    "Record 催办/预警/约谈/通报/问责 with reason and document number (office staff)")
_case_action("commendations", CommendSchema, (Role.OFFICE_STAFF,), lambda case_id, p: c.Commend(
    case_id, p["reason"], p["doc_number"], p["expected_version"], **step_arguments(p)),
    "Commend the unit (表彰; office staff)")


def _case_or_404(case_id: str) -> CaseView:
    row = CaseView.objects(id=case_id).first()
    if row is None:
        raise NotFound(f"case {case_id} not found", f"整改事项 {case_id} 不存在")
    return row


def _readable_case(case_id: str) -> CaseView:
    """The case, if the caller may read it (404 / 403 as GET /cases/<id>)."""
    row = _case_or_404(case_id)
    require_caller_sees(*case_units(row.responsible_unit))
    return row


add_file_routes(blp, _readable_case)


def _with_light(row: CaseView) -> CaseView:
    """Attach today's traffic light (it depends on the date, so it is computed on read, not stored)."""
    row.light = _light_of({"status": row.status, "deadline": row.deadline, "issuer_unit": row.issuer_unit})
    return row


def _light_of(row: dict) -> str | None:
    deps = current_context().dependencies
    policy = deps["policies"].for_office(row.get("issuer_unit"))
    return case_light(row.get("status"), row.get("deadline"),
                      TrafficLights(deps["clock"].today(), policy.yellow_within_working_days))


def create_app():
    """gunicorn entry: ``services.followups.entrypoints.api:create_app()``."""
    return create_service_app(bootstrap, "duban followups 整改跟踪服务", [blp])
