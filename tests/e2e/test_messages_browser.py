"""站内消息 in a real browser: the office issues a notice and presses a case (催办) through the services' APIs; the
unit's handler, signed in to the portal, sees the unread count in the header, opens the reminder (which marks it
read through the messages service) and follows its link to the case; the office sees the deliveries on the notice's
audit timeline and on the 消息投递 page.

Its own services (directory, notices, followups, messages, portal as real processes) with their own databases and
topics: the messages service finds its recipients in the directory, which the other e2e tests do not fill.
"""
from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.test_directory_browser import load_until, person_page
from tests.e2e.test_portal_browser import browser  # noqa: F401 - the module's browser fixture
from tests.helpers import eventually

OFFICE = "巴中市人民政府教育督导委员会办公室"
BAZHOU = "巴州区教育局"
PASSWORD = "Messages-2026"
QUICK = 500  # ms: one look at a freshly loaded page; load_until does the retrying


@pytest.fixture(scope="module")
def stack(infra, session_prefix):
    from tests.helpers import running_services

    names = ("directory", "notices", "followups", "messages", "portal")
    with running_services(infra, f"{session_prefix}_msg", names) as running:
        admin = running.client("directory", role="admin", unit=None)
        for body in ({"name": OFFICE, "kind": "office"}, {"name": BAZHOU, "kind": "bureau", "parent": OFFICE}):
            assert admin.post("/units", json=body).status_code == 201
        for username, name, roles, unit, mobile in (("wang", "王科长", ["office_staff"], OFFICE, "13800000001"),
                                                    ("zhao", "赵伟", ["unit_handler"], BAZHOU, "13812341234")):
            answer = admin.post("/people", json={"username": username, "name": name, "roles": roles, "unit": unit,
                                                 "mobile": mobile, "password": PASSWORD})
            assert answer.status_code == 201, answer.text
        yield running


def unread_badge(page: Page) -> str:
    badge = page.locator("header a.inbox .badge")
    return badge.inner_text() if badge.count() else ""


def test_a_handler_sees_the_unread_count_opens_the_reminder_and_lands_on_the_case(browser, stack):  # noqa: F811
    run = uuid.uuid4().hex[:4]
    description = f"实验小学消防通道堵塞（消息测试{run}）"
    office = stack.client("notices", role="office_staff", unit=OFFICE)

    def issued():  # once the notices service has learnt the directory's units from its topic
        answer = office.post("/notices", json={
            "kind": "督办通知", "title": f"关于校园安全隐患整改的督办通知（消息测试{run}）", "issuer_unit": OFFICE,
            "target_units": [BAZHOU], "problems": [{"description": description, "requirement": "立即清理",
                                                    "responsible_unit": BAZHOU, "deadline_days": 20}]})
        assert answer.status_code == 201, answer.text
        return answer.json()["id"]

    notice_id = eventually(issued, timeout=60, interval=1)
    case_id = f"{notice_id}:P1"
    followups = stack.client("followups", role="office_staff", unit=OFFICE)

    def pressed():  # 催办, once followups has opened the case
        answer = followups.post(f"/cases/{case_id}/escalations", json={"level": "reminder", "reason": "请尽快整改"})
        assert answer.status_code == 200, answer.text

    eventually(pressed, timeout=60, interval=1)

    # The handler's header counts the two messages (the notice, the 催办) once the portal has them from the topic.
    handler = person_page(browser, stack, "zhao", PASSWORD)
    load_until(handler, "/", lambda p: expect(p.locator("header a.inbox .badge")).to_have_text("2", timeout=QUICK),
               timeout=90)

    # The inbox, newest first: the 催办 above the notice, both unread.
    handler.locator("header a.inbox").click()
    expect(handler).to_have_url(re.compile(r"/messages/inbox$"))
    rows = handler.locator("table.inbox tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("【催办】")
    expect(rows.nth(0)).to_have_class(re.compile(r"\bunread\b"))
    expect(rows.nth(1)).to_have_class(re.compile(r"\bunread\b"))

    # Opening it shows it, marks it read through the messages service, and offers the case.
    rows.nth(0).get_by_role("link").click()
    expect(handler.locator("h1")).to_contain_text("【催办】")
    expect(handler.locator("[data-status]")).to_have_text("已读")
    expect(handler.locator("header a.inbox .badge")).to_have_text("1")
    handler.locator("a.item-link").click()
    expect(handler).to_have_url(re.compile(rf"/cases/{re.escape(case_id)}$"))
    expect(handler.locator("body")).to_contain_text(description)

    # The read comes back on the topic: one unread left, and the inbox shows the reminder read.
    load_until(handler, "/messages/inbox", lambda p: expect(p.locator("table.inbox tr.unread")).to_have_count(
        1, timeout=QUICK))
    expect(handler.locator("header a.inbox .badge")).to_have_text("1")

    # The office sees the deliveries on the notice's timeline and on 消息投递 (the handler does not get that page).
    staff = person_page(browser, stack, "wang", PASSWORD)
    load_until(staff, f"/notices/{notice_id}/timeline", lambda p: expect(
        p.locator("tr.delivery", has_text="催办站内消息已送达 巴州区教育局 赵伟，已读")).to_have_count(1, timeout=QUICK))
    staff.goto("/messages/deliveries")
    expect(staff.locator("table.deliveries")).to_contain_text("【催办】")
    assert handler.goto("/messages/deliveries").status == 403
