"""Events of the notices service; those other services read are contracts in shared.contracts."""
from __future__ import annotations

from dataclasses import dataclass, field

from shared.contracts import NoticeCleared, NoticeIssued, NoticeWithdrawn
from shared.backfill import Step
from shared.events import DomainEvent, EventRegistry


@dataclass(frozen=True)
class NoticeDrafted(DomainEvent):  # 督办通知草稿已保存
    """``content``: the notice as typed (kind, title, units, problems with deadline rules, ...)."""

    notice_id: str
    content: dict


@dataclass(frozen=True)
class NoticeSigned(Step):  # 已签收
    notice_id: str
    unit: str
    signed_on: str
    late: bool = False  # after the sign-for deadline (签收时限)


@dataclass(frozen=True)
class NoticeSignOverdue(DomainEvent):  # 逾期未签收
    notice_id: str
    deadline: str
    unsigned_units: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class NoticeProblemClosed(DomainEvent):  # 问题已销号（来自整改跟踪）
    notice_id: str
    problem_id: str
    case_id: str
    closed_on: str


REGISTRY = EventRegistry(NoticeDrafted, NoticeIssued, NoticeSigned, NoticeSignOverdue, NoticeProblemClosed,
                         NoticeCleared, NoticeWithdrawn)
