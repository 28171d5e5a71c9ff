"""Command handlers of the followups service."""
from __future__ import annotations

from shared.bus import CommandContext, Handler, UnitOfWork
from shared.errors import ConcurrencyConflict, RetryLater
from services.followups.domain.commands import OpenRectification
from services.followups.domain.model import RectificationCase


def open_rectification(command: OpenRectification, uow: UnitOfWork, context: CommandContext) -> str:
    case = uow.get(RectificationCase, command.case_id)
    case.open(notice_id=command.notice_id, problem_id=command.problem_id, description=command.description,
              responsible_unit=command.responsible_unit, deadline=command.deadline)
    try:
        uow.save(case, context)
    except ConcurrencyConflict as conflict:
        if not uow.get(RectificationCase, command.case_id).exists:
            # Blocked by a write that has not landed (or a writer that crashed mid-append): try again later.
            raise RetryLater(f"case {command.case_id} is being written elsewhere", "整改事项正在写入，稍后重试") from conflict
        # otherwise another worker opened the same case from the same event first: the effect is there
    return case.id


HANDLERS: dict[type, Handler] = {
    OpenRectification: open_rectification,
}
