"""The rectification case aggregate (整改事项): one per problem of a notice."""
from __future__ import annotations

from shared.aggregate import Aggregate
from services.followups.domain.events import RectificationOpened


class CaseStatus:
    OPEN = "open"  # 待整改


def case_id_for(notice_id: str, problem_id: str) -> str:
    """Deterministic, so a redelivered NoticeIssued finds the case it opened the first time."""
    return f"{notice_id}:{problem_id}"


class RectificationCase(Aggregate):  # 整改事项
    stream_type = "rectification_case"

    def __init__(self, stream_id: str):
        super().__init__(stream_id)
        self.status: str | None = None
        self.notice_id: str | None = None
        self.responsible_unit: str | None = None
        self.deadline: str | None = None

    def open(self, *, notice_id: str, problem_id: str, description: str, responsible_unit: str,
             deadline: str | None) -> None:
        """Open the case; opening an already open case changes nothing (idempotent reaction)."""
        if self.exists:
            return
        self._record(RectificationOpened(
            case_id=self.id, notice_id=notice_id, problem_id=problem_id, description=description,
            responsible_unit=responsible_unit, deadline=deadline,
        ))

    def apply(self, event) -> None:
        if isinstance(event, RectificationOpened):
            self.status = CaseStatus.OPEN
            self.notice_id = event.notice_id
            self.responsible_unit = event.responsible_unit
            self.deadline = event.deadline
