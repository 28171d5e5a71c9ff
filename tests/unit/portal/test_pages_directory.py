"""The portal's 名录管理 pages: units as a tree, people with masked contacts, every form one directory command, the
workbook import with its preview, and one's own 修改密码.

The directory's HTTP API is not running here: a stand-in client answers its lists from a few units and people and
records each command, or refuses it as the directory would (tests/integration/test_portal_directory_pages.py runs the
same pages against the real directory service).
"""
from __future__ import annotations

import hashlib
import io
import json
import re
from datetime import date
from html import unescape

import pytest
from openpyxl import Workbook, load_workbook

from shared.auth import Role, issue_token
from shared.clock import FixedClock
from shared.config import Settings
from shared.policy import PolicyBook
from services.api_client import ServiceRefused, ServiceUnreachable
from services.portal.adapters.directory_client import DirectoryClient
from services.portal.adapters.users import UserDirectory
from services.portal.context import PortalContext
from services.portal.domain.model import PortalModel
from services.portal.entrypoints.api import COOKIE, CSRF_FIELD, create_app
from tests.portal_forms import FormClient

CITY, BAZHOU, ENYANG, SCHOOL, OLD = "巴中市教育局", "巴州区教育局", "恩阳区教育局", "巴州区第三小学", "巴州区老区教育局"
PASSWORD = "Bazhong-2026"


def unit(name: str, kind: str = "bureau", parent: str | None = None, merged_into: str | None = None, **more) -> dict:
    return {"id": f"unit-{hashlib.sha256(name.encode()).hexdigest()[:12]}", "name": name, "kind": kind,
            "parent": parent, "short_name": None, "region_code": None, "merged_into": merged_into,
            "active": merged_into is None, "version": 1, **more}


def person(username: str, name: str, unit_name: str | None, roles: list[str], **more) -> dict:
    return {"id": f"person-{username}", "username": username, "name": name, "unit": unit_name, "roles": roles,
            "mobile": None, "email": None, "active": True, "epoch": 1, "version": 1, **more}


UNITS = [unit(SCHOOL, "school", BAZHOU), unit(BAZHOU, parent=CITY, short_name="巴州区", region_code="511902"),
         unit(CITY, region_code="511900"), unit(ENYANG, parent=CITY), unit(OLD, parent=CITY, merged_into=BAZHOU)]
PEOPLE = [person("zhao", "赵伟", BAZHOU, ["unit_leader", "unit_handler"], mobile="13812341234", email="zhao@example.cn"),
          person("li", "李娜", ENYANG, ["unit_handler"], active=False),
          person("root", "管理员", None, ["admin"])]


def refused(status: int, message_zh: str, field: str | None = None) -> ServiceRefused:
    body = {"code": "refused", "status": status, "message": "refused", "message_zh": message_zh,
            "details": {"field": field} if field else {}}
    return ServiceRefused("http://directory", status, body)


class Directory:
    """Stands in for the directory's HTTP client: lists from ``units`` and ``people`` (``per_page`` at a time, as
    X-Pagination says), each command recorded and answered, or refused by ``refuse(path, body)``."""

    def __init__(self, units=UNITS, people=PEOPLE, refuse=None, per_page: int = 100):
        self.units, self.people, self.refuse, self.per_page = list(units), list(people), refuse, per_page
        self.calls: list[tuple[str, dict]] = []
        self.tokens: set[str] = set()

    def __call__(self, name: str, token: str):
        assert name == "directory"
        self.tokens.add(token)
        return self

    def get(self, path: str, page: int = 1, page_size: int = 100, **filters):
        if path in ("/units", "/people"):
            rows = [row for row in (self.units if path == "/units" else self.people)
                    if all(str(row.get(k)).lower() == str(v).lower() for k, v in filters.items())]
            size = min(page_size, self.per_page)
            pages = max(1, -(-len(rows) // size))
            return rows[(page - 1) * size:page * size], {"x-pagination": json.dumps({"total": len(rows),
                                                                                      "total_pages": pages})}
        if path == "/people/me":
            return self.people[-1], {}
        found = [row for row in self.units + self.people if path.endswith("/" + row["id"])]
        if not found:
            raise refused(404, "不存在")
        return found[0], {}

    def post(self, path: str, body=None, idempotency_key=None):
        self.calls.append((path, body))
        if self.refuse is not None and (error := self.refuse(path, body)) is not None:
            raise error
        return {}


@pytest.fixture
def context() -> PortalContext:
    settings = Settings(jwt_secret="portal-directory-pages-test-secret-32-bytes", log_level="WARNING",
                        directory_url="http://127.0.0.1:9")
    return PortalContext(settings=settings, model=PortalModel(), users=UserDirectory.demo(), policies=PolicyBook(),
                         clock=FixedClock(date(2026, 12, 4)))


@pytest.fixture
def app(context):
    app = create_app(context)
    app.config["TESTING"] = True
    app.test_client_class = FormClient  # posts carry the form token, as the portal's pages do
    return app


@pytest.fixture
def directory(context, monkeypatch) -> Directory:
    stand_in = Directory()
    monkeypatch.setattr(context, "service", stand_in)
    return stand_in


@pytest.fixture
def sign_in(app, context):
    """A browser signed in as someone (the session's token as the portal issues it, and a form token)."""
    def signed_in(role: str = Role.ADMIN, username: str = "root", unit: str | None = None):
        client = app.test_client()
        client.set_cookie(COOKIE, issue_token(context.settings.jwt_secret, username, role, unit, "某人"))
        with client.session_transaction() as session:
            session[CSRF_FIELD] = "form-token-of-this-test"
        return client

    return signed_in


@pytest.fixture
def admin(sign_in):
    return sign_in()


def page(client, url: str, status: int = 200) -> str:
    answer = client.get(url)
    assert answer.status_code == status, (url, answer.status_code, answer.get_data(as_text=True)[:2000])
    return answer.get_data(as_text=True)


def flashed(html: str) -> list[str]:
    return re.findall(r'<div class="flash \w+">([^<]*)</div>', html)


def id_of(name: str) -> str:
    return next(u["id"] for u in UNITS if u["name"] == name)


# -- who may -------------------------------------------------------------------------------------------------

class TestOnlyAdministrators:
    @pytest.mark.parametrize("url", ["/directory/units", "/directory/people", f"/directory/units/{id_of(BAZHOU)}",
                                     "/directory/people/person-zhao", "/directory/import",
                                     "/directory/import/template"])
    def test_anyone_else_gets_a_403_page_and_the_directory_is_not_asked(self, sign_in, directory, url):
        office = sign_in(Role.OFFICE_STAFF, "office", "巴中市人民政府教育督导委员会办公室")
        assert "无权管理单位与人员名录" in page(office, url, 403)
        assert directory.tokens == set()

    @pytest.mark.parametrize("url", ["/directory/units", "/directory/people", "/directory/people/person-zhao/disable",
                                     "/directory/import/confirm"])
    def test_nor_may_anyone_else_send_a_form(self, sign_in, directory, url):
        handler = sign_in(Role.UNIT_HANDLER, "bazhou", BAZHOU)
        assert handler.post(url, data={"name": "x", "kind": "school", "reason": "x"}).status_code == 403
        assert directory.calls == []

    def test_the_menu_shows_名录管理_to_administrators_only_and_修改密码_to_everyone(self, sign_in, directory):
        assert "名录管理" in page(sign_in(), "/account/password")
        html = page(sign_in(Role.INSPECTOR, "inspector", None), "/account/password")
        assert "名录管理" not in html and "修改密码" in html

    def test_every_form_that_changes_something_carries_the_form_token(self, admin, directory):
        for url in ("/directory/units", f"/directory/units/{id_of(BAZHOU)}", "/directory/people",
                    "/directory/people/person-zhao", "/directory/people/person-li", "/directory/import",
                    "/account/password"):
            html = page(admin, url)
            forms = re.findall(r'<form[^>]*method="post"[^>]*>(.*?)</form>', html, re.S)
            assert forms and all(f'name="{CSRF_FIELD}"' in form for form in forms), url

    def test_a_form_without_the_token_is_refused(self, app, context, directory):
        app.test_client_class = None
        client = app.test_client()  # Flask's own client: no token added
        client.set_cookie(COOKIE, issue_token(context.settings.jwt_secret, "root", Role.ADMIN, None, "管理员"))
        assert client.post("/directory/units", data={"name": "x", "kind": "school"}).status_code == 403
        assert directory.calls == []


# -- units -----------------------------------------------------------------------------------------------------

class TestTheUnitTree:
    def test_units_are_shown_under_their_parents_with_kind_short_name_region_code_and_standing(self, admin, directory):
        html = page(admin, "/directory/units")
        rows = re.findall(r'<tr data-unit="([^"]+)" data-depth="(\d)">', html)
        assert rows == [(CITY, "0"), (BAZHOU, "1"), (SCHOOL, "2"), (ENYANG, "1"), (OLD, "1")]
        assert "511902" in html and "巴州区" in html and "学校" in html and "教育局" in html
        assert f"已撤并 → 并入{BAZHOU}" in html

    def test_the_list_is_read_page_by_page(self, directory):
        directory.per_page = 2
        assert [u["name"] for u in DirectoryClient(directory).units()] == [u["name"] for u in UNITS]

    def test_a_unit_is_added_under_a_parent_picked_from_the_active_units(self, admin, directory):
        html = page(admin, "/directory/units")
        parents = re.findall(r'<option value="([^"]*)"', html.split('name="parent"')[1].split("</select>")[0])
        assert parents == ["", SCHOOL, BAZHOU, CITY, ENYANG]  # not the merged one
        answer = admin.post("/directory/units", data={"name": "巴州区第四小学", "kind": "school", "parent": BAZHOU,
                                                      "short_name": "", "region_code": "511902001"})
        assert answer.status_code == 302
        assert directory.calls == [("/units", {"name": "巴州区第四小学", "kind": "school", "parent": BAZHOU,
                                               "short_name": None, "region_code": "511902001"})]
        assert "已登记单位“巴州区第四小学”" in flashed(page(admin, "/directory/units"))

    def test_a_refusal_is_shown_in_chinese_with_the_form_kept(self, admin, directory):
        directory.refuse = lambda path, body: refused(409, f"单位“{body['name']}”已登记")
        answer = admin.post("/directory/units", data={"name": SCHOOL, "kind": "school", "parent": BAZHOU})
        html = answer.get_data(as_text=True)
        assert answer.status_code == 409 and f"未能办理：单位“{SCHOOL}”已登记" in flashed(html)
        assert f'value="{SCHOOL}"' in html

    def test_a_bad_form_is_not_sent(self, admin, directory):
        answer = admin.post("/directory/units", data={"name": "某中学", "kind": "castle", "region_code": "12"})
        html = answer.get_data(as_text=True)
        assert answer.status_code == 422 and "类别取值无效" in html and "行政区划代码应为6至12位数字" in html
        assert directory.calls == []

    def test_a_unit_is_edited_moved_and_merged(self, admin, directory):
        bazhou = id_of(BAZHOU)
        html = page(admin, f"/directory/units/{bazhou}")
        move = html.split('action="/directory/units/%s/parent"' % bazhou)[1].split("</form>")[0]
        assert re.findall(r'<option value="([^"]*)"', move) == ["", CITY, ENYANG]  # not itself nor its school
        assert SCHOOL in html  # among its children
        assert admin.post(f"/directory/units/{bazhou}/changes", data={
            "kind": "bureau", "short_name": "巴州", "region_code": "", "expected_version": "1"}).status_code == 302
        assert admin.post(f"/directory/units/{bazhou}/parent", data={"parent": "", "expected_version": "1"}
                          ).status_code == 302
        assert admin.post(f"/directory/units/{bazhou}/merger", data={"merged_into": ENYANG, "confirm": "yes",
                                                                     "expected_version": "1"}).status_code == 302
        assert directory.calls == [
            (f"/units/{bazhou}/changes", {"kind": "bureau", "short_name": "巴州", "region_code": None,
                                          "expected_version": 1}),
            (f"/units/{bazhou}/parent", {"parent": None, "expected_version": 1}),
            (f"/units/{bazhou}/merger", {"merged_into": ENYANG, "expected_version": 1})]

    def test_a_merged_unit_offers_no_forms(self, admin, directory):
        html = page(admin, f"/directory/units/{id_of(OLD)}")
        assert f"该单位已并入“{BAZHOU}”" in html and "/merger" not in html

    def test_a_change_made_meanwhile_is_a_409_on_the_unit_page(self, admin, directory):
        directory.refuse = lambda path, body: refused(409, "该单位已被他人修改，请刷新后重试")
        answer = admin.post(f"/directory/units/{id_of(CITY)}/changes", data={"kind": "bureau", "expected_version": "1"})
        assert answer.status_code == 409 and "未能办理：该单位已被他人修改，请刷新后重试" in answer.get_data(as_text=True)

    def test_an_unknown_unit_is_a_404_page(self, admin, directory):
        assert "不存在" in page(admin, "/directory/units/unit-nope", 404)


# -- people ----------------------------------------------------------------------------------------------------

class TestPeople:
    def test_people_are_listed_by_unit_with_role_labels_masked_contacts_and_standing(self, admin, directory):
        html = page(admin, "/directory/people")
        assert html.index(f"<h2>{BAZHOU}</h2>") < html.index('data-person="zhao"')
        assert "单位负责人、责任单位经办人" in html and "138****1234" in html and "z***@example.cn" in html
        assert "13812341234" not in html and "zhao@example.cn" not in html
        assert "已停用" in html and "未属任何单位" in html

    def test_a_person_is_added_with_the_roles_ticked(self, admin, directory):
        answer = admin.post("/directory/people", data={
            "username": "wang", "name": "王芳", "unit": ENYANG, "roles": ["unit_handler", "unit_leader"],
            "password": PASSWORD, "password_again": PASSWORD, "mobile": "13900001111", "email": ""})
        assert answer.status_code == 302
        assert directory.calls == [("/people", {"username": "wang", "name": "王芳", "unit": ENYANG,
                                                "roles": ["unit_handler", "unit_leader"], "password": PASSWORD,
                                                "mobile": "13900001111", "email": None})]

    @pytest.mark.parametrize("change, message", [
        ({"roles": []}, "请至少选择一个角色"),
        ({"password_again": "Bazhong-2027"}, "两次输入的密码不一致"),
        ({"mobile": "1390000"}, "手机号应为11位手机号码"),
        ({"username": "王"}, "用户名应以字母或数字开头"),
    ])
    def test_a_bad_form_is_not_sent_and_never_shows_the_password_again(self, admin, directory, change, message):
        form = {"username": "wang", "name": "王芳", "unit": ENYANG, "roles": ["unit_handler"], "password": PASSWORD,
                "password_again": PASSWORD, **change}
        answer = admin.post("/directory/people", data=form)
        html = answer.get_data(as_text=True)
        assert answer.status_code == 422 and message in html and PASSWORD not in html
        assert directory.calls == []

    def test_the_directory_s_password_policy_is_shown_as_it_says_it(self, admin, directory):
        directory.refuse = lambda path, body: refused(422, "密码不能包含用户名", "password")
        answer = admin.post("/directory/people", data={
            "username": "wang", "name": "王芳", "roles": ["office_staff"], "password": "wang-2026-xx",
            "password_again": "wang-2026-xx"})
        html = answer.get_data(as_text=True)
        assert answer.status_code == 422 and "未能办理：密码不能包含用户名" in html and "wang-2026-xx" not in html
        assert 'value="wang"' in html and 'value="office_staff" checked' in html

    def test_roles_unit_standing_and_password_are_changed_on_the_person_page(self, admin, directory):
        html = page(admin, "/directory/people/person-zhao")
        assert "138****1234" in html and "13812341234" not in html
        assert 'value="unit_leader" checked' in html and 'value="auditor" checked' not in html
        for action, form in (("roles", {"roles": ["unit_handler"], "expected_version": "1"}),
                             ("unit", {"unit": ENYANG, "expected_version": "1"}),
                             ("disable", {"reason": "调离", "expected_version": "1"}),
                             ("enable", {"expected_version": "2"}),
                             ("password-reset", {"new_password": "Reset-2027x", "new_password_again": "Reset-2027x"})):
            assert admin.post(f"/directory/people/person-zhao/{action}", data=form).status_code == 302, action
        assert directory.calls == [
            ("/people/person-zhao/roles", {"roles": ["unit_handler"], "expected_version": 1}),
            ("/people/person-zhao/unit", {"unit": ENYANG, "expected_version": 1}),
            ("/people/person-zhao/disable", {"reason": "调离", "expected_version": 1}),
            ("/people/person-zhao/enable", {"expected_version": 2}),
            ("/people/person-zhao/password-reset", {"new_password": "Reset-2027x"})]

    def test_roles_a_person_had_keep_their_order_so_their_default_role_stays(self, admin, directory):
        html = page(admin, "/directory/people/person-zhao")
        order = re.search(r'name="role_order" value="([^"]*)"', html).group(1)
        assert order == "unit_leader,unit_handler"
        admin.post("/directory/people/person-zhao/roles", data={
            "roles": ["auditor", "unit_handler", "unit_leader"], "role_order": order, "expected_version": "1"})
        assert directory.calls == [("/people/person-zhao/roles", {"roles": ["unit_leader", "unit_handler", "auditor"],
                                                                  "expected_version": 1})]

    def test_a_disabled_person_is_offered_enabling_and_a_reason_is_needed_to_disable(self, admin, directory):
        assert "启用账号" in page(admin, "/directory/people/person-li")
        answer = admin.post("/directory/people/person-zhao/disable", data={"reason": ""})
        assert answer.status_code == 422 and "请填写停用原因" in answer.get_data(as_text=True)
        assert directory.calls == []

    def test_an_unreachable_directory_is_a_503_page_not_a_500(self, admin, context, monkeypatch):
        class Unreachable(Directory):
            def get(self, *args, **kwargs):
                raise ServiceUnreachable("http://directory/people", "timed out")

        monkeypatch.setattr(context, "service", Unreachable())
        answer = admin.get("/directory/people")
        assert answer.status_code == 503 and answer.headers["Retry-After"] == "5"


# -- one's own password ----------------------------------------------------------------------------------------

class TestOwnPassword:
    def test_anyone_changes_their_own_password_on_their_own_entry(self, sign_in, directory):
        inspector = sign_in(Role.INSPECTOR, "inspector", None)
        answer = inspector.post("/account/password", data={
            "current_password": "Old-password-1", "new_password": "New-password-2", "new_password_again": "New-password-2"})
        assert answer.status_code == 302 and answer.headers["Location"] == "/"
        assert directory.calls == [("/people/person-root/password", {"current_password": "Old-password-1",
                                                                     "new_password": "New-password-2"})]

    def test_a_wrong_current_password_is_said_and_nothing_is_echoed(self, admin, directory):
        directory.refuse = lambda path, body: refused(422, "当前密码不正确", "current_password")
        answer = admin.post("/account/password", data={
            "current_password": "Wrong-pass-1", "new_password": "New-password-2", "new_password_again": "New-password-2"})
        html = answer.get_data(as_text=True)
        assert answer.status_code == 422 and "未能办理：当前密码不正确" in html
        assert "Wrong-pass-1" not in html and "New-password-2" not in html

    def test_an_unavailable_directory_is_a_503_with_retry_after(self, admin, directory):
        directory.refuse = lambda path, body: refused(503, "数据库暂时不可用，请稍后重试")
        answer = admin.post("/account/password", data={
            "current_password": "Old-password-1", "new_password": "New-password-2", "new_password_again": "New-password-2"})
        assert answer.status_code == 503 and answer.headers["Retry-After"] == "5"
        assert "名录服务暂时不可用" in answer.get_data(as_text=True)

    def test_the_new_password_must_be_typed_twice_alike(self, admin, directory):
        answer = admin.post("/account/password", data={
            "current_password": "Old-password-1", "new_password": "New-password-2", "new_password_again": "New-password-3"})
        assert answer.status_code == 422 and "两次输入的密码不一致" in answer.get_data(as_text=True)
        assert directory.calls == []


# -- import ----------------------------------------------------------------------------------------------------

def workbook(units: list[list], people: list[list]) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "单位"
    for cells in [["单位名称", "类别", "上级单位", "简称", "行政区划代码"], *units]:
        sheet.append(cells)
    sheet = book.create_sheet("人员")
    for cells in [["用户名", "姓名", "所属单位", "角色", "手机", "邮箱", "初始密码"], *people]:
        sheet.append(cells)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


GOOD = workbook([["巴州区第五小学", "学校", "巴州区第四小学", None, None], ["巴州区第四小学", "学校", BAZHOU, None, None],
                 [BAZHOU, "教育局", CITY, None, None]],
                [["sun", "孙磊", "巴州区第五小学", "责任单位经办人", "13700001111", "sun@example.cn", PASSWORD],
                 ["zhao", "赵伟", BAZHOU, "单位负责人", None, None, PASSWORD]])


def upload(client, data: bytes, name: str = "名录.xlsx"):
    return client.post("/directory/import", data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data")


class TestImport:
    def test_a_good_workbook_is_previewed_then_registered_parents_first_skipping_what_exists(self, admin, directory):
        directory.refuse = lambda path, body: refused(409, "用户名已被使用") if body.get("username") == "zhao" else None
        preview = upload(admin, GOOD)
        html = preview.get_data(as_text=True)
        assert preview.status_code == 200 and "确认导入" in html and "已存在，跳过" in html
        assert "137****1111" in html and PASSWORD not in html and "13700001111" not in html
        assert directory.calls == []  # nothing before confirmation
        digest = re.search(r'name="digest" value="([0-9a-f]{64})"', html).group(1)
        answer = admin.post("/directory/import/confirm", data={"digest": digest})
        assert answer.status_code == 302 and answer.headers["Location"].endswith("/directory/people")
        assert [(path, body.get("username") or body.get("name")) for path, body in directory.calls] == [
            ("/units", "巴州区第四小学"), ("/units", "巴州区第五小学"), ("/people", "sun"), ("/people", "zhao")]
        assert directory.calls[2][1]["roles"] == ["unit_handler"] and directory.calls[2][1]["password"] == PASSWORD
        assert flashed(page(admin, "/directory/people")) == [
            "导入完成：登记单位 2 个（已存在 1 个），登记人员 1 人（已存在 1 人）"]
        gone = admin.post("/directory/import/confirm", data={"digest": digest})  # the upload is not kept
        assert "已过期" in flashed(page(admin, gone.headers["Location"]))[0]

    def test_a_workbook_with_mistakes_names_each_and_offers_no_import(self, admin, directory):
        answer = upload(admin, workbook([["某中学", "学堂", None, None, None]],
                                        [["wu", "吴", "不存在的单位", "经理", None, None, "short"]]))
        html = unescape(answer.get_data(as_text=True))
        assert answer.status_code == 422 and "确认导入" not in html
        for text in ("单位表 第2行 类别：无法识别的类别 '学堂'", "人员表 第2行 所属单位：“不存在的单位”既不在名录中",
                     "人员表 第2行 角色：无法识别的角色 '经理'", "人员表 第2行 初始密码：密码至少 10 位"):
            assert text in html, text

    def test_an_import_stopped_by_a_refusal_says_where_and_goes_on_when_sent_again(self, admin, directory):
        directory.refuse = lambda path, body: (refused(503, "数据库暂时不可用，请稍后重试")
                                               if body.get("username") == "sun" else None)
        html = upload(admin, GOOD).get_data(as_text=True)
        digest = re.search(r'name="digest" value="([0-9a-f]{64})"', html).group(1)
        answer = admin.post("/directory/import/confirm", data={"digest": digest})
        message = flashed(page(admin, answer.headers["Location"]))[0]
        assert "导入未完成：人员表第2行（sun）" in message and "已登记单位 2 个" in message
        directory.units += [unit("巴州区第四小学", "school", BAZHOU), unit("巴州区第五小学", "school", "巴州区第四小学")]
        directory.refuse, directory.calls = None, []
        admin.post("/directory/import/confirm", data={"digest": digest})
        assert [body.get("username") for _, body in directory.calls] == ["sun", "zhao"]  # the units are there now

    @pytest.mark.parametrize("data, reason", [(b"", "请选择要导入的文件"), (b"not a workbook", "无法读取该文件")])
    def test_no_file_or_no_workbook_is_said(self, admin, directory, data, reason):
        answer = upload(admin, data, "x.xlsx" if data else "")
        assert answer.status_code == 422 and reason in answer.get_data(as_text=True)

    def test_the_template_downloads_with_both_sheets(self, admin, directory):
        answer = admin.get("/directory/import/template")
        assert answer.status_code == 200 and "attachment" in answer.headers["Content-Disposition"]
        assert load_workbook(io.BytesIO(answer.get_data())).sheetnames[:2] == ["单位", "人员"]
