"""Events of the followups service; those other services read are contracts in shared.contracts."""
from __future__ import annotations

from dataclasses import dataclass, field

from shared.backfill import Step
from shared.contracts import RectificationClosed, RectificationOpened
from shared.events import DomainEvent, EventRegistry


@dataclass(frozen=True)
class RectificationPlanSubmitted(Step):  # 已提交整改方案
    case_id: str
    plan: str
    measures: list[str] = field(default_factory=list)  # 整改措施
    planned_completion: str | None = None
    files: list[dict] = field(default_factory=list)  # 佐证材料文件 [{sha256, size, type, name}]


@dataclass(frozen=True)
class RectificationProgressReported(Step):  # 已报告整改进展
    case_id: str
    summary: str
    evidence: list[str] = field(default_factory=list)  # descriptions of the evidence (佐证材料)
    files: list[dict] = field(default_factory=list)  # 佐证材料文件 [{sha256, size, type, name}]


@dataclass(frozen=True)
class RectificationReported(Step):  # 已提交整改报告（申请复查）
    case_id: str
    summary: str
    evidence: list[str] = field(default_factory=list)
    reported_on: str | None = None
    reinspection_due: str | None = None  # 复查答复时限
    files: list[dict] = field(default_factory=list)  # 佐证材料文件 [{sha256, size, type, name}]


@dataclass(frozen=True)
class ReinspectionPassed(Step):  # 复查通过
    case_id: str
    findings: str
    files: list[dict] = field(default_factory=list)  # 佐证材料文件 [{sha256, size, type, name}]


@dataclass(frozen=True)
class ReinspectionFailed(Step):  # 复查未通过，退回整改
    case_id: str
    findings: str
    files: list[dict] = field(default_factory=list)  # 佐证材料文件 [{sha256, size, type, name}]


@dataclass(frozen=True)
class DeadlineExtended(Step):  # 整改时限已延期
    case_id: str
    previous_deadline: str | None
    new_deadline: str
    reason: str
    approver: str  # 批准人
    files: list[dict] = field(default_factory=list)  # 佐证材料文件 [{sha256, size, type, name}]


@dataclass(frozen=True)
class RectificationOverdue(DomainEvent):  # 整改逾期（每个错过的时限一次）
    case_id: str
    notice_id: str
    deadline: str
    detected_on: str


@dataclass(frozen=True)
class RectificationEscalated(Step):  # 督办升级：催办 / 预警 / 约谈 / 通报 / 问责
    case_id: str
    level: str
    reason: str
    doc_number: str | None = None  # the document recording the decision (约谈/通报/问责)
    measure: str | None = None  # 问责 measure under 《教育督导问责办法》
    target: str = "unit"  # unit (被督导单位) or person (相关责任人)
    automatic: bool = False  # raised by the deadline watcher, not by a person
    deadline: str | None = None  # the deadline it escalates against


@dataclass(frozen=True)
class RectificationCommended(Step):  # 表彰
    case_id: str
    reason: str
    doc_number: str | None = None


@dataclass(frozen=True)
class RectificationWithdrawn(DomainEvent):  # 通知撤回，整改事项随之撤销
    case_id: str
    reason: str


REGISTRY = EventRegistry(
    RectificationOpened, RectificationPlanSubmitted, RectificationProgressReported, RectificationReported,
    ReinspectionPassed, ReinspectionFailed, RectificationClosed, DeadlineExtended, RectificationOverdue,
    RectificationEscalated, RectificationCommended, RectificationWithdrawn,
)
