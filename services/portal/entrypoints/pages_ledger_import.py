"""Portal pages: importing an office's existing 整改台账 (.xlsx) — upload, a preview of every row, then confirm.

The workbook is checked whole (services/portal/domain/ledger_import.py); with any mistake nothing is imported and
each mistake is shown with its cell. On confirmation the notices and their cases' steps are recorded through the
services as the signed-in office staff (services/portal/adapters/ledger_loader.py). Between preview and
confirmation the upload waits in a folder of the portal's host, named by its sha256 (any web worker finds it).
"""
from __future__ import annotations


from flask import Blueprint, flash, redirect, request, url_for

from shared.auth import Role
from services.api_client import ApiError
from services.portal.adapters.uploads import UploadShelf
from services.portal.adapters.ledger_loader import LedgerLoader
from services.portal.adapters.ledger_workbook import MAX_BYTES, UnreadableWorkbook, read_workbook
from services.portal.domain.ledger_import import LedgerImport, read_ledger
from services.portal.entrypoints.common import portal, render, user_token, viewer
from services.portal.entrypoints.pages_notices import require_roles

blp = Blueprint("ledger_import", __name__)

UPLOADS = UploadShelf("duban-ledger-uploads", keep_seconds=24 * 3600)
STEP_ZH = {"plan": "整改方案", "progress": "整改进展", "completion": "整改报告", "reinspection": "复查", "close": "销号"}


@blp.get("/ledger/import")
def import_form():
    require_roles(Role.OFFICE_STAFF, action_zh="导入整改台账")
    return render("ledger_import.html", result=None)


@blp.post("/ledger/import")
def import_preview():
    require_roles(Role.OFFICE_STAFF, action_zh="导入整改台账")
    upload = request.files.get("file")
    data = upload.read(MAX_BYTES + 1) if upload is not None and upload.filename else b""
    if not data:
        flash("请选择要导入的整改台账文件（.xlsx）", "error")
        return render("ledger_import.html", result=None), 422
    try:
        result = _checked(data)
    except UnreadableWorkbook as unreadable:
        flash(str(unreadable), "error")
        return render("ledger_import.html", result=None), 422
    digest = UPLOADS.keep(data)
    return render("ledger_import.html", result=result, digest=digest, filename=upload.filename, steps_zh=STEP_ZH), \
        200 if result.ok else 422


@blp.post("/ledger/import/confirm")
def import_confirm():
    require_roles(Role.OFFICE_STAFF, action_zh="导入整改台账")
    digest = request.form.get("digest", "")
    data = UPLOADS.get(digest)
    if data is None:
        flash("待导入的文件已过期，请重新上传", "error")
        return redirect(url_for("ledger_import.import_form"))
    result = _checked(data)
    if not result.ok:
        flash("台账有错误，未导入", "error")
        return redirect(url_for("ledger_import.import_form"))
    context = portal()
    loader = LedgerLoader(context.service("notices", user_token()), context.service("followups", user_token()),
                          issuer=viewer().unit or "")
    try:
        report = loader.load(result)
    except (ApiError, TimeoutError) as error:  # what was recorded stays; importing again goes on from there
        flash(f"导入未完成：{error}。已导入的部分保留，重新导入将从中断处继续。", "error")
        return redirect(url_for("ledger_import.import_form"))
    UPLOADS.drop(digest)
    flash(f"已导入 {report.rows} 行：下发通知 {report.notices_issued} 份（已存在 {report.notices_found} 份），"
          f"记录办理步骤 {report.steps_recorded} 个", "success")
    return redirect(url_for("reports.ledger_page"))


def _checked(data: bytes) -> LedgerImport:
    cells = read_workbook(data)
    return read_ledger(cells.headers, cells.rows, issuer=viewer().unit or "", today=portal().clock.today(),
                       header_row=cells.header_row)

