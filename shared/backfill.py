"""补录: a step recorded later than the day it really happened, with that day (业务日期) and a reason.

Every step a person records carries the business date it happened on (``occurred_on``); the event's
``recorded_at`` stays the moment it was typed. Whatever judges time (late or on time, 逾期签收, statistics,
the ledger's 销号日期) reads the business date.

Backdating is a power: only office staff record a step with an earlier date, and only with a 补录说明.
Office staff may record another role's step (a unit's 整改报告, an inspector's 复查) only with such a reason
(补录, or 代录 of a paper step taken today), so separation of duties holds for what people do in the system.
The event then says for whom it was recorded.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from shared.auth import Role
from shared.envelope import Actor
from shared.errors import Forbidden, InvalidInput, require_text
from shared.events import DomainEvent

# the roles that may backdate a step (补录)
BACKFILL_ROLES = (Role.OFFICE_STAFF, Role.ADMIN)


@dataclass(frozen=True)
class StepDate:  # 业务日期（及补录说明）
    on: date  # the day the step happened
    recorded_on: date  # the day it is recorded (today)
    reason: str | None = None  # 补录说明; only for a step recorded after its day
    recorded_for: str | None = None  # the unit (or role) whose step someone else recorded

    @classmethod
    def today(cls, today: date) -> "StepDate":
        return cls(on=today, recorded_on=today)

    @property
    def backfilled(self) -> bool:
        return self.on < self.recorded_on

    def event_fields(self) -> dict:
        """The fields every step event carries (``Step``)."""
        backfill = None
        if self.reason or self.recorded_for:
            backfill = {"reason": self.reason, "recorded_on": self.recorded_on.isoformat(),
                        "recorded_for": self.recorded_for}
        return {"occurred_on": self.on.isoformat(), "backfill": backfill}

    def require_not_before(self, earliest: str | None, what_en: str, what_zh: str) -> None:
        """422 naming ``occurred_on`` when the step would come before ``earliest`` (an ISO date)."""
        if earliest and self.on.isoformat() < earliest:
            raise InvalidInput(f"occurred_on {self.on} is before {what_en} ({earliest})",
                               f"发生日期 {self.on} 早于{what_zh}（{earliest}）", field="occurred_on")


def step_date(occurred_on: date | None, reason: str | None, *, today: date, actor: Actor,
              performers: tuple[str, ...], recorded_for: str | None = None) -> StepDate:
    """The business date of a step ``actor`` records today; ``performers`` are the roles whose step it is.

    Refuses (422) a date in the future and a 补录 without a reason; refuses (403) a backdated step by anyone
    but office staff, and office staff recording another role's step without saying why.
    """
    when = StepDate.today(today) if occurred_on is None else StepDate(occurred_on, today)
    if when.on > today:
        raise InvalidInput(f"occurred_on {when.on} is in the future", f"发生日期 {when.on} 晚于今天",
                           field="occurred_on")
    acting_for_others = actor.role not in performers and actor.role != Role.ADMIN
    if when.backfilled:
        if actor.role not in BACKFILL_ROLES:
            raise Forbidden(f"only office staff may record a step with an earlier date (role {actor.role})",
                            "只有督导办工作人员可以补录（按实际发生日期登记）已发生的步骤")
        require_text(reason, "backfill_reason", "补录说明")
        reason = reason.strip()
    elif acting_for_others:  # 代录 of a step taken on paper today: allowed with the reason, like a 补录
        if not (reason or "").strip():
            raise Forbidden(f"role {actor.role} may record this step for others only as a backfill "
                            "(with occurred_on and backfill_reason)",
                            "代为登记他人的步骤只能作为补录：请填写实际发生日期和补录说明")
        reason = reason.strip()
    else:
        reason = None
    return StepDate(when.on, today, reason, recorded_for if acting_for_others else None)


def step_fields(when: StepDate, previous_step_on: str | None, issued_on: str | None = None) -> dict:
    """The fields of a step event on an aggregate whose latest step was on ``previous_step_on``; refused (422)
    before the notice was issued or before that previous step."""
    when.require_not_before(issued_on, "the notice's issue date", "通知下发日期")
    when.require_not_before(previous_step_on, "the previous step", "上一步骤的发生日期")
    return when.event_fields()


def latest_step_on(previous: str | None, event: DomainEvent) -> str | None:
    """The latest business date after ``event``: only steps people record count (a watcher's flags carry none)."""
    occurred_on = getattr(event, "occurred_on", None)
    return occurred_on if occurred_on and (previous or "") < occurred_on else previous


@dataclass(frozen=True, kw_only=True)
class StepCommand:
    """A command that records a step: the day it happened (default today) and, for a 补录, why it comes later."""

    occurred_on: date | None = None  # 业务日期; earlier than today only as office staff's 补录
    backfill_reason: str | None = None  # 补录说明


@dataclass(frozen=True, kw_only=True)
class Step(DomainEvent):
    """An event a person records: when it happened and, for a 补录, who it was recorded for and why.

    Absent (None) in events stored before business dates existed; readers then use the day it was recorded.
    """

    occurred_on: str | None = None  # 业务日期 (ISO)
    backfill: dict | None = field(default=None)  # {reason, recorded_on, recorded_for}
