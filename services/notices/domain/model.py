"""The notice aggregate (督办通知): its problem list and its state."""
from __future__ import annotations

from datetime import date

from shared.aggregate import Aggregate
from shared.errors import IllegalTransition, InvalidInput
from services.notices.domain.commands import ProblemInput
from services.notices.domain.events import NoticeIssued

NOTICE_KINDS = ("督办通知", "督办函", "工作提示函", "预警通知", "紧急通知")


class NoticeStatus:
    ISSUED = "issued"  # 已下发


class Notice(Aggregate):  # 督办通知
    stream_type = "notice"

    def __init__(self, stream_id: str):
        super().__init__(stream_id)
        self.status: str | None = None
        self.problems: list[dict] = []
        self.target_units: list[str] = []

    def issue(self, *, kind: str, title: str, issuer_unit: str, target_units: tuple[str, ...],
              problems: tuple[ProblemInput, ...], doc_number: str | None, related_task_ids: tuple[str, ...],
              listed: bool) -> None:
        if self.exists:
            raise IllegalTransition(f"notice {self.id} was already issued", f"督办通知 {self.id} 已下发，不能重复下发")
        if kind not in NOTICE_KINDS:
            raise InvalidInput(f"unknown notice kind {kind!r}", f"未知的通知类型：{kind}", field="kind")
        if not target_units:
            raise InvalidInput("a notice needs at least one target unit", "督办通知至少要有一个督办对象", field="target_units")
        if not problems:
            raise InvalidInput("a notice needs at least one problem", "问题清单不能为空", field="problems")
        self._record(NoticeIssued(
            notice_id=self.id,
            kind=kind,
            title=title,
            doc_number=doc_number,
            issuer_unit=issuer_unit,
            target_units=list(target_units),
            problems=[_problem_entry(n, p) for n, p in enumerate(problems, start=1)],
            related_task_ids=list(related_task_ids),
            listed=listed,
        ))

    def apply(self, event) -> None:
        if isinstance(event, NoticeIssued):
            self.status = NoticeStatus.ISSUED
            self.problems = list(event.problems)
            self.target_units = list(event.target_units)


def _problem_entry(number: int, problem: ProblemInput) -> dict:
    deadline = problem.deadline.isoformat() if isinstance(problem.deadline, date) else problem.deadline
    return {
        "problem_id": f"P{number}",
        "description": problem.description,
        "requirement": problem.requirement,
        "responsible_unit": problem.responsible_unit,
        "deadline": deadline,
    }
