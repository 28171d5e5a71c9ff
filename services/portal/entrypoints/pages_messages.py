"""Portal pages: 站内消息 — the signed-in person's in-portal messages (the header counts the unread ones), each opened
and marked read — and for those who watch deliveries, 消息投递: every message with its status, and the failed ones
(待处理) that office staff send again.

Reads come from the portal's model (fed from the messages topic), except the dead-letter list, read from the messages
service as it stands now; marking read and sending again are the messages service's commands, sent as the person.
Addresses are masked on every page and in the timeline's delivery lines (common.masked_address).
"""
from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from urllib.parse import quote

from flask import Blueprint, flash, g, redirect, url_for
from marshmallow import Schema, fields, validate

from shared.auth import Role
from shared.clock import SHANGHAI
from shared.errors import Forbidden, NotFound
from shared.vocabulary import CHANNEL_ZH, ROLE_ZH
from services.api_client import ApiError
from services.portal.domain.model import PortalModel
from services.portal.domain.queries import Viewer
from services.portal.entrypoints.common import (call_service, failure_headers, failure_status, load_args, load_form,
                                                masked_address, portal, render, user_token, viewer)

blp = Blueprint("messages", __name__)

# The messages service's statuses and channels, in the portal's words.
STATUS_ZH = {"unread": "未读", "read": "已读", "queued": "待发送", "sending": "发送中", "retrying": "等待重试",
             "sent": "已发送", "dead": "发送失败"}
# Who watches every delivery (as the messages service lets them: GET /messages); office staff also send one again.
DELIVERY_READERS = (Role.OFFICE_STAFF, Role.INSPECTOR, Role.AUDITOR)
RETRIERS = (Role.OFFICE_STAFF,)
PAGE_SIZE = 50
SERVICE_PAGE_SIZE = 100  # the messages API's largest page
MARK_ALL_AT_MOST = 200  # 全部标为已读 marks this many per click (one call each)
LABEL = re.compile(r"^【([^】]{1,20})】")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
MOBILE = re.compile(r"(?<!\d)1\d{10}(?!\d)")


# -- words ---------------------------------------------------------------------------------------------------

def mask_contacts(text: str | None) -> str:
    """A gateway's answer or error with any e-mail address or mobile in it masked."""
    if not text:
        return ""
    return MOBILE.sub(lambda m: masked_address(m.group()), EMAIL.sub(lambda m: masked_address(m.group()), text))


def _moment(value) -> datetime | None:
    """A datetime or ISO text as an aware moment (the services store UTC: a naive one is UTC)."""
    try:
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None
    return moment.replace(tzinfo=timezone.utc) if moment is not None and moment.tzinfo is None else moment


def beijing(value, since=None) -> str:
    """``10:02`` (Beijing time) on the day of ``since``, else ``2026-11-03 10:02``."""
    moment = _moment(value)
    if moment is None:
        return str(value or "")
    local = moment.astimezone(SHANGHAI)
    start = _moment(since)
    if start is not None and start.astimezone(SHANGHAI).date() == local.date():
        return local.strftime("%H:%M")
    return local.strftime("%Y-%m-%d %H:%M")


def message_kind(message: dict) -> str:
    """What the message is about, as its subject names it: 【催办】… → 催办."""
    found = LABEL.match(message.get("subject") or "")
    return found.group(1) if found else ""


def recipient_words(message: dict) -> str:
    """南江县教育局 赵伟 138****1234 (a unit's group: 南江县教育局工作群)."""
    unit, name = message.get("unit") or "", message.get("recipient_name") or ""
    parts = [name] if unit and name.startswith(unit) else [unit, name]
    if message.get("address"):
        parts.append(masked_address(message["address"]))
    return " ".join(part for part in parts if part)


def delivery_line(message: dict) -> str:
    """One line of a delivery: 催办短信已发送至 南江县教育局 赵伟 138****1234，已送达 10:02."""
    what = message_kind(message) + CHANNEL_ZH.get(message["channel"], message["channel"])
    to, queued, status = recipient_words(message), message.get("queued_at"), message.get("status")
    if status == "sent":
        return f"{what}已发送至 {to}，已送达 {beijing(message.get('sent_at'), queued)}"
    if status == "unread":
        return f"{what}已送达 {to}，未读"
    if status == "read":
        return f"{what}已送达 {to}，已读 {beijing(message.get('read_at'), queued)}"
    if status == "retrying":
        return (f"{what}发送至 {to} 失败（第{message.get('attempts') or 1}次：{mask_contacts(message.get('error'))}），"
                f"将于 {beijing(message.get('retry_at'), queued)} 重试")
    if status == "dead":
        return f"{what}发送至 {to} 失败，已转入待处理：{mask_contacts(message.get('error'))}"
    if status == "sending":
        return f"{what}正在发送至 {to}"
    later = f"（暂缓至 {beijing(message['not_before'], queued)}）" if message.get("not_before") else ""
    return f"{what}待发送至 {to}{later}"


def item_link(message: dict) -> str | None:
    """The portal page of the item the message concerns: its own link when that is a path of this site."""
    link = message.get("link")
    if (isinstance(link, str) and link.startswith("/") and not link.startswith("//") and "\\" not in link
            and not any(ord(ch) < 0x20 for ch in link)):
        return link
    if message.get("case_id"):
        return url_for("cases.case_page", case_id=message["case_id"])
    if message.get("notice_id"):
        return url_for("notices.notice_page", notice_id=message["notice_id"])
    return None


def delivery_rows(model: PortalModel, notice_id: str, who: Viewer) -> list[dict]:
    """The notice's deliveries as rows of its audit timeline (pages_notices.timeline_rows' keys), masked; a unit's
    people see only the deliveries to the units they see, of the cases they see."""
    rows = []
    for message in model.deliveries_of(notice_id):
        case = model.cases.get(message.get("case_id") or "")
        if (case is not None and not who.sees_case(case)) or not who.scope.sees_case(message.get("unit")):
            continue
        subject = f"问题{case.problem_id}" if case is not None else "督办通知"
        rows.append({"number": 0, "time": _shanghai(message["queued_at"]), "moment": message["queued_at"],
                     "event": message_kind(message) + CHANNEL_ZH.get(message["channel"], message["channel"]),
                     "subject": subject, "actor": "消息提醒服务", "role": "", "unit": "", "due": "", "timing": "",
                     "late": False, "summary": delivery_line(message), "entry": None, "backfilled": False,
                     "delivery": message["id"], "status": message["status"],
                     "failed": message["status"] in ("retrying", "dead")})
    return rows


def with_deliveries(rows: list[dict], deliveries: list[dict]) -> list[dict]:
    """The timeline's rows with the delivery lines among them in time (after the events of the same moment), numbered."""
    if not deliveries:
        return rows
    merged = sorted([*rows, *deliveries], key=lambda row: (row["moment"], True) if row.get("delivery")
                    else (row["entry"].recorded_at, False))
    for number, row in enumerate(merged, start=1):
        row["number"] = number
    return merged


def _shanghai(moment) -> str:
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S") if isinstance(moment, datetime) else str(moment)


# -- who may do what --------------------------------------------------------------------------------------------

def may_watch_deliveries(who) -> bool:
    return who.role in (*DELIVERY_READERS, Role.ADMIN)


def _require(roles: tuple[str, ...], action_zh: str) -> None:
    who = viewer()
    if who.role != Role.ADMIN and who.role not in roles:
        raise Forbidden(f"role {who.role} may not {action_zh}", f"{ROLE_ZH.get(who.role, who.role)}无权{action_zh}")


@blp.app_context_processor
def _header_counts() -> dict:
    """The header's unread count, from the model (no call to the messages service per page)."""
    who = g.get("viewer")
    if who is None:
        return {}
    model = portal().model
    with portal().lock:
        # messages this request marked read count as read already, unless the model has learnt it meanwhile
        # (the messages topic may bring the MessageRead before the page is rendered: not subtracted twice)
        still_unread = sum(1 for message_id in g.get("just_read", ())
                           if model.messages.get(message_id, {}).get("status") == "unread")
        count = model.unread_count(who.user_id) - still_unread
    return {"unread_messages": max(0, count), "watches_deliveries": may_watch_deliveries(who)}


# -- 站内消息 ------------------------------------------------------------------------------------------------

class InboxQuery(Schema):
    unread = fields.Boolean(load_default=False)
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100000))


def _page(items: list, page: int) -> tuple[list, bool]:
    start = (page - 1) * PAGE_SIZE
    return items[start:start + PAGE_SIZE], len(items) > start + PAGE_SIZE


@blp.get("/messages/inbox")
def inbox():
    args = load_args(InboxQuery())
    context, who = portal(), viewer()
    with context.lock:
        messages = context.model.inbox_of(who.user_id)
    if args["unread"]:
        messages = [m for m in messages if m["status"] == "unread"]
    shown, more = _page(messages, args["page"])
    return render("messages_inbox.html", messages=shown, args=args, more=more, status_zh=STATUS_ZH)


@blp.get("/messages/inbox/<message_id>")
def inbox_message(message_id: str):
    context, who = portal(), viewer()
    with context.lock:
        found = context.model.messages.get(message_id)
        message = dict(found) if found is not None else None
    if message is None or message["channel"] != "inbox" or message["recipient"] != who.user_id:
        raise NotFound(f"message {message_id} not found", "消息不存在（或尚未同步，请稍候刷新）")
    if message["status"] == "unread" and _mark_read(message_id):
        message["status"] = "read"
    return render("messages_message.html", message=message, link=item_link(message), status_zh=STATUS_ZH)


def _mark_read(message_id: str) -> bool:
    """Mark one's own message read through the messages service, as the person; a failure is said, not raised."""
    try:
        portal().service("messages", user_token()).post(f"/inbox/{quote(message_id, safe='')}/read")
    except ApiError as error:
        g.service_failure = error
        if failure_status(error) == 503:
            flash("未能标记为已读：消息服务暂时不可用，请稍后重试", "error")
        else:
            flash(f"未能标记为已读：{error.body.get('message_zh') if isinstance(error.body, dict) else error}", "error")
        return False
    g.just_read = (*g.get("just_read", ()), message_id)
    return True


@blp.post("/messages/inbox/read-all")
def inbox_read_all():
    context, who = portal(), viewer()
    with context.lock:
        unread = [m["id"] for m in context.model.inbox_of(who.user_id) if m["status"] == "unread"]
    done = 0
    for message_id in unread[:MARK_ALL_AT_MOST]:
        if not _mark_read(message_id):
            break
        done += 1
    if done:
        flash(f"已将{done}条消息标为已读。页面数据将在数秒内更新。", "success")
    return redirect(url_for("messages.inbox"))


# -- 消息投递 ----------------------------------------------------------------------------------------------

class DeliveryQuery(Schema):
    status = fields.String(validate=validate.OneOf(tuple(STATUS_ZH), error="状态取值无效"))
    channel = fields.String(validate=validate.OneOf(tuple(CHANNEL_ZH), error="渠道取值无效"))
    notice_id = fields.String(validate=validate.Length(max=200))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100000))


@blp.get("/messages/deliveries")
def deliveries():
    _require(DELIVERY_READERS, "查看消息投递")
    args = load_args(DeliveryQuery())
    context = portal()
    wanted = {name: args[name] for name in ("status", "channel", "notice_id") if args.get(name)}
    start, rows, more = (args["page"] - 1) * PAGE_SIZE, [], False
    with context.lock:
        seen = 0
        for message in reversed(list(context.model.messages.values())):  # in the order they arrived, newest first
            if any(message.get(name) != value for name, value in wanted.items()):
                continue
            seen += 1
            if seen > start + PAGE_SIZE:
                more = True
                break
            if seen > start:
                rows.append({**message, "line": delivery_line(message), "shown_address": masked_address(message["address"])
                             if message.get("address") else "", "shown_error": mask_contacts(message.get("error"))})
    return render("messages_deliveries.html", rows=rows, args=args, more=more, status_zh=STATUS_ZH,
                  channel_zh=CHANNEL_ZH)


class DeadQuery(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100000))


@blp.get("/messages/dead")
def dead_letters():
    """待处理: the failed messages as the messages service has them now (not the model: a retry shows at once)."""
    _require(DELIVERY_READERS, "查看发送失败的消息")
    args = load_args(DeadQuery())
    rows, more, failure = [], False, None
    try:
        answer, headers = portal().service("messages", user_token()).get(
            "/messages", status="dead", page=args["page"], page_size=SERVICE_PAGE_SIZE)
        rows = [{**row, "line": delivery_line({**row, "status": "dead", "error": row.get("last_error")}),
                 "shown_address": masked_address(row.get("address")) if row.get("address") else "",
                 "shown_error": mask_contacts(row.get("last_error")), "time": beijing(row.get("queued_at"))}
                for row in answer or []]
        more = _has_more(headers.get("x-pagination"), args["page"], len(rows))
    except ApiError as error:
        failure = failure_status(error)
    page = render("messages_dead.html", rows=rows, args=args, more=more, failure=failure,
                  may_retry=viewer().role in (*RETRIERS, Role.ADMIN), channel_zh=CHANNEL_ZH)
    if failure is not None:
        return page, failure, failure_headers(failure)
    return page


def _has_more(pagination: str | None, page: int, count: int) -> bool:
    try:
        told = json.loads(pagination or "{}")
    except ValueError:
        return count >= SERVICE_PAGE_SIZE
    if "has_more" in told:
        return bool(told["has_more"])
    total = told.get("total")
    return total > page * SERVICE_PAGE_SIZE if isinstance(total, int) else count >= SERVICE_PAGE_SIZE


class RetryForm(Schema):  # 重新发送
    reason = fields.String(load_default="", validate=validate.Length(max=500, error="说明不能超过{max}个字"))


@blp.post("/messages/<message_id>/retry")
def retry(message_id: str):
    _require(RETRIERS, "重新发送消息")
    form = load_form(RetryForm())
    if form is not None:
        body = {"reason": form["reason"].strip()} if form["reason"].strip() else {}  # the service refuses a blank one
        call_service(lambda: portal().service("messages", user_token()).post(
            f"/messages/{quote(message_id, safe='')}/retry", body))
    return redirect(url_for("messages.dead_letters"))
