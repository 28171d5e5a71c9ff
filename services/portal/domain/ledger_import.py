"""Reading an office's existing 整改台账 (rectification ledger) for import: each row checked, grouped into notices.

A ledger row is one problem of a notice: 通知名称, 文号, 下发日期, 问题, 领域, 责任单位, 责任人, 整改措施, 整改时限, 状态,
报告日期, 销号日期 (the columns the portal exports; headers are matched by name, extra columns are ignored). Every
mistake is reported with its cell ("第7行 整改时限：无法识别的日期 '2026.13.01'"); a ledger with any mistake imports
nothing. What a row becomes is decided here: the notice it belongs to (one per 文号, or per title and date when
there is no 文号, with an id derived from them so a second import finds it) and the steps its status implies,
each on its day. Plain Python: the workbook is read by services/portal/adapters/ledger_workbook.py.
"""
from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Iterable, Sequence

from shared.vocabulary import NOTICE_KINDS as ALL_NOTICE_KINDS
from shared.vocabulary import CASE_STATUS_ZH, PROMPT_LETTER, CaseStatus

# The statuses of the ledger, in the order a case goes through them (the portal exports these words).
STATUSES = {label: status for status, label in CASE_STATUS_ZH.items() if status != CaseStatus.WITHDRAWN}
ORDER = tuple(STATUSES.values())
REQUIRED = ("通知名称", "下发日期", "问题", "责任单位", "整改时限", "状态")
OPTIONAL = ("文号", "领域", "责任人", "整改要求", "整改措施", "报告日期", "销号日期", "通知类型")
# what offices also call these columns in their own spreadsheets
ALIASES = {"问题描述": "问题", "存在问题": "问题", "问题清单": "问题", "发文日期": "下发日期", "印发日期": "下发日期",
           "通知标题": "通知名称", "督办通知": "通知名称", "发文字号": "文号", "整改期限": "整改时限", "完成时限": "整改时限",
           "整改状态": "状态", "办理状态": "状态", "整改进度": "状态", "责任领导": "责任人", "整改情况报告日期": "报告日期",
           "销号时间": "销号日期"}
# the kinds the notices service accepts with a problem list: a ledger row is a problem
NOTICE_KINDS = tuple(kind for kind in ALL_NOTICE_KINDS if kind != PROMPT_LETTER)
DEFAULT_KIND = "督办通知"
MAX_TEXT = {"通知名称": 500, "文号": 100, "问题": 4000, "领域": 100, "责任单位": 200, "责任人": 200, "整改要求": 4000,
            "整改措施": 4000}
IMPORT_NAMESPACE = uuid.UUID("6f1c2a4e-9b1d-5c8e-a3f7-1d2e3c4b5a69")  # for the ids of imported notices
EXCEL_EPOCH = date(1899, 12, 30)  # day 0 of a spreadsheet's date serial numbers


@dataclass(frozen=True)
class CellError:
    row: int  # the spreadsheet's row number
    column: str  # the header the value was under (or 表格 for the sheet as a whole)
    message: str

    def text(self) -> str:
        return f"第{self.row}行 {self.column}：{self.message}" if self.row else f"{self.column}：{self.message}"


@dataclass(frozen=True)
class LedgerRow:  # 台账的一行：一个问题
    row: int
    notice_title: str
    doc_number: str | None
    issued_on: date
    kind: str
    description: str
    area: str | None
    unit: str
    person: str | None
    requirement: str
    measures: tuple[str, ...]
    deadline: date
    status: str  # open | planned | rectifying | reported | verified | closed
    reported_on: date | None
    closed_on: date | None

    def steps(self) -> list[tuple[str, date]]:
        """The case steps the row's status implies, each with its day: (action, day), in order.

        The ledger names only the report and closing days: a plan or progress it implies is dated the issue day (the
        earliest day it can have happened), and said so in the 补录说明 (``REASON_UNDATED``)."""
        reached = ORDER.index(self.status)
        steps = []
        if reached >= ORDER.index("planned"):
            steps.append(("plan", self.issued_on))
        if self.status == "rectifying":
            steps.append(("progress", self.issued_on))
        if reached >= ORDER.index("reported"):
            steps.append(("completion", self.reported_on or self.closed_on))
        if reached >= ORDER.index("verified"):
            steps.append(("reinspection", self.closed_on or self.reported_on))
        if self.status == "closed":
            steps.append(("close", self.closed_on))
        return steps


REASON = "自整改台账导入"
REASON_UNDATED = "自整改台账导入（台账未载明该步骤日期，按通知下发日期登记）"


@dataclass
class ImportedNotice:  # 台账中的一份通知
    notice_id: str
    title: str
    doc_number: str | None
    kind: str
    issued_on: date
    rows: list[LedgerRow] = field(default_factory=list)

    @property
    def target_units(self) -> list[str]:
        return list(dict.fromkeys(row.unit for row in self.rows))


@dataclass
class LedgerImport:
    notices: list[ImportedNotice]
    rows: list[LedgerRow]
    errors: list[CellError]

    @property
    def ok(self) -> bool:
        return not self.errors and bool(self.rows)

    def errors_of(self, row: int) -> list[CellError]:
        return [error for error in self.errors if error.row == row]


def notice_id_for(issuer: str, doc_number: str | None, title: str, issued_on: date) -> str:
    """The same notice of the same office gets the same id on every import (文号, else title, and the issue day)."""
    return f"notice-{uuid.uuid5(IMPORT_NAMESPACE, f'{issuer}|{doc_number or title}|{issued_on.isoformat()}')}"


def canonical_header(text: Any) -> str | None:
    """The ledger column a header cell names, or None (spaces, line breaks and an asterisk of 必填 ignored)."""
    name = re.sub(r"[\s*＊（(].*$", "", str(text or "").strip()) if text is not None else ""
    name = ALIASES.get(name, name)
    return name if name in REQUIRED or name in OPTIONAL else None


def read_ledger(headers: Sequence[Any], rows: Iterable[tuple[int, Sequence[Any]]], *, issuer: str,
                today: date, header_row: int = 1) -> LedgerImport:
    """Check every row of a ledger (``rows``: the spreadsheet's row number and its cells) and group them into notices."""
    columns: dict[str, int] = {}
    for index, header in enumerate(headers):
        name = canonical_header(header)
        if name is not None and name not in columns:
            columns[name] = index
    missing = [name for name in REQUIRED if name not in columns]
    if missing:
        return LedgerImport([], [], [CellError(header_row, "表头", f"缺少列：{'、'.join(missing)}")])
    parsed: list[LedgerRow] = []
    errors: list[CellError] = []
    for number, cells in rows:
        values = {name: cells[index] if index < len(cells) else None for name, index in columns.items()}
        if all(_blank(v) for v in values.values()):
            continue  # a blank row (offices leave them between notices)
        row, row_errors = _read_row(number, values, today)
        errors.extend(row_errors)
        if row is not None:
            parsed.append(row)
    notices = _group(parsed, issuer, errors)
    if not parsed and not errors:
        errors.append(CellError(header_row, "表格", "没有可导入的行"))
    return LedgerImport(notices, parsed, sorted(errors, key=lambda e: e.row))


def _read_row(number: int, values: dict[str, Any], today: date) -> tuple[LedgerRow | None, list[CellError]]:
    errors: list[CellError] = []

    def error(column: str, message: str) -> None:
        errors.append(CellError(number, column, message))

    texts = {}
    for column, limit in MAX_TEXT.items():
        text = _text(values.get(column))
        if len(text) > limit:
            error(column, f"超过{limit}个字")
        texts[column] = text
    for column in ("通知名称", "问题", "责任单位"):
        if not texts[column]:
            error(column, "不能为空")
    days = {}
    for column in ("下发日期", "整改时限", "报告日期", "销号日期"):
        try:
            days[column] = parse_day(values.get(column))
        except ValueError:
            error(column, f"无法识别的日期 '{_text(values.get(column))}'")
            days[column] = None
    issued_on, deadline, reported_on, closed_on = (days[c] for c in ("下发日期", "整改时限", "报告日期", "销号日期"))
    for column in ("下发日期", "整改时限"):
        if days[column] is None and not any(e.column == column for e in errors):
            error(column, "不能为空")
    status_text = _text(values.get("状态"))
    status = STATUSES.get(status_text)
    if status is None:
        error("状态", f"无法识别的状态 '{status_text}'，应为{'、'.join(STATUSES)}之一" if status_text else "不能为空")
    kind = _text(values.get("通知类型")) or DEFAULT_KIND
    if kind not in NOTICE_KINDS:
        error("通知类型", f"无法识别的通知类型 '{kind}'，应为{'、'.join(NOTICE_KINDS)}之一")
    for column in ("下发日期", "报告日期", "销号日期"):  # what happened cannot lie ahead (a deadline may)
        if days[column] is not None and days[column] > today:
            error(column, f"{days[column]} 晚于今天")
    if issued_on is not None:
        for column in ("整改时限", "报告日期", "销号日期"):
            if days[column] is not None and days[column] < issued_on:
                error(column, f"{days[column]} 早于下发日期 {issued_on}")
    if status is not None:
        if status == "closed" and closed_on is None and not _named(errors, "销号日期"):
            error("销号日期", "状态为已销号的事项须填写销号日期")
        if status != "closed" and closed_on is not None:
            error("销号日期", f"状态为{status_text}的事项尚未销号，不应填写销号日期")
        if status in ("reported", "verified") and reported_on is None and not _named(errors, "报告日期"):
            error("报告日期", f"状态为{status_text}的事项须填写报告日期")
        if ORDER.index(status) < ORDER.index("reported") and reported_on is not None:
            error("报告日期", f"状态为{status_text}的事项尚未提交整改报告，不应填写报告日期")
    if reported_on is not None and closed_on is not None and reported_on > closed_on:
        error("报告日期", f"{reported_on} 晚于销号日期 {closed_on}")
    if errors:
        return None, errors
    measures = tuple(m for m in re.split(r"[；;\n]+", str(values.get("整改措施") or "")) if m.strip())
    return LedgerRow(
        row=number, notice_title=texts["通知名称"], doc_number=texts["文号"] or None, issued_on=issued_on, kind=kind,
        description=texts["问题"], area=texts["领域"] or None, unit=texts["责任单位"], person=texts["责任人"] or None,
        requirement=texts["整改要求"], measures=tuple(m.strip() for m in measures), deadline=deadline, status=status,
        reported_on=reported_on, closed_on=closed_on,
    ), []


def _group(rows: list[LedgerRow], issuer: str, errors: list[CellError]) -> list[ImportedNotice]:
    """One notice per 文号 (or per title and issue day without one); its rows must agree on title and day."""
    notices: dict[tuple, ImportedNotice] = {}
    seen: dict[tuple, int] = {}
    for row in rows:
        key = ("文号", row.doc_number) if row.doc_number else ("通知名称", row.notice_title, row.issued_on)
        notice = notices.get(key)
        if notice is None:
            notices[key] = ImportedNotice(notice_id_for(issuer, row.doc_number, row.notice_title, row.issued_on),
                                          row.notice_title, row.doc_number, row.kind, row.issued_on, [row])
            seen[(key, row.description, row.unit)] = row.row
            continue
        first = notice.rows[0].row
        if row.notice_title != notice.title:
            errors.append(CellError(row.row, "通知名称", f"与第{first}行同一文号的通知名称“{notice.title}”不一致"))
        elif row.issued_on != notice.issued_on:
            errors.append(CellError(row.row, "下发日期", f"与第{first}行同一通知的下发日期 {notice.issued_on} 不一致"))
        elif (twin := seen.get((key, row.description, row.unit))) is not None:
            errors.append(CellError(row.row, "问题", f"与第{twin}行重复（同一通知、同一问题、同一责任单位）"))
        else:
            notice.rows.append(row)
            seen[(key, row.description, row.unit)] = row.row
    return list(notices.values())


def parse_day(value: Any) -> date | None:
    """A date as offices type it: a date cell, 2026-03-02, 2026/3/2, 2026.3.2, 2026年3月2日, 20260302 or a
    spreadsheet serial number; None for an empty cell; ValueError for anything else."""
    if _blank(value):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if not 1 <= value < 2958466 or value != int(value):
            raise ValueError(value)
        return EXCEL_EPOCH + timedelta(days=int(value))
    text = str(value).strip()
    match = (re.fullmatch(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?", text)
             or re.fullmatch(r"(\d{4})(\d{2})(\d{2})", text))
    if match is None:
        raise ValueError(text)
    return date(*(int(part) for part in match.groups()))  # ValueError for 2026-13-01


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value == int(value):
        value = int(value)
    return re.sub(r"\s+", " ", str(value)).strip()


def _named(errors: list[CellError], column: str) -> bool:
    return any(e.column == column for e in errors)
