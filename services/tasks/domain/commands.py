"""Commands the tasks service accepts."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class TaskInput:  # 督导任务（来自工作要点的一项工作措施）
    number: str
    text: str
    lead_unit: str | None = None
    partner_units: tuple[str, ...] = ()
    due_date: date | None = None


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
