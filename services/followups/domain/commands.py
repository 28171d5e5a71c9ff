"""Commands the followups service accepts (imperative names, one per use case)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from shared.backfill import StepCommand


@dataclass(frozen=True)
class FileRef:  # a stored 佐证材料 file a step attaches, by content hash, under the name the step gives it
    sha256: str
    name: str


@dataclass(frozen=True)
class OpenRectification:  # 建立整改事项（每个问题一个）
    case_id: str
    notice_id: str
    problem_id: str
    description: str
    responsible_unit: str
    deadline: str | None = None
    details: dict = field(default_factory=dict)  # requirement, responsible person, notice title/kind/文号, ...


@dataclass(frozen=True)
class SubmitRectificationPlan(StepCommand):  # 提交整改方案
    case_id: str
    plan: str
    measures: tuple[str, ...] = ()
    planned_completion: date | None = None
    expected_version: int | None = None
    files: tuple[FileRef, ...] = ()  # 佐证材料文件, uploaded before the step


@dataclass(frozen=True)
class ReportProgress(StepCommand):  # 报告整改进展
    case_id: str
    summary: str
    evidence: tuple[str, ...] = ()
    expected_version: int | None = None
    files: tuple[FileRef, ...] = ()  # 佐证材料文件, uploaded before the step


@dataclass(frozen=True)
class ReportCompletion(StepCommand):  # 提交整改报告
    case_id: str
    summary: str
    evidence: tuple[str, ...] = ()
    expected_version: int | None = None
    files: tuple[FileRef, ...] = ()  # 佐证材料文件, uploaded before the step


@dataclass(frozen=True)
class Reinspect(StepCommand):  # 复查
    case_id: str
    passed: bool
    findings: str
    expected_version: int | None = None
    files: tuple[FileRef, ...] = ()  # 佐证材料文件, uploaded before the step


@dataclass(frozen=True)
class CloseCase(StepCommand):  # 销号
    case_id: str
    expected_version: int | None = None


@dataclass(frozen=True)
class ExtendDeadline(StepCommand):  # 延期
    case_id: str
    new_deadline: date
    reason: str
    approver: str
    expected_version: int | None = None
    files: tuple[FileRef, ...] = ()  # 佐证材料文件, uploaded before the step


@dataclass(frozen=True)
class Escalate(StepCommand):  # 催办 / 预警 / 约谈 / 通报 / 问责
    case_id: str
    level: str
    reason: str
    doc_number: str | None = None
    measure: str | None = None
    target: str = "unit"
    expected_version: int | None = None


@dataclass(frozen=True)
class Commend(StepCommand):  # 表彰
    case_id: str
    reason: str
    doc_number: str | None = None
    expected_version: int | None = None


@dataclass(frozen=True)
class CheckDeadline:  # 时限检查（deadline watcher）
    case_id: str


@dataclass(frozen=True)
class WithdrawCase:  # 通知撤回 → 撤销整改事项
    case_id: str
    reason: str
