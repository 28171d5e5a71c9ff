"""Portal pages: 督办通知 — the list, issuing a notice, one notice with its problems and signatures, and the
notice's audit timeline (every event of the notice, its cases and its tasks, with the hash-chain check),
exported as .xlsx / .csv or printed.

Reads come from the portal's in-memory model; actions go to the notices service as the signed-in person.
"""
from __future__ import annotations

import re
import uuid
from datetime import date
from urllib.parse import quote

from flask import Blueprint, flash, redirect, request, url_for
from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from werkzeug.datastructures import MultiDict

from shared import event_words
from shared.auth import Role
from shared.errors import Forbidden, NotFound
from shared.deadlines import describe_lateness_zh
from services.api_client import ServiceUnreachable
from shared.vocabulary import NOTICE_KINDS, NOTICE_STATUS_ZH, ROLE_ZH
from services.portal.domain.model import CaseRecord, NoticeRecord, PortalModel, TimelineEntry
from services.portal.domain.queries import LightRule, NoticeFilter, Viewer, notice_rows, timeline, timeline_verification
from services.portal.entrypoints.pages_messages import delivery_rows, with_deliveries
from services.portal.entrypoints.common import (
    call_service,
    failed_call_status,
    failure_headers,
    csv_response,
    excel_response,
    load_args,
    load_form,
    period_from_args,
    portal,
    render,
    shanghai_time,
    user_token,
    viewer,
)

blp = Blueprint("notices", __name__)

PROMPT_LETTER = "工作提示函"  # the one kind that may come without a problem list
DAY_KINDS_ZH = {"calendar": "自然日", "working": "工作日"}
LIGHTS = ("red", "yellow", "green")
# Notice ids as the notices service makes them ("notice-" + a UUID): only such an id may be "still syncing".
NOTICE_ID = re.compile(r"^notice-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
PROBLEM_ROWS, MAX_PROBLEM_ROWS = 5, 50
PROBLEM_FIELDS = ("description", "requirement", "responsible_unit", "responsible_person", "area", "deadline", "deadline_days",
                  "deadline_kind")
UNIT_SEPARATORS = r"[\r\n、，,；;]+"
LINE_SEPARATORS = r"[\r\n]+"


# -- who may do what ----------------------------------------------------------------------------------

def require_roles(*roles: str, action_zh: str) -> None:
    """403 unless the viewer has one of ``roles`` (admins may do everything the services let them)."""
    who = viewer()
    if who.role != Role.ADMIN and who.role not in roles:
        raise Forbidden(f"role {who.role} may not {action_zh} (needs {' or '.join(roles)})",
                        f"{ROLE_ZH.get(who.role, who.role)}无权{action_zh}")


def may(*roles: str) -> bool:
    return viewer().role in (*roles, Role.ADMIN)


# -- form fields with Chinese messages -------------------------------------------------------------------

class Lines(fields.List):
    """Text typed one item a line (or split by ``separators``) as a list; blank items are dropped."""

    def __init__(self, inner, separators: str = LINE_SEPARATORS, **kwargs):
        super().__init__(inner, **kwargs)
        self.separators = separators

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            value = [part.strip() for part in re.split(self.separators, value) if part.strip()]
        return super()._deserialize(value, attr, data, **kwargs)


def text(label: str, *, required: bool = False, max_length: int = 4000, **kwargs) -> fields.String:
    return fields.String(required=required, validate=validate.Length(max=max_length, error=f"{label}不能超过{{max}}个字"),
                         error_messages={"required": f"请填写{label}", "invalid": f"{label}格式不正确"},
                         metadata={"label": label}, **kwargs)


def day(label: str, *, required: bool = False, **kwargs) -> fields.Date:
    return fields.Date(required=required, error_messages={"required": f"请填写{label}", "invalid": f"{label}不是有效日期"},
                       metadata={"label": label}, **kwargs)


def idempotency_key() -> fields.String:
    """The Idempotency-Key a form carries: submitting the same form twice acts once."""
    return fields.String(load_default=None,
                         validate=validate.Regexp(r"^[A-Za-z0-9_.:-]{8,200}$", error="表单标识无效，请刷新页面"))


def new_form_key() -> str:
    return f"portal-{uuid.uuid4()}"


def one_of(label: str, choices) -> validate.OneOf:
    return validate.OneOf(tuple(choices), error=f"{label}取值无效")


# -- the notice list ----------------------------------------------------------------------------------

class NoticeListQuery(Schema):  # 督办通知查询条件 (start/end: PeriodSchema)
    kind = fields.String(validate=one_of("类型", NOTICE_KINDS))
    unit = fields.String(validate=validate.Length(max=200), metadata={"description": "督办对象"})
    department = fields.String(validate=validate.Length(max=200), metadata={"description": "责任单位"})
    status = fields.String(validate=one_of("状态", NOTICE_STATUS_ZH))
    light = fields.String(validate=one_of("红黄绿灯", LIGHTS))
    task_id = fields.String(validate=validate.Length(max=200))
    listed = fields.Boolean()


@blp.get("/notices")
def notice_list():
    args = load_args(NoticeListQuery())
    period = period_from_args()
    where = NoticeFilter(kind=args.get("kind"), unit=args.get("unit"), department=args.get("department"),
                         status=args.get("status"), light=args.get("light"), task_id=args.get("task_id"),
                         listed=args.get("listed"), period=period)
    context, who = portal(), viewer()
    with context.lock:
        model = context.model
        rows = [{"notice": notice, "light": light, "problems": len(notice.problems), "closed": len(notice.closed_problem_ids)}
                for notice, light in notice_rows(model, who, where, context.light_rule())]
        units = _units_seen(model, who)
        return render("notices.html", rows=rows, args=args, period=period, kinds=NOTICE_KINDS, units=units,
                      tasks=_task_choices(model), lights=LIGHTS, may_issue=may(Role.OFFICE_STAFF))


def _units_seen(model: PortalModel, who: Viewer) -> dict[str, list[str]]:
    """The 督办对象 and 责任单位 that occur in what the viewer may see (for the filter selects)."""
    targets, responsible = set(), set()
    for notice in model.notices.values():
        if notice.status != "draft" and who.sees_notice(notice, model):
            targets.update(notice.target_units)
            responsible.update(c.responsible_unit for c in model.cases_of(notice.id) if who.sees_case(c))
    return {"targets": sorted(targets), "responsible": sorted(responsible)}


def _task_choices(model: PortalModel) -> list[tuple[str, str]]:
    tasks = sorted(model.tasks.values(), key=lambda t: (t.plan_id, _number_key(t.number), t.id))
    return [(task.id, f"{task.number} {_short(task.text, 40)}") for task in tasks]


def _number_key(number: str) -> tuple:
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", number or ""))


def _short(value: str | None, length: int = 120) -> str:
    value = " ".join((value or "").split())
    return value if len(value) <= length else value[: length - 1] + "…"


# -- issuing a notice ---------------------------------------------------------------------------------

class ProblemRowSchema(Schema):  # 问题清单中的一行
    description = text("问题描述", required=True)
    requirement = text("整改要求", load_default="")
    responsible_unit = text("责任单位", required=True, max_length=200)
    responsible_person = text("责任人", load_default=None, max_length=100)
    area = text("领域", load_default=None, max_length=100)
    deadline = day("整改时限", load_default=None)
    deadline_days = fields.Integer(load_default=None, validate=validate.Range(min=1, max=3650, error="整改天数应在1至3650之间"),
                                   error_messages={"invalid": "整改天数须为整数"})
    deadline_kind = fields.String(load_default="calendar", validate=one_of("天数类型", DAY_KINDS_ZH))

    @validates_schema
    def _one_deadline(self, data, **_):
        if data.get("deadline") is not None and data.get("deadline_days") is not None:
            raise ValidationError("整改时限请填写日期或天数之一", "deadline")


class NoticeFormSchema(Schema):  # 下发督办通知
    kind = fields.String(required=True, validate=one_of("类型", NOTICE_KINDS), error_messages={"required": "请选择类型"})
    title = text("标题", required=True, max_length=500)
    doc_number = text("文号", load_default=None, max_length=100)
    issuer_unit = text("下发单位", required=True, max_length=200)
    target_units = Lines(fields.String(validate=validate.Length(max=200, error="单位名称过长")), separators=UNIT_SEPARATORS,
                         required=True, validate=validate.Length(min=1, max=200, error="请填写督办对象"),
                         error_messages={"required": "请填写督办对象"})
    copied_units = Lines(fields.String(validate=validate.Length(max=200, error="单位名称过长")), separators=UNIT_SEPARATORS,
                         load_default=list)
    related_task_ids = fields.List(fields.String(validate=validate.Length(min=1, max=200)), load_default=list)
    listed = fields.Boolean(load_default=False)
    sign_for_deadline = day("签收时限", load_default=None)
    issued_on = day("下发日期")  # left out unless given. 补录 of a notice issued on paper: its deadlines count from then
    problems = fields.List(fields.Nested(ProblemRowSchema), load_default=list,
                           validate=validate.Length(max=MAX_PROBLEM_ROWS, error="问题过多"))
    idempotency_key = idempotency_key()

    @validates_schema
    def _needs_problems(self, data, **_):
        if not data.get("problems") and data.get("kind") != PROMPT_LETTER:
            raise ValidationError("问题清单不能为空（仅工作提示函可以不列问题）", "problems")


class NewNoticeQuery(Schema):
    rows = fields.Integer(load_default=PROBLEM_ROWS, validate=validate.Range(min=1, max=MAX_PROBLEM_ROWS))


@blp.route("/notices/new", methods=["GET", "POST"])
def notice_new():
    require_roles(Role.OFFICE_STAFF, action_zh="下发督办通知")
    rows = load_args(NewNoticeQuery())["rows"]
    if request.method == "GET":
        values = MultiDict({"issuer_unit": viewer().unit or "", "idempotency_key": new_form_key(), "kind": NOTICE_KINDS[0]})
        return _notice_form(values, rows)
    raw, row_numbers, stray = _notice_form_input(request.form)
    rows = max(rows, _int(request.form.get("rows"), PROBLEM_ROWS), max(row_numbers + stray, default=0))
    if request.form.get("more_rows"):  # 再加 5 行: the same form with more blank problem rows, nothing sent
        return _notice_form(request.form, min(rows + PROBLEM_ROWS, MAX_PROBLEM_ROWS))
    form = _load_notice_form(raw, row_numbers, stray)
    if form is None:
        return _notice_form(request.form, rows), 422
    answer: dict = {}
    key = form.pop("idempotency_key") or new_form_key()
    body = _jsonable(form)

    def issue() -> None:
        try:
            answer.update(portal().service("notices", user_token()).post("/notices", body, idempotency_key=key))
        except ServiceUnreachable:
            answer["unreachable"] = True
            raise

    if not call_service(issue):
        values = request.form.copy()
        if not answer.get("unreachable"):
            # The service answered (a refusal) and keeps that answer under this key: the corrected form is a new request.
            # With no answer the notice may still have been issued, so sending again reuses the key and cannot issue twice.
            values["idempotency_key"] = new_form_key()
        status = failed_call_status()  # 422 for a refusal, 503 when the service is unavailable or unreachable
        return _notice_form(values, rows), status, failure_headers(status)
    notice_id = answer.get("id")
    if not notice_id:
        return redirect(url_for("notices.notice_list"))
    return redirect(url_for("notices.notice_page", notice_id=notice_id, just_issued=1))


def _notice_form(values, rows: int):
    context = portal()
    with context.lock:
        tasks = _task_choices(context.model)
        # the directory's active units once it has any (notices may name only those); before that, the units seen
        registered = [name for name, unit in context.model.units.items() if unit.get("active", True)]
        units = sorted(registered or set(_units_seen(context.model, viewer())["targets"])
                       | {c.responsible_unit for c in context.model.cases.values()})
    return render("notice_new.html", values=values, rows=rows, kinds=NOTICE_KINDS, tasks=tasks, units=units,
                  day_kinds=DAY_KINDS_ZH, max_rows=MAX_PROBLEM_ROWS)


def _notice_form_input(form) -> tuple[dict, list[int], list[int]]:
    """The submitted form as the schema reads it, the form row number of each problem kept, and the rows that
    have something typed in them but no description."""
    raw = {name: form[name].strip() for name in ("kind", "title", "doc_number", "issuer_unit", "target_units", "copied_units",
                                                 "sign_for_deadline", "issued_on", "idempotency_key")
           if form.get(name, "").strip()}
    raw["listed"] = form.get("listed", "") in ("on", "1", "true")
    raw["related_task_ids"] = [task_id for task_id in form.getlist("related_task_ids") if task_id]
    problems, numbers, stray = [], [], []
    for index in range(MAX_PROBLEM_ROWS):
        row = {name: form.get(f"problems-{index}-{name}", "").strip() for name in PROBLEM_FIELDS}
        if row["description"]:
            problems.append({name: value for name, value in row.items() if value})
            numbers.append(index + 1)
        elif any(value for name, value in row.items() if name != "deadline_kind"):
            stray.append(index + 1)
    raw["problems"] = problems
    return raw, numbers, stray


def _load_notice_form(raw: dict, row_numbers: list[int], stray: list[int]) -> dict | None:
    try:
        form = NoticeFormSchema().load(raw, unknown="exclude")
    except ValidationError as error:
        for message in _messages(error.messages, row_numbers):
            flash(message, "error")
        form = None
    for number in stray:  # typed into a row but left out its description: say so rather than drop it silently
        flash(f"第{number}个问题：请填写问题描述（未填写问题描述的行不会下发）", "error")
    return None if stray else form


FIELD_ZH = {"kind": "类型", "title": "标题", "doc_number": "文号", "issuer_unit": "下发单位", "target_units": "督办对象",
            "copied_units": "抄送单位", "related_task_ids": "关联任务", "listed": "挂牌督办", "sign_for_deadline": "签收时限",
            "issued_on": "下发日期",
            "problems": "问题清单", "description": "问题描述", "requirement": "整改要求", "responsible_unit": "责任单位",
            "responsible_person": "责任人", "area": "领域", "deadline": "整改时限", "deadline_days": "整改天数",
            "deadline_kind": "天数类型", "idempotency_key": "表单", "_schema": "表单"}


def _messages(errors, row_numbers: list[int]) -> list[str]:
    """marshmallow's nested messages as lines a person reads: ``第2个问题·责任单位：请填写责任单位``."""
    out = []
    for name, value in errors.items():
        if name == "problems" and isinstance(value, dict):
            for index, row_errors in value.items():
                number = row_numbers[index] if isinstance(index, int) and index < len(row_numbers) else index
                for line in _messages(row_errors, row_numbers):
                    out.append(f"第{number}个问题·{line}")
            continue
        if isinstance(value, dict):  # a list field's items: {0: [...]}
            value = [m for messages in value.values() for m in (messages if isinstance(messages, list) else [messages])]
        label = FIELD_ZH.get(name, name)
        out.append(f"{label}：{'；'.join(str(m) for m in (value if isinstance(value, list) else [value]))}")
    return out


def _jsonable(value):
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value.isoformat() if isinstance(value, date) else value


def _int(value, default: int) -> int:
    try:
        return max(1, min(MAX_PROBLEM_ROWS, int(value)))
    except (TypeError, ValueError):
        return default


# -- one notice ---------------------------------------------------------------------------------------

class NoticePageQuery(Schema):
    just_issued = fields.Boolean(load_default=False)


def visible_notice(model: PortalModel, notice_id: str) -> NoticeRecord:
    notice = model.notices.get(notice_id)
    if notice is None or notice.status == "draft":
        raise NotFound(f"notice {notice_id} not found", f"督办通知 {notice_id} 不存在")
    if not viewer().sees_notice(notice, model):
        raise Forbidden(f"{viewer().role} of {viewer().unit} may not see notice {notice_id}",
                        f"只能查看本单位（{viewer().unit or '未指定单位'}）及下属单位的督办通知")
    return notice


@blp.get("/notices/<notice_id>")
def notice_page(notice_id: str):
    args = load_args(NoticePageQuery())
    context, who = portal(), viewer()
    with context.lock:
        model = context.model
        if notice_id not in model.notices and args["just_issued"] and NOTICE_ID.match(notice_id):
            return render("notice_pending.html", notice_id=notice_id)
        notice = visible_notice(model, notice_id)
        rule = context.light_rule()
        problems = problem_rows(notice, model, who, rule)
        signatures = _signature_rows(notice, context.clock.today().isoformat())
        can_sign = (who.role == Role.UNIT_HANDLER and who.unit in notice.target_units
                    and who.unit not in notice.signed_units and notice.status == "issued")
        can_withdraw = may(Role.OFFICE_STAFF) and notice.status in ("issued", "acknowledged")
        # office staff enter a signature made on paper (补录) with its day
        unsigned = [u for u in notice.target_units if u not in notice.signed_units]
        backfill_sign = unsigned if who.role == Role.OFFICE_STAFF and notice.status == "issued" else []
        tasks = [model.tasks[t] for t in notice.related_task_ids if t in model.tasks]
        return render("notice.html", notice=notice, problems=problems, signatures=signatures, can_sign=can_sign,
                      can_withdraw=can_withdraw, tasks=tasks, form_key=new_form_key(), day_kinds=DAY_KINDS_ZH,
                      backfill_sign=backfill_sign)


def problem_rows(notice: NoticeRecord, model: PortalModel, who: Viewer, rule: LightRule) -> list[dict]:
    """Each problem of the notice the viewer may see, with its case (None until followups has opened it)."""
    cases = {case.problem_id: case for case in model.cases_of(notice.id)}
    rows = []
    for problem in notice.problems:
        case = cases.get(problem["problem_id"])
        if case is not None and not who.sees_case(case):
            continue
        if case is None and not who.scope.sees_case(problem.get("responsible_unit")):
            continue  # not opened yet: shown to whoever will see its case
        rows.append({"problem": problem, "case": case, "light": rule.light(case) if case else None,
                     "closed": problem["problem_id"] in notice.closed_problem_ids})
    return rows


def _signature_rows(notice: NoticeRecord, today: str) -> list[dict]:
    signed = {s["unit"]: s for s in notice.signatures}
    rows = []
    for unit in notice.target_units:
        signature = signed.get(unit)
        past_deadline = bool(notice.sign_for_deadline and notice.sign_for_deadline < today)
        overdue = signature is None and (notice.sign_overdue or past_deadline)
        rows.append({"unit": unit, "signature": signature, "late": bool(signature and signature.get("late")),
                     "overdue": overdue and notice.status == "issued"})
    return rows


class StepForm(Schema):
    """Every step's form: for office staff, the day it really happened and why it is recorded later (补录)."""

    occurred_on = day("发生日期")  # left out of the request when not given (the service's default: today)
    backfill_reason = text("补录说明", max_length=500)


class SignForm(StepForm):  # 签收; office staff record a unit's paper signature as a 补录
    unit = text("签收单位", max_length=200)
    idempotency_key = idempotency_key()


class WithdrawForm(Schema):  # 撤回
    reason = text("撤回原因", required=True, max_length=2000)
    idempotency_key = idempotency_key()


@blp.post("/notices/<notice_id>/sign")
def notice_sign(notice_id: str):
    require_roles(Role.UNIT_HANDLER, Role.OFFICE_STAFF, action_zh="签收督办通知")
    with portal().lock:
        visible_notice(portal().model, notice_id)
    form = load_form(SignForm())
    if form is not None:
        key = form.pop("idempotency_key", None)
        _post_notice(f"/notices/{quote(notice_id, safe='')}/signature", _jsonable(form), key)
    return redirect(url_for("notices.notice_page", notice_id=notice_id))


@blp.post("/notices/<notice_id>/withdraw")
def notice_withdraw(notice_id: str):
    require_roles(Role.OFFICE_STAFF, action_zh="撤回督办通知")
    with portal().lock:
        visible_notice(portal().model, notice_id)
    form = load_form(WithdrawForm())
    if form is not None:
        _post_notice(f"/notices/{quote(notice_id, safe='')}/withdrawal", {"reason": form["reason"]}, form["idempotency_key"])
    return redirect(url_for("notices.notice_page", notice_id=notice_id))


def _post_notice(path: str, body: dict, key: str | None) -> bool:
    return call_service(lambda: portal().service("notices", user_token()).post(path, body, idempotency_key=key))


# -- the audit timeline ---------------------------------------------------------------------------------

TIMELINE_HEADERS = ("序号", "时间", "事件", "对象", "操作人", "角色", "单位", "应办时限", "提前/逾期", "说明")
CHAIN_REASON_ZH = (("version", "版本号不连续"), ("prev_hash", "与前一事件的哈希不衔接"), ("hash", "事件内容与其哈希不符"))


def event_label(entry: TimelineEntry) -> str:
    return event_words.label(entry.type, entry.data)


def timing_label(entry: TimelineEntry) -> str:
    """How the step stood to its deadline, in working days as every surface counts lateness (shared.deadlines)."""
    return describe_lateness_zh(entry.due, entry.happened_on)


def is_late(entry: TimelineEntry) -> bool:
    return bool(entry.due and entry.happened_on and entry.happened_on[:10] > entry.due[:10])


def event_summary(entry: TimelineEntry) -> str:
    """The event's one line (shared.event_words, as the CLI and the messages say it) and its 补录说明, cut to fit."""
    return _short(event_words.SEPARATOR.join(part for part in (event_words.summary(entry.type, entry.data),
                                                               event_words.backfill_note(entry.data)) if part))


def backfilled_on(entry: TimelineEntry) -> str | None:
    """The day a step happened, when it was recorded (补录) on a later day; else None."""
    occurred_on = entry.data.get("occurred_on")
    if isinstance(occurred_on, str) and occurred_on < shanghai_time(entry.recorded_at)[:10]:
        return occurred_on
    return None


def step_time(entry: TimelineEntry, actor_name: str) -> str:
    """When: the moment it was recorded, or for a 补录 both days ("2026-03-02 发生 · 2026-12-02 王科长补录")."""
    recorded = shanghai_time(entry.recorded_at)
    occurred_on = backfilled_on(entry)
    return f"{occurred_on} 发生 · {recorded[:10]} {actor_name}补录" if occurred_on else recorded


def stream_label(entry: TimelineEntry, model: PortalModel) -> str:
    if entry.stream_type == "notice" or entry.stream_id in model.notices:
        return "督办通知"
    if (case := model.cases.get(entry.stream_id)) is not None:
        return f"问题{case.problem_id}"
    if (task := model.tasks.get(entry.stream_id)) is not None:
        return f"督导任务{task.number}"
    return entry.stream_id


def timeline_rows(entries: list[TimelineEntry], model: PortalModel) -> list[dict]:
    """The rows of the timeline table (and its exports), one per event."""
    rows = []
    for number, entry in enumerate(entries, start=1):
        actor = entry.actor or {}
        name = event_words.actor_name(actor)
        rows.append({
            "number": number, "time": step_time(entry, name), "event": event_label(entry),
            "subject": stream_label(entry, model), "actor": name,
            "role": ROLE_ZH.get(actor.get("role"), actor.get("role") or ""), "unit": actor.get("unit") or "",
            "due": entry.due or "", "timing": timing_label(entry), "late": is_late(entry),
            "summary": event_summary(entry), "entry": entry, "backfilled": backfilled_on(entry) is not None,
        })
    return rows


def _row_values(row: dict) -> tuple:
    values = (row["number"], row["time"], row["event"], row["subject"], row["actor"], row["role"], row["unit"], row["due"],
              row["timing"], _with_files(row["summary"], row.get("entry")))
    return values


def _with_files(summary: str, entry: TimelineEntry | None) -> str:
    """An exported line names the files its step attached (佐证材料), as the page shows them."""
    files = entry.data.get("files") if entry is not None else None
    names = [str(f.get("name") or f.get("sha256")) for f in files if isinstance(f, dict)] if isinstance(files, list) else []
    return event_words.SEPARATOR.join(part for part in (summary, "佐证材料：" + "、".join(names) if names else "") if part)


def chain_results(model: PortalModel, entries: list[TimelineEntry]) -> list[dict]:
    results = []
    subjects = {e.stream_id: stream_label(e, model) for e in entries}
    for result in timeline_verification(model, entries):
        reason = result["reason"] or ""
        reason_zh = next((zh for prefix, zh in CHAIN_REASON_ZH if reason.startswith(prefix)), reason)
        results.append({**result, "subject": subjects.get(result["stream_id"], result["stream_id"]), "reason_zh": reason_zh})
    return results


class TimelineQuery(Schema):
    format = fields.String(load_default=None, validate=one_of("导出格式", ("xlsx", "csv")))
    print_view = fields.Boolean(data_key="print", load_default=False)


@blp.get("/notices/<notice_id>/timeline")
def notice_timeline(notice_id: str):
    args = load_args(TimelineQuery())
    context, who = portal(), viewer()
    with context.lock:
        model = context.model
        notice = visible_notice(model, notice_id)
        entries = [e for e in timeline(model, notice_id) if _may_see_entry(e, model, who)]
        rows = with_deliveries(timeline_rows(entries, model), delivery_rows(model, notice_id, who))  # masked contacts
        chains = chain_results(model, entries)
        filename = f"督办通知时间线-{notice.doc_number or notice.id}"
        if args["format"] == "xlsx":
            return excel_response("时间线", TIMELINE_HEADERS, [_row_values(r) for r in rows], filename)
        if args["format"] == "csv":
            return csv_response(TIMELINE_HEADERS, [_row_values(r) for r in rows], filename)
        bad = {c["first_bad_event_id"] for c in chains if not c["ok"]}
        template = "timeline_print.html" if args["print_view"] else "timeline.html"
        return render(template, notice=notice, rows=rows, chains=chains, bad_events=bad, headers=TIMELINE_HEADERS,
                      chains_ok=all(c["ok"] for c in chains))


def _may_see_entry(entry: TimelineEntry, model: PortalModel, who: Viewer) -> bool:
    """A unit's people see the notice's story without other units' cases."""
    case: CaseRecord | None = model.cases.get(entry.stream_id)
    return case is None or who.sees_case(case)

