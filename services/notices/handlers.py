"""Command handlers of the notices service: load, decide, save."""
from __future__ import annotations

import uuid

from shared.auth import Role, require_own_unit
from shared.backfill import step_date
from shared.bus import CommandContext, Handler, UnitOfWork, check_expected_version
from shared.clock import Clock
from shared.directory import DirectoryCopy
from shared.errors import ConcurrencyConflict, InvalidInput, RetryLater
from shared.policy import PolicyBook
from services.notices.domain import commands as c
from services.notices.domain.model import Notice


def _new_id() -> str:
    return f"notice-{uuid.uuid4()}"


def _load(uow: UnitOfWork, notice_id: str, expected_version: int | None = None) -> Notice:
    notice = uow.load(Notice, notice_id, "notice", "督办通知")
    check_expected_version(notice, expected_version)
    return notice


def check_units(directory: DirectoryCopy | None, content: c.NoticeContent) -> None:
    """Every unit a notice names is one the directory registered, and not merged into another (撤并).

    422 naming the field and, for each unknown name, the closest registered ones (a typo, a short name)."""
    if directory is None:
        return
    named = {"issuer_unit": [content.issuer_unit], "target_units": list(content.target_units),
             "copied_units": list(content.copied_units),
             "problems": [p.responsible_unit for p in content.problems]}
    for field, names in named.items():
        if unknown := directory.unknown_units(names):
            listing = "；".join(f"“{name}”" + (f"（是否为：{'、'.join(near)}）" if near else "")
                               for name, near in unknown.items())
            raise InvalidInput(f"units not in the directory: {', '.join(unknown)}", f"以下单位未在名录中登记：{listing}",
                               field=field, unknown_units=unknown)
        if merged := directory.merged_units(names):
            raise InvalidInput(f"units merged into others: {merged}", "以下单位已撤并：" + "；".join(
                f"“{old}”已并入“{new}”" for old, new in merged.items()), field=field, merged_units=merged)


def issue_notice(command: c.IssueNotice, uow: UnitOfWork, context: CommandContext, clock: Clock,
                 policies: PolicyBook, directory: DirectoryCopy | None) -> str:
    check_units(directory, command.content)
    notice = uow.get(Notice, command.notice_id or _new_id())
    notice.issue(command.content, today=clock.today(), policy=policies.for_office(command.content.issuer_unit))
    uow.save(notice, context)
    return notice.id


def draft_notice(command: c.DraftNotice, uow: UnitOfWork, context: CommandContext) -> str:
    notice = uow.get(Notice, command.notice_id or _new_id())
    notice.save_draft(command.content)
    uow.save(notice, context)
    return notice.id


def issue_draft(command: c.IssueDraft, uow: UnitOfWork, context: CommandContext, clock: Clock,
                policies: PolicyBook, directory: DirectoryCopy | None) -> str:
    notice = _load(uow, command.notice_id, command.expected_version)
    if notice.draft is not None:  # a draft may name units still to be registered; the notice it becomes may not
        check_units(directory, notice.draft)
    issuer = notice.draft.issuer_unit if notice.draft else None
    notice.issue(None, today=clock.today(), policy=policies.for_office(issuer))
    uow.save(notice, context)
    return notice.id


def sign_notice(command: c.SignNotice, uow: UnitOfWork, context: CommandContext, clock: Clock) -> str:
    notice = _load(uow, command.notice_id, command.expected_version)
    actor = context.actor
    require_own_unit(actor, *notice.target_units, what_zh="该通知")
    unit = actor.unit if actor.role == Role.UNIT_HANDLER else command.unit
    when = step_date(command.occurred_on, command.backfill_reason, today=clock.today(), actor=actor,
                     performers=(Role.UNIT_HANDLER,), recorded_for=unit)
    if unit is None:  # office staff's 补录 names the unit that signed
        raise InvalidInput("name the unit that signed", "请填写签收单位", field="unit")
    notice.sign(unit=unit, when=when)
    uow.save(notice, context)
    return notice.id


def withdraw_notice(command: c.WithdrawNotice, uow: UnitOfWork, context: CommandContext) -> str:
    notice = _load(uow, command.notice_id, command.expected_version)
    notice.withdraw(reason=command.reason)
    uow.save(notice, context)
    return notice.id


def record_problem_closed(command: c.RecordProblemClosed, uow: UnitOfWork, context: CommandContext) -> str:
    notice = _load(uow, command.notice_id)
    notice.record_problem_closed(problem_id=command.problem_id, case_id=command.case_id, closed_on=command.closed_on)
    try:
        uow.save(notice, context)
    except ConcurrencyConflict as conflict:
        # Closures of two problems of one notice arrive on different partitions: reload and decide again.
        raise RetryLater(f"notice {command.notice_id} changed meanwhile", "督办通知正在更新，稍后重试") from conflict
    return notice.id


def check_sign_deadline(command: c.CheckSignDeadline, uow: UnitOfWork, context: CommandContext, clock: Clock) -> int:
    notice = _load(uow, command.notice_id)
    notice.check_sign_deadline(today=clock.today())
    try:
        return len(uow.save(notice, context))
    except ConcurrencyConflict:
        return 0  # someone wrote first; the next pass decides again, so the flag is still raised once


HANDLERS: dict[type, Handler] = {
    c.IssueNotice: issue_notice,
    c.DraftNotice: draft_notice,
    c.IssueDraft: issue_draft,
    c.SignNotice: sign_notice,
    c.WithdrawNotice: withdraw_notice,
    c.RecordProblemClosed: record_problem_closed,
    c.CheckSignDeadline: check_sign_deadline,
}
