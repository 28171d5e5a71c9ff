"""The portal in a real browser (Debian's Chromium driven by Playwright) on the running services, Kafka and FerretDB.

Each demo person signs in in a browser context of their own (cookies never mix) and works only through the
pages: the office issues a notice, the 巴州区 handler signs for it and rectifies, the inspector re-inspects and
closes (销号) until the notice is cleared; other units see none of it; the auditor exports its timeline.
After every action the page is loaded again until the portal's read model (fed from Kafka) has caught up.
"""
from __future__ import annotations

import csv
import io
import re
import struct
import uuid
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import Callable

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from shared.clock import SystemClock
from services.portal.adapters.users import DEMO_ACCOUNTS, DEMO_OFFICE, DEMO_PASSWORD
from services.portal.entrypoints.pages_notices import TIMELINE_HEADERS
from tests.helpers import eventually

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"  # git-ignored
DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}
NAMES = {username: name for username, name, _, _ in DEMO_ACCOUNTS}
RUN = uuid.uuid4().hex[:6]  # the databases are shared with the other e2e tests: our notices carry this in their titles
TODAY = SystemClock().today()
# The office's notices go out under another name than the demo year's office, whose notices test_demo_year counts
# (as test_cli does); each problem names one of the demo's areas for the same reason.
ISSUER = "巴中市教育督导室"
BAZHOU = "巴州区教育局"
SETTLE_SECONDS = 30
QUICK = 500  # ms: one look at a freshly loaded page; the retrying is done by load_until

CLEARED_TITLE = f"关于校园安全和食堂管理问题整改的督办通知（浏览器测试{RUN}）"
CLEARED_DOC = f"巴教督〔2026〕{700 + int(RUN, 16) % 200}号"
OPEN_TITLE = f"关于课后服务收费问题整改的督办通知（浏览器测试{RUN}）"
OPEN_DOC = f"巴教督〔2026〕{500 + int(RUN, 16) % 200}号"

# Every event of the cleared notice, by subject, as the timeline names them.
P1_EVENTS = ("建立整改事项", "提交整改方案", "报告整改进展", "提交整改报告", "复查未通过，退回整改", "提交整改报告",
             "复查通过", "销号")
P2_EVENTS = ("建立整改事项", "提交整改方案", "提交整改报告", "复查通过", "销号")
NOTICE_EVENTS = ("下发督办通知", "签收", "问题销号", "问题销号", "通知清零")
EXPECTED_TIMELINE = Counter([("督办通知", e) for e in NOTICE_EVENTS] + [("问题P1", e) for e in P1_EVENTS]
                            + [("问题P2", e) for e in P2_EVENTS])


# -- the browser and the people ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def browser() -> Browser:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (make browser installs it)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        yield chromium
        chromium.close()


class People:
    """One signed-in browser context per demo account, opened on first use."""

    def __init__(self, browser: Browser, base_url: str):
        self.browser, self.base_url = browser, base_url
        self.contexts: list[BrowserContext] = []
        self.pages: dict[str, Page] = {}

    def new_context(self, **options) -> BrowserContext:
        options = {"viewport": DESKTOP, "locale": "zh-CN", "timezone_id": "Asia/Shanghai", "accept_downloads": True,
                   **options}
        context = self.browser.new_context(base_url=self.base_url, **options)
        context.set_default_timeout(15_000)
        self.contexts.append(context)
        return context

    def __call__(self, username: str) -> Page:
        if username not in self.pages:
            page = self.new_context().new_page()
            sign_in(page, username)
            self.pages[username] = page
        return self.pages[username]

    def close(self) -> None:
        for context in self.contexts:
            context.close()


def sign_in(page: Page, username: str) -> None:
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.locator("header .who")).to_contain_text(NAMES[username])


@pytest.fixture(scope="module")
def people(browser, services):
    cast = People(browser, services.urls["portal"])
    yield cast
    cast.close()


# -- waiting for the read model ----------------------------------------------------------------------------

def load_until(page: Page, path: str, check: Callable[[Page], None], timeout: float = SETTLE_SECONDS) -> None:
    """Load ``path`` again until ``check`` passes: the portal shows an action a second or two after it was taken."""
    def attempt():
        page.goto(path)
        check(page)

    eventually(attempt, timeout=timeout, interval=0.25)


def status_is(scope: str, code: str, label: str) -> Callable[[Page], None]:
    def check(page: Page) -> None:
        status = page.locator(f"{scope} dd[data-status]")
        expect(status).to_have_attribute("data-status", code, timeout=QUICK)
        expect(status).to_contain_text(label, timeout=QUICK)
    return check


def accepted(page: Page) -> None:
    """The action went through: the service took it (a refusal would come back as a red flash message)."""
    expect(page.locator(".flash.success")).to_contain_text("已提交")
    expect(page.locator(".flash.error")).to_have_count(0)


# -- steps as people take them on the pages ------------------------------------------------------------------

def issue_notice(page: Page, title: str, doc_number: str, problems: list[dict], **more: str) -> str:
    """The office fills in /notices/new (``more``: other fields by name) and lands on the new notice's page;
    returns the notice id."""
    page.goto("/notices")
    page.get_by_role("link", name="下发督办通知").click()
    expect(page.locator("h1")).to_have_text("下发督办通知")
    expect(page.locator("input[name=issuer_unit]")).to_have_value(DEMO_OFFICE)  # filled in with the office's own unit
    page.select_option("select[name=kind]", "督办通知")
    page.fill("input[name=title]", title)
    page.fill("input[name=doc_number]", doc_number)
    page.fill("input[name=issuer_unit]", ISSUER)
    page.fill("textarea[name=target_units]", BAZHOU)
    for name, value in more.items():
        page.fill(f"[name={name}]", value)
    for index, problem in enumerate(problems):
        for name, value in problem.items():
            field = page.locator(f"[name='problems-{index}-{name}']")
            if name == "deadline_kind":
                field.select_option(value)
            else:
                field.fill(value)
    page.get_by_role("button", name="下发", exact=True).click()
    page.wait_for_url(re.compile(r"/notices/notice-[0-9a-f-]{36}\?just_issued=1$"))
    notice_id = re.search(r"notice-[0-9a-f-]{36}", page.url).group(0)
    # Either the notice itself or, until the portal has read it from Kafka, the "同步中" page.
    expect(page.locator("h1")).to_have_text(re.compile(f"^({re.escape(title)}|督办通知已提交)$"))
    load_until(page, page.url, lambda p: expect(p.locator("h1")).to_have_text(title, timeout=QUICK))
    return notice_id


def case_paths(page: Page, notice_id: str, problem_ids: tuple[str, ...]) -> dict[str, str]:
    """Waits until followups has opened a case for each problem; their pages' paths by problem id."""
    def opened(p: Page) -> None:
        for problem_id in problem_ids:
            row = p.locator(f"tr[data-problem='{problem_id}']")
            expect(row).to_contain_text("待整改", timeout=QUICK)
            expect(row.get_by_role("link", name="查看")).to_have_count(1, timeout=QUICK)

    load_until(page, f"/notices/{notice_id}", opened)
    return {pid: page.locator(f"tr[data-problem='{pid}']").get_by_role("link", name="查看").get_attribute("href")
            for pid in problem_ids}


def case_form(page: Page, summary: str | None, action: str):
    """The form of one case action, its <details> opened as a person would (by clicking its summary)."""
    form = page.locator(f"form[action$='/{action}']")
    if summary is not None:
        details = page.locator("details.action-form").filter(has=page.locator("summary", has_text=summary))
        if details.get_attribute("open") is None:
            details.locator("summary").click()
    expect(form).to_be_visible()
    return form


def act_on_case(page: Page, path: str, action: str, summary: str | None, fields: dict[str, str], button: str,
                then: tuple[str, str]) -> None:
    """Fill one case form, submit it, and wait until the case shows the status it leads to."""
    page.goto(path)
    form = case_form(page, summary, action)
    for name, value in fields.items():
        form.locator(f"[name={name}]").fill(value)
    form.get_by_role("button", name=button, exact=True).click()
    accepted(page)
    load_until(page, path, status_is(".case-head", *then))


def plan(page: Page, path: str, text: str, measures: str) -> None:
    act_on_case(page, path, "plan", "提交整改方案",
                {"plan": text, "measures": measures, "planned_completion": (TODAY + timedelta(days=10)).isoformat()},
                "提交整改方案", ("planned", "已提交整改方案"))


def report_completion(page: Page, path: str, summary: str, evidence: str) -> None:
    act_on_case(page, path, "completion", "提交整改报告", {"summary": summary, "evidence": evidence}, "提交整改报告",
                ("reported", "待复查"))


def reinspect(page: Page, path: str, passed: bool, findings: str) -> None:
    button, then = ("复查通过", ("verified", "复查通过")) if passed else ("不通过，退回整改", ("rectifying", "整改中"))
    act_on_case(page, path, "reinspection", "复查", {"findings": findings}, button, then)


def close_case(page: Page, path: str) -> None:
    page.goto(path)
    expect(page.get_by_text("该事项已复查通过，可予销号。")).to_be_visible()
    act_on_case(page, path, "close", None, {}, "销号", ("closed", "已销号"))


# -- the notices the tests share --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def story() -> dict:
    """What test 1 leaves for the others (who walk it themselves when run alone)."""
    return {}


def walk_to_clearing(people: People) -> dict:
    """Issue → sign → plan → report → re-inspect (once failed) → 销号 ×2 → 已清零, asserting each page on the way."""
    office, bazhou, inspector = people("office"), people("bazhou"), people("inspector")
    p1_deadline = (TODAY + timedelta(days=25)).isoformat()
    notice_id = issue_notice(office, CLEARED_TITLE, CLEARED_DOC, [
        {"description": "部分学校D级危房未拆除", "requirement": "限期拆除并报送影像资料", "responsible_unit": BAZHOU,
         "responsible_person": "张副局长", "area": "校园安全", "deadline": p1_deadline},
        {"description": "学校食堂从业人员健康证过期", "requirement": "全部更新健康证并建立台账", "responsible_unit": BAZHOU,
         "area": "食品安全", "deadline_days": "15", "deadline_kind": "calendar"},
    ])
    notice_path = f"/notices/{notice_id}"

    # The office sees the notice as issued, unsigned, with both problems' cases opened by followups.
    expect(office.locator(".notice-head dd[data-status]")).to_contain_text("已下发")
    expect(office.locator(".notice-head")).to_contain_text(CLEARED_DOC)
    expect(office.locator(".notice-head")).to_contain_text(ISSUER)
    expect(office.locator(f"table.signatures tr[data-unit='{BAZHOU}']")).to_contain_text("未签收")
    paths = case_paths(office, notice_id, ("P1", "P2"))
    issued_on = date.fromisoformat(office.locator(".notice-head dt:text-is('下发日期') + dd").inner_text().strip())
    expect(office.locator("tr[data-problem='P1']")).to_contain_text(p1_deadline)
    expect(office.locator("tr[data-problem='P2']")).to_contain_text((issued_on + timedelta(days=15)).isoformat())
    expect(office.locator("tr[data-problem='P2']")).to_contain_text("15日")
    expect(office.get_by_role("button", name="签收")).to_have_count(0)  # only the target unit signs

    # 巴州区 signs for it.
    bazhou.goto(notice_path)
    expect(bazhou.locator("h1")).to_have_text(CLEARED_TITLE)
    bazhou.get_by_role("button", name="签收").click()
    accepted(bazhou)

    def signed(page: Page) -> None:
        status_is(".notice-head", "acknowledged", "已签收")(page)
        expect(page.locator(f"table.signatures tr[data-unit='{BAZHOU}']")).to_contain_text("按时签收", timeout=QUICK)
        expect(page.get_by_role("button", name="签收")).to_have_count(0, timeout=QUICK)

    load_until(bazhou, notice_path, signed)

    # On each case page: a plan, (for P1 progress too) and the completion report.
    bazhou.goto(paths["P1"])
    expect(bazhou.locator("h1")).to_contain_text("整改事项 P1")
    status_is(".case-head", "open", "待整改")(bazhou)
    expect(bazhou.locator(".case-head")).to_contain_text("张副局长")
    plan(bazhou, paths["P1"], "对全区D级危房逐校排查，限期拆除。", "逐校排查D级危房\n委托第三方拆除并留存影像")
    expect(bazhou.locator("ol.measures li")).to_have_text(["逐校排查D级危房", "委托第三方拆除并留存影像"])
    act_on_case(bazhou, paths["P1"], "progress", "报告整改进展",
                {"summary": "已拆除3所学校的D级危房，其余2所正在拆除。", "evidence": "拆除现场照片"}, "报告整改进展",
                ("rectifying", "整改中"))
    report_completion(bazhou, paths["P1"], "5所学校D级危房已全部拆除。", "拆除前后对比照片\n验收记录")
    expect(bazhou.locator(".case-head")).to_contain_text("复查时限")
    plan(bazhou, paths["P2"], "组织从业人员体检，统一更新健康证。", "集中体检\n建立健康证台账")
    report_completion(bazhou, paths["P2"], "全部从业人员已更新健康证。", "健康证复印件")
    expect(bazhou.locator("summary").filter(has_text=re.compile("^复查$"))).to_have_count(0)  # re-inspection is not theirs

    # The inspector sends P1 back once …
    inspector.goto(paths["P1"])
    expect(inspector.locator("table.reports tbody tr")).to_have_count(2)  # the progress report and the completion report
    findings = "抽查发现1所学校危房仍未拆除，影像资料不全。"
    reinspect(inspector, paths["P1"], passed=False, findings=findings)
    expect(inspector.locator(".case-head")).to_contain_text(findings)
    expect(inspector.locator("tr[data-event='ReinspectionFailed']")).to_contain_text("刘督学")

    # … 巴州区 reports again …
    report_completion(bazhou, paths["P1"], "剩余1所学校危房已拆除，补齐影像资料。", "补充影像资料")

    # … and the inspector passes and closes both.
    for problem_id in ("P1", "P2"):
        reinspect(inspector, paths[problem_id], passed=True, findings="现场复查，整改到位。")
        close_case(inspector, paths[problem_id])
        expect(inspector.locator(".case-head")).to_contain_text("按期完成")
    events = inspector.locator("table.history tbody tr").evaluate_all("rows => rows.map(r => r.dataset.event)")
    assert events == ["RectificationOpened", "RectificationPlanSubmitted", "RectificationReported", "ReinspectionPassed",
                      "RectificationClosed"], events

    # The notice clears once the notices service has heard of both closings.
    def cleared(page: Page) -> None:
        status_is(".notice-head", "cleared", "已清零")(page)
        expect(page.locator("h2").filter(has_text="问题清单")).to_contain_text("已销号 2 个", timeout=QUICK)
        for problem_id in ("P1", "P2"):
            expect(page.locator(f"tr[data-problem='{problem_id}']")).to_contain_text("已销号", timeout=QUICK)

    load_until(office, notice_path, cleared)
    office.goto("/notices?status=cleared")
    row = office.locator(f"tr[data-notice='{notice_id}']")
    expect(row).to_contain_text("已清零")
    expect(row.locator("td").last).to_have_text("2 / 2")
    return {"notice_id": notice_id, "cases": paths}


@pytest.fixture
def cleared_notice(story, people) -> dict:
    if "cleared" not in story:
        story["cleared"] = walk_to_clearing(people)
    return story["cleared"]


@pytest.fixture(scope="module")
def open_notice(people) -> dict:
    """A second notice to 巴州区, issued by the office and left open (its case still 待整改)."""
    office = people("office")
    notice_id = issue_notice(office, OPEN_TITLE, OPEN_DOC, [
        {"description": "个别学校课后服务违规收费", "requirement": "清退违规收费并公示", "responsible_unit": BAZHOU,
         "area": "课后服务与双减", "deadline": (TODAY + timedelta(days=20)).isoformat()},
    ])
    return {"notice_id": notice_id, "cases": case_paths(office, notice_id, ("P1",))}


# -- the tests ----------------------------------------------------------------------------------------------

def test_signing_in_returns_to_the_page_asked_for_and_a_wrong_password_is_refused(people):
    page = people.new_context().new_page()
    page.goto("/ledger")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.fill("input[name=username]", "office")
    page.fill("input[name=password]", "not-the-password")
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.get_by_role("button", name="登录").click()
    assert answer.value.status == 401
    expect(page.locator(".flash.error")).to_have_text("用户名或密码不正确")
    page.fill("input[name=username]", "office")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(re.compile(r"/ledger$"))
    expect(page.locator("h1")).to_contain_text("整改台账")
    expect(page.locator("header .who")).to_have_text(f"{NAMES['office']} · 督导办工作人员 · {DEMO_OFFICE}")


def test_a_notice_walks_from_issue_to_clearing_through_the_pages(story, people):
    story["cleared"] = walk_to_clearing(people)
    # The case pages tell the whole story of P1, each step by the person who took it.
    page = people("auditor")
    page.goto(story["cleared"]["cases"]["P1"])
    history = page.locator("table.history tbody tr")
    assert history.evaluate_all("rows => rows.map(r => r.dataset.event)") == [
        "RectificationOpened", "RectificationPlanSubmitted", "RectificationProgressReported", "RectificationReported",
        "ReinspectionFailed", "RectificationReported", "ReinspectionPassed", "RectificationClosed"]
    actors = history.evaluate_all("rows => rows.map(r => r.cells[2].innerText.trim())")
    assert actors[1:] == [NAMES["bazhou"]] * 3 + [NAMES["inspector"], NAMES["bazhou"]] + [NAMES["inspector"]] * 2, actors


def test_each_person_sees_only_what_is_theirs(people, open_notice, cleared_notice):
    notices = {OPEN_TITLE: open_notice, CLEARED_TITLE: cleared_notice}
    open_case = open_notice["cases"]["P1"]

    # The office: the issue link, and on an open case the office-only forms.
    office = people("office")
    office.goto("/notices")
    expect(office.get_by_role("link", name="下发督办通知")).to_have_count(1)
    office.goto(open_case)
    for summary in ("延期", "督办升级", "表彰"):
        expect(office.locator("details.action-form summary").filter(has_text=summary)).to_have_count(1)
    # the unit's form only as a 补录, which needs the day it happened and a reason
    expect(office.locator("details.action-form summary").filter(has_text="提交整改方案")).to_have_text("补录·提交整改方案")
    expect(office.locator("form[action$='/plan'] input[name=occurred_on]")).to_have_attribute("required", "")

    # 巴州区: both notices, its own forms only, and no way to issue.
    bazhou = people("bazhou")
    bazhou.goto("/notices")
    for title in notices:
        expect(bazhou.locator("table.notices tr").filter(has_text=title)).to_have_count(1)
    expect(bazhou.get_by_role("link", name="下发督办通知")).to_have_count(0)
    bazhou.goto(f"/notices/{open_notice['notice_id']}")
    expect(bazhou.get_by_role("button", name="签收")).to_be_visible()
    expect(bazhou.get_by_text("撤回督办通知")).to_have_count(0)
    bazhou.goto(open_case)
    status_is(".case-head", "open", "待整改")(bazhou)
    expect(bazhou.locator("details.action-form summary").filter(has_text="提交整改方案")).to_have_count(1)
    for summary in ("延期", "督办升级", "表彰"):
        expect(bazhou.locator("details.action-form summary").filter(has_text=summary)).to_have_count(0)
    forbidden = bazhou.goto("/notices/new")
    assert forbidden.status == 403
    expect(bazhou.locator("main")).to_contain_text("无权下发督办通知")
    # Hidden forms are not the only guard: posting one anyway is refused.
    posted = bazhou.request.post(f"{open_case}/extension", form={"new_deadline": (TODAY + timedelta(days=60)).isoformat(),
                                                                 "reason": "自行延期", "approver": "无"}, max_redirects=0)
    assert posted.status == 403, posted.status

    # Another district and a member department see neither notice, nor their cases, nor their timelines.
    for username in ("enyang", "finance"):
        page = people(username)
        page.goto("/notices")
        expect(page.locator("h1")).to_contain_text("督办通知")
        for title, notice in notices.items():
            expect(page.locator("main")).not_to_contain_text(title)
            for path in (f"/notices/{notice['notice_id']}", f"/notices/{notice['notice_id']}/timeline",
                         f"/notices/{notice['notice_id']}/timeline?format=xlsx", *notice["cases"].values()):
                response = page.goto(path)
                assert response.status == 403, (username, path, response.status)
                expect(page.locator("main")).to_contain_text("只能查看本单位")
        page.goto("/ledger")
        expect(page.locator("main")).not_to_contain_text(OPEN_TITLE)
        expect(page.locator("main")).not_to_contain_text(CLEARED_TITLE)
        posted = page.request.post(f"{open_case}/plan", form={"plan": "越权提交"}, max_redirects=0)
        assert posted.status == 403, (username, posted.status)

    # The auditor sees everything and can act on nothing.
    auditor = people("auditor")
    auditor.goto("/notices")
    for title in notices:
        expect(auditor.locator("table.notices tr").filter(has_text=title)).to_have_count(1)
    expect(auditor.get_by_role("link", name="下发督办通知")).to_have_count(0)
    for notice in notices.values():
        assert auditor.goto(f"/notices/{notice['notice_id']}").status == 200
        for path in notice["cases"].values():
            assert auditor.goto(path).status == 200
            expect(auditor.locator("h1")).to_contain_text("整改事项")
            expect(auditor.get_by_role("heading", name="办理", exact=True)).to_have_count(0)
    assert auditor.goto("/notices/new").status == 403


def cell_text(value) -> str:
    return "" if value is None else str(value)


def test_the_timeline_exports_as_excel_and_csv_and_prints(people, cleared_notice, tmp_path):
    page = people("auditor")
    timeline_path = f"/notices/{cleared_notice['notice_id']}/timeline"
    page.goto(timeline_path)
    expect(page.locator("h1")).to_contain_text(CLEARED_DOC)
    expect(page.locator("h2").filter(has_text="哈希链校验")).to_contain_text("全部完整")
    expect(page.locator("ul.chains li")).to_have_count(3)  # the notice and its two cases
    shown = page.locator("table.timeline tbody tr").evaluate_all(
        "rows => rows.map(r => Array.from(r.cells, c => c.innerText.trim()))")
    assert Counter((row[3], row[2]) for row in shown) == EXPECTED_TIMELINE, shown
    assert (shown[0][2], shown[-1][2]) == ("下发督办通知", "通知清零")
    by_event = {row[2]: row for row in shown}
    assert by_event["下发督办通知"][4:7] == [NAMES["office"], "督导办工作人员", DEMO_OFFICE]
    assert by_event["签收"][4:7] == [NAMES["bazhou"], "责任单位经办人", BAZHOU]
    assert by_event["销号"][4:6] == [NAMES["inspector"], "督学"]

    # Excel: the header row, then one row per event as on the page.
    with page.expect_download() as download_info:
        page.get_by_role("link", name="导出 Excel").click()
    download = download_info.value
    assert download.suggested_filename == f"督办通知时间线-{CLEARED_DOC}.xlsx"
    saved = tmp_path / "timeline.xlsx"
    download.save_as(saved)
    sheet = load_workbook(saved).active
    rows = [[cell_text(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    assert tuple(rows[0]) == TIMELINE_HEADERS
    assert rows[1:] == shown
    assert [row[0] for row in rows[1:]] == [str(n) for n in range(1, len(shown) + 1)]
    closings = [row for row in rows[1:] if row[2] == "销号"]
    assert sorted(row[3] for row in closings) == ["问题P1", "问题P2"]
    assert all("按期完成" in row[9] for row in closings), closings
    assert sum(row[2] == "问题销号" for row in rows[1:]) == 2

    # CSV: the same rows (UTF-8 with a BOM for Excel on Chinese Windows).
    with page.expect_download() as download_info:
        page.get_by_role("link", name="导出 CSV").click()
    raw = Path(download_info.value.path()).read_bytes()
    assert raw.startswith("\ufeff".encode())
    assert list(csv.reader(io.StringIO(raw.decode("utf-8-sig")))) == rows

    # The print view: the same events, without the site's navigation.
    page.get_by_role("link", name="打印版").click()
    expect(page).to_have_url(re.compile(r"print=1"))
    expect(page.locator("h1")).to_have_text("督办通知审计时间线")
    expect(page.locator("header nav")).to_have_count(0)
    expect(page.locator("table.timeline tbody tr")).to_have_count(len(shown))
    printed = page.locator("table.timeline tbody tr").evaluate_all(
        "rows => rows.map(r => Array.from(r.cells, c => c.innerText.trim()))")
    assert printed == shown
    expect(page.locator("main")).to_contain_text(f"打印人：{NAMES['auditor']}（审计）")


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()[:24]
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", data[16:24])


def test_screenshots_of_the_main_pages(people, cleared_notice):
    SCREENSHOTS.mkdir(exist_ok=True)
    page = people("office")
    notice_id = cleared_notice["notice_id"]
    pages = {
        "dashboard": ("/", "工作台"),
        "notices": ("/notices", "督办通知"),
        "notice": (f"/notices/{notice_id}", CLEARED_TITLE),
        "case": (cleared_notice["cases"]["P1"], "整改事项 P1"),
        "timeline": (f"/notices/{notice_id}/timeline", "审计时间线"),
        "ledger": ("/ledger", "整改台账"),
        "status": ("/status", "部门状态"),
        "statistics": ("/statistics", "督办工作统计"),
        "plans": ("/plans", "工作要点"),
        "evaluation": ("/evaluation", "考评"),
    }
    for name, (path, heading) in pages.items():
        response = page.goto(path)
        assert response.status == 200, (path, response.status)
        expect(page.locator("h1")).to_contain_text(heading)
        shot = SCREENSHOTS / f"{name}-desktop.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 0
        width, height = png_size(shot)
        assert width == DESKTOP["width"] and height >= DESKTOP["height"] // 2, (name, width, height)
    page.goto("/ledger")
    expect(page.locator("table.ledger")).to_contain_text(CLEARED_TITLE)
    # the server-drawn charts load under the portal's Content-Security-Policy (img-src 'self'), no script needed
    for path in ("/statistics", "/status", "/evaluation"):
        page.goto(path)
        charts = page.locator("img.chart-image")
        expect(charts.first).to_be_visible()
        loaded = charts.evaluate_all("images => images.map(image => image.complete && image.naturalWidth > 0)")
        assert loaded and all(loaded), (path, loaded)

    phone = people.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True).new_page()
    sign_in(phone, "office")
    phone.goto("/")
    expect(phone.locator("h1")).to_contain_text("工作台")
    shot = SCREENSHOTS / "dashboard-phone.png"
    phone.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 0
    assert png_size(shot)[0] == PHONE["width"] * 2
    # Nothing sticks out sideways on a phone.
    overflow = phone.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the dashboard is {overflow}px wider than a {PHONE['width']}px phone"


PLAN_TEXT = ("巴中市2026年教育督导工作要点\n一、强化督政\n（一）目标任务\n完善督导机制。\n（二）工作措施\n"
             "1. 开展县域义务教育优质均衡督导评估，2026年底前完成。\n2. 开展校园安全专项督导。")


def test_the_office_imports_a_work_plan_through_the_pages(people):
    page = people("office")
    page.goto("/plans")
    page.fill("form.plan-import textarea[name=text]", PLAN_TEXT)
    page.get_by_role("button", name="识别并预览").click()

    # The preview: the recognised title and year, one editable row per draft task, and a blank row to add one.
    expect(page.locator("h1")).to_have_text("导入工作要点：核对并修改")
    expect(page.locator("input[name=title]")).to_have_value("巴中市2026年教育督导工作要点")
    expect(page.locator("input[name=year]")).to_have_value("2026")
    rows = page.locator("table.draft-tasks tbody tr")
    texts = rows.locator("textarea").evaluate_all("areas => areas.map(a => a.value)")
    assert texts[-1] == "" and len(texts) == 4, texts
    assert texts[1:3] == ["开展县域义务教育优质均衡督导评估，2026年底前完成。", "开展校园安全专项督导。"], texts
    assert "完善督导机制" in texts[0]
    expect(rows.nth(1).locator("input[type=date]")).to_have_value("2026-12-31")

    # Edit before confirming: a title of this run, a lead unit, and the goals paragraph is not a task — drop it.
    title = f"巴中市2026年教育督导工作要点（浏览器测试{RUN}）"
    page.fill("input[name=title]", title)
    rows.nth(1).locator("input[name$='-lead_unit']").fill("市教育局")
    rows.nth(0).locator("input[name$='-drop']").check()
    page.get_by_role("button", name="确认导入").click()

    page.wait_for_url(re.compile(r"/plans/[^/?]+\?just_imported=1$"))
    load_until(page, page.url, lambda p: expect(p.locator("table.task-board tbody tr")).to_have_count(2, timeout=QUICK))
    expect(page.locator("h1")).to_have_text(title)
    board = page.locator("table.task-board tbody tr").evaluate_all(
        "rows => rows.map(r => Array.from(r.cells, c => c.innerText.trim()))")
    assert [(row[1], row[3], row[4], row[5]) for row in board] == [
        ("开展县域义务教育优质均衡督导评估，2026年底前完成。", "市教育局", "2026-12-31", "未开始"),
        ("开展校园安全专项督导。", "", "", "未开始")], board
    expect(page.locator(".card[data-figure=tasks] .value")).to_have_text("2")

    page.goto("/plans")
    listed = page.locator("table.plans tr").filter(has_text=title)
    expect(listed).to_have_count(1)
    expect(listed.locator("td[data-col=tasks]")).to_have_text("2")
    expect(listed).to_contain_text("公文导入")


def test_office_staff_enter_a_paper_notices_history_with_its_days_and_see_both_days_on_the_timeline(people):
    """补录: a notice issued on paper two months ago, signed, rectified, re-inspected and closed since."""
    office = people("office")
    issued = TODAY - timedelta(days=60)
    day = {step: (issued + timedelta(days=offset)).isoformat() for step, offset in (
        ("signed", 1), ("plan", 3), ("completion", 20), ("reinspection", 25), ("close", 26))}
    reason = "纸质台账补录，原件存档"
    title = f"关于学校食堂管理问题整改的督办通知（补录测试{RUN}）"
    notice_id = issue_notice(office, title, f"巴教督〔2026〕{300 + int(RUN, 16) % 200}号", [
        {"description": "食堂未落实陪餐制度", "requirement": "建立陪餐记录", "responsible_unit": BAZHOU,
         "area": "食品安全", "deadline": (issued + timedelta(days=30)).isoformat()},
    ], issued_on=issued.isoformat())
    notice_path = f"/notices/{notice_id}"
    expect(office.locator(".notice-head dt:text-is('下发日期') + dd")).to_have_text(issued.isoformat())

    # the paper 签收单: entered with the day the unit signed
    office.locator("details.action-form summary", has_text="补录签收").click()
    form = office.locator("details.action-form").filter(has_text="补录签收").locator("form")
    form.locator("[name=occurred_on]").fill(day["signed"])
    form.locator("[name=backfill_reason]").fill("纸质签收单")
    form.get_by_role("button", name="提交补录").click()
    accepted(office)
    load_until(office, notice_path, lambda p: expect(p.locator(f"table.signatures tr[data-unit='{BAZHOU}']"))
               .to_contain_text("按时签收", timeout=QUICK))

    # the unit's and the inspector's steps, each with its day and the reason it is entered now
    [path] = case_paths(office, notice_id, ("P1",)).values()
    for action, summary, fields, button, then in (
            ("plan", "提交整改方案", {"plan": "落实校领导陪餐制度"}, "提交整改方案", ("planned", "已提交整改方案")),
            ("completion", "提交整改报告", {"summary": "陪餐记录已建立"}, "提交整改报告", ("reported", "待复查")),
            ("reinspection", "复查", {"findings": "抽查陪餐记录齐全"}, "复查通过", ("verified", "复查通过")),
            ("close", None, {}, "销号", ("closed", "已销号"))):
        act_on_case(office, path, action, summary, {**fields, "occurred_on": day[action], "backfill_reason": reason},
                    button, then)
    expect(office.locator(".case-head")).to_contain_text("按期完成")

    # the timeline tells both days of each 补录, and judges lateness by the day it happened
    page = people("auditor")
    load_until(page, f"{notice_path}/timeline", lambda p: expect(p.locator("tr[data-event='RectificationClosed']"))
               .to_have_count(1, timeout=QUICK))
    closed = page.locator("tr[data-event='RectificationClosed']")
    expect(closed.locator("td.backfilled")).to_have_text(f"{day['close']} 发生 · {TODAY} {NAMES['office']}补录")
    expect(closed).to_contain_text(f"补录说明：{reason}")
    expect(page.locator("tr[data-event='RectificationPlanSubmitted']")).to_contain_text(f"代{BAZHOU}登记")
    expect(page.locator("tr[data-event='NoticeSigned'] td.backfilled")).to_contain_text(f"{day['signed']} 发生")
    expect(page.locator("tr[data-event='NoticeSigned']")).not_to_contain_text("逾期")
    expect(page.locator("tr[data-event='RectificationOpened'] td.backfilled")).to_have_count(0)
