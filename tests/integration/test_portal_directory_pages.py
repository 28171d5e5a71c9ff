"""The portal's 名录管理 pages against the real directory service on the real Kafka and MongoDB-protocol servers.

The directory runs in this process (its worker a thread, its web app served over HTTP on a free port by werkzeug, as
the portal's ApiClient needs a URL); the portal is a Flask test client signed in as an administrator.
"""
from __future__ import annotations

import io
import re
import threading
from dataclasses import replace
from datetime import date

import pytest
from openpyxl import Workbook
from werkzeug.serving import make_server

from shared.auth import Role, issue_token
from shared.clock import FixedClock
from shared.policy import PolicyBook
from shared.web import create_service_app
from shared.worker import Worker
from services.api_client import ApiClient
from services.directory.bootstrap import bootstrap as bootstrap_directory
from services.directory.domain.model import person_id_for, unit_id_for
from services.directory.entrypoints.api import BLUEPRINTS, PUBLIC_PATHS
from services.portal.adapters.users import UserDirectory
from services.portal.context import PortalContext
from services.portal.domain.model import PortalModel
from services.portal.entrypoints.api import COOKIE, CSRF_FIELD, create_app
from tests.portal_forms import FormClient

CITY, BAZHOU, SCHOOL = "巴中市教育局", "巴州区教育局", "巴州区第三小学"
PASSWORD = "Bazhong-2026"


@pytest.fixture
def directory_url(settings):
    context = bootstrap_directory(settings)
    worker = Worker(context)
    worker.start()
    server = make_server("127.0.0.1", 0, create_service_app(lambda: context, "directory", BLUEPRINTS,
                                                            public_paths=PUBLIC_PATHS), threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="directory-http", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)
        worker.shutdown()


@pytest.fixture
def portal(settings, directory_url):
    context = PortalContext(settings=replace(settings, directory_url=directory_url), model=PortalModel(),
                            users=UserDirectory.demo(), policies=PolicyBook(), clock=FixedClock(date(2026, 12, 4)))
    app = create_app(context)
    app.test_client_class = FormClient

    def signed_in(token: str):
        client = app.test_client()
        client.set_cookie(COOKIE, token)
        with client.session_transaction() as session:
            session[CSRF_FIELD] = "form-token-of-this-test"
        return client

    return signed_in


def workbook() -> bytes:
    book = Workbook()
    units = book.active
    units.title = "单位"
    for cells in (["单位名称", "类别", "上级单位", "简称", "行政区划代码"], [SCHOOL, "学校", BAZHOU, None, None],
                  [BAZHOU, "教育局", CITY, "巴州区", "511902"], [CITY, "教育局", None, None, "511900"]):
        units.append(cells)
    people = book.create_sheet("人员")
    for cells in (["用户名", "姓名", "所属单位", "角色", "手机", "邮箱", "初始密码"],
                  ["zhao", "赵伟", SCHOOL, "责任单位经办人、单位负责人", "13812341234", "zhao@example.cn", PASSWORD]):
        people.append(cells)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def flashed(client, url: str) -> list[str]:
    return re.findall(r'<div class="flash \w+">([^<]*)</div>', client.get(url).get_data(as_text=True))


def import_once(admin) -> str:
    preview = admin.post("/directory/import", data={"file": (io.BytesIO(workbook()), "名录.xlsx")},
                         content_type="multipart/form-data")
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200, html
    digest = re.search(r'name="digest" value="([0-9a-f]{64})"', html).group(1)
    answer = admin.post("/directory/import/confirm", data={"digest": digest})
    assert answer.status_code == 302
    return flashed(admin, answer.headers["Location"])[0]


def test_an_administrator_imports_manages_and_a_person_changes_their_own_password(settings, directory_url, portal):
    admin = portal(issue_token(settings.jwt_secret, "root", Role.ADMIN, None, "管理员"))

    # Import: parents first; a second import of the same workbook finds everything there.
    assert import_once(admin) == "导入完成：登记单位 3 个（已存在 0 个），登记人员 1 人（已存在 0 人）"
    assert import_once(admin) == "导入完成：登记单位 0 个（已存在 3 个），登记人员 0 人（已存在 1 人）"
    html = admin.get("/directory/units").get_data(as_text=True)
    assert re.findall(r'<tr data-unit="([^"]+)" data-depth="(\d)">', html) == [(CITY, "0"), (BAZHOU, "1"), (SCHOOL, "2")]

    # People: roles in Chinese, contacts masked.
    html = admin.get("/directory/people").get_data(as_text=True)
    assert "责任单位经办人、单位负责人" in html and "138****1234" in html and "13812341234" not in html

    # A unit added by hand under another; the directory's refusal of a twin shown in its words.
    assert admin.post("/directory/units", data={"name": "巴州区第四小学", "kind": "school", "parent": BAZHOU}
                      ).status_code == 302
    twin = admin.post("/directory/units", data={"name": SCHOOL, "kind": "school"})
    assert twin.status_code == 409 and "已登记" in twin.get_data(as_text=True)
    merged = admin.post(f"/directory/units/{unit_id_for('巴州区第四小学')}/merger",
                        data={"merged_into": SCHOOL})
    assert merged.status_code == 302
    assert f"已撤并 → 并入{SCHOOL}" in admin.get("/directory/units").get_data(as_text=True)

    # The person's roles changed, then they are disabled and enabled again.
    zhao = person_id_for("zhao")
    assert admin.post(f"/directory/people/{zhao}/roles", data={"roles": ["unit_handler"]}).status_code == 302
    assert admin.post(f"/directory/people/{zhao}/disable", data={"reason": "调离"}).status_code == 302
    assert "已停用" in admin.get(f"/directory/people/{zhao}").get_data(as_text=True)
    assert admin.post(f"/directory/people/{zhao}/enable", data={}).status_code == 302

    # The person signs in and changes their own password on the portal.
    directory = ApiClient(directory_url)
    session = directory.post("/sessions", {"username": "zhao", "password": PASSWORD})
    person = portal(session["token"])
    assert "名录管理" not in person.get("/account/password").get_data(as_text=True)
    assert person.get("/directory/units").status_code == 403
    wrong = person.post("/account/password", data={"current_password": "Wrong-pass-1", "new_password": "Another-2027",
                                                   "new_password_again": "Another-2027"})
    assert wrong.status_code == 422 and "未能办理" in wrong.get_data(as_text=True)
    changed = person.post("/account/password", data={"current_password": PASSWORD, "new_password": "Another-2027",
                                                      "new_password_again": "Another-2027"})
    assert changed.status_code == 302, changed.get_data(as_text=True)
    assert directory.post("/sessions", {"username": "zhao", "password": "Another-2027"})["role"] == "unit_handler"
