"""Importing a 2,000-row 整改台账 (.xlsx): checking it (rows/s) and recording it through the services' APIs (rows/s).

400 notices of 5 problems each, in every status of the ledger; the import issues each notice, records each unit's
signature and each case's steps as office staff's 补录 (services/portal/adapters/ledger_loader.py), waiting for
followups to open the cases from Kafka. Run: ``python tests/bench/bench_ledger_import.py [--rows 2000]``.
"""
from __future__ import annotations

import argparse
import io
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from common import bench_stack, report  # noqa: E402
from openpyxl import Workbook  # noqa: E402

from services.api_client import ApiClient  # noqa: E402
from services.portal.adapters.ledger_loader import LedgerLoader  # noqa: E402
from services.portal.adapters.ledger_workbook import read_workbook  # noqa: E402
from services.portal.domain.ledger_import import read_ledger  # noqa: E402
from tests.helpers import running_services  # noqa: E402

OFFICE = "巴中市教育督导室"
UNITS = ("巴州区教育局", "恩阳区教育局", "通江县教育局", "南江县教育局", "平昌县教育局")
# status, days from issue to report and to 销号 (None: not reached)
FATES = (("已销号", 20, 30), ("已销号", 50, 60), ("复查通过", 25, None), ("待复查", 28, None), ("整改中", None, None),
         ("已提交整改方案", None, None), ("待整改", None, None))


def ledger(rows: int, today: date) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(["序号", "通知名称", "文号", "下发日期", "问题", "领域", "责任单位", "责任人", "整改措施", "整改时限", "状态",
                  "报告日期", "销号日期"])
    for n in range(rows):
        notice = n // len(UNITS)
        issued = today - timedelta(days=300 - notice % 250)
        status, report_after, close_after = FATES[n % len(FATES)]
        if status in ("整改中", "已提交整改方案", "待整改") or issued + timedelta(days=close_after or report_after) > today:
            status, report_after, close_after = "待整改", None, None
        sheet.append([n + 1, f"关于第{notice + 1}批问题整改的督办通知", f"巴教督办〔2026〕{notice + 1}号", issued,
                      f"第{notice + 1}批第{n % len(UNITS) + 1}个问题：校舍安全隐患排查不到位", "校园安全", UNITS[n % len(UNITS)],
                      None, "逐校排查；限期整改", issued + timedelta(days=45), status,
                      issued + timedelta(days=report_after) if report_after else None,
                      issued + timedelta(days=close_after) if close_after else None])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def run(stack, rows: int = 2000) -> dict:
    today = date.today()
    data = ledger(rows, today)
    started = time.perf_counter()
    cells = read_workbook(data)
    checked = read_ledger(cells.headers, cells.rows, issuer=OFFICE, today=today, header_row=cells.header_row)
    check_seconds = time.perf_counter() - started
    assert checked.ok, [e.text() for e in checked.errors[:5]]
    with running_services(stack, f"benchledger{int(time.time())}", ("notices", "followups")) as services:
        token = services.token("office_staff", OFFICE)
        loader = LedgerLoader(ApiClient(services.urls["notices"], token), ApiClient(services.urls["followups"], token),
                              issuer=OFFICE)
        started = time.perf_counter()
        result = loader.load(checked)
        import_seconds = time.perf_counter() - started
        started = time.perf_counter()
        again = loader.load(checked)
        again_seconds = time.perf_counter() - started
    figures = {"rows": rows, "workbook_kb": len(data) // 1024, "check_seconds": check_seconds,
               "import_seconds": import_seconds, "steps": result.steps_recorded, "again_seconds": again_seconds}
    report(f"整改台账 import ({rows} rows, {len(checked.notices)} notices, {len(data) // 1024} KB)", [
        ("read and check", f"{check_seconds:.2f} s ({rows / check_seconds:,.0f} rows/s)"),
        ("import through the APIs", f"{import_seconds:.1f} s ({rows / import_seconds:,.1f} rows/s; "
                                    f"{result.notices_issued} notices, {result.steps_recorded} steps)"),
        ("import again (adds nothing)", f"{again_seconds:.1f} s ({again.notices_found} notices found, "
                                        f"{again.steps_recorded} steps)"),
    ])
    return figures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2000)
    args = parser.parse_args(argv)
    with bench_stack() as stack:
        run(stack, args.rows)


if __name__ == "__main__":
    main()
