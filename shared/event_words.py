"""The words for each event, once: a short label, a one-line summary of its data and the item it concerns.

The CLI's timeline, the portal's audit timeline and the messages all say the same thing about an event, so they
take their words from here and keep only what belongs to their medium (columns, HTML, length) to themselves.
Plain Python: no Flask, no database.

Style: fields read ``名称：值`` and are joined by ``；``; a date or an id stands apart from the Chinese around it
(``于 2026-12-01 销号``, ``问题 P1``); counts stay attached (``问题2个``, ``逾期1个工作日``).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Mapping

from shared.clock import SHANGHAI
from shared.deadlines import describe_lateness_zh
from shared.vocabulary import ACCOUNTABILITY_TARGET_ZH, CHANNEL_ZH, ESCALATION_ZH, ROLE_ZH, UNIT_KIND_ZH

SEPARATOR = "；"
NONE_ZH = "（无）"


@dataclass(frozen=True)
class About:
    """The item an event concerns, to name and link it: a notice, a case (整改事项), a task, ..."""

    kind: str  # notice, case, task, plan, calendar, unit, person, account, message; "" for an unknown event type
    id: str | None
    notice_id: str | None = None  # the notice a case, a matter or a task's link belongs to


@dataclass(frozen=True)
class EventWords:
    label: str  # 签收, 提交整改方案, 催办（系统自动）
    summary: str  # one line: 巴州区教育局 于 2026-11-23 签收（逾期签收）
    about: About
    actor: str = ""  # who did it, as people name them ("" when not given)


# -- labels ------------------------------------------------------------------------------------------------------

LABEL_ZH = {
    # tasks (工作要点与督导任务)
    "PlanRecorded": "录入工作要点", "PlanImported": "导入工作要点", "TaskCreated": "创建督导任务",
    "TaskProgressRecorded": "记录任务进展", "TaskCompleted": "任务完成", "TaskCancelled": "任务取消",
    "TaskNoticeLinked": "关联督导任务", "TaskNoticeWithdrawn": "相关督办通知撤回", "TaskMatterClosed": "督办事项销号",
    "HolidayArrangementRecorded": "录入节假日安排",
    # notices (督办通知)
    "NoticeDrafted": "保存通知草稿", "NoticeIssued": "下发督办通知", "NoticeSigned": "签收", "NoticeSignOverdue": "逾期未签收",
    "NoticeProblemClosed": "问题销号", "NoticeCleared": "通知清零", "NoticeWithdrawn": "撤回督办通知",
    # followups (整改)
    "RectificationOpened": "建立整改事项", "RectificationPlanSubmitted": "提交整改方案",
    "RectificationProgressReported": "报告整改进展", "RectificationReported": "提交整改报告", "ReinspectionPassed": "复查通过",
    "ReinspectionFailed": "复查未通过，退回整改", "RectificationClosed": "销号", "DeadlineExtended": "延期",
    "RectificationOverdue": "整改逾期", "RectificationEscalated": "督办升级", "RectificationCommended": "表彰",
    "RectificationWithdrawn": "撤销整改事项",
    # directory (单位与人员名录)
    "UnitRegistered": "登记单位", "UnitChanged": "修改单位信息", "UnitMoved": "调整隶属关系", "UnitMerged": "撤并单位",
    "PersonRegistered": "登记人员", "PersonDetailsChanged": "修改人员信息", "PersonMoved": "调整人员所属单位",
    "PersonRolesChanged": "调整人员角色", "PersonDisabled": "停用账号", "PersonEnabled": "启用账号",
    "PasswordChanged": "修改密码", "SignInFailed": "登录失败", "SignInLocked": "登录锁定",
    "SignedInAfterFailures": "失败后登录成功",
    # messages (消息提醒)
    "MessageQueued": "生成消息", "DeliveryAttempted": "发送消息", "MessageSent": "消息已发送", "DeliveryFailed": "消息发送失败",
    "MessageDeadLettered": "消息转入待处理", "MessageRequeued": "重新发送消息", "MessageRead": "消息已读",
}

# The services' own processes, as they sign the events they raise (shared.envelope.Actor.system).
SYSTEM_ACTOR_ZH = {"tasks": "督导任务服务", "notices": "督办通知服务", "followups": "整改跟踪服务",
                   "notices-sign-for-watcher": "签收时限监测", "followups-deadline-watcher": "整改时限监测"}


def label(event_type: str, data: Mapping[str, Any]) -> str:
    """The event's short label; an escalation is named by its level (催办, 预警, 约谈, 通报, 问责)."""
    if event_type == "RectificationEscalated":
        level = data.get("level")
        name = ESCALATION_ZH.get(level, level) if isinstance(level, str) and level else LABEL_ZH[event_type]
        return name + ("（系统自动）" if data.get("automatic") else "")
    if event_type == "PasswordChanged" and data.get("reset"):
        return "重置密码"
    return LABEL_ZH.get(event_type, event_type)


# -- summaries ---------------------------------------------------------------------------------------------------

Parts = list[str]
_SUMMARIES: dict[str, Callable[..., Parts]] = {}


def _summary(*event_types: str):
    def register(function: Callable[..., Parts]) -> Callable[..., Parts]:
        for event_type in event_types:
            _SUMMARIES[event_type] = function
        return function
    return register


def _field(name_zh: str, value: Any) -> str:
    return f"{name_zh}：{value}" if value not in (None, "", [], ()) else ""


def _names(values: Any) -> str:
    return "、".join(str(v) for v in values or [])


def _titled(kind: Any, title: Any, doc_number: Any) -> str:
    """督办通知《标题》（文号）, as a document is cited."""
    return f"{kind or ''}《{title}》" + (f"（{doc_number}）" if doc_number else "")


def _on_time(on_time: Any, due: Any = None, on: Any = None) -> str:
    """（按期完成）, or how late: （逾期3个工作日） when the deadline is known, else （逾期完成）; "" when not told."""
    if on_time is None:
        return ""
    if on_time:
        return "（按期完成）"
    lateness = describe_lateness_zh(due, on) if isinstance(due, str) and isinstance(on, str) else ""
    return f"（{lateness}）" if lateness.startswith("逾期") else "（逾期完成）"


def _problem_of(matter_id: str) -> str:
    """A case or matter id is ``<notice id>:<problem id>``."""
    return matter_id.rsplit(":", 1)[-1]


# tasks

@_summary("PlanRecorded", "PlanImported")
def _plan(d, due=None) -> Parts:
    year = f"{d['year']}年" if d.get("year") and str(d["year"]) not in d["title"] else ""
    return [year + _titled("", d["title"], d.get("doc_number")), _field("印发单位", d.get("issuer")),
            f"督导任务{len(d.get('task_ids') or [])}项"]


@_summary("TaskCreated")
def _task_created(d, due=None) -> Parts:
    return [f"{d['number']} {d['text']}", _field("牵头单位", d.get("lead_unit")),
            _field("配合单位", _names(d.get("partner_units"))), _field("完成时限", d.get("due_date"))]


@_summary("TaskProgressRecorded")
def _task_progress(d, due=None) -> Parts:
    return [d["summary"], f"进度{d['percent']}%" if d.get("percent") is not None else ""]


@_summary("TaskCompleted")
def _task_completed(d, due=None) -> Parts:
    return [d["summary"]]


@_summary("TaskCancelled", "NoticeWithdrawn", "RectificationWithdrawn")
def _with_reason(d, due=None) -> Parts:
    parts = [_field("原因", d["reason"])]
    if d.get("problem_ids"):  # a withdrawn notice's cases end with it
        parts.append(f"整改事项{len(d['problem_ids'])}个随之撤销")
    return parts


@_summary("TaskNoticeLinked")
def _task_linked(d, due=None) -> Parts:
    return [f"督办事项{len(d.get('matter_ids') or [])}个"]


@_summary("TaskNoticeWithdrawn")
def _task_notice_withdrawn(d, due=None) -> Parts:
    return ["该通知的督办事项不再计入本任务"]


@_summary("HolidayArrangementRecorded")
def _holidays(d, due=None) -> Parts:
    workdays = f"，调休上班{len(d['workdays'])}天" if d.get("workdays") else ""
    return [f"{d['year']}年放假{len(d['holidays'])}天{workdays}", _field("依据", d.get("source"))]


# notices

@_summary("NoticeDrafted")
def _drafted(d, due=None) -> Parts:
    content = d["content"]
    return [_titled(content.get("kind"), content.get("title") or "", content.get("doc_number"))]


@_summary("NoticeIssued")
def _issued(d, due=None) -> Parts:
    return [_titled(d.get("kind"), d["title"], d.get("doc_number")), _field("督办对象", _names(d.get("target_units"))),
            f"问题{len(d.get('problems') or [])}个", "挂牌督办" if d.get("listed") else "",
            _field("签收时限", d.get("sign_for_deadline"))]


@_summary("NoticeSigned")
def _signed(d, due=None) -> Parts:
    late = ""
    if d.get("late"):
        lateness = describe_lateness_zh(due, d["signed_on"]) if due else ""
        late = f"（{lateness}）" if lateness.startswith("逾期") else "（逾期签收）"
    return [f"{d['unit']} 于 {d['signed_on']} 签收{late}"]


@_summary("NoticeSignOverdue")
def _sign_overdue(d, due=None) -> Parts:
    return [f"签收时限 {d['deadline']} 已过", _field("未签收", _names(d.get("unsigned_units")))]


@_summary("NoticeProblemClosed", "TaskMatterClosed")
def _problem_closed(d, due=None) -> Parts:
    problem = d.get("problem_id") or _problem_of(d["matter_id"])
    return [f"问题 {problem} 于 {d['closed_on']} 销号" + _on_time(d.get("on_time"))]


@_summary("NoticeCleared")
def _cleared(d, due=None) -> Parts:
    count = f"{len(d['problem_ids'])}个" if d.get("problem_ids") else ""
    return [f"全部{count}问题已销号，于 {d['cleared_on']} 清零"]


# followups

@_summary("RectificationOpened")
def _opened(d, due=None) -> Parts:
    return [f"问题 {d['problem_id']} {d['description']}", _field("责任单位", d["responsible_unit"]),
            _field("责任人", d.get("responsible_person")), _field("整改时限", d.get("deadline"))]


@_summary("RectificationPlanSubmitted")
def _plan_submitted(d, due=None) -> Parts:
    measures = f"措施{len(d['measures'])}项" if d.get("measures") else ""
    return [_field("整改方案", d["plan"]), measures, _field("计划完成", d.get("planned_completion"))]


def _evidence(d) -> str:
    return f"佐证材料{len(d['evidence'])}项" if d.get("evidence") else ""


@_summary("RectificationProgressReported")
def _progress(d, due=None) -> Parts:
    return [d["summary"], _evidence(d)]


@_summary("RectificationReported")
def _reported(d, due=None) -> Parts:
    return [d["summary"], _evidence(d), _field("复查时限", d.get("reinspection_due"))]


@_summary("ReinspectionPassed", "ReinspectionFailed")
def _reinspected(d, due=None) -> Parts:
    return [_field("复查意见", d["findings"])]


@_summary("RectificationClosed")
def _closed(d, due=None) -> Parts:
    return [f"于 {d['closed_on']} 销号" + _on_time(d.get("on_time", True), d.get("deadline"), d["closed_on"])]


@_summary("DeadlineExtended")
def _extended(d, due=None) -> Parts:
    previous = f"由 {d['previous_deadline']} " if d.get("previous_deadline") else ""
    return [f"整改时限{previous}延至 {d['new_deadline']}（理由：{d['reason']}）", _field("批准人", d.get("approver"))]


@_summary("RectificationOverdue")
def _overdue(d, due=None) -> Parts:
    return [f"整改时限 {d['deadline']} 已过（{d['detected_on']} 发现）"]


@_summary("RectificationEscalated")
def _escalated(d, due=None) -> Parts:
    target = d.get("target") if d.get("level") == "accountability" else None
    return [_field("事由", d["reason"]), _field("文号", d.get("doc_number")), _field("问责方式", d.get("measure")),
            _field("问责对象", ACCOUNTABILITY_TARGET_ZH.get(target, target))]


@_summary("RectificationCommended")
def _commended(d, due=None) -> Parts:
    return [_field("事由", d["reason"]), _field("文号", d.get("doc_number"))]


# directory

def _unit_kind(d) -> str:
    return f"（{UNIT_KIND_ZH.get(d['kind'], d['kind'])}）" if d.get("kind") else ""


def _roles(roles: Any) -> str:
    return _names(ROLE_ZH.get(role, role) for role in roles or [])


@_summary("UnitRegistered", "UnitChanged")
def _unit(d, due=None) -> Parts:
    return [d["name"] + _unit_kind(d), _field("简称", d.get("short_name")), _field("上级单位", d.get("parent")),
            _field("行政区划代码", d.get("region_code"))]


@_summary("UnitMoved")
def _unit_moved(d, due=None) -> Parts:
    previous = f"（原上级单位：{d['previous_parent']}）" if d.get("previous_parent") else ""
    if not d.get("parent"):
        return [f"{d['name']} 不再有上级单位{previous}"]
    return [f"{d['name']} 改为隶属 {d['parent']}{previous}"]


@_summary("UnitMerged")
def _unit_merged(d, due=None) -> Parts:
    return [f"{d['name']} 并入 {d['merged_into']}"]


def _person(d) -> str:
    return f"{d['name']}（{d['username']}）" if d.get("name") else d["username"]


@_summary("PersonRegistered")
def _person_registered(d, due=None) -> Parts:
    return [_person(d), _field("单位", d.get("unit")), _field("角色", _roles(d.get("roles")))]


@_summary("PersonDetailsChanged", "PersonEnabled", "PasswordChanged")
def _person_only(d, due=None) -> Parts:
    return [_person(d)]  # contact details stay out of the summary (the portal masks them)


@_summary("PersonMoved")
def _person_moved(d, due=None) -> Parts:
    return [f"{d['username']} 调至 {d['unit']}" if d.get("unit") else f"{d['username']} 不再属于任何单位"]


@_summary("PersonRolesChanged")
def _person_roles(d, due=None) -> Parts:
    return [_person(d), _field("角色", _roles(d["roles"]) or NONE_ZH)]


@_summary("PersonDisabled")
def _person_disabled(d, due=None) -> Parts:
    return [_person(d), _field("原因", d.get("reason"))]


def _beijing(moment: str) -> str:
    try:
        return datetime.fromisoformat(moment).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
    except (TypeError, ValueError):
        return str(moment)


@_summary("SignInFailed", "SignedInAfterFailures")
def _sign_in(d, due=None) -> Parts:
    return [f"{d['subject']}（来自 {d['address']}）"]


@_summary("SignInLocked")
def _sign_in_locked(d, due=None) -> Parts:
    return [f"{d['subject']} 连续失败{d['failures']}次，锁定至 {_beijing(d['until'])}"]


# messages

@_summary("MessageQueued")
def _message_queued(d, due=None) -> Parts:
    channel = CHANNEL_ZH.get(d["channel"], d["channel"])
    return [f"{channel} 致 {d.get('recipient_name') or d.get('unit') or ''}：{d['subject']}",
            _field("暂缓至", _beijing(d["not_before"]) if d.get("not_before") else None)]


@_summary("DeliveryAttempted")
def _delivery_attempted(d, due=None) -> Parts:
    return [f"第{d['attempt']}次发送"]


@_summary("MessageSent")
def _message_sent(d, due=None) -> Parts:
    return [f"第{d['attempt']}次发送成功", _field("网关答复", d.get("answer"))]


@_summary("DeliveryFailed")
def _delivery_failed(d, due=None) -> Parts:
    retry = f"将于 {_beijing(d['retry_at'])} 重试" if d.get("retry_at") else "不再重试"
    return [f"第{d['attempt']}次发送失败：{d['error']}", retry]


@_summary("MessageDeadLettered")
def _message_dead_lettered(d, due=None) -> Parts:
    return [f"发送{d['attempts']}次均失败：{d['error']}"]


@_summary("MessageRequeued")
def _message_requeued(d, due=None) -> Parts:
    return [_field("原因", d.get("reason"))]


@_summary("MessageRead")
def _message_read(d, due=None) -> Parts:
    return [f"于 {_beijing(d['read_at'])} 阅读"]


def _plain_fields(data: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in data.items() if isinstance(v, (str, int, float, bool)) and v not in ("", None))


def one_line(text: str) -> str:
    return " ".join(text.split())


def summary(event_type: str, data: Mapping[str, Any], *, due: str | None = None) -> str:
    """One line of what the event says. ``due``: the deadline a step was due against when the event does not carry
    it (a signature's 签收时限), so a late step says by how many working days. An unknown type, or a shape this
    module does not expect, lists its plain fields."""
    function = _SUMMARIES.get(event_type)
    if function is not None:
        try:
            return one_line(SEPARATOR.join(part for part in function(data, due) if part))
        except (AttributeError, TypeError, KeyError, ValueError):
            pass  # an older or unexpected shape: the plain fields still say something
    return one_line(_plain_fields(data))


def backfill_note(data: Mapping[str, Any]) -> str:
    """补录说明：… (and for whom it was recorded) of a step recorded after the day it happened; "" otherwise."""
    backfill = data.get("backfill") or {}
    if not isinstance(backfill, Mapping) or not backfill.get("reason"):
        return ""
    recorded_for = f"（代{backfill['recorded_for']}登记）" if backfill.get("recorded_for") else ""
    return one_line(f"补录说明：{backfill['reason']}{recorded_for}")


# -- what it concerns, and who ----------------------------------------------------------------------------------

_ABOUT_FIELDS = (("message_id", "message"), ("case_id", "case"), ("task_id", "task"), ("notice_id", "notice"),
                 ("plan_id", "plan"), ("person_id", "person"), ("unit_id", "unit"))


def about(event_type: str, data: Mapping[str, Any]) -> About:
    """The item the event concerns (the most specific one its data name) and the notice it belongs to."""
    if event_type == "HolidayArrangementRecorded":
        return About("calendar", str(data["year"]) if data.get("year") else None)
    if event_type in ("SignInFailed", "SignInLocked", "SignedInAfterFailures"):
        return About("account", data.get("subject"))
    notice_id = data.get("notice_id")
    for name, kind in _ABOUT_FIELDS:
        value = data.get(name)
        if isinstance(value, str) and value:
            case_id = value if kind == "case" else data.get("case_id")
            if not notice_id and isinstance(case_id, str) and ":" in case_id:
                notice_id = case_id.rsplit(":", 1)[0]
            return About(kind, value, notice_id if kind in ("case", "task", "notice", "message") else None)
    return About("", None)


def actor_name(actor: Mapping[str, Any] | None) -> str:
    """A person's name (or user id); a service's own process by what it does (整改时限监测)."""
    if not actor:
        return ""
    name = actor.get("name") or actor.get("user_id") or ""
    return SYSTEM_ACTOR_ZH.get(name, name) if actor.get("role") == "system" else name


def describe(event_type: str, data: Mapping[str, Any], actor: Mapping[str, Any] | None = None, *,
             due: str | None = None) -> EventWords:
    """Everything a timeline or a message says about one event."""
    data = data or {}
    return EventWords(label=label(event_type, data), summary=summary(event_type, data, due=due),
                      about=about(event_type, data), actor=actor_name(actor))
