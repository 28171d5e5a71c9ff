"""What every portal page uses: the signed-in viewer, the period picked, rendering and spreadsheet exports."""
from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import date
from typing import Iterable, Sequence
from urllib.parse import quote

from flask import Response, current_app, flash, g, render_template, request
from marshmallow import Schema, ValidationError, fields
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from shared.errors import InvalidInput
from shared.text import for_spreadsheet
from services.api_client import ApiError, ServiceUnreachable
from services.portal.adapters.evidence import is_image
from services.portal.context import PortalContext
from shared.vocabulary import (CASE_STATUS_ZH, ESCALATION_ZH, LIGHT_ZH, NOTICE_STATUS_ZH, ROLE_ZH,  # noqa: F401
                               TASK_STATUS_ZH)
from services.portal.domain.queries import Period, Viewer


def portal() -> PortalContext:
    return current_app.config["PORTAL"]


def viewer() -> Viewer:
    """The signed-in person, placed in the directory's unit tree as it stands for this request (what they see)."""
    placed = g.get("placed_viewer")
    if placed is None:
        placed = g.placed_viewer = replace(g.viewer, tree=portal().unit_tree())
    return placed


def user_token() -> str:
    """The signed-in person's own bearer token: the portal acts on the services as that person."""
    return g.token


class PeriodSchema(Schema):  # 统计期间
    start = fields.Date(load_default=None, allow_none=True)
    end = fields.Date(load_default=None, allow_none=True)


def load_args(schema: Schema) -> dict:
    """Query arguments through a marshmallow schema; empty fields count as absent; bad ones are a 422."""
    raw = {k: v for k, v in request.args.items() if v != ""}
    try:
        return schema.load(raw, unknown="exclude")
    except ValidationError as error:
        raise InvalidInput("invalid query", "查询条件有误：" + "；".join(f"{k}" for k in error.messages),
                           errors=error.messages) from error


def load_form(schema: Schema) -> dict | None:
    """A submitted form through a schema; on error the messages are flashed and None is returned."""
    raw = {k: v for k, v in request.form.items() if v != ""}
    try:
        return schema.load(raw, unknown="exclude")
    except ValidationError as error:
        for name, messages in error.messages.items():
            flash(f"{name}：{'；'.join(str(m) for m in messages) if isinstance(messages, list) else messages}", "error")
        return None


def period_from_args() -> Period:
    args = load_args(PeriodSchema())
    return Period(args["start"], args["end"])


RETRY_AFTER_SECONDS = 5


def failure_status(error: ApiError, refused: int | None = None) -> int:
    """The portal's status for a failed call to a service: 503 when the service could not be reached, did not answer
    in time or is itself unavailable (503: retry later); 502 for any other 5xx of it; for its refusal (4xx) the
    service's own status, or ``refused``."""
    if isinstance(error, ServiceUnreachable) or error.status is None or error.status == 503:
        return 503
    if error.status >= 500 or error.status < 400:
        return 502
    return refused or error.status


def failure_headers(status: int) -> dict:
    return {"Retry-After": str(RETRY_AFTER_SECONDS)} if status == 503 else {}


def call_service(action) -> bool:
    """Run a call to a service; its refusal (with the reason in Chinese) is flashed instead of raised.

    The failure stays in ``g.service_failure`` for a page that answers with its status (``failed_call_status``).
    """
    try:
        action()
    except ApiError as error:
        g.service_failure = error
        if failure_status(error) == 503:
            flash(f"未能办理（服务暂时不可用，请稍后重试）：{error}", "error")
        else:
            flash(f"未能办理：{error}", "error")
        return False
    flash("已提交。页面数据将在数秒内更新。", "success")
    return True


def failed_call_status(refused: int = 422) -> int:
    """The status of a page showing the failure of the last ``call_service`` (``refused`` for a refusal)."""
    error = g.get("service_failure")
    return failure_status(error, refused) if error is not None else refused


def render(template: str, **values) -> str:
    return render_template(template, viewer=viewer(), today=portal().clock.today(), **values)


def template_helpers() -> dict:
    return {"CASE_STATUS_ZH": CASE_STATUS_ZH, "NOTICE_STATUS_ZH": NOTICE_STATUS_ZH, "TASK_STATUS_ZH": TASK_STATUS_ZH,
            "ESCALATION_ZH": ESCALATION_ZH, "LIGHT_ZH": LIGHT_ZH, "ROLE_ZH": ROLE_ZH, "percent": percent,
            "shanghai": shanghai_time, "is_image": is_image, "file_size": file_size}


def file_size(size) -> str:
    """A file's size as people read it (KB below a megabyte, else MB)."""
    if not isinstance(size, int) or size < 0:
        return ""
    return f"{size / 1024:.0f} KB" if size < 1024 * 1024 else f"{size / (1024 * 1024):.1f} MB"


def percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


def shanghai_time(moment) -> str:
    from shared.clock import SHANGHAI

    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")


# -- contacts, masked on every page and export --------------------------------------------------------

def masked_mobile(mobile: str | None) -> str:
    """138****1234: enough to tell numbers apart, not enough to call."""
    if not mobile:
        return "—"
    return f"{mobile[:3]}{'*' * (len(mobile) - 7)}{mobile[-4:]}" if len(mobile) >= 8 else "****"


def masked_email(email: str | None) -> str:
    """z***@example.cn."""
    if not email:
        return "—"
    local, at, domain = email.partition("@")
    return f"{local[:1]}***@{domain}" if at else "***"


def masked_address(address: str | None) -> str:
    """An e-mail address or a mobile, masked as such."""
    return masked_email(address) if address and "@" in address else masked_mobile(address)


# -- exports ----------------------------------------------------------------------------------------

def inert(value):
    """Text a person typed that a spreadsheet would run as a formula (=, +, -, @) is exported as plain text."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return "" if value is None else value


def _download_name(name: str) -> str:
    return f"attachment; filename*=UTF-8''{quote(name)}"


def excel_response(title: str, headers: Sequence[str], rows: Iterable[Sequence], filename: str) -> Response:
    """An .xlsx with a bold header row, frozen below it, columns sized to their content.

    Every cell goes through ``for_spreadsheet``: events stored before the API refused control characters may hold
    some, and one such character would otherwise make the whole export fail.
    """
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = for_spreadsheet(title)[:31]
    sheet.append([for_spreadsheet(h) for h in headers])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center")
    widths = [len(str(h)) * 2 for h in headers]
    for row in rows:
        values = [inert(for_spreadsheet(v)) for v in row]  # cleaned first: what is left may start with "="
        sheet.append(values)
        widths = [max(w, min(60, len(str(v)) * 2)) for w, v in zip(widths, values, strict=False)]
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[sheet.cell(row=1, column=index).column_letter].width = max(8, width)
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return Response(buffer.getvalue(), headers={"Content-Disposition": _download_name(f"{filename}.xlsx")},
                    mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def csv_response(headers: Sequence[str], rows: Iterable[Sequence], filename: str) -> Response:
    """UTF-8 with a BOM, so Excel on Chinese Windows opens it with the right characters."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headers)
    for row in rows:
        writer.writerow([inert(v) for v in row])
    return Response("\ufeff" + buffer.getvalue(), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": _download_name(f"{filename}.csv")})


def iso(day: date | None) -> str:
    return day.isoformat() if day else ""


def chart_response(image: bytes) -> Response:
    """A chart drawn on the server (adapters/charts.py), for an <img> of a page (the CSP's img-src 'self')."""
    # private: the figures are the viewer's own scope; a short max-age spares redrawing on a page's reload
    return Response(image, mimetype="image/svg+xml", headers={"Cache-Control": "private, max-age=60"})

