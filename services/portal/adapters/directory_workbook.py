"""The cells of an uploaded workbook of units and people (.xlsx), and the empty template offered for it.

The sheets are found by name (单位, 人员), else by their header; either may be left out. openpyxl reads and writes
(through services/portal/adapters/ledger_workbook.py); services/portal/domain/directory_import.py decides what the
cells mean.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any, Callable

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from shared.vocabulary import UNIT_KIND_ZH
from services.portal.adapters.ledger_workbook import (HEADER_SEARCH_ROWS, LedgerCells, UnreadableWorkbook,
                                                      open_workbook, read_table, sheet_grid)
from services.portal.domain.directory_import import (PEOPLE_SHEET, PERSON_COLUMNS, PERSON_REQUIRED, ROLES,
                                                     UNIT_COLUMNS, UNIT_REQUIRED, UNITS_SHEET, person_column,
                                                     unit_column)

HEADER_MINIMUM = 2  # recognised column names that make a row the header


@dataclass(frozen=True)
class DirectoryCells:
    units: LedgerCells | None
    people: LedgerCells | None


def read_directory_workbook(data: bytes) -> DirectoryCells:
    workbook = open_workbook(data)
    units = _table(workbook, UNITS_SHEET, unit_column, "单位表头（单位名称、类别……）")
    people = _table(workbook, PEOPLE_SHEET, person_column, "人员表头（用户名、姓名、角色……）")
    if units is None and people is None:
        raise UnreadableWorkbook(f"工作簿中没有“{UNITS_SHEET}”或“{PEOPLE_SHEET}”工作表，请使用导入模板")
    return DirectoryCells(units, people)


def _table(workbook: Workbook, title: str, recognise: Callable[[Any], str | None], header_zh: str) -> LedgerCells | None:
    """The sheet named ``title``; without one, the first sheet whose first rows hold its header; else None."""
    def is_header(cell: Any) -> bool:
        return recognise(cell) is not None

    named = next((sheet for sheet in workbook.worksheets if sheet.title.strip() == title), None)
    if named is None:
        named = next((sheet for sheet in workbook.worksheets
                      if any(sum(map(is_header, cells)) >= HEADER_MINIMUM
                             for cells in sheet_grid(sheet)[:HEADER_SEARCH_ROWS])), None)
    if named is None:
        return None
    return read_table(named, is_header, minimum=HEADER_MINIMUM, header_zh=header_zh, what_zh=f"{named.title}表")


def template_workbook() -> bytes:
    """The two sheets with their headers (required ones marked *), and a sheet explaining what each column takes."""
    workbook = Workbook()
    units = workbook.active
    units.title = UNITS_SHEET
    people = workbook.create_sheet(PEOPLE_SHEET)
    for sheet, columns, required in ((units, UNIT_COLUMNS, UNIT_REQUIRED), (people, PERSON_COLUMNS, PERSON_REQUIRED)):
        sheet.append([f"{name}*" if name in required else name for name in columns])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
            cell.alignment = Alignment(horizontal="center")
            sheet.column_dimensions[cell.column_letter].width = 24
        sheet.freeze_panes = "A2"
    notes = workbook.create_sheet("说明")
    for line in (
        ("带 * 的列必填；列按名称识别，顺序不限，多余的列不影响。",),
        (f"“{UNITS_SHEET}”表：每行一个单位。上级单位填其全称，可以是名录中已有的单位或本表中的单位。",),
        ("类别", "、".join(UNIT_KIND_ZH.values())),
        ("行政区划代码", "6至12位数字，如 511902"),
        (f"“{PEOPLE_SHEET}”表：每行一个账号。所属单位填全称（单位经办人、单位负责人、成员单位联络员必填）。",),
        ("角色", "、".join(ROLES) + "；多个角色以、分隔，第一个为登录时的默认角色"),
        ("初始密码", "至少10位，含字母、数字、符号中的两类，且不含用户名；请通知本人登录后修改"),
        ("手机、邮箱", "选填；页面上只显示部分号码"),
        ("重复导入", "名录中已有的单位和用户名会跳过，计为“已存在”"),
    ):
        notes.append(list(line))
    notes.column_dimensions["A"].width = 16
    notes.column_dimensions["B"].width = 80
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
