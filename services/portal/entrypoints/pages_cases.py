"""Portal pages: one 整改事项 (rectification case) with its whole story, and the forms that move it on.

Each form posts here, is checked by a marshmallow schema, then goes to the followups service as the signed-in
person (``POST /cases/<id>/<action>``); the service's refusal comes back as a flash message on the case page.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Callable
from urllib.parse import quote

from flask import Blueprint, Response, flash, redirect, request, url_for
from marshmallow import Schema, fields, validate

from shared import event_words
from shared.auth import Role
from shared.errors import Forbidden, NotFound
from shared.evidence import SHA256
from shared.vocabulary import ACCOUNTABILITY_MEASURES, ACCOUNTABILITY_TARGET_ZH, ESCALATION_ZH
from services.portal.adapters import evidence
from services.portal.domain.model import CASE_ENDED, CaseRecord, PortalModel
from services.portal.domain.queries import timeline
from services.portal.entrypoints.common import call_service, load_form, portal, render, user_token, viewer
from services.portal.entrypoints.pages_notices import (
    Lines,
    StepForm,
    day,
    idempotency_key,
    new_form_key,
    one_of,
    require_roles,
    text,
    timeline_rows,
)

blp = Blueprint("cases", __name__)

ALL_MEASURES = tuple(sorted({m for measures in ACCOUNTABILITY_MEASURES.values() for m in measures}))
TARGET_ZH = ACCOUNTABILITY_TARGET_ZH
# The order offices reach for them on the page: the decisions first, then the reminders.
ESCALATION_CHOICES = ("interview", "circulation", "accountability", "reminder", "warning")


def visible_case(model: PortalModel, case_id: str) -> CaseRecord:
    case = model.cases.get(case_id)
    if case is None:
        raise NotFound(f"case {case_id} not found", f"整改事项 {case_id} 不存在")
    if not viewer().sees_case(case):
        raise Forbidden(f"{viewer().role} of {viewer().unit} may not see case {case_id}",
                        f"只能查看本单位（{viewer().unit or '未指定单位'}）及下属单位的整改事项")
    return case


# -- the page -------------------------------------------------------------------------------------------

@blp.get("/cases/<case_id>")
def case_page(case_id: str):
    context = portal()
    with context.lock:
        model = context.model
        case = visible_case(model, case_id)
        entries = [e for e in timeline(model, case.notice_id) if e.stream_id == case.id]
        history = timeline_rows(entries, model)
        reports = [row for row in history if row["entry"].type in ("RectificationProgressReported", "RectificationReported")]
        commendations = [row for row in history if row["entry"].type == "RectificationCommended"]
        attachments = [{**file, "step_zh": event_words.label(file["step"], {})} for file in case.files]
        return render("case.html", case=case, notice=model.notices.get(case.notice_id), light=context.light_rule().light(case),
                      history=history, reports=reports, commendations=commendations, actions=available_actions(case),
                      attachments=attachments, max_files=evidence.MAX_FILES,
                      max_file_mb=evidence.MAX_FILE_BYTES // (1024 * 1024),
                      form_key=new_form_key(), escalation_choices=ESCALATION_CHOICES, measures=ACCOUNTABILITY_MEASURES,
                      targets=TARGET_ZH, backfilling=viewer().role in (Role.OFFICE_STAFF, Role.ADMIN))


def available_actions(case: CaseRecord) -> set[str]:
    """The forms the viewer gets, by role and the case's status (the service decides again)."""
    who, status = viewer(), case.status
    admin = who.role == Role.ADMIN
    actions: set[str] = set()
    # office staff get the unit's and the inspector's forms too, as 补录 of steps that happened on paper
    backfills = who.role == Role.OFFICE_STAFF
    if admin or backfills or (who.role == Role.UNIT_HANDLER and who.unit == case.responsible_unit):
        if status in ("open", "planned"):
            actions.add("plan")
        if status in ("planned", "rectifying"):
            actions.update(("progress", "completion"))
    if admin or backfills or who.role == Role.INSPECTOR:
        if status == "reported":
            actions.add("reinspection")
        if status == "verified":
            actions.add("close")
    if admin or who.role == Role.OFFICE_STAFF:
        if status not in CASE_ENDED:
            actions.update(("extension", "escalations"))
        if status != "withdrawn":
            actions.add("commendations")
    return actions


# -- the forms ------------------------------------------------------------------------------------------

class PlanForm(StepForm):  # 整改方案
    plan = text("整改方案", required=True)
    measures = Lines(fields.String(validate=validate.Length(max=4000, error="每项措施不能超过4000字")), load_default=list,
                     validate=validate.Length(max=50, error="整改措施最多50项"))
    planned_completion = day("计划完成日期", load_default=None)
    idempotency_key = idempotency_key()


class ReportForm(StepForm):  # 整改进展 / 整改报告
    summary = text("情况说明", required=True)
    evidence = Lines(fields.String(validate=validate.Length(max=4000, error="每项佐证材料说明不能超过4000字")), load_default=list,
                     validate=validate.Length(max=50, error="佐证材料最多50项"))
    idempotency_key = idempotency_key()


class ReinspectForm(StepForm):  # 复查
    passed = fields.Boolean(required=True, error_messages={"required": "请选择复查结论", "invalid": "复查结论无效"})
    findings = text("复查意见", required=True)
    idempotency_key = idempotency_key()


class CloseForm(StepForm):  # 销号
    idempotency_key = idempotency_key()


class ExtensionForm(StepForm):  # 延期
    new_deadline = day("新的整改时限", required=True)
    reason = text("延期理由", required=True)
    approver = text("批准人", required=True, max_length=200)
    idempotency_key = idempotency_key()


class EscalationForm(StepForm):  # 催办 / 预警 / 约谈 / 通报 / 问责
    level = fields.String(required=True, validate=one_of("督办方式", ESCALATION_ZH),
                          error_messages={"required": "请选择督办方式"})
    reason = text("事由", required=True)
    doc_number = text("文号", load_default=None, max_length=100)
    measure = fields.String(load_default=None, validate=one_of("问责方式", ALL_MEASURES))
    target = fields.String(load_default="unit", validate=one_of("问责对象", ACCOUNTABILITY_MEASURES))
    idempotency_key = idempotency_key()


class CommendationForm(StepForm):  # 表彰
    reason = text("表彰事由", required=True)
    doc_number = text("文号", load_default=None, max_length=100)
    idempotency_key = idempotency_key()


@dataclass(frozen=True)
class Action:
    schema: Callable[[], Schema]
    roles: tuple[str, ...]
    label_zh: str


# office staff record these others' steps only as 补录 (the followups service decides: shared/backfill.py)
UNIT_STEP = (Role.UNIT_HANDLER, Role.OFFICE_STAFF)
INSPECTOR_STEP = (Role.INSPECTOR, Role.OFFICE_STAFF)

# portal path = followups path: POST /cases/<id>/<name>
ACTIONS = {
    "plan": Action(PlanForm, UNIT_STEP, "提交整改方案"),
    "progress": Action(ReportForm, UNIT_STEP, "报告整改进展"),
    "completion": Action(ReportForm, UNIT_STEP, "提交整改报告"),
    "reinspection": Action(ReinspectForm, INSPECTOR_STEP, "复查"),
    "close": Action(CloseForm, INSPECTOR_STEP, "销号"),
    "extension": Action(ExtensionForm, (Role.OFFICE_STAFF,), "延期"),
    "escalations": Action(EscalationForm, (Role.OFFICE_STAFF,), "督办升级"),
    "commendations": Action(CommendationForm, (Role.OFFICE_STAFF,), "表彰"),
}


@blp.post("/cases/<case_id>/<any(plan, progress, completion, reinspection, close, extension, escalations, commendations):action>")
def case_action(case_id: str, action: str):
    spec = ACTIONS[action]
    who = viewer()
    with portal().lock:
        case = visible_case(portal().model, case_id)
        responsible_unit = case.responsible_unit
    require_roles(*spec.roles, action_zh=spec.label_zh)
    if who.role == Role.UNIT_HANDLER and who.unit != responsible_unit:
        raise Forbidden(f"unit handler of {who.unit} may not act for {responsible_unit}",
                        f"经办人（{who.unit}）只能办理本单位的事项，该事项属于{responsible_unit}")
    form = load_form(spec.schema())
    files = chosen_files() if action in EVIDENCE_STEPS else []
    if form is not None and files is not None:
        key = form.pop("idempotency_key", None)
        body = {name: value.isoformat() if isinstance(value, date) else value for name, value in form.items()}
        path = f"/cases/{quote(case_id, safe='')}/{action}"
        followups = portal().service("followups", user_token())

        def step():
            if files:  # stored first (a refused file stops here, the step is not posted), then named in the step
                body["files"] = evidence.upload(followups, case_id, files)
            followups.post(path, body, idempotency_key=key)

        call_service(step)
    return redirect(url_for("cases.case_page", case_id=case_id))


# the steps whose forms carry 佐证材料 (files); their events name the files attached
EVIDENCE_STEPS = ("plan", "progress", "completion", "reinspection", "extension")


def chosen_files() -> list[evidence.ChosenFile] | None:
    """The files the form carried (an empty file input sends one nameless part: not a file); too many or too large
    ones are flashed and None is returned, before anything is sent."""
    files = [evidence.ChosenFile(f.filename, f.mimetype, f.stream) for f in request.files.getlist("files") if f.filename]
    refused = False
    if len(files) > evidence.MAX_FILES:
        flash(f"佐证材料：一次最多上传{evidence.MAX_FILES}个文件，本次选择了{len(files)}个", "error")
        refused = True
    for file in files:
        if file.size > evidence.MAX_FILE_BYTES:
            flash(f"佐证材料：{file.name} 超过{evidence.MAX_FILE_BYTES // (1024 * 1024)}MB，未上传", "error")
            refused = True
        elif file.size == 0:
            flash(f"佐证材料：{file.name} 是空文件，未上传", "error")
            refused = True
    return None if refused else files


# -- the files (佐证材料), passed on from the followups service as the viewer ----------------------------------

def _attached(case_id: str, sha256: str) -> dict:
    """The file as the case's steps attached it; 404 for a file the viewer's case does not hold (403/404 for a case
    the viewer may not see, as its page)."""
    with portal().lock:
        case = visible_case(portal().model, case_id)
        file = next((f for f in case.files if f["sha256"] == sha256), None) if SHA256.match(sha256) else None
    if file is None:
        raise NotFound(f"no file {sha256} attached to case {case_id}", "该整改事项没有这份佐证材料")
    return file


def _passed_on(answer) -> Response:
    headers = {name: answer.header(name) for name in evidence.PASSED_HEADERS if answer.header(name)}
    headers.setdefault("Content-Type", "application/octet-stream")  # never the page's own text/html
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers["Cache-Control"] = "private, max-age=300"  # a person's own view of the case: never a shared cache's
    return Response(answer.body, status=200, headers=headers)


@blp.get("/cases/<case_id>/files/<sha256>")
def case_file(case_id: str, sha256: str):
    """The file's bytes, a download under its own name (the followups service's headers kept)."""
    _attached(case_id, sha256)
    return _passed_on(evidence.fetch(portal().service("followups", user_token()), case_id, sha256))


@blp.get("/cases/<case_id>/files/<sha256>/thumbnail")
def case_file_thumbnail(case_id: str, sha256: str):
    """A picture's thumbnail (PNG); 404 for a file that is not a picture."""
    file = _attached(case_id, sha256)
    if not evidence.is_image(file.get("type")):
        raise NotFound(f"file {sha256} is not a picture", "该佐证材料不是图片，没有缩略图")
    return _passed_on(evidence.fetch(portal().service("followups", user_token()), case_id, sha256, thumbnail=True))
