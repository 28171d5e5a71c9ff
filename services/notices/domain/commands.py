"""Commands the notices service accepts (imperative names)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class ProblemInput:  # 问题清单中的一项
    description: str
    requirement: str
    responsible_unit: str  # 责任单位
    deadline: date | None = None  # 整改时限


@dataclass(frozen=True)
class IssueNotice:  # 下发督办通知
    kind: str
    title: str
    issuer_unit: str
    target_units: tuple[str, ...]
    problems: tuple[ProblemInput, ...]
    doc_number: str | None = None
    related_task_ids: tuple[str, ...] = ()
    listed: bool = False
    notice_id: str | None = None
