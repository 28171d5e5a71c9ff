"""The directory in a real browser: an administrator adds a school and its handler through the portal's pages;
the handler signs in and sees only that school's cases, and the district's head sees them as well.

Its own services (directory, notices, followups, portal as real processes) with their own databases and topics: the
directory it fills makes notices name registered units only, which the other e2e tests do not expect.
"""
from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.test_portal_browser import CHROMIUM, DESKTOP, browser  # noqa: F401 - the module's browser fixture
from tests.helpers import eventually, running_services

OFFICE = "巴中市人民政府教育督导委员会办公室"
CITY = "巴中市教育局"
BAZHOU, ENYANG = "巴州区教育局", "恩阳区教育局"
SCHOOL = "巴州区实验小学"
PASSWORD = "Directory-2026"


@pytest.fixture(scope="module")
def stack(infra, session_prefix):
    with running_services(infra, f"{session_prefix}_dir", ("directory", "notices", "followups", "portal")) as running:
        admin = running.client("directory", role="admin", unit=None)
        for body in ({"name": OFFICE, "kind": "office"}, {"name": CITY, "kind": "bureau", "parent": OFFICE},
                     {"name": BAZHOU, "kind": "bureau", "parent": CITY}, {"name": ENYANG, "kind": "bureau", "parent": CITY}):
            assert admin.post("/units", json=body).status_code == 201
        for username, name, roles, unit in (("root", "系统管理员", ["admin"], OFFICE),
                                            ("bazhou.head", "巴州区教育局局长", ["unit_leader"], BAZHOU),
                                            ("enyang.handler", "恩阳区经办人", ["unit_handler"], ENYANG)):
            answer = admin.post("/people", json={"username": username, "name": name, "roles": roles, "unit": unit,
                                                 "password": PASSWORD})
            assert answer.status_code == 201, answer.text
        yield running


def sign_in(page: Page, username: str, password: str = PASSWORD) -> None:
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.get_by_role("button", name="登录").click()
    expect(page.locator("header .who")).to_be_visible()


def person_page(browser, stack, username: str, password: str = PASSWORD) -> Page:  # noqa: F811
    context = browser.new_context(base_url=stack.urls["portal"], viewport=DESKTOP, locale="zh-CN",
                                  timezone_id="Asia/Shanghai")
    context.set_default_timeout(15_000)
    page = context.new_page()
    sign_in(page, username, password)
    return page


def load_until(page: Page, path: str, check, timeout: float = 30) -> None:
    """Load ``path`` again until ``check(page)`` holds: the portal's model follows the topics."""
    def loaded():
        page.goto(path)
        check(page)
    eventually(loaded, timeout=timeout, interval=0.5)


def test_an_administrator_adds_a_school_and_its_handler_who_then_sees_only_that_schools_cases(browser, stack):  # noqa: F811
    admin = person_page(browser, stack, "root")

    # The school, under 巴州区's bureau, through the 单位名录 page.
    admin.goto("/directory/units")
    admin.locator("summary", has_text="登记单位").click()
    form = admin.locator("form[method=post][action$='/directory/units']")
    form.locator("input[name=name]").fill(SCHOOL)
    form.locator("select[name=kind]").select_option("school")
    form.locator("select[name=parent]").select_option(BAZHOU)
    form.get_by_role("button", name="登记").click()
    expect(admin.locator("body")).to_contain_text(SCHOOL)

    # Its handler, through the 人员与账号 page.
    handler = f"shiyan.{uuid.uuid4().hex[:4]}"
    admin.goto("/directory/people")
    admin.locator("summary", has_text="登记人员").click()
    form = admin.locator("form[method=post][action$='/directory/people']")
    form.locator("input[name=username]").fill(handler)
    form.locator("input[name=name]").fill("实验小学经办人")
    form.locator("select[name=unit]").select_option(SCHOOL)
    form.locator("input[name=roles][value=unit_handler]").check()
    form.locator("input[name=password]").fill(PASSWORD)
    form.locator("input[name=password_again]").fill(PASSWORD)
    form.get_by_role("button", name="登记").click()
    expect(admin.locator("body")).to_contain_text(handler)

    # The office issues a notice with a problem for the school and one for 恩阳区 (once the notices service knows
    # the school: it learns the directory from its topic).
    office = stack.client("notices", role="office_staff", unit=OFFICE)

    def issued():
        answer = office.post("/notices", json={
            "kind": "督办通知", "title": "关于校舍安全隐患整改的督办通知", "issuer_unit": OFFICE,
            "target_units": [SCHOOL, ENYANG], "problems": [
                {"description": "实验小学教学楼消防通道堵塞", "requirement": "立即清理", "responsible_unit": SCHOOL,
                 "deadline_days": 20},
                {"description": "恩阳区部分学校围墙破损", "requirement": "限期修复", "responsible_unit": ENYANG,
                 "deadline_days": 30}]})
        assert answer.status_code == 201, answer.text
        return answer.json()["id"]

    notice_id = eventually(issued, timeout=60, interval=1)
    school_case, enyang_case = f"{notice_id}:P1", f"{notice_id}:P2"

    # The school's handler sees its own case in the ledger and on its page, and nothing of 恩阳区's.
    page = person_page(browser, stack, handler)
    load_until(page, "/ledger", lambda p: expect(p.locator("body")).to_contain_text("实验小学教学楼消防通道堵塞",
                                                                                 timeout=500))
    expect(page.locator("body")).not_to_contain_text("恩阳区部分学校围墙破损")
    assert page.goto(f"/cases/{school_case}").status == 200
    assert page.goto(f"/cases/{enyang_case}").status == 403

    # 巴州区's head sees the school's case (a unit under his); 恩阳区's handler does not, but sees his own.
    head = person_page(browser, stack, "bazhou.head")
    load_until(head, "/ledger", lambda p: expect(p.locator("body")).to_contain_text("实验小学教学楼消防通道堵塞",
                                                                                 timeout=500))
    expect(head.locator("body")).not_to_contain_text("恩阳区部分学校围墙破损")
    enyang = person_page(browser, stack, "enyang.handler")
    load_until(enyang, "/ledger", lambda p: expect(p.locator("body")).to_contain_text("恩阳区部分学校围墙破损",
                                                                                   timeout=500))
    expect(enyang.locator("body")).not_to_contain_text("实验小学教学楼消防通道堵塞")
    assert enyang.goto(f"/cases/{school_case}").status == 403

    # The administrator disables the handler: the open session ends at its next page.
    admin.goto("/directory/people")
    admin.locator("tr", has_text=handler).get_by_role("link", name="管理").click()
    admin.locator("summary", has_text="停用账号").click()
    disable = admin.locator("form[action$='/disable']")
    disable.locator("input[name=reason]").fill("调离")
    disable.get_by_role("button", name="停用").click()
    load_until(page, "/ledger", lambda p: expect(p).to_have_url(re.compile(r"/login"), timeout=500))
