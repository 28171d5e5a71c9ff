"""Commands the tasks service accepts."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from shared.backfill import StepCommand


@dataclass(frozen=True)
class TaskInput:  # 督导任务（来自工作要点的一项工作措施）
    number: str
    text: str
    lead_unit: str | None = None
    partner_units: tuple[str, ...] = ()
    due_date: date | None = None
    category: str | None = None  # 督政 / 督学 / 评估监测
    targets: tuple[str, ...] = ()  # quantitative targets


@dataclass(frozen=True)
class ImportPlan:  # 确认导入公文中的工作要点（预览并修改后）
    title: str
    tasks: tuple[TaskInput, ...]
    year: int | None = None
    issuer: str | None = None
    doc_number: str | None = None
    document_date: date | None = None
    source_sha256: str | None = None
    plan_id: str | None = None


@dataclass(frozen=True)
class RecordPlan:  # 录入工作要点及其任务
    title: str
    tasks: tuple[TaskInput, ...]
    year: int | None = None
    issuer: str | None = None
    doc_number: str | None = None
    plan_id: str | None = None


@dataclass(frozen=True)
class RecordTaskProgress(StepCommand):  # 报告任务进展
    task_id: str
    summary: str
    percent: int | None = None
    expected_version: int | None = None


@dataclass(frozen=True)
class CompleteTask(StepCommand):  # 任务完成
    task_id: str
    summary: str
    expected_version: int | None = None


@dataclass(frozen=True)
class CancelTask(StepCommand):  # 取消任务
    task_id: str
    reason: str
    expected_version: int | None = None


@dataclass(frozen=True)
class LinkNotice:  # reaction: a notice was issued about this task
    task_id: str
    notice_id: str
    matter_ids: tuple[str, ...]


@dataclass(frozen=True)
class UnlinkWithdrawnNotice:  # reaction: that notice was withdrawn
    task_id: str
    notice_id: str


@dataclass(frozen=True)
class RecordMatterClosed:  # reaction: one of its matters was closed (销号)
    task_id: str
    notice_id: str
    matter_id: str
    closed_on: str
    on_time: bool = True


@dataclass(frozen=True)
class RecordHolidayArrangement:  # 录入国务院公布的当年节假日安排
    year: int
    holidays: tuple[date, ...]
    workdays: tuple[date, ...] = ()  # 调休上班的周末
    source: str = ""  # 文号 of the State Council's notice
    expected_version: int | None = None
