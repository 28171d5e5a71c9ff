"""The cells of an uploaded 整改台账 workbook (.xlsx), as offices keep them: a title row or two above the header,
merged cells for a notice's rows, blank rows between notices. openpyxl reads; services/portal/domain/ledger_import.py
decides what the cells mean."""
from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from typing import Any, Callable

from openpyxl import Workbook, load_workbook
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet.worksheet import Worksheet

from services.portal.domain.ledger_import import canonical_header

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 5000
HEADER_SEARCH_ROWS = 10  # the header is among the first rows (a title such as “××区整改台账” may come first)
PREFERRED_SHEET = "整改台账"


class UnreadableWorkbook(ValueError):
    """Not an .xlsx we can read, or one without a ledger in it: the reason in Chinese."""


@dataclass(frozen=True)
class LedgerCells:
    sheet: str
    header_row: int
    headers: list[Any]
    rows: list[tuple[int, list[Any]]]  # (spreadsheet row number, cells) after the header


def read_workbook(data: bytes) -> LedgerCells:
    workbook = open_workbook(data)
    sheet = workbook[PREFERRED_SHEET] if PREFERRED_SHEET in workbook.sheetnames else workbook.worksheets[0]
    return read_table(sheet, lambda cell: canonical_header(cell) is not None, minimum=3,
                      header_zh="台账表头（通知名称、问题、责任单位……）", what_zh="台账")


def read_table(sheet: Worksheet, is_header: Callable[[Any], bool], *, minimum: int, header_zh: str,
               what_zh: str) -> LedgerCells:
    """The rows under a sheet's header: the first of its first rows with ``minimum`` cells that ``is_header``."""
    grid = sheet_grid(sheet)
    header_index = next((i for i, cells in enumerate(grid[:HEADER_SEARCH_ROWS])
                         if sum(is_header(c) for c in cells) >= minimum), None)
    if header_index is None:
        raise UnreadableWorkbook(f"工作表“{sheet.title}”的前{HEADER_SEARCH_ROWS}行中没有{header_zh}")
    rows = [(number, cells) for number, cells in enumerate(grid[header_index + 1:], start=header_index + 2)]
    if len(rows) > MAX_ROWS:
        raise UnreadableWorkbook(f"{what_zh}超过 {MAX_ROWS} 行，请分批导入")
    return LedgerCells(sheet.title, header_index + 1, grid[header_index], rows)


def open_workbook(data: bytes) -> Workbook:
    """An uploaded .xlsx (at most ``MAX_BYTES``), formulas as their last computed values; else UnreadableWorkbook."""
    if len(data) > MAX_BYTES:
        raise UnreadableWorkbook(f"文件超过 {MAX_BYTES // (1024 * 1024)} MB")
    try:
        return load_workbook(io.BytesIO(data), data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, OSError) as error:
        raise UnreadableWorkbook("无法读取该文件，请上传 Excel 工作簿（.xlsx）") from error


def sheet_grid(sheet: Worksheet) -> list[list[Any]]:
    """A sheet's cells row by row, each merged block's value in every cell of the block."""
    grid = [list(row) for row in sheet.iter_rows(values_only=True)]
    for merged in sheet.merged_cells.ranges:  # a merged block holds its value in its top-left cell only
        value = sheet.cell(merged.min_row, merged.min_col).value
        for row in range(merged.min_row, min(merged.max_row, len(grid)) + 1):
            for column in range(merged.min_col, merged.max_col + 1):
                cells = grid[row - 1]
                if column - 1 < len(cells):
                    cells[column - 1] = value
    return grid
