"""Work plans (工作要点) and the supervision tasks (督导任务) they contain."""
from __future__ import annotations

from datetime import date

from shared.aggregate import Aggregate
from shared.errors import IllegalTransition, InvalidInput
from services.tasks.domain.commands import TaskInput
from services.tasks.domain.events import PlanImported, PlanRecorded, TaskCreated


def task_id_for(plan_id: str, index: int) -> str:
    """Deterministic, so re-running an interrupted RecordPlan completes it instead of duplicating."""
    return f"{plan_id}-T{index}"


class WorkPlan(Aggregate):  # 工作要点
    stream_type = "work_plan"

    def __init__(self, stream_id: str):
        super().__init__(stream_id)
        self.title: str | None = None
        self.task_ids: list[str] = []

    def record(self, *, title: str, year: int | None, issuer: str | None, doc_number: str | None,
               task_count: int) -> None:
        self._check_recordable(task_count)
        self._record(PlanRecorded(
            plan_id=self.id, title=title, year=year, issuer=issuer, doc_number=doc_number,
            task_ids=[task_id_for(self.id, i) for i in range(1, task_count + 1)],
        ))

    def import_from_document(self, *, title: str, year: int | None, issuer: str | None, doc_number: str | None,
                             document_date: str | None, source_sha256: str | None, task_count: int) -> None:
        self._check_recordable(task_count)
        self._record(PlanImported(
            plan_id=self.id, title=title, year=year, issuer=issuer, doc_number=doc_number,
            document_date=document_date, source_sha256=source_sha256,
            task_ids=[task_id_for(self.id, i) for i in range(1, task_count + 1)],
        ))

    def _check_recordable(self, task_count: int) -> None:
        if self.exists:
            raise IllegalTransition(f"plan {self.id} was already recorded", f"工作要点 {self.id} 已录入")
        if task_count == 0:
            raise InvalidInput("a plan needs at least one task", "工作要点至少包含一项任务", field="tasks")

    def apply(self, event) -> None:
        if isinstance(event, (PlanRecorded, PlanImported)):
            self.title = event.title
            self.task_ids = list(event.task_ids)


class Task(Aggregate):  # 督导任务
    stream_type = "task"

    def __init__(self, stream_id: str):
        super().__init__(stream_id)
        self.plan_id: str | None = None
        self.status: str | None = None

    def create(self, *, plan_id: str, task: TaskInput) -> None:
        """Create the task; creating an existing one changes nothing (resumable plan recording)."""
        if self.exists:
            return
        due = task.due_date.isoformat() if isinstance(task.due_date, date) else task.due_date
        self._record(TaskCreated(
            task_id=self.id, plan_id=plan_id, number=task.number, text=task.text, lead_unit=task.lead_unit,
            partner_units=list(task.partner_units), due_date=due,
        ))

    def apply(self, event) -> None:
        if isinstance(event, TaskCreated):
            self.plan_id = event.plan_id
            self.status = "planned"
