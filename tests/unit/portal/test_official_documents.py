"""公文 (.docx) built from plain data and opened again with python-docx: each part where GB/T 9704-2012 puts it,
the wording, numbering and dates offices expect, the A4 page and its margins, and the fonts named for East
Asian text."""
from __future__ import annotations

import io
from datetime import date

import docx
import pytest
from docx.oxml.ns import qn
from docx.shared import Pt, RGBColor

from services.portal.adapters import official_documents as layout
from services.portal.adapters.charts import bar_chart
from services.portal.domain.model import CaseRecord, NoticeRecord
from services.portal.domain.official_documents import (
    CaseStep,
    Chart,
    annual_report_document,
    case_report_document,
    chinese_number,
    copied_line,
    doc_number_text,
    gongwen_date,
    notice_document,
    period_title,
    recipients_line,
)

ISSUER = "巴中市教育局"
PROBLEMS = [
    {"problem_id": "P1", "description": "教学楼存在危房未拆除", "requirement": "限期拆除", "responsible_unit": "巴州区教育局",
     "deadline": "2026-02-10"},
    {"problem_id": "P2", "description": "消防通道堵塞", "requirement": "立即清理", "responsible_unit": "恩阳区教育局",
     "deadline": "2026-02-20"},
]
FIGURE_LABELS = (("notices", "下发督办通知及工作提示函（份）"), ("prompt_letters", "其中：工作提示函（份）"),
                 ("problems", "跟踪督办问题（个）"), ("closed", "已销号（个）"), ("completion_rate", "整改完成率"),
                 ("interviews", "约谈（次）"))


def a_notice(**changes) -> NoticeRecord:
    values = dict(id="notice-1", kind="督办通知", title="关于校舍安全隐患整改的督办通知", doc_number="巴教督办[2026]第3号",
                  issuer_unit=ISSUER, target_units=["巴州区人民政府", "恩阳区人民政府"], copied_units=["巴中市人民政府办公室"],
                  status="issued", issued_on="2026-01-10", sign_for_deadline="2026-01-15", problems=PROBLEMS)
    return NoticeRecord(**{**values, **changes})


def a_case(**changes) -> CaseRecord:
    values = dict(id="notice-1:P1", notice_id="notice-1", problem_id="P1", description="教学楼存在危房未拆除。",
                  requirement="限期拆除", responsible_unit="巴州区教育局", issuer_unit=ISSUER,
                  notice_title="关于校舍安全隐患整改的督办通知", doc_number="巴教督办〔2026〕3号", deadline="2026-02-10",
                  measures=["封闭危房", "拆除重建"])
    return CaseRecord(**{**values, **changes})


STEPS = [CaseStep("RectificationPlanSubmitted", "2026-01-15", {"plan": "拆除危房并重建", "measures": ["封闭危房", "拆除重建"]}),
         CaseStep("RectificationProgressReported", "2026-01-25", {"summary": "危房已封闭", "evidence": ["封闭现场照片说明"]}),
         CaseStep("RectificationReported", "2026-02-03", {"summary": "危房已拆除", "reported_on": "2026-02-02",
                                                          "evidence": ["拆除验收单"]}),
         CaseStep("ReinspectionPassed", "2026-02-05", {"findings": "复查通过"})]
STATISTICS = {"period": "2026-01-01 至 2026-12-04", "sentences": ["下发督办通知及工作提示函共2份。", "整改完成率25.0%。"],
              "figures": {"notices": 2, "prompt_letters": 1, "listed": 1, "problems": 4, "closed": 1,
                          "completion_rate": 0.25, "interviews": 1}}
SERIES = {"areas": [("校园安全", 2), ("控辍保学", 2)], "closings_by_month": [("2026-02", 1)],
          "on_time_by_unit": [("巴州区教育局", 1.0)]}


def opened(content: bytes):
    return docx.Document(io.BytesIO(content))


def texts(document) -> list[str]:
    return [p.text for p in document.paragraphs]


def the_paragraph(document, text: str):
    found = [p for p in document.paragraphs if p.text == text]
    assert found, f"no paragraph {text!r} in {texts(document)}"
    return found[0]


def east_asian_font(run) -> str | None:
    return run._r.rPr.rFonts.get(qn("w:eastAsia"))


def table_rows(table) -> list[list[str]]:
    return [[cell.text for cell in row.cells] for row in table.rows]


class TestWording:
    @pytest.mark.parametrize("day, text", [("2026-12-04", "2026年12月4日"), (date(2026, 1, 10), "2026年1月10日"),
                                           (None, ""), ("2026-03-01T08:00:00", "2026年3月1日")])
    def test_dates_are_written_in_gongwen_form(self, day, text):
        assert gongwen_date(day) == text

    @pytest.mark.parametrize("raw, text", [
        ("巴教督办[2026]3号", "巴教督办〔2026〕3号"), ("巴教督办（2026）第3号", "巴教督办〔2026〕3号"),
        ("巴教督办 【2026】 12号", "巴教督办〔2026〕12号"), ("巴教督办〔2026〕3号", "巴教督办〔2026〕3号"), (None, "")])
    def test_doc_numbers_take_the_year_in_hexagonal_brackets_and_no_di(self, raw, text):
        assert doc_number_text(raw) == text

    def test_recipients_are_joined_with_a_dunhao_and_end_with_a_colon(self):
        assert recipients_line(["巴州区人民政府", " 恩阳区人民政府 ", ""]) == "巴州区人民政府、恩阳区人民政府："
        assert recipients_line([]) == ""

    def test_copied_units_make_the_chaosong_line(self):
        assert copied_line(["市政府办", "市财政局"]) == "抄送：市政府办，市财政局。"
        assert copied_line([]) == ""

    @pytest.mark.parametrize("n, text", [(1, "一"), (10, "十"), (11, "十一"), (20, "二十"), (35, "三十五")])
    def test_headings_are_numbered_in_chinese(self, n, text):
        assert chinese_number(n) == text

    def test_a_heading_number_out_of_range_is_refused(self):
        with pytest.raises(ValueError):
            chinese_number(0)

    def test_a_period_within_one_year_is_named_by_its_year(self):
        assert period_title(date(2026, 1, 1), date(2026, 12, 4)) == "2026年"
        assert period_title(date(2025, 3, 1), date(2026, 2, 28)) == "2025年3月1日至2026年2月28日"


class TestNoticeDocument:
    def test_the_parts_come_from_the_notice(self):
        document = notice_document(a_notice(), PROBLEMS, printed_on=date(2026, 3, 1))
        assert document.issuer_mark == "巴中市教育局文件" and document.doc_number == "巴教督办〔2026〕3号"
        assert document.recipients == "巴州区人民政府、恩阳区人民政府："
        assert [p.number for p in document.problems] == [1, 2]
        assert document.problems[1].deadline == "2026年2月20日"
        assert document.sign_for == "请于2026年1月15日前签收本督办通知。"
        assert (document.signature, document.dated) == (ISSUER, "2026年1月10日")
        assert document.imprint.copied == "抄送：巴中市人民政府办公室。"
        assert document.imprint.printed_on == "2026年1月10日印发"

    def test_without_a_sign_for_deadline_or_an_issue_day_the_wording_says_so(self):
        document = notice_document(a_notice(sign_for_deadline=None, issued_on=None, problems=[]), [],
                                   printed_on=date(2026, 3, 1))
        assert document.sign_for == "请收到本督办通知后及时签收。"
        assert document.dated == "2026年3月1日" and not document.problems

    def test_the_docx_holds_every_part_where_the_standard_puts_it(self):
        content = layout.notice_docx(notice_document(a_notice(), PROBLEMS, printed_on=date(2026, 3, 1)))
        document = opened(content)
        mark = the_paragraph(document, "巴中市教育局文件")
        assert mark.runs[0].font.color.rgb == RGBColor(0xFF, 0, 0)
        assert east_asian_font(mark.runs[0]) == "方正小标宋简体"
        number = the_paragraph(document, "巴教督办〔2026〕3号")
        bottom = number._p.pPr.find(qn("w:pBdr")).find(qn("w:bottom"))
        assert bottom.get(qn("w:color")) == "FF0000"  # the red separator under 发文字号
        title = the_paragraph(document, "关于校舍安全隐患整改的督办通知")
        assert east_asian_font(title.runs[0]) == "方正小标宋简体" and title.runs[0].font.size == Pt(22)
        all_text = texts(document)
        assert all_text.index("巴中市教育局文件") < all_text.index("巴教督办〔2026〕3号") < all_text.index(
            "关于校舍安全隐患整改的督办通知") < all_text.index("巴州区人民政府、恩阳区人民政府：")
        [table] = document.tables
        assert table_rows(table) == [["序号", "问题", "整改要求", "责任单位", "整改时限"],
                                     ["1", "教学楼存在危房未拆除", "限期拆除", "巴州区教育局", "2026年2月10日"],
                                     ["2", "消防通道堵塞", "立即清理", "恩阳区教育局", "2026年2月20日"]]
        assert "请于2026年1月15日前签收本督办通知。" in all_text
        assert all_text.index(ISSUER) < all_text.index("2026年1月10日")  # 署名 then 成文日期
        assert "抄送：巴中市人民政府办公室。" in all_text
        assert any(text.startswith(ISSUER) and text.endswith("2026年1月10日印发") for text in all_text)

    def test_the_page_is_a4_with_the_standards_margins_and_fonts_named_for_east_asian_text(self):
        document = opened(layout.notice_docx(notice_document(a_notice(), PROBLEMS, printed_on=date(2026, 3, 1))))
        section = document.sections[0]
        def mm(*lengths):  # stored in twips: to the nearest tenth of a millimetre
            return tuple(round(length.mm, 1) for length in lengths)
        assert mm(section.page_width, section.page_height) == (210, 297)
        assert mm(section.top_margin, section.bottom_margin, section.left_margin, section.right_margin) == (37, 35, 28, 26)
        normal = document.styles["Normal"]
        assert normal.font.size == Pt(16)
        assert normal.element.rPr.rFonts.get(qn("w:eastAsia")) == "仿宋_GB2312"
        opening = next(p for p in document.paragraphs if p.text.startswith("经督导检查"))
        assert east_asian_font(opening.runs[0]) == "仿宋_GB2312"
        assert section._sectPr.find(qn("w:docGrid")).get(qn("w:type")) == "linesAndChars"
        for footer in (section.footer, section.even_page_footer):  # — 1 — outside, in 4号宋体
            assert footer.paragraphs[0].text.startswith("— ") and footer.paragraphs[0].text.endswith(" —")
            assert "PAGE" in footer.paragraphs[0]._p.xml
            assert east_asian_font(footer.paragraphs[0].runs[0]) == "宋体"
        assert section.footer.paragraphs[0].alignment != section.even_page_footer.paragraphs[0].alignment

    def test_control_characters_from_old_events_do_not_break_the_file(self):
        notice = a_notice(title="关于\x01整改的通知")
        document = opened(layout.notice_docx(notice_document(notice, PROBLEMS, printed_on=date(2026, 3, 1))))
        assert "关于整改的通知" in texts(document)


class TestCaseReport:
    def test_the_skeleton_is_prefilled_from_the_cases_steps_and_evidence(self):
        report = case_report_document(a_case(), STEPS, [{"name": "验收照片.jpg", "step": "RectificationReported"}])
        assert report.title == "关于教学楼存在危房未拆除问题整改情况的报告"
        assert report.recipients == "巴中市教育局："
        assert "《关于校舍安全隐患整改的督办通知》（巴教督办〔2026〕3号）" in report.opening
        sections = {s.title: s.paragraphs for s in report.sections}
        assert sections["一、整改方案"] == ("2026年1月15日，拆除危房并重建",)
        assert sections["二、整改措施"] == ("1. 封闭危房", "2. 拆除重建")
        assert sections["三、整改进展"] == ("2026年1月25日，危房已封闭",)
        assert sections["四、整改完成情况"] == ("2026年2月2日，危房已拆除",)  # the day the report says, not when entered
        assert sections["五、佐证材料"] == ("1. 封闭现场照片说明", "2. 拆除验收单", "3. 验收照片.jpg（附件）")
        assert report.signature == "巴州区教育局"
        assert report.contacts[0].startswith("联系人：") and report.contacts[1].startswith("联系电话：")

    def test_a_case_without_steps_leaves_blanks_to_fill(self):
        report = case_report_document(a_case(measures=[], doc_number=None), [])
        sections = {s.title: s.paragraphs for s in report.sections}
        assert all(text.startswith("（待") for paragraphs in sections.values() for text in paragraphs)

    def test_the_docx_has_the_title_sections_in_heiti_and_the_contact_blanks(self):
        document = opened(layout.case_report_docx(case_report_document(a_case(), STEPS)))
        all_text = texts(document)
        assert "关于教学楼存在危房未拆除问题整改情况的报告" in all_text and "巴中市教育局：" in all_text
        heading = the_paragraph(document, "一、整改方案")
        assert east_asian_font(heading.runs[0]) == "黑体"
        assert all_text.index("一、整改方案") < all_text.index("五、佐证材料") < all_text.index("巴州区教育局")
        assert any(text.startswith("联系电话：") for text in all_text)


class TestAnnualReport:
    def test_the_figures_are_the_statistics_it_was_given(self):
        report = annual_report_document(STATISTICS, SERIES, FIGURE_LABELS, start=date(2026, 1, 1), end=date(2026, 12, 4),
                                        issuer=ISSUER, dated=date(2026, 12, 4))
        assert report.title == "关于2026年督导工作情况的报告"
        assert dict(report.figures) == {"下发督办通知及工作提示函（份）": "2", "其中：工作提示函（份）": "1",
                                        "跟踪督办问题（个）": "4", "已销号（个）": "1", "整改完成率": "25.0%",
                                        "约谈（次）": "1", "未销号（个）": "3"}
        first = report.sections[0]
        assert first.title == "一、总体情况" and first.paragraphs == tuple(STATISTICS["sentences"])
        assert "按领域分：校园安全2个、控辍保学2个。" in report.sections[1].paragraphs

    def test_the_docx_holds_the_figures_table_and_the_charts(self):
        png = bar_chart("各领域督办问题（个）", ["校园安全", "控辍保学"], {"问题": [2, 2]}, fmt="png")
        report = annual_report_document(STATISTICS, SERIES, FIGURE_LABELS, start=date(2026, 1, 1), end=date(2026, 12, 4),
                                        issuer=ISSUER, dated=date(2026, 12, 4), charts=[Chart("图1 各领域督办问题（个）", png)])
        document = opened(layout.annual_report_docx(report))
        [table] = document.tables
        rows = table_rows(table)
        assert rows[0] == ["项目", "数值"] and dict(rows[1:]) == dict(report.figures)
        assert len(document.inline_shapes) == 1 and "图1 各领域督办问题（个）" in texts(document)
        assert "下发督办通知及工作提示函共2份。" in texts(document)
        assert texts(document)[-1] == "2026年12月4日"
