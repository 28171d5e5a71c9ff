"""Commands the notices service accepts (imperative names)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from shared.backfill import StepCommand


@dataclass(frozen=True)
class ProblemInput:  # 问题清单中的一项
    description: str
    requirement: str
    responsible_unit: str  # 责任单位
    deadline: date | None = None  # 整改时限 as a date ...
    responsible_person: str | None = None  # 责任人
    deadline_days: int | None = None  # ... or as a period from the issue date
    deadline_kind: str = "calendar"  # calendar (自然日) | working (工作日)
    area: str | None = None  # 领域, e.g. 校园安全, 控辍保学 (for statistics by area)


@dataclass(frozen=True)
class NoticeContent:  # 通知正文要素
    kind: str
    title: str
    issuer_unit: str
    target_units: tuple[str, ...]
    problems: tuple[ProblemInput, ...]
    doc_number: str | None = None
    related_task_ids: tuple[str, ...] = ()
    listed: bool = False  # 挂牌督办
    copied_units: tuple[str, ...] = ()  # 抄送
    sign_for_deadline: date | None = None  # 签收时限; default from the office's policy
    issued_on: date | None = None  # for a notice issued on paper earlier (补录); default today


@dataclass(frozen=True)
class IssueNotice:  # 下发督办通知（直接下发）
    content: NoticeContent
    notice_id: str | None = None


@dataclass(frozen=True)
class DraftNotice:  # 保存草稿
    content: NoticeContent
    notice_id: str | None = None


@dataclass(frozen=True)
class IssueDraft:  # 下发草稿
    notice_id: str
    expected_version: int | None = None


@dataclass(frozen=True)
class SignNotice(StepCommand):  # 签收（by the signing unit's handler; the unit is the actor's own）
    notice_id: str
    expected_version: int | None = None
    unit: str | None = None  # the unit whose signature office staff record as a 补录


@dataclass(frozen=True)
class WithdrawNotice:  # 撤回
    notice_id: str
    reason: str
    expected_version: int | None = None


@dataclass(frozen=True)
class RecordProblemClosed:  # 问题销号（reaction to RectificationClosed）
    notice_id: str
    problem_id: str
    case_id: str
    closed_on: str


@dataclass(frozen=True)
class CheckSignDeadline:  # 签收时限检查（watcher）
    notice_id: str
