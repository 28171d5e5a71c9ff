"""Portal pages: 名录管理 — the directory's units (单位名录) and people (人员与账号) for administrators, importing both
from a workbook, and every signed-in person's own 修改密码.

Nothing is kept here: every page reads the directory service and every form is one of its commands, sent as the
signed-in person (the directory itself refuses anyone but an administrator). Contacts are shown masked.
"""
from __future__ import annotations

from itertools import groupby
from urllib.parse import quote

from flask import Blueprint, Response, flash, g, redirect, request, url_for
from marshmallow import Schema, fields, validate

from shared.auth import Role
from shared.vocabulary import ROLE_ZH, UNIT_KIND_ZH
from shared.accounts import MOBILE_PATTERN, USERNAME_PATTERN
from services.api_client import ApiClient, ApiError, flatten_errors
from services.portal.adapters.uploads import UploadShelf
from services.portal.adapters.directory_client import DirectoryClient, ImportInterrupted
from services.portal.adapters.directory_workbook import read_directory_workbook, template_workbook
from services.portal.adapters.ledger_workbook import MAX_BYTES, UnreadableWorkbook
from services.portal.domain.directory_import import DirectoryImport, in_tree_order, read_directory
from services.portal.entrypoints.common import (failure_headers, failure_status, load_args, load_form, masked_email,
                                                masked_mobile, portal, render, user_token)
from services.portal.entrypoints.pages_notices import one_of, require_roles, text

blp = Blueprint("directory", __name__)

ROLES = tuple(role for role in ROLE_ZH if role in Role.ALL)
# the workbook holds initial passwords: kept an hour at most, and removed once imported
UPLOADS = UploadShelf("duban-directory-uploads", keep_seconds=3600)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TEMPLATE_NAME = "单位与人员导入模板.xlsx"


def _admin() -> None:
    require_roles(action_zh="管理单位与人员名录")


def _api() -> ApiClient:
    return portal().service("directory", user_token())


def _directory() -> DirectoryClient:
    return DirectoryClient(_api())


def _act(action, done_zh: str) -> bool:
    """Run a call to the directory; its refusal is flashed in its own Chinese words (and kept for the page's status)."""
    try:
        action()
    except ApiError as error:
        g.service_failure = error
        if failure_status(error) == 503:
            flash("未能办理：名录服务暂时不可用，请稍后重试", "error")
        else:
            flash(f"未能办理：{refusal_zh(error)}", "error")
        return False
    flash(done_zh, "success")
    return True


def _failed_status() -> int:
    """The status of a page showing the last ``_act``'s failure: the directory's own for a refusal (409, 422 …)."""
    return failure_status(g.service_failure)


@blp.after_request
def _retry_later(response: Response) -> Response:
    """A page showing that the directory was unavailable says when to try again, as the portal's other 503s do."""
    if response.status_code == 503:
        for name, value in failure_headers(503).items():
            response.headers.setdefault(name, value)
    return response


def refusal_zh(error: ApiError) -> str:
    """The directory's reason in Chinese, with each field it named."""
    named = [f"{path}：{problem}" for path, problem in flatten_errors(error.field_errors)]
    return (error.body.get("message_zh") or str(error)) + (f"（{'；'.join(named)}）" if named else "")


# -- masking ----------------------------------------------------------------------------------------------

# (common.py has them: the timeline and the message pages mask contacts too)
blp.add_app_template_filter(masked_mobile, "masked_mobile")
blp.add_app_template_filter(masked_email, "masked_email")


# -- forms ------------------------------------------------------------------------------------------------

EXPECTED_VERSION = fields.Integer(load_default=None, validate=validate.Range(min=1))
REGION_CODE = fields.String(load_default=None, validate=validate.Regexp(r"^\d{6,12}$", error="行政区划代码应为6至12位数字"))


class UnitForm(Schema):  # 登记单位
    name = text("单位名称", required=True, max_length=200)
    kind = fields.String(required=True, validate=one_of("类别", UNIT_KIND_ZH), error_messages={"required": "请选择类别"})
    parent = text("上级单位", load_default=None, max_length=200)
    short_name = text("简称", load_default=None, max_length=50)
    region_code = REGION_CODE


class UnitChangeForm(Schema):  # 修改单位信息
    kind = fields.String(required=True, validate=one_of("类别", UNIT_KIND_ZH), error_messages={"required": "请选择类别"})
    short_name = text("简称", load_default=None, max_length=50)
    region_code = REGION_CODE
    expected_version = EXPECTED_VERSION


class UnitMoveForm(Schema):  # 调整隶属关系
    parent = text("上级单位", load_default=None, max_length=200)  # none: a top unit
    expected_version = EXPECTED_VERSION


class UnitMergeForm(Schema):  # 撤并
    merged_into = text("并入单位", required=True, max_length=200)
    expected_version = EXPECTED_VERSION


class PersonForm(Schema):  # 登记人员 (roles: the checkboxes)
    username = fields.String(required=True, validate=validate.Regexp(
        USERNAME_PATTERN, error="用户名应以字母或数字开头，2至64位，只含字母、数字和 . _ @ -"),
        error_messages={"required": "请填写用户名"})
    name = text("姓名", required=True, max_length=50)
    unit = text("所属单位", load_default=None, max_length=200)
    password = text("初始密码", required=True, max_length=200)
    password_again = text("再次输入初始密码", required=True, max_length=200)
    mobile = fields.String(load_default=None, validate=validate.Regexp(MOBILE_PATTERN, error="手机号应为11位手机号码"))
    email = fields.Email(load_default=None, validate=validate.Length(max=200), error_messages={"invalid": "邮箱格式不正确"})


class PersonUnitForm(Schema):  # 调整所属单位
    unit = text("所属单位", load_default=None, max_length=200)
    expected_version = EXPECTED_VERSION


class VersionForm(Schema):  # 调整角色 (roles: the checkboxes), 启用账号
    expected_version = EXPECTED_VERSION


class DisableForm(Schema):  # 停用账号
    reason = text("停用原因", required=True, max_length=500)
    expected_version = EXPECTED_VERSION


class PasswordResetForm(Schema):  # 重置密码
    new_password = text("新密码", required=True, max_length=200)
    new_password_again = text("再次输入新密码", required=True, max_length=200)


class OwnPasswordForm(Schema):  # 修改本人密码
    current_password = text("当前密码", required=True, max_length=200)
    new_password = text("新密码", required=True, max_length=200)
    new_password_again = text("再次输入新密码", required=True, max_length=200)


class PeopleQuery(Schema):
    unit = fields.String(validate=validate.Length(min=1, max=200))
    role = fields.String(validate=one_of("角色", ROLES))
    active = fields.Boolean()


def _roles_chosen() -> list[str] | None:
    """The roles ticked; None if none. The first is the one signed in with: the roles a person had keep their order
    (``role_order``, the form's hidden list), the others follow in the vocabulary's."""
    chosen = set(request.form.getlist("roles"))
    had = [role for role in request.form.get("role_order", "").split(",") if role in ROLES]
    roles = [role for role in dict.fromkeys(had + list(ROLES)) if role in chosen]
    if not roles:
        flash("roles：请至少选择一个角色", "error")
        return None
    return roles


def _same_twice(form: dict, first: str, second: str) -> bool:
    if form[first] != form[second]:
        flash("两次输入的密码不一致", "error")
        return False
    return True


def _path(kind: str, stream_id: str, action: str = "") -> str:
    return f"/{kind}/{quote(stream_id, safe='')}{action}"


# -- units ------------------------------------------------------------------------------------------------

@blp.get("/directory")
def directory_home():
    _admin()
    return redirect(url_for("directory.units_page"))


@blp.get("/directory/units")
def units_page():
    _admin()
    return _units_page()


def _units_page(values=None, status: int = 200):
    units = _directory().units()
    tree, loop = in_tree_order(units, lambda u: u["name"], lambda u: u.get("parent"))
    tree += [(0, unit) for unit in loop]  # the directory refuses loops; shown anyway rather than hidden
    return render("directory_units.html", tree=tree, active=[u for u in units if u.get("active")], kinds=UNIT_KIND_ZH,
                  values=values or {}), status


@blp.post("/directory/units")
def add_unit():
    _admin()
    form = load_form(UnitForm())
    if form is None:
        return _units_page(request.form, 422)
    if not _act(lambda: _api().post("/units", form), f"已登记单位“{form['name']}”"):
        return _units_page(request.form, _failed_status())
    return redirect(url_for("directory.units_page"))


@blp.get("/directory/units/<unit_id>")
def unit_page(unit_id: str):
    _admin()
    return _unit_page(unit_id)


def _unit_page(unit_id: str, status: int = 200):
    directory = _directory()
    unit, _ = directory.api.get(_path("units", unit_id))
    units = directory.units()
    below = _below(units, unit["name"])
    others = [u for u in units if u.get("active") and u["name"] != unit["name"]]
    return render("directory_unit.html", unit=unit, kinds=UNIT_KIND_ZH,
                  parents=[u for u in others if u["name"] not in below],
                  survivors=others, children=[u for u in units if u.get("parent") == unit["name"]],
                  people=directory.people(unit=unit["name"])), status


def _below(units: list[dict], name: str) -> set[str]:
    """The names of every unit under ``name`` (a unit cannot be put under one of them)."""
    found: set[str] = set()
    frontier = {name}
    while frontier:
        frontier = {u["name"] for u in units if u.get("parent") in frontier} - found
        found |= frontier
    return found


def _unit_command(unit_id: str, schema: Schema, action: str, done_zh: str):
    _admin()
    form = load_form(schema)
    if form is None:
        return _unit_page(unit_id, 422)
    if not _act(lambda: _api().post(_path("units", unit_id, action), form), done_zh):
        return _unit_page(unit_id, _failed_status())
    return redirect(url_for("directory.unit_page", unit_id=unit_id))


@blp.post("/directory/units/<unit_id>/changes")
def change_unit(unit_id: str):
    return _unit_command(unit_id, UnitChangeForm(), "/changes", "单位信息已修改")


@blp.post("/directory/units/<unit_id>/parent")
def move_unit(unit_id: str):
    return _unit_command(unit_id, UnitMoveForm(), "/parent", "隶属关系已调整")


@blp.post("/directory/units/<unit_id>/merger")
def merge_unit(unit_id: str):
    return _unit_command(unit_id, UnitMergeForm(), "/merger", "已撤并")


# -- people -----------------------------------------------------------------------------------------------

@blp.get("/directory/people")
def people_page():
    _admin()
    return _people_page()


def _people_page(values=None, status: int = 200):
    args = load_args(PeopleQuery())
    directory = _directory()
    people = directory.people(**args)
    units = directory.units()
    by_unit = [(unit, list(rows)) for unit, rows in groupby(people, key=lambda p: p.get("unit") or "")]
    return render("directory_people.html", by_unit=by_unit, count=len(people), args=args, roles=ROLES,
                  units=[u for u in units if u.get("active")], values=values or {}), status


@blp.post("/directory/people")
def add_person():
    _admin()
    form, roles = load_form(PersonForm()), _roles_chosen()
    if form is None or roles is None or not _same_twice(form, "password", "password_again"):
        return _people_page(_without_passwords(request.form), 422)
    body = {**{k: v for k, v in form.items() if k != "password_again"}, "roles": roles}
    if not _act(lambda: _api().post("/people", body), f"已登记人员“{form['name']}”（{form['username']}）"):
        return _people_page(_without_passwords(request.form), _failed_status())
    return redirect(url_for("directory.people_page"))


def _without_passwords(form) -> dict:
    """What a form is shown again with: never a password."""
    values = {k: v for k, v in form.items() if "password" not in k}
    values["roles"] = form.getlist("roles")
    return values


@blp.get("/directory/people/<person_id>")
def person_page(person_id: str):
    _admin()
    return _person_page(person_id)


def _person_page(person_id: str, status: int = 200):
    directory = _directory()
    person, _ = directory.api.get(_path("people", person_id))
    units = [u for u in directory.units() if u.get("active")]
    return render("directory_person.html", person=person, roles=ROLES, units=units), status


def _person_command(person_id: str, action: str, body: dict | None, done_zh: str):
    if body is None:
        return _person_page(person_id, 422)
    if not _act(lambda: _api().post(_path("people", person_id, action), body), done_zh):
        return _person_page(person_id, _failed_status())
    return redirect(url_for("directory.person_page", person_id=person_id))


@blp.post("/directory/people/<person_id>/roles")
def set_roles(person_id: str):
    _admin()
    form, roles = load_form(VersionForm()), _roles_chosen()
    body = {**form, "roles": roles} if form is not None and roles is not None else None
    return _person_command(person_id, "/roles", body, "角色已调整；该人员需重新登录")


@blp.post("/directory/people/<person_id>/unit")
def move_person(person_id: str):
    _admin()
    return _person_command(person_id, "/unit", load_form(PersonUnitForm()), "所属单位已调整；该人员需重新登录")


@blp.post("/directory/people/<person_id>/disable")
def disable_person(person_id: str):
    _admin()
    return _person_command(person_id, "/disable", load_form(DisableForm()), "账号已停用，其登录已全部失效")


@blp.post("/directory/people/<person_id>/enable")
def enable_person(person_id: str):
    _admin()
    return _person_command(person_id, "/enable", load_form(VersionForm()), "账号已启用")


@blp.post("/directory/people/<person_id>/password-reset")
def reset_password(person_id: str):
    _admin()
    form = load_form(PasswordResetForm())
    body = {"new_password": form["new_password"]} if form and _same_twice(form, "new_password",
                                                                           "new_password_again") else None
    return _person_command(person_id, "/password-reset", body, "密码已重置，请将新密码告知本人并提醒其登录后修改")


# -- one's own password -----------------------------------------------------------------------------------

@blp.get("/account/password")
def password_page():
    return render("directory_password.html")


@blp.post("/account/password")
def change_own_password():
    form = load_form(OwnPasswordForm())
    if form is None or not _same_twice(form, "new_password", "new_password_again"):
        return render("directory_password.html"), 422
    api = _api()

    def change() -> None:
        me, _ = api.get("/people/me")
        api.post(_path("people", me["id"], "/password"),
                 {"current_password": form["current_password"], "new_password": form["new_password"]})

    if not _act(change, "密码已修改，下次登录请使用新密码"):
        return render("directory_password.html"), _failed_status()
    return redirect("/")


# -- import from a workbook -------------------------------------------------------------------------------

@blp.get("/directory/import")
def import_form():
    _admin()
    return render("directory_import.html", result=None)


@blp.get("/directory/import/template")
def import_template():
    _admin()
    return Response(template_workbook(), mimetype=XLSX,
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(TEMPLATE_NAME)}"})


@blp.post("/directory/import")
def import_preview():
    _admin()
    upload = request.files.get("file")
    data = upload.read(MAX_BYTES + 1) if upload is not None and upload.filename else b""
    if not data:
        flash("请选择要导入的文件（.xlsx）", "error")
        return render("directory_import.html", result=None), 422
    try:
        result = _checked(data)
    except UnreadableWorkbook as unreadable:
        flash(str(unreadable), "error")
        return render("directory_import.html", result=None), 422
    digest = UPLOADS.keep(data) if result.ok else None  # a workbook with mistakes is not kept: it is uploaded again
    return render("directory_import.html", result=result, digest=digest, filename=upload.filename,
                  kinds=UNIT_KIND_ZH), 200 if result.ok else 422


@blp.post("/directory/import/confirm")
def import_confirm():
    _admin()
    digest = request.form.get("digest", "")
    data = UPLOADS.get(digest)
    if data is None:
        flash("待导入的文件已过期，请重新上传", "error")
        return redirect(url_for("directory.import_form"))
    try:
        result = _checked(data)
    except UnreadableWorkbook as unreadable:
        flash(str(unreadable), "error")
        return redirect(url_for("directory.import_form"))
    if not result.ok:  # the directory changed since the preview (a unit merged meanwhile …)
        flash("；".join(error.text() for error in result.errors[:5]) + "。未导入，请改正后重新上传", "error")
        return redirect(url_for("directory.import_form"))
    try:
        report = _directory().load(result)
    except ImportInterrupted as stopped:  # what was registered stays; importing again goes on from there
        done = stopped.report
        flash(f"导入未完成：{stopped.where_zh()}：{refusal_zh(stopped.error)}。"
              f"此前已登记单位 {done.units_registered} 个、人员 {done.people_registered} 人；"
              "改正后重新导入将从中断处继续。", "error")
        return redirect(url_for("directory.import_form"))
    UPLOADS.drop(digest)
    flash(f"导入完成：登记单位 {report.units_registered} 个（已存在 {report.units_found} 个），"
          f"登记人员 {report.people_registered} 人（已存在 {report.people_found} 人）", "success")
    return redirect(url_for("directory.people_page"))


def _checked(data: bytes) -> DirectoryImport:
    cells = read_directory_workbook(data)
    return read_directory(cells.units, cells.people, existing_units=_directory().unit_standing())

