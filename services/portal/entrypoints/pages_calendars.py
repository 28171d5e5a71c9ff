"""工作日历: the years working days are counted on, the provisional deadlines a published year would move, and
recording a year's published arrangement (office staff; the tasks service keeps it)."""
from __future__ import annotations

from flask import Blueprint, redirect, url_for
from marshmallow import Schema, fields, validate

from shared.auth import Role
from shared.deadlines import FIRST_KNOWN_YEAR, LAST_KNOWN_YEAR
from shared.holidays import LAST_PROVISIONAL_YEAR
from services.portal.domain.queries import moved_provisional_deadlines
from services.portal.entrypoints.common import call_service, load_form, portal, render, user_token, viewer
from services.portal.entrypoints.pages_notices import Lines, day, idempotency_key, new_form_key, require_roles, text

blp = Blueprint("calendars", __name__)


class CalendarForm(Schema):  # 录入当年放假安排
    year = fields.Integer(required=True, validate=validate.Range(
        min=LAST_KNOWN_YEAR + 1, max=LAST_PROVISIONAL_YEAR, error=f"年份应在{LAST_KNOWN_YEAR + 1}–{LAST_PROVISIONAL_YEAR}之间"),
        error_messages={"required": "请填写年份", "invalid": "年份不是有效数字"})
    holidays = Lines(day("放假日期"), required=True, validate=validate.Length(min=1, max=80, error="放假日期应为1–80个"),
                     error_messages={"required": "请填写放假日期"})
    workdays = Lines(day("调休上班日期"), load_default=list, validate=validate.Length(max=30, error="调休上班日期最多30个"))
    source = text("发布文号", required=True, max_length=200)
    idempotency_key = idempotency_key()


@blp.get("/calendars")
def calendars_page():
    model = portal().model
    with portal().lock:
        recorded = dict(sorted(model.holiday_years.items()))
        moved = moved_provisional_deadlines(model, viewer())
    provisional_from = LAST_KNOWN_YEAR + 1
    while provisional_from in recorded:
        provisional_from += 1
    return render("calendars.html", recorded=recorded, moved=moved, first_year=FIRST_KNOWN_YEAR,
                  last_year=LAST_KNOWN_YEAR, provisional_from=provisional_from,
                  may_record=viewer().role in (Role.OFFICE_STAFF, Role.ADMIN), form_key=new_form_key())


@blp.post("/calendars")
def record_calendar():
    require_roles(Role.OFFICE_STAFF, action_zh="录入放假安排")
    form = load_form(CalendarForm())
    if form is not None:
        body = {"holidays": [d.isoformat() for d in form["holidays"]],
                "workdays": [d.isoformat() for d in form["workdays"]], "source": form["source"]}
        call_service(lambda: portal().service("tasks", user_token()).post(
            f"/calendars/{form['year']}", body, idempotency_key=form["idempotency_key"]))
    return redirect(url_for("calendars.calendars_page"))
