"""Command handlers of the notices service: load, decide, save."""
from __future__ import annotations

import uuid

from shared.bus import CommandContext, Handler, UnitOfWork
from services.notices.domain.commands import IssueNotice
from services.notices.domain.model import Notice


def issue_notice(command: IssueNotice, uow: UnitOfWork, context: CommandContext) -> str:
    notice = uow.get(Notice, command.notice_id or f"notice-{uuid.uuid4()}")
    notice.issue(
        kind=command.kind, title=command.title, issuer_unit=command.issuer_unit, target_units=command.target_units,
        problems=command.problems, doc_number=command.doc_number, related_task_ids=command.related_task_ids,
        listed=command.listed,
    )
    uow.save(notice, context)
    return notice.id


HANDLERS: dict[type, Handler] = {
    IssueNotice: issue_notice,
}
