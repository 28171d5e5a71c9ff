"""An office's 整改台账 imported through the portal into the running services, and the round trip: the ledger one
system exports, imported into an empty system, exports again as the same rows; importing it again adds nothing."""
from __future__ import annotations

import io
import re
import uuid
from datetime import timedelta

import pytest
import requests
from openpyxl import load_workbook

from shared.clock import SystemClock
from services.portal.adapters.users import DEMO_PASSWORD
from services.portal.entrypoints.pages_reports import LEDGER_EXPORT_HEADERS
from tests.e2e.conftest import SERVICE_NAMES
from tests.helpers import eventually, running_services, xlsx

TODAY = SystemClock().today()
RUN = uuid.uuid4().hex[:6]
UNIT = f"南江县教育局（台账导入{RUN}）"  # the rows of this test only: the ledger is exported filtered by it


def day(days_ago: int) -> str:
    return (TODAY - timedelta(days=days_ago)).isoformat()


def ledger_workbook() -> bytes:
    """A hand-kept ledger: a title row, two notices (one without 文号), every status, an extra column."""
    headers = ["序号", "通知名称", "文号", "下发日期", "问题", "领域", "责任单位", "责任人", "整改措施", "整改时限", "状态",
               "报告日期", "销号日期", "备注"]
    first = ("关于校园安全问题整改的督办通知", f"南教督办〔2026〕{RUN}号", day(200))
    second = ("关于食品安全工作的督办函", "", day(90))
    rows = [
        [1, *first, "消防通道被占用", "校园安全", UNIT, "王明", "清理通道；更换设施", day(160), "已销号", day(170), day(165),
         "按时"],
        [2, *first, "围墙存在倒塌隐患", "校园安全", UNIT, "李强", "", day(150), "已销号", day(140), day(130), "逾期报告"],
        [3, *first, "宿舍夜间值守不落实", "校园安全", UNIT, None, "落实值班制度", day(100), "复查通过", day(101), None, None],
        [4, *second, "食堂健康证过期", "食品安全", UNIT, "陈刚", "集中体检", day(30), "待复查", day(35), None, None],
        [5, *second, "索证索票不全", "食品安全", UNIT, None, "完善制度", day(-20), "整改中", None, None, None],
        [6, *second, "明厨亮灶未覆盖", "食品安全", UNIT, None, "", day(-40), "已提交整改方案", None, None, None],
        [7, *second, "食材留样不规范", "食品安全", UNIT, None, "", day(-60), "待整改", None, None, None],
    ]
    return xlsx([["南江县整改台账"], headers, *rows])


def signed_in(portal_url: str) -> requests.Session:
    session = requests.Session()
    answer = session.post(f"{portal_url}/login", data={"username": "office", "password": DEMO_PASSWORD},
                          allow_redirects=False, timeout=30)
    assert answer.status_code == 302, answer.text
    # the form token the portal's pages carry, sent as a header with every post of this session
    session.headers["X-CSRF-Token"] = re.search(r'name="csrf_token" value="([^"]+)"',
                                                session.get(f"{portal_url}/ledger/import", timeout=30).text).group(1)
    return session


def import_through_the_portal(portal_url: str, data: bytes) -> str:
    """Upload, check the preview, confirm; returns the flash message the ledger page shows."""
    office = signed_in(portal_url)
    preview = office.post(f"{portal_url}/ledger/import", files={"file": ("台账.xlsx", data)}, timeout=60)
    assert preview.status_code == 200, re.findall(r'<li>([^<]*)</li>', preview.text)
    digest = re.search(r'name="digest" value="([0-9a-f]{64})"', preview.text).group(1)
    done = office.post(f"{portal_url}/ledger/import/confirm", data={"digest": digest}, timeout=600)
    assert done.status_code == 200 and done.url.endswith("/ledger"), done.text[:2000]
    [message] = re.findall(r'<div class="flash success">([^<]*)</div>', done.text)
    return message


def exported_rows(portal_url: str, expected: int) -> list[tuple]:
    """The ledger of UNIT as exported, once the portal has read all ``expected`` rows in their final states."""
    office = signed_in(portal_url)

    def rows() -> list[tuple]:
        answer = office.get(f"{portal_url}/ledger", params={"unit": UNIT, "format": "xlsx"}, timeout=60)
        found = list(load_workbook(io.BytesIO(answer.content)).active.iter_rows(values_only=True))
        assert found[0] == LEDGER_EXPORT_HEADERS and len(found) == 1 + expected
        statuses = [row[8] for row in found[1:]]
        assert sorted(statuses) == sorted(["已销号", "已销号", "复查通过", "待复查", "整改中", "已提交整改方案", "待整改"])
        return found

    return eventually(rows, timeout=60, interval=0.5)


@pytest.fixture(scope="module")
def empty_system(infra, session_prefix):
    with running_services(infra, f"{session_prefix}_import{RUN}", SERVICE_NAMES) as running:
        yield running


def test_a_ledger_goes_in_and_out_and_in_again_as_the_same_rows(services, empty_system):
    message = import_through_the_portal(services.urls["portal"], ledger_workbook())
    assert message.startswith("已导入 7 行：下发通知 2 份（已存在 0 份）")
    exported = exported_rows(services.urls["portal"], 7)
    by_problem = {row[3]: row for row in exported[1:]}
    closed_late = by_problem["围墙存在倒塌隐患"]
    assert (closed_late[10], closed_late[11], closed_late[13]) == (day(130), day(200), day(140))  # 销号/下发/报告日期

    export = xlsx([list(row) for row in exported])
    again = import_through_the_portal(empty_system.urls["portal"], export)
    assert again.startswith("已导入 7 行：下发通知 2 份（已存在 0 份）")
    assert exported_rows(empty_system.urls["portal"], 7) == exported

    # the same workbook once more: every notice is found, every case already where the ledger says
    assert import_through_the_portal(empty_system.urls["portal"], export) == (
        "已导入 7 行：下发通知 0 份（已存在 2 份），记录办理步骤 0 个")
    followups = empty_system.client("followups", role="auditor", unit=None)
    cases = followups.get("/cases", params={"unit": UNIT, "page_size": 100}).json()
    assert len(cases) == 7
    closed = {case["description"]: case for case in cases if case["status"] == "closed"}
    assert closed["消防通道被占用"]["on_time"] and not closed["围墙存在倒塌隐患"]["on_time"]
