"""Reading an office's 整改台账 workbook for import: headers by name, merged cells, blank rows, and every bad cell
reported with its row and column (a ledger with any mistake imports nothing)."""
from __future__ import annotations

import io
import re
from datetime import date, datetime

import pytest
from openpyxl import Workbook

from services.portal.adapters.ledger_workbook import UnreadableWorkbook, read_workbook
from services.portal.domain.ledger_import import REASON_UNDATED, notice_id_for, parse_day, read_ledger
from tests.helpers import xlsx
from tests.unit.portal.test_pages_reports_plans import app, model, signed_in  # noqa: F401 (fixtures)

OFFICE = "巴中市人民政府教育督导委员会办公室"
TODAY = date(2026, 12, 2)
HEADERS = ["序号", "通知名称", "文号", "下发日期", "问题", "领域", "责任单位", "责任人", "整改措施", "整改时限", "状态",
           "红黄绿灯", "报告日期", "销号日期", "备注"]
TITLE = "关于校园安全问题整改的督办通知"


def row(number=1, title=TITLE, doc="巴教督办〔2026〕3号", issued="2026-03-02", problem="消防通道被占用", area="校园安全",
        unit="巴州区教育局", person="王明", measures="清理通道；更换设施", deadline="2026-04-30", status="已销号",
        light="", reported="2026-04-20", closed="2026-05-06", remark="") -> list:
    return [number, title, doc, issued, problem, area, unit, person, measures, deadline, status, light, reported, closed,
            remark]


def workbook(rows: list[list], *, title_row: str | None = "巴中市整改台账（2026年）", merge: tuple[str, ...] = ()) -> bytes:
    return xlsx(([[title_row]] if title_row else []) + [HEADERS, *rows], merge, sheet_title="整改台账")


def ledger(data: bytes):
    cells = read_workbook(data)
    return read_ledger(cells.headers, cells.rows, issuer=OFFICE, today=TODAY, header_row=cells.header_row)


class TestAGoodLedger:
    def test_rows_become_notices_with_their_problems_and_the_steps_their_status_implies(self):
        result = ledger(workbook([
            row(1),
            row(2, problem="围墙存在倒塌隐患", unit="恩阳区教育局", status="整改中", reported="", closed="",
                deadline="2027-01-31"),  # a deadline still ahead
            [],  # a blank row between notices
            row(3, title="关于食品安全问题整改的督办函", doc="", issued="2026/5/8", problem="健康证过期", area="食品安全",
                unit="通江县教育局", deadline=datetime(2026, 6, 30), status="待复查", reported="2026年6月28日", closed=""),
        ]))
        assert result.ok and result.errors == []
        first, second = result.notices
        assert (first.doc_number, first.issued_on, first.target_units) == (
            "巴教督办〔2026〕3号", date(2026, 3, 2), ["巴州区教育局", "恩阳区教育局"])
        assert first.notice_id == notice_id_for(OFFICE, "巴教督办〔2026〕3号", TITLE, date(2026, 3, 2))
        assert (second.doc_number, second.issued_on, second.rows[0].deadline) == (None, date(2026, 5, 8), date(2026, 6, 30))
        closed, rectifying = first.rows
        assert closed.measures == ("清理通道", "更换设施") and closed.row == 3  # the title row, then the header
        assert closed.steps() == [("plan", date(2026, 3, 2)), ("completion", date(2026, 4, 20)),
                                  ("reinspection", date(2026, 5, 6)), ("close", date(2026, 5, 6))]
        assert rectifying.steps() == [("plan", date(2026, 3, 2)), ("progress", date(2026, 3, 2))]
        assert second.rows[0].steps()[-1] == ("completion", date(2026, 6, 28))
        assert "按通知下发日期登记" in REASON_UNDATED

    def test_headers_are_matched_by_name_in_any_order_with_other_names_offices_use(self):
        headers = ["整改状态", "存在问题", "通知标题", "印发日期", "责任单位", "完成时限", "自定义列"]
        result = read_ledger(headers, [(2, ["待整改", "食堂未公示菜谱", TITLE, "2026-03-02", "巴州区教育局", "2026-04-30", "x"])],
                             issuer=OFFICE, today=TODAY)
        assert result.ok and result.rows[0].description == "食堂未公示菜谱" and result.rows[0].steps() == []

    def test_a_notices_title_merged_over_its_rows_belongs_to_each_row(self):
        rows = [row(1), row(2, title=None, doc=None, issued=None, problem="围墙存在倒塌隐患", unit="恩阳区教育局")]
        result = ledger(workbook(rows, merge=("B3:B4", "C3:C4", "D3:D4")))  # 通知名称, 文号, 下发日期 over its two rows
        assert result.ok and [len(n.rows) for n in result.notices] == [2]

    def test_the_same_workbook_gives_the_same_notice_ids(self):
        data = workbook([row(1)])
        assert ledger(data).notices[0].notice_id == ledger(data).notices[0].notice_id


class TestBadRows:
    """Ten kinds of mistakes, each reported with its cell; none of the rows is imported."""

    def test_each_mistake_has_its_own_message_naming_row_and_column(self):
        bad = [
            row(1, deadline="2026.13.01"),  # row 3
            row(2, problem=""),  # row 4
            row(3, status="已完成"),  # row 5
            row(4, status="已销号", closed=""),  # row 6
            row(5, deadline="2026-02-01"),  # row 7: before the issue date
            row(6, doc="巴教督办〔2026〕9号", issued="2027-01-05", deadline="2027-02-28", reported="", closed="",
                status="待整改"),  # row 8
            row(7, status="待复查", reported="", closed=""),  # row 9
            row(8, status="整改中", closed="2026-05-06", reported=""),  # row 10
            row(9, reported="2026-05-10", closed="2026-05-06"),  # row 11: reported after closing
            row(10),  # row 12: a good row, still not imported while others are wrong
            row(11),  # row 13: the same problem of the same notice for the same unit again
            row(12, title="另一个名称", problem="另一个问题"),  # row 14: the same 文号 under another title
            row(13, unit=""),  # row 15
        ]
        result = ledger(workbook(bad))
        texts = [error.text() for error in result.errors]
        expected = [
            "第3行 整改时限：无法识别的日期 '2026.13.01'",
            "第4行 问题：不能为空",
            "第5行 状态：无法识别的状态 '已完成'，应为待整改、已提交整改方案、整改中、待复查、复查通过、已销号之一",
            "第6行 销号日期：状态为已销号的事项须填写销号日期",
            "第7行 整改时限：2026-02-01 早于下发日期 2026-03-02",
            "第8行 下发日期：2027-01-05 晚于今天",
            "第9行 报告日期：状态为待复查的事项须填写报告日期",
            "第10行 销号日期：状态为整改中的事项尚未销号，不应填写销号日期",
            "第11行 报告日期：2026-05-10 晚于销号日期 2026-05-06",
            "第13行 问题：与第12行重复（同一通知、同一问题、同一责任单位）",
            "第14行 通知名称：与第12行同一文号的通知名称“关于校园安全问题整改的督办通知”不一致",
            "第15行 责任单位：不能为空",
        ]
        for text in expected:
            assert text in texts, (text, texts)
        assert len(texts) == len(expected) and not result.ok and result.errors_of(12) == []

    def test_a_ledger_without_the_required_columns_names_them(self):
        result = read_ledger(["序号", "问题", "责任单位", "状态"], [(2, [1, "x", "y", "待整改"])], issuer=OFFICE, today=TODAY)
        assert [e.text() for e in result.errors] == ["第1行 表头：缺少列：通知名称、下发日期、整改时限"]

    def test_an_empty_ledger_says_so(self):
        assert [e.text() for e in ledger(workbook([[], []])).errors] == ["第2行 表格：没有可导入的行"]

    @pytest.mark.parametrize("data, reason", [
        (b"not a workbook", "无法读取该文件"),
        (workbook([row(1)], title_row=None)[:200], "无法读取该文件"),
    ])
    def test_a_file_that_is_no_workbook_is_refused_with_the_reason(self, data, reason):
        with pytest.raises(UnreadableWorkbook) as refused:
            read_workbook(data)
        assert reason in str(refused.value)

    def test_a_sheet_without_a_ledger_header_is_refused(self):
        book = Workbook()
        book.active.append(["姓名", "电话"])
        buffer = io.BytesIO()
        book.save(buffer)
        with pytest.raises(UnreadableWorkbook) as refused:
            read_workbook(buffer.getvalue())
        assert "没有台账表头" in str(refused.value)


class TestDates:
    @pytest.mark.parametrize("value, day", [
        ("2026-03-02", date(2026, 3, 2)), ("2026/3/2", date(2026, 3, 2)), ("2026.3.2", date(2026, 3, 2)),
        ("2026年3月2日", date(2026, 3, 2)), ("20260302", date(2026, 3, 2)), (46083, date(2026, 3, 2)),
        (datetime(2026, 3, 2, 0, 0), date(2026, 3, 2)), (date(2026, 3, 2), date(2026, 3, 2)), ("  ", None), (None, None),
    ])
    def test_the_ways_offices_write_a_date(self, value, day):
        assert parse_day(value) == day

    @pytest.mark.parametrize("value", ["2026.13.01", "三月二日", "2026-02-30", 1.5, -3, "2026-3"])
    def test_what_is_no_date(self, value):
        with pytest.raises(ValueError):
            parse_day(value)


class TestTheImportPages:
    """Upload → preview of every row (each mistake with its cell) → confirm; office staff only."""

    @pytest.fixture
    def office(self, app):  # noqa: F811 (the imported fixture)
        return signed_in(app, "office")

    def upload(self, client, data: bytes, filename: str = "台账.xlsx"):
        return client.post("/ledger/import", data={"file": (io.BytesIO(data), filename)},
                           content_type="multipart/form-data")

    def test_a_good_ledger_is_previewed_row_by_row_with_the_steps_it_will_record(self, office):
        early = {"issued": "2026-01-02", "deadline": "2026-02-20"}  # the portal's clock here says 2026-03-01
        answer = self.upload(office, workbook([
            row(1, **early, reported="2026-02-10", closed="2026-02-15"),
            row(2, **early, problem="围墙存在倒塌隐患", status="待整改", reported="", closed="")]))
        html = answer.get_data(as_text=True)
        assert answer.status_code == 200, html[:2000]
        assert "全部 2 行校验通过：1 份通知" in html and "确认导入" in html
        assert re.search(r'<tr data-row="3"[^>]*>.*?整改方案 2026-01-02；整改报告 2026-02-10；复查 2026-02-15；销号 2026-02-15',
                         html, re.S)
        assert re.search(r'name="digest" value="[0-9a-f]{64}"', html)

    def test_a_ledger_with_mistakes_lists_each_and_offers_no_import(self, office):
        answer = self.upload(office, workbook([row(1, deadline="2026.13.01"), row(2, unit="")]))
        html = answer.get_data(as_text=True)
        assert answer.status_code == 422
        assert "第3行 整改时限：无法识别的日期 &#39;2026.13.01&#39;" in html and "第4行 责任单位：不能为空" in html
        assert "确认导入" not in html

    def test_a_file_that_is_no_workbook_is_refused_with_the_reason(self, office):
        answer = self.upload(office, b"%PDF-1.4", "台账.pdf")
        assert answer.status_code == 422 and "无法读取该文件" in answer.get_data(as_text=True)

    def test_a_stale_or_forged_confirmation_imports_nothing(self, office):
        answer = office.post("/ledger/import/confirm", data={"digest": "../../etc/passwd"})
        assert answer.status_code == 302 and answer.headers["Location"].endswith("/ledger/import")

    @pytest.mark.parametrize("username", ["bazhou", "inspector", "auditor"])
    def test_only_office_staff_import(self, app, username):  # noqa: F811
        client = signed_in(app, username)
        assert client.get("/ledger/import").status_code == 403
        assert self.upload(client, workbook([row(1)])).status_code == 403
