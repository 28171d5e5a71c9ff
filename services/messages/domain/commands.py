"""Commands the messages service accepts (imperative names)."""
from __future__ import annotations

from dataclasses import dataclass

from services.messages.domain.model import DeliveryState, Draft, Outcome


@dataclass(frozen=True)
class QueueMessage:  # 生成消息（规则触发）
    draft: Draft


@dataclass(frozen=True)
class ClaimDelivery:  # 领取待发送消息（发送进程）
    message_id: str


@dataclass(frozen=True)
class ClaimDeliveries:  # 成批领取待发送消息（发送进程）
    states: tuple[DeliveryState, ...]  # as their read-model rows say


@dataclass(frozen=True)
class RecordOutcomes:  # 成批记录发送结果
    outcomes: tuple[Outcome, ...]


@dataclass(frozen=True)
class RecordSent:  # 记录发送成功
    message_id: str
    attempt: int
    answer: str


@dataclass(frozen=True)
class RecordFailure:  # 记录发送失败
    message_id: str
    attempt: int
    error: str
    retryable: bool


@dataclass(frozen=True)
class RequeueMessage:  # 重新发送（督导办，从待处理列表）
    message_id: str
    reason: str = ""


@dataclass(frozen=True)
class MarkRead:  # 标记已读（站内消息）
    message_id: str
