"""Events of the tasks service; those other services read are contracts in shared.contracts."""
from __future__ import annotations

from dataclasses import dataclass, field

from shared.contracts import HolidayArrangementRecorded, PlanImported, PlanRecorded, TaskCreated
from shared.backfill import Step
from shared.events import DomainEvent, EventRegistry


@dataclass(frozen=True)
class TaskProgressRecorded(Step):  # 任务进展
    task_id: str
    summary: str
    percent: int | None = None


@dataclass(frozen=True)
class TaskCompleted(Step):  # 任务完成
    task_id: str
    summary: str


@dataclass(frozen=True)
class TaskCancelled(Step):  # 任务取消
    task_id: str
    reason: str


@dataclass(frozen=True)
class TaskNoticeLinked(DomainEvent):  # 针对本任务下发了督办通知
    task_id: str
    notice_id: str
    matter_ids: list[str] = field(default_factory=list)  # one per problem of the notice (督办事项)


@dataclass(frozen=True)
class TaskNoticeWithdrawn(DomainEvent):  # 相关督办通知已撤回
    task_id: str
    notice_id: str


@dataclass(frozen=True)
class TaskMatterClosed(DomainEvent):  # 相关督办事项已销号
    task_id: str
    notice_id: str
    matter_id: str
    closed_on: str
    on_time: bool = True


REGISTRY = EventRegistry(PlanRecorded, PlanImported, TaskCreated, TaskProgressRecorded, TaskCompleted, TaskCancelled,
                         TaskNoticeLinked, TaskNoticeWithdrawn, TaskMatterClosed, HolidayArrangementRecorded)
