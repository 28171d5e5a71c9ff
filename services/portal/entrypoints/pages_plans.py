"""Work plans (工作要点): the list, the import of a published plan (preview, edit, confirm) and each plan's task board.

The import goes through the tasks service as the signed-in person: the pasted text (or the uploaded file,
sent on unchanged so the service decodes it and fingerprints the original bytes) is parsed by
``POST /plans/preview``; the edited draft is confirmed by ``POST /plans/import``. The board is read from
the portal's own model, which catches up with the import a moment later.
"""
from __future__ import annotations

import hashlib
import json
import re
import uuid
from dataclasses import dataclass, field
from urllib.parse import quote

from flask import Blueprint, flash, redirect, request
from marshmallow import Schema, ValidationError, fields, validate

from shared.auth import Role
from shared.errors import Forbidden, NotFound
from shared.vocabulary import TASK_CATEGORIES
from services.api_client import ApiError, ServiceUnreachable, decode_answer, flatten_errors, http_call, service_url
from services.portal.domain.model import NoticeRecord, PlanRecord, PortalModel, TaskRecord
from services.portal.domain.queries import MatterFigures, Viewer, matter_figures
from services.portal.entrypoints.common import (failure_headers, failure_status, load_args, load_form, portal, render,
                                                user_token, viewer)

blp = Blueprint("plans", __name__)

IMPORTERS = (Role.OFFICE_STAFF, Role.ADMIN)  # as the tasks service allows
MAX_UPLOAD_BYTES = 5 * 1024 * 1024  # the tasks service's own limit
UNIT_SEPARATORS = re.compile(r"[,，、;；\n]+")
TASK_FIELD = re.compile(r"^tasks-(\d{1,4})-(number|text|lead_unit|partner_units|due_date|category|targets|drop)$")
MAX_ROWS = 300  # the tasks service's own limit (MAX_PLAN_TASKS): tasks in one plan
FIELD_ZH = {"title": "标题", "issuer": "发文单位", "doc_number": "文号", "document_date": "成文日期", "year": "年度",
            "source_sha256": "原文指纹", "tasks": "任务", "number": "序号", "text": "任务内容", "lead_unit": "牵头单位",
            "partner_units": "配合单位", "due_date": "完成时限", "category": "类别", "targets": "量化目标", "_schema": "表单"}
REQUIRED = {"required": "必填", "null": "必填"}


# -- schemas ------------------------------------------------------------------------------------------

class PreviewFormSchema(Schema):  # 粘贴公文文本（或上传 .txt 文件）
    text = fields.String(load_default=None, validate=validate.Length(max=MAX_UPLOAD_BYTES, error="文本过长"))


class ImportTaskFormSchema(Schema):  # 导入前修改的一项任务
    number = fields.String(required=True, error_messages=REQUIRED,
                           validate=validate.Length(min=1, max=40, error="应为 1–40 个字符"))
    text = fields.String(required=True, error_messages=REQUIRED, validate=validate.Length(min=1, max=20000, error="不能为空"))
    lead_unit = fields.String(load_default=None, validate=validate.Length(max=200, error="不超过 200 个字符"))
    partner_units = fields.List(fields.String(validate=validate.Length(min=1, max=200, error="单位名称不超过 200 个字符")),
                                load_default=list)
    due_date = fields.Date(load_default=None, error_messages={"invalid": "日期格式应为 YYYY-MM-DD"})
    category = fields.String(load_default=None, validate=validate.OneOf(TASK_CATEGORIES, error="应为 督政、督学 或 评估监测"))
    targets = fields.List(fields.String(validate=validate.Length(min=1, max=500)), load_default=list)


class ImportFormSchema(Schema):  # 确认导入工作要点
    title = fields.String(required=True, error_messages=REQUIRED,
                          validate=validate.Length(min=1, max=500, error="应为 1–500 个字符"))
    issuer = fields.String(load_default=None, validate=validate.Length(max=200, error="不超过 200 个字符"))
    doc_number = fields.String(load_default=None, validate=validate.Length(max=100, error="不超过 100 个字符"))
    document_date = fields.Date(load_default=None, error_messages={"invalid": "日期格式应为 YYYY-MM-DD"})
    year = fields.Integer(load_default=None, error_messages={"invalid": "应为年份数字"},
                          validate=validate.Range(min=1990, max=2100, error="应在 1990–2100 之间"))
    source_sha256 = fields.String(load_default=None, validate=validate.Regexp(r"^[0-9a-f]{64}$", error="格式有误"))
    tasks = fields.List(fields.Nested(ImportTaskFormSchema), required=True,
                        error_messages={"required": "至少保留一项任务"},
                        validate=validate.Length(min=1, max=MAX_ROWS, error=f"至少保留一项任务（最多 {MAX_ROWS} 项）"))


class PlanPageQuerySchema(Schema):
    just_imported = fields.Boolean(load_default=False)


# -- who may import -----------------------------------------------------------------------------------

def may_import(who: Viewer) -> bool:
    return who.role in IMPORTERS


def _require_importer() -> None:
    if not may_import(viewer()):
        raise Forbidden("only office staff may import work plans", "仅督导办工作人员可导入工作要点")


# -- the board: tasks with their notices and counts ---------------------------------------------------

@dataclass
class NoticeLine:
    id: str
    record: NoticeRecord | None
    matters: int
    closed: int
    withdrawn: bool

    @property
    def rate(self) -> float | None:
        return None if self.withdrawn else MatterFigures(self.matters, self.closed).completion_rate


@dataclass
class TaskLine:
    task: TaskRecord
    notices: list[NoticeLine] = field(default_factory=list)

    @property
    def live(self) -> list[NoticeLine]:
        return [n for n in self.notices if not n.withdrawn]

    @property
    def matters(self) -> int:
        return sum(n.matters for n in self.live)

    @property
    def closed(self) -> int:
        return sum(n.closed for n in self.live)

    @property
    def rate(self) -> float | None:
        return MatterFigures(self.matters, self.closed).completion_rate


def task_line(model: PortalModel, who: Viewer, task: TaskRecord) -> TaskLine:
    """The task with the notices about it this viewer may see, each with its matters supervised and closed
    (counted as the tasks service counts them: a withdrawn notice's matters no longer count)."""
    line = TaskLine(task)
    closed = set(task.closed_matters)
    for notice_id in task.notice_ids:
        record = model.notices.get(notice_id)
        if who.limited and (record is None or not who.sees_notice(record, model)):
            continue
        matters = task.matters.get(notice_id, [])
        line.notices.append(NoticeLine(notice_id, record, len(matters), sum(m in closed for m in matters),
                                       notice_id in task.withdrawn_notices))
    return line


def plan_summary(model: PortalModel, who: Viewer, plan: PlanRecord) -> dict:
    lines = [task_line(model, who, model.tasks[t]) for t in plan.task_ids if t in model.tasks]
    # a problem whose notice serves two of the plan's tasks is one 督办事项 of the plan, as on the dashboard
    totals = matter_figures((m for line in lines for n in line.live for m in line.task.matters.get(n.id, ())),
                            (m for line in lines for m in line.task.closed_matters))
    statuses = {}
    for line in lines:
        statuses[line.task.status] = statuses.get(line.task.status, 0) + 1
    return {"plan": plan, "lines": lines, "tasks": len(plan.task_ids), "statuses": statuses,
            "notices": len({n.id for line in lines for n in line.live}), "matters": totals.matters,
            "closed": totals.closed, "rate": totals.completion_rate}


# -- pages --------------------------------------------------------------------------------------------

def _plans_list(status: int = 200, text: str = ""):
    context, who = portal(), viewer()
    with context.lock:
        plans = sorted(context.model.plans.values(), key=lambda p: (p.year or 0, p.recorded_on or "", p.id), reverse=True)
        summaries = [plan_summary(context.model, who, plan) for plan in plans]
    return render("plans.html", summaries=summaries, may_import=may_import(who), text=text), status


@blp.get("/plans")
def plans_page():
    return _plans_list()


@blp.post("/plans/preview")
def preview():
    _require_importer()
    form = load_form(PreviewFormSchema())
    if form is None:
        return _plans_list(422)
    text = form["text"] or ""
    upload = request.files.get("file")
    tasks = portal().service("tasks", user_token())
    try:
        if upload is not None and upload.filename:
            data = upload.read(MAX_UPLOAD_BYTES + 1)
            if len(data) > MAX_UPLOAD_BYTES:
                flash("文件过大（不超过 5 MB）", "error")
                return _plans_list(422, text)
            answer = _upload(tasks.base_url, tasks.token, tasks.timeout, upload.filename, data)
        elif text.strip():
            answer = tasks.post("/plans/preview", {"text": text})
        else:
            flash("请粘贴工作要点全文，或选择 .txt 文件上传", "error")
            return _plans_list(422, text)
    except ApiError as error:
        flash(_refusal("未能识别该公文", error), "error")
        status = failure_status(error)
        return (*_plans_list(status, text), failure_headers(status))
    draft = answer.get("draft") or {}
    rows = [_row_from_draft(task) for task in draft.get("tasks") or []]
    if not rows:
        flash("未从公文中识别出任务，请在下表中手工填写。", "error")
    return render("plan_preview.html", draft=_header_from(draft), rows=rows + [_blank_row()],
                  document=answer.get("document") or {}, categories=TASK_CATEGORIES)


@blp.post("/plans/import")
def import_plan():
    _require_importer()
    header, rows = _submitted()
    kept = [row for row in rows if not row["drop"] and not _blank(row)]
    try:
        loaded = ImportFormSchema().load({**_present(header), "tasks": [_present(row, keep_lists=True) for row in kept]})
    except ValidationError as error:
        for message in _messages(error.messages, kept):
            flash(message, "error")
        return _preview_again(header, rows, 422)
    payload = _payload(loaded)
    key = "portal-plan-import-" + hashlib.sha256(
        json.dumps(payload, ensure_ascii=False, sort_keys=True).encode("utf-8")).hexdigest()[:48]
    try:
        plan = portal().service("tasks", user_token()).post("/plans/import", payload, idempotency_key=key)
    except ApiError as error:
        flash(_refusal("未能导入", error), "error")
        status = failure_status(error)
        return (*_preview_again(header, rows, status), failure_headers(status))
    flash(f"已导入工作要点《{plan.get('title') or payload['title']}》，共 {len(payload['tasks'])} 项任务。", "success")
    if not plan.get("id"):
        return redirect("/plans")
    return redirect(f"/plans/{quote(str(plan['id']), safe='')}?just_imported=1")


@blp.get("/plans/<plan_id>")
def plan_board(plan_id: str):
    args = load_args(PlanPageQuerySchema())
    context, who = portal(), viewer()
    with context.lock:
        plan = context.model.plans.get(plan_id)
        summary = plan_summary(context.model, who, plan) if plan is not None else None
    if summary is None:
        if args["just_imported"]:
            return render("plan_pending.html", plan_id=plan_id)
        raise NotFound(f"plan {plan_id} not found", f"工作要点 {plan_id} 不存在")
    return render("plan.html", summary=summary, plan=summary["plan"])


# -- the upload, sent on as the file itself -----------------------------------------------------------

def _upload(base_url: str, token: str | None, timeout: float, filename: str, data: bytes) -> dict:
    """POST /plans/preview/upload as multipart/form-data (the service decodes UTF-8 or GB18030 itself)."""
    boundary = f"duban-{uuid.uuid4().hex}"
    name = "plan.txt" if not filename.isascii() else re.sub(r'["\r\n\\]', "_", filename)[:100]
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
            f"Content-Type: text/plain\r\n\r\n").encode("ascii") + data + f"\r\n--{boundary}--\r\n".encode("ascii")
    answer = http_call("POST", service_url(base_url, "/plans/preview/upload"), token=token, body=body, timeout=timeout,
                       headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    return decode_answer(answer)


# -- the edited draft: form fields <-> rows -----------------------------------------------------------

HEADER_FIELDS = ("title", "issuer", "doc_number", "document_date", "year", "source_sha256")


def _header_from(draft: dict) -> dict:
    return {name: "" if draft.get(name) is None else str(draft.get(name)) for name in HEADER_FIELDS}


def _row_from_draft(task: dict) -> dict:
    return {"number": str(task.get("number") or ""), "text": task.get("text") or "", "lead_unit": task.get("lead_unit") or "",
            "partner_units": "、".join(task.get("partner_units") or []), "due_date": task.get("due_date") or "",
            "category": task.get("category") or "", "targets": "\n".join(task.get("targets") or []), "drop": False}


def _blank_row() -> dict:
    return {"number": "", "text": "", "lead_unit": "", "partner_units": "", "due_date": "", "category": "", "targets": "",
            "drop": False}


def _blank(row: dict) -> bool:
    return not any((row[name] or "").strip() for name in ("number", "text", "lead_unit", "partner_units", "due_date"))


def _submitted() -> tuple[dict, list[dict]]:
    """The header fields and the task rows (in row order) as typed."""
    header = {name: request.form.get(name, "").strip() for name in HEADER_FIELDS}
    rows: dict[int, dict] = {}
    for name, value in request.form.items():
        match = TASK_FIELD.match(name)
        if match is None:
            continue
        row = rows.setdefault(int(match.group(1)), _blank_row())
        row[match.group(2)] = bool(value) if match.group(2) == "drop" else value
    return header, [rows[index] for index in sorted(rows)][:MAX_ROWS + 1]


def _present(raw: dict, keep_lists: bool = False) -> dict:
    """Typed values for the schema: empty fields are absent; unit and target lists split."""
    values = {}
    for name, value in raw.items():
        if name == "drop":
            continue
        if keep_lists and name == "partner_units":
            values[name] = [unit.strip() for unit in UNIT_SEPARATORS.split(value or "") if unit.strip()]
        elif keep_lists and name == "targets":
            values[name] = [line.strip() for line in (value or "").splitlines() if line.strip()]
        elif isinstance(value, str) and value.strip():
            values[name] = value.strip()
    return values


def _payload(loaded: dict) -> dict:
    def day(value):
        return value.isoformat() if value else None

    return {
        "title": loaded["title"], "issuer": loaded["issuer"], "doc_number": loaded["doc_number"],
        "document_date": day(loaded["document_date"]), "year": loaded["year"], "source_sha256": loaded["source_sha256"],
        "tasks": [{"number": t["number"], "text": t["text"], "lead_unit": t["lead_unit"], "partner_units": t["partner_units"],
                   "due_date": day(t["due_date"]), "category": t["category"], "targets": t["targets"]}
                  for t in loaded["tasks"]],
    }


def _messages(errors: dict, rows: list[dict]) -> list[str]:
    """The schema's complaints in Chinese, each naming the field (and the task row by its number)."""
    messages = []
    for name, problem in errors.items():
        if name == "tasks" and isinstance(problem, dict):
            for index, task_errors in sorted(problem.items()):
                number = rows[index]["number"] if isinstance(index, int) and index < len(rows) else ""
                where = f"第 {index + 1} 项任务" + (f"（序号 {number}）" if number else "") if isinstance(index, int) else "任务"
                for task_field, text in task_errors.items():
                    messages.append(f"{where}{FIELD_ZH.get(task_field, task_field)}：{_words(text)}")
        else:
            messages.append(f"{FIELD_ZH.get(name, name)}：{_words(problem)}")
    return messages


def _words(problem) -> str:
    if isinstance(problem, dict):
        return "；".join(_words(v) for v in problem.values())
    if isinstance(problem, list):
        return "；".join(_words(v) for v in problem)
    return str(problem)


def _preview_again(header: dict, rows: list[dict], status: int):
    """The preview page again with what was typed, so no edit is lost."""
    return render("plan_preview.html", draft=header, rows=rows or [_blank_row()], document={},
                  categories=TASK_CATEGORIES), status


def _refusal(what: str, error: ApiError) -> str:
    if isinstance(error, ServiceUnreachable) or error.status is None:
        return f"{what}：暂时无法连接督导任务服务，请稍后重试。（{error.url}）"
    if error.status == 503:
        reason = error.body.get("message_zh") or "服务暂时不可用"
        return f"{what}：督导任务服务暂时不可用（{reason}），请稍后重试。"
    reason = error.body.get("message_zh") or error.body.get("message") or str(error)
    fields_named = [f"{path}：{text}" for path, text in flatten_errors(error.field_errors)]
    return f"{what}：{reason}" + (f"（{'；'.join(fields_named)}）" if fields_named else "")

