"""The portal's official documents laid out as .docx in the GB/T 9704-2012 format of 党政机关公文 (python-docx).

What each document says is decided in domain/official_documents.py; here is only the layout: A4 with the
standard's margins, a 22-line grid of 3号仿宋, the red 发文机关标志 and separator, 一级/二级标题 fonts, page numbers
"— 1 —" on the outside edge and the 版记. Fonts are named, not embedded: Word uses them where installed and
substitutes otherwise, so the server needs none of them.
"""
from __future__ import annotations

import io

from docx import Document
from docx.enum.section import WD_SECTION_START
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING, WD_TAB_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

from shared.text import for_spreadsheet
from services.portal.domain.official_documents import (
    AnnualReportDocument,
    CaseReportDocument,
    Imprint,
    NoticeDocument,
    Section,
)

MIME_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
TITLE_FONT = "方正小标宋简体"
BODY_FONT = "仿宋_GB2312"
HEADING_FONT = "黑体"  # 一级标题
SUBHEADING_FONT = "楷体_GB2312"  # 二级标题
PAGE_NUMBER_FONT = "宋体"
RED = RGBColor(0xFF, 0x00, 0x00)
BODY_SIZE, TITLE_SIZE, PAGE_NUMBER_SIZE, TABLE_SIZE = Pt(16), Pt(22), Pt(14), Pt(12)  # 3号, 2号, 4号, 小4号
MARGINS = {"top": Mm(37), "bottom": Mm(35), "left": Mm(28), "right": Mm(26)}  # 版心 156 × 225 mm
LINE_PITCH = Mm(225 / 22)  # 22 lines in the 版心
CHART_WIDTH = Mm(150)


# -- building blocks --------------------------------------------------------------------------------------

def _new_document() -> Document:
    document = Document()
    section = document.sections[0]
    section.start_type = WD_SECTION_START.NEW_PAGE
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = MARGINS["top"], MARGINS["bottom"]
    section.left_margin, section.right_margin = MARGINS["left"], MARGINS["right"]
    section.footer_distance = Mm(28) - Mm(7)  # 页码 about 7 mm below the 版心's last line
    _grid(section)
    normal = document.styles["Normal"]
    _font(normal, BODY_FONT, BODY_SIZE)
    normal.paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    normal.paragraph_format.line_spacing = LINE_PITCH
    normal.paragraph_format.space_before = normal.paragraph_format.space_after = Pt(0)
    _page_numbers(document)
    return document


def _grid(section) -> None:
    """The standard's 22 lines × 28 characters, as Word's document grid."""
    sect_pr = section._sectPr
    grid = sect_pr.find(qn("w:docGrid"))
    if grid is None:
        grid = OxmlElement("w:docGrid")
        sect_pr.append(grid)
    grid.set(qn("w:type"), "linesAndChars")
    grid.set(qn("w:linePitch"), str(round(LINE_PITCH.twips)))
    # charSpace: the extra width per character over the font size, in 1/4096 pt: 156 mm / 28 − 16 pt
    grid.set(qn("w:charSpace"), str(round((Mm(156).pt / 28 - BODY_SIZE.pt) * 4096)))


def _font(target, name: str, size=None, *, bold: bool = False, color: RGBColor | None = None) -> None:
    """Name the font for Latin and East Asian text alike (python-docx sets only ascii/hAnsi by itself)."""
    target.font.name = name
    target._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), name)
    if size is not None:
        target.font.size = size
    target.font.bold = bold or None
    if color is not None:
        target.font.color.rgb = color


def _paragraph(document, text: str = "", *, font: str = BODY_FONT, size=BODY_SIZE, align=None, indent: bool = False,
               bold: bool = False, color: RGBColor | None = None, line_spacing=None):
    paragraph = document.add_paragraph()
    if align is not None:
        paragraph.alignment = align
    if indent:  # first line in by two characters
        paragraph.paragraph_format.first_line_indent = Pt(size.pt * 2)
    if line_spacing is not None:
        paragraph.paragraph_format.line_spacing = line_spacing
    if text:
        _font(paragraph.add_run(for_spreadsheet(text)), font, size, bold=bold, color=color)
    return paragraph


def _border(paragraph, side: str, *, size_eighths: int, color: str = "000000") -> None:
    """A line along one side of the paragraph (the red separator, the 版记's lines)."""
    p_pr = paragraph._p.get_or_add_pPr()
    borders = p_pr.find(qn("w:pBdr"))
    if borders is None:
        borders = OxmlElement("w:pBdr")
        p_pr.append(borders)
    line = OxmlElement(f"w:{side}")
    for name, value in (("val", "single"), ("sz", str(size_eighths)), ("space", "1"), ("color", color)):
        line.set(qn(f"w:{name}"), value)
    borders.append(line)


def _page_number_field(paragraph) -> None:
    """— PAGE — with the number as a field Word fills in."""
    _font(paragraph.add_run("— "), PAGE_NUMBER_FONT, PAGE_NUMBER_SIZE)
    for kind, text in (("begin", None), (None, " PAGE "), ("separate", None), (None, "1"), ("end", None)):
        run = paragraph.add_run()
        _font(run, PAGE_NUMBER_FONT, PAGE_NUMBER_SIZE)
        if kind:
            char = OxmlElement("w:fldChar")
            char.set(qn("w:fldCharType"), kind)
            run._r.append(char)
        elif text == " PAGE ":
            instruction = OxmlElement("w:instrText")
            instruction.set(qn("xml:space"), "preserve")
            instruction.text = text
            run._r.append(instruction)
        else:
            run.text = text
    _font(paragraph.add_run(" —"), PAGE_NUMBER_FONT, PAGE_NUMBER_SIZE)


def _page_numbers(document) -> None:
    """页码 on the outside: odd pages right, even pages left, each one character in from the edge."""
    document.settings.odd_and_even_pages_header_footer = True
    section = document.sections[0]
    for footer, align in ((section.footer, WD_ALIGN_PARAGRAPH.RIGHT), (section.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT)):
        paragraph = footer.paragraphs[0]
        paragraph.alignment = align
        if align == WD_ALIGN_PARAGRAPH.RIGHT:
            paragraph.paragraph_format.right_indent = PAGE_NUMBER_SIZE
        else:
            paragraph.paragraph_format.left_indent = PAGE_NUMBER_SIZE
        _page_number_field(paragraph)


def _title(document, text: str) -> None:
    _paragraph(document)
    _paragraph(document, text, font=TITLE_FONT, size=TITLE_SIZE, align=WD_ALIGN_PARAGRAPH.CENTER,
               line_spacing=Pt(TITLE_SIZE.pt * 1.5))
    _paragraph(document)


def _sections(document, sections: tuple[Section, ...]) -> None:
    for section in sections:
        _paragraph(document, section.title, font=HEADING_FONT, indent=True)
        for text in section.paragraphs:
            font = SUBHEADING_FONT if text.startswith("（") and "）" in text[:5] else BODY_FONT
            _paragraph(document, text, font=font, indent=True)


def _signature(document, signature: str, dated: str) -> None:
    """发文机关署名 and 成文日期, right-aligned four characters in from the edge."""
    _paragraph(document)
    for text in (signature, dated):
        paragraph = _paragraph(document, text, align=WD_ALIGN_PARAGRAPH.RIGHT)
        paragraph.paragraph_format.right_indent = Pt(BODY_SIZE.pt * 4)


def _imprint(document, imprint: Imprint) -> None:
    """版记: 抄送 then 印发机关 and 印发日期, between lines (thicker first and last), in 4号仿宋."""
    _paragraph(document)
    if imprint.copied:
        copied = _paragraph(document, imprint.copied, size=PAGE_NUMBER_SIZE)
        copied.paragraph_format.left_indent = copied.paragraph_format.right_indent = PAGE_NUMBER_SIZE
        _border(copied, "top", size_eighths=8)
    printed = document.add_paragraph()
    printed.paragraph_format.left_indent = printed.paragraph_format.right_indent = PAGE_NUMBER_SIZE
    _font(printed.add_run(for_spreadsheet(imprint.printer)), BODY_FONT, PAGE_NUMBER_SIZE)
    printed.add_run().add_tab()
    _font(printed.add_run(for_spreadsheet(imprint.printed_on)), BODY_FONT, PAGE_NUMBER_SIZE)
    printed.paragraph_format.tab_stops.add_tab_stop(Mm(156) - PAGE_NUMBER_SIZE * 2, WD_TAB_ALIGNMENT.RIGHT)
    _border(printed, "top", size_eighths=4 if imprint.copied else 8)
    _border(printed, "bottom", size_eighths=8)


def _table(document, headers: list[str], rows: list[list[str]], widths_mm: list[int]) -> None:
    table = document.add_table(rows=1, cols=len(headers))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cells in ([headers] + rows):
        row = table.rows[0] if cells is headers else table.add_row()
        for cell, text, width in zip(row.cells, cells, widths_mm, strict=True):
            cell.width = Mm(width)
            paragraph = cell.paragraphs[0]
            paragraph.paragraph_format.line_spacing = Pt(TABLE_SIZE.pt * 1.5)
            if cells is headers:
                paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
            _font(paragraph.add_run(for_spreadsheet(text)), HEADING_FONT if cells is headers else BODY_FONT, TABLE_SIZE)


def _bytes(document) -> bytes:
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


# -- the documents ----------------------------------------------------------------------------------------

def notice_docx(notice: NoticeDocument) -> bytes:
    """督办通知书: 版头 (red mark, 发文字号, red line), 主体 (title, 主送, text, problem table, 署名, date), 版记."""
    document = _new_document()
    _paragraph(document)
    _paragraph(document, notice.issuer_mark, font=TITLE_FONT, size=Pt(36), align=WD_ALIGN_PARAGRAPH.CENTER,
               color=RED, line_spacing=Pt(54))
    _paragraph(document)
    number = _paragraph(document, notice.doc_number, align=WD_ALIGN_PARAGRAPH.CENTER)
    _border(number, "bottom", size_eighths=12, color="FF0000")  # the red separator under 发文字号
    _title(document, notice.title)
    _paragraph(document, notice.recipients)
    _paragraph(document, notice.opening, indent=True)
    if notice.problems:
        _table(document, ["序号", "问题", "整改要求", "责任单位", "整改时限"],
               [[str(p.number), p.description, p.requirement, p.responsible_unit, p.deadline] for p in notice.problems],
               [12, 52, 46, 26, 24])
    _paragraph(document, notice.sign_for, indent=True)
    _signature(document, notice.signature, notice.dated)
    _imprint(document, notice.imprint)
    return _bytes(document)


def case_report_docx(report: CaseReportDocument) -> bytes:
    """整改情况报告 skeleton: title, 主送, opening, numbered sections, 署名, date and contact blanks."""
    document = _new_document()
    _title(document, report.title)
    _paragraph(document, report.recipients)
    _paragraph(document, report.opening, indent=True)
    _sections(document, report.sections)
    _signature(document, report.signature, report.dated)
    _paragraph(document)
    for line in report.contacts:
        _paragraph(document, line, indent=True)
    return _bytes(document)


def annual_report_docx(report: AnnualReportDocument) -> bytes:
    """督导工作报告: title, period, sections, the figures table and the charts."""
    document = _new_document()
    _title(document, report.title)
    _paragraph(document, f"（统计期间：{report.period}）", font=SUBHEADING_FONT, align=WD_ALIGN_PARAGRAPH.CENTER)
    _sections(document, report.sections[:2])
    _paragraph(document, "主要数据如下表：", indent=True)
    _table(document, ["项目", "数值"], [[label, value] for label, value in report.figures], [110, 46])
    for chart in report.charts:
        document.add_picture(io.BytesIO(chart.png), width=CHART_WIDTH)
        document.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
        _paragraph(document, chart.caption, font=SUBHEADING_FONT, size=TABLE_SIZE, align=WD_ALIGN_PARAGRAPH.CENTER)
    _sections(document, report.sections[2:])
    _signature(document, report.signature, report.dated)
    return _bytes(document)
