"""Command handlers of the followups service: load the case, call one domain method, save."""
from __future__ import annotations

from shared.auth import Role, require_own_unit
from shared.backfill import StepDate, step_date
from shared.bus import CommandContext, Handler, UnitOfWork, check_expected_version
from shared.clock import Clock
from shared.errors import ConcurrencyConflict, InvalidInput, RetryLater
from shared.evidence import EvidenceCatalogue, EvidenceFile, check_count, clean_name
from shared.policy import PolicyBook
from services.followups.domain import commands as c
from services.followups.domain.model import RectificationCase


def open_rectification(command: c.OpenRectification, uow: UnitOfWork, context: CommandContext) -> str:
    case = uow.get(RectificationCase, command.case_id)
    case.open(notice_id=command.notice_id, problem_id=command.problem_id, description=command.description,
              responsible_unit=command.responsible_unit, deadline=command.deadline, **command.details)
    try:
        uow.save(case, context)
    except ConcurrencyConflict as conflict:
        if not uow.get(RectificationCase, command.case_id).exists:
            # Blocked by a write that has not landed (or a writer that crashed mid-append): try again later.
            raise RetryLater(f"case {command.case_id} is being written elsewhere", "整改事项正在写入，稍后重试") from conflict
        # otherwise another worker opened the same case from the same event first: the effect is there
    return case.id


def _load(uow: UnitOfWork, command, context: CommandContext, unit_scoped: bool = False) -> RectificationCase:
    case = uow.load(RectificationCase, command.case_id, "case", "整改事项")
    if unit_scoped:
        require_own_unit(context.actor, case.responsible_unit, what_zh="该整改事项")
    check_expected_version(case, getattr(command, "expected_version", None))
    return case


# whose step each command records; office staff record the others' only as a 补录 (shared/backfill.py)
UNIT_STEP = (Role.UNIT_HANDLER,)
INSPECTOR_STEP = (Role.INSPECTOR,)
OFFICE_STEP = (Role.OFFICE_STAFF,)


def _when(command, case: RectificationCase, context: CommandContext, clock: Clock,
          performers: tuple[str, ...]) -> StepDate:
    return step_date(command.occurred_on, command.backfill_reason, today=clock.today(), actor=context.actor,
                     performers=performers, recorded_for=case.responsible_unit if performers == UNIT_STEP else None)


def _attached(command, evidence: EvidenceCatalogue | None) -> list[EvidenceFile]:
    """The step's 佐证材料 as stored: size and type come from the store, the name from the step; 422 if one is not
    stored (uploaded through POST /cases/<id>/files first)."""
    check_count(len(command.files))
    attached = []
    for ref in command.files:
        stored = evidence.reference(ref.sha256) if evidence is not None else None
        if stored is None:
            raise InvalidInput(f"file {ref.name!r} ({ref.sha256}) is not stored: upload it first",
                               f"文件“{ref.name}”尚未上传，请先上传", field="files", sha256=ref.sha256)
        attached.append(EvidenceFile(sha256=ref.sha256, size=stored["size"], type=stored["type"],
                                     name=clean_name(ref.name)))
    return attached


def _saved(case: RectificationCase, uow: UnitOfWork, context: CommandContext) -> str:
    uow.save(case, context)
    return case.id


def submit_plan(command: c.SubmitRectificationPlan, uow: UnitOfWork, context: CommandContext, clock: Clock,
                evidence: EvidenceCatalogue | None) -> str:
    case = _load(uow, command, context, unit_scoped=True)
    case.submit_plan(plan=command.plan, measures=list(command.measures), planned_completion=command.planned_completion,
                     when=_when(command, case, context, clock, UNIT_STEP), files=_attached(command, evidence))
    return _saved(case, uow, context)


def report_progress(command: c.ReportProgress, uow: UnitOfWork, context: CommandContext, clock: Clock,
                    evidence: EvidenceCatalogue | None) -> str:
    case = _load(uow, command, context, unit_scoped=True)
    case.report_progress(summary=command.summary, evidence=list(command.evidence),
                         when=_when(command, case, context, clock, UNIT_STEP), files=_attached(command, evidence))
    return _saved(case, uow, context)


def report_completion(command: c.ReportCompletion, uow: UnitOfWork, context: CommandContext,
                      clock: Clock, policies: PolicyBook, evidence: EvidenceCatalogue | None) -> str:
    case = _load(uow, command, context, unit_scoped=True)
    case.report_completion(summary=command.summary, evidence=list(command.evidence),
                           when=_when(command, case, context, clock, UNIT_STEP),
                           policy=policies.for_office(case.issuer_unit), files=_attached(command, evidence))
    return _saved(case, uow, context)


def reinspect(command: c.Reinspect, uow: UnitOfWork, context: CommandContext, clock: Clock,
              evidence: EvidenceCatalogue | None) -> str:
    case = _load(uow, command, context)
    case.reinspect(passed=command.passed, findings=command.findings,
                   when=_when(command, case, context, clock, INSPECTOR_STEP), files=_attached(command, evidence))
    return _saved(case, uow, context)


def close_case(command: c.CloseCase, uow: UnitOfWork, context: CommandContext, clock: Clock) -> str:
    case = _load(uow, command, context)
    case.close(when=_when(command, case, context, clock, INSPECTOR_STEP))
    return _saved(case, uow, context)


def extend_deadline(command: c.ExtendDeadline, uow: UnitOfWork, context: CommandContext, clock: Clock,
                    evidence: EvidenceCatalogue | None) -> str:
    case = _load(uow, command, context)
    case.extend_deadline(new_deadline=command.new_deadline, reason=command.reason, approver=command.approver,
                         when=_when(command, case, context, clock, OFFICE_STEP), files=_attached(command, evidence))
    return _saved(case, uow, context)


def escalate(command: c.Escalate, uow: UnitOfWork, context: CommandContext, clock: Clock) -> str:
    case = _load(uow, command, context)
    case.escalate(level=command.level, reason=command.reason, doc_number=command.doc_number, measure=command.measure,
                  target=command.target, when=_when(command, case, context, clock, OFFICE_STEP))
    return _saved(case, uow, context)


def commend(command: c.Commend, uow: UnitOfWork, context: CommandContext, clock: Clock) -> str:
    case = _load(uow, command, context)
    case.commend(reason=command.reason, doc_number=command.doc_number,
                 when=_when(command, case, context, clock, OFFICE_STEP))
    return _saved(case, uow, context)


def check_deadline(command: c.CheckDeadline, uow: UnitOfWork, context: CommandContext,
                   clock: Clock, policies: PolicyBook) -> int:
    """Returns how many events the check appended (0 when another watcher got there first)."""
    case = uow.load(RectificationCase, command.case_id, "case", "整改事项")
    case.check_deadline(today=clock.today(), policy=policies.for_office(case.issuer_unit))
    try:
        return len(uow.save(case, context))
    except ConcurrencyConflict:
        # Another watcher (or a person) wrote first; the next pass re-reads and decides again, so each
        # missed deadline is still flagged exactly once.
        return 0


def withdraw_case(command: c.WithdrawCase, uow: UnitOfWork, context: CommandContext) -> str:
    case = uow.get(RectificationCase, command.case_id)
    if not case.exists:
        # The withdrawal overtook the opening (different topics, different consumers): wait for it.
        raise RetryLater(f"case {command.case_id} is not open yet", "整改事项尚未建立，稍后重试")
    case.withdraw(reason=command.reason)
    return _saved(case, uow, context)


HANDLERS: dict[type, Handler] = {
    c.OpenRectification: open_rectification,
    c.SubmitRectificationPlan: submit_plan,
    c.ReportProgress: report_progress,
    c.ReportCompletion: report_completion,
    c.Reinspect: reinspect,
    c.CloseCase: close_case,
    c.ExtendDeadline: extend_deadline,
    c.Escalate: escalate,
    c.Commend: commend,
    c.CheckDeadline: check_deadline,
    c.WithdrawCase: withdraw_case,
}
