"""The notice aggregate (督办通知): draft → issued → acknowledged → cleared (清零) | withdrawn."""
from __future__ import annotations

import dataclasses
from datetime import date

from shared.aggregate import Aggregate
from shared.backfill import StepDate, step_fields
from shared.deadlines import CalendarOutOfRange, Period
from shared.errors import IllegalTransition, InvalidInput
from shared.policy import OfficePolicy
from shared.vocabulary import NOTICE_KINDS, PROMPT_LETTER, NoticeStatus  # noqa: F401 - one vocabulary
from services.notices.domain.commands import NoticeContent, ProblemInput
from services.notices.domain.events import (
    NoticeCleared,
    NoticeDrafted,
    NoticeIssued,
    NoticeProblemClosed,
    NoticeSigned,
    NoticeSignOverdue,
    NoticeWithdrawn,
)

class Notice(Aggregate):  # 督办通知
    stream_type = "notice"

    def __init__(self, stream_id: str):
        super().__init__(stream_id)
        self.status: str | None = None
        self.draft: NoticeContent | None = None
        self.problem_ids: list[str] = []
        self.target_units: list[str] = []
        self.issuer_unit: str | None = None
        self.signed_units: list[str] = []
        self.sign_for_deadline: str | None = None
        self.issued_on: str | None = None
        self.entered_on: str | None = None  # a paper notice's entry day: the watcher waits until the day after
        self.sign_for_deadline_provisional = False  # counted on a calendar not yet published (shared/holidays.py)
        self.sign_overdue_flagged = False
        self.closed_problems: set[str] = set()
        self.related_task_ids: list[str] = []

    # -- drafting and issuing --------------------------------------------------------------------

    def save_draft(self, content: NoticeContent) -> None:
        if self.exists and self.status != NoticeStatus.DRAFT:
            raise self._refusal("save it as a draft", "保存为草稿")
        _check_content(content)
        self._record(NoticeDrafted(notice_id=self.id, content=content_to_dict(content)))

    def issue(self, content: NoticeContent | None, *, today: date, policy: OfficePolicy) -> None:
        """Issue the given content, or the saved draft when ``content`` is None; deadlines are fixed now."""
        if self.status == NoticeStatus.WITHDRAWN:  # a withdrawn draft was never issued: say why, not "already issued"
            raise self._refusal("issue it", "下发")
        if self.exists and self.status != NoticeStatus.DRAFT:
            raise IllegalTransition(f"notice {self.id} was already issued ({self.status})",
                                    f"督办通知 {self.id} 已下发，不能重复下发", state=self.status)
        content = content or self.draft
        if content is None:
            raise IllegalTransition(f"notice {self.id} has no draft to issue", f"督办通知 {self.id} 没有可下发的草稿")
        _check_content(content)
        entered_on = None
        if content.issued_on is not None:
            if content.issued_on > today:
                raise InvalidInput(f"issued_on {content.issued_on} lies in the future", f"下发日期 {content.issued_on} 晚于今天",
                                   field="issued_on")
            if content.issued_on < today:
                entered_on = today.isoformat()
            today = content.issued_on  # a paper notice entered later: its deadlines count from when it was issued
        sign_for = content.sign_for_deadline or _after(policy.sign_for_period, today, "sign_for_deadline")
        # counted on a calendar the State Council has not published yet: fixed now, but marked so people know
        sign_for_provisional = content.sign_for_deadline is None and policy.sign_for_period.provisional_after(today)
        if sign_for < today:
            raise InvalidInput(f"the sign-for deadline {sign_for} is before the issue date {today}",
                               f"签收时限 {sign_for} 早于下发日期 {today}", field="sign_for_deadline")
        self._record(NoticeIssued(
            notice_id=self.id, kind=content.kind, title=content.title, doc_number=content.doc_number,
            issuer_unit=content.issuer_unit, target_units=list(content.target_units),
            problems=[_problem_entry(n, p, today, policy) for n, p in enumerate(content.problems, start=1)],
            related_task_ids=list(content.related_task_ids), listed=content.listed,
            copied_units=list(content.copied_units), issued_on=today.isoformat(), sign_for_deadline=sign_for.isoformat(),
            sign_for_deadline_provisional=sign_for_provisional,
            sign_for_rule=None if content.sign_for_deadline else policy.sign_for_period.to_dict(), entered_on=entered_on,
        ))

    # -- the target units --------------------------------------------------------------------------

    def sign(self, *, unit: str | None, when: StepDate) -> None:
        """签收 by one target unit; the notice is acknowledged once every target unit has signed."""
        if self.status not in NoticeStatus.LIVE:
            raise self._refusal("sign for it", "签收")
        if unit not in self.target_units:
            raise IllegalTransition(f"{unit} is not a target unit of notice {self.id}",
                                    f"{unit} 不是该通知的督办对象，无需签收", unit=unit)
        if unit in self.signed_units:
            raise IllegalTransition(f"{unit} has already signed for notice {self.id}", f"{unit} 已签收过该通知")
        dated = step_fields(when, None, self.issued_on)  # units sign in any order: only the issue date bounds it
        signed_on = when.on.isoformat()
        late = self.sign_for_deadline is not None and signed_on > self.sign_for_deadline
        self._record(NoticeSigned(notice_id=self.id, unit=unit, signed_on=signed_on, late=late, **dated))

    def check_sign_deadline(self, *, today: date) -> None:
        """Flag, once, a notice some target units have not signed by the sign-for deadline."""
        if (self.status != NoticeStatus.ISSUED or self.sign_overdue_flagged or self.sign_for_deadline is None
                or today.isoformat() <= self.sign_for_deadline or today.isoformat() <= (self.entered_on or "")):
            return
        unsigned = [u for u in self.target_units if u not in self.signed_units]
        self._record(NoticeSignOverdue(notice_id=self.id, deadline=self.sign_for_deadline, unsigned_units=unsigned))

    # -- closing and withdrawing ---------------------------------------------------------------------

    def record_problem_closed(self, *, problem_id: str, case_id: str, closed_on: str) -> None:
        """A problem's case was closed (销号); when the last one is, the notice is cleared (清零).

        Idempotent and self-healing: a redelivered closure adds nothing, and a notice whose every problem
        is closed but which is not yet cleared (a crash between the two) is cleared now.
        """
        if problem_id not in self.problem_ids:
            raise InvalidInput(f"notice {self.id} has no problem {problem_id}", f"通知中没有问题 {problem_id}")
        if self.status == NoticeStatus.WITHDRAWN:
            return
        if problem_id not in self.closed_problems:
            self._record(NoticeProblemClosed(notice_id=self.id, problem_id=problem_id, case_id=case_id,
                                             closed_on=closed_on))
        if self.status != NoticeStatus.CLEARED and self.closed_problems >= set(self.problem_ids):
            self._record(NoticeCleared(notice_id=self.id, cleared_on=closed_on, problem_ids=list(self.problem_ids)))

    def withdraw(self, *, reason: str) -> None:
        if self.status not in (NoticeStatus.DRAFT, *NoticeStatus.LIVE):
            raise self._refusal("withdraw it", "撤回")
        if not (reason or "").strip():
            raise InvalidInput("a withdrawal needs a reason", "撤回须说明理由", field="reason")
        problem_ids = [] if self.status == NoticeStatus.DRAFT else list(self.problem_ids)
        self._record(NoticeWithdrawn(notice_id=self.id, reason=reason, problem_ids=problem_ids,
                                     related_task_ids=list(self.related_task_ids)))

    # -- state ---------------------------------------------------------------------------------------

    def apply(self, event) -> None:
        match event:
            case NoticeDrafted():
                self.status = NoticeStatus.DRAFT
                self.draft = content_from_dict(event.content)
            case NoticeIssued():
                self.status = NoticeStatus.ISSUED
                self.problem_ids = [p["problem_id"] for p in event.problems]
                self.target_units = list(event.target_units)
                self.issuer_unit = event.issuer_unit
                self.sign_for_deadline = event.sign_for_deadline
                self.issued_on = event.issued_on
                self.entered_on = event.entered_on
                self.sign_for_deadline_provisional = event.sign_for_deadline_provisional
                self.related_task_ids = list(event.related_task_ids)
            case NoticeSigned():
                self.signed_units.append(event.unit)
                if self.status == NoticeStatus.ISSUED and set(self.signed_units) >= set(self.target_units):
                    self.status = NoticeStatus.ACKNOWLEDGED
            case NoticeSignOverdue():
                self.sign_overdue_flagged = True
            case NoticeProblemClosed():
                self.closed_problems.add(event.problem_id)
            case NoticeCleared():
                self.status = NoticeStatus.CLEARED
            case NoticeWithdrawn():
                self.status = NoticeStatus.WITHDRAWN

    def _refusal(self, action_en: str, action_zh: str) -> IllegalTransition:
        label = NoticeStatus.LABELS_ZH.get(self.status, "不存在")
        return IllegalTransition(f"cannot {action_en}: notice {self.id} is {self.status}",
                                 f"督办通知当前状态为“{label}”，不能{action_zh}", state=self.status)


def _check_content(content: NoticeContent) -> None:
    if content.kind not in NOTICE_KINDS:
        raise InvalidInput(f"unknown notice kind {content.kind!r}", f"未知的通知类型：{content.kind}", field="kind")
    if not content.target_units:
        raise InvalidInput("a notice needs at least one target unit", "督办通知至少要有一个督办对象", field="target_units")
    if not content.problems and content.kind != PROMPT_LETTER:
        raise InvalidInput("a notice needs at least one problem", "问题清单不能为空", field="problems")
    for number, problem in enumerate(content.problems):
        if problem.deadline is not None and problem.deadline_days is not None:
            raise InvalidInput("give a deadline date or a number of days, not both", "整改时限请填写日期或天数之一",
                               field=f"problems.{number}.deadline")


def _after(period: Period, start: date, field: str) -> date:
    try:
        return period.after(start)
    except CalendarOutOfRange as error:
        raise CalendarOutOfRange(error.day, field=field) from error


def _problem_entry(number: int, problem: ProblemInput, today: date, policy: OfficePolicy) -> dict:
    """The problem as issued, with its deadline fixed (a date, the days given, or the office's default)."""
    field = f"problems.{number - 1}.deadline"
    rule, provisional = None, False
    if problem.deadline is not None:
        deadline = problem.deadline
        if deadline < today:
            raise InvalidInput(f"problem {number}: deadline {deadline} is before the issue date {today}",
                               f"第{number}个问题的整改时限 {deadline} 早于下发日期 {today}", field=field)
    else:
        period = (Period(problem.deadline_days, problem.deadline_kind) if problem.deadline_days is not None
                  else policy.rectification_period)
        rule = period.to_dict()
        deadline = _after(period, today, field)
        provisional = period.provisional_after(today)
    return {
        "problem_id": f"P{number}",
        "description": problem.description,
        "requirement": problem.requirement,
        "responsible_unit": problem.responsible_unit,
        "responsible_person": problem.responsible_person,
        "area": problem.area,
        "deadline": deadline.isoformat(),
        "deadline_rule": rule,
        "deadline_provisional": provisional,
    }


def content_to_dict(content: NoticeContent) -> dict:
    data = dataclasses.asdict(content)
    data["sign_for_deadline"] = content.sign_for_deadline.isoformat() if content.sign_for_deadline else None
    data["issued_on"] = content.issued_on.isoformat() if content.issued_on else None
    data["problems"] = [{**dataclasses.asdict(p), "deadline": p.deadline.isoformat() if p.deadline else None}
                        for p in content.problems]
    return data


def content_from_dict(data: dict) -> NoticeContent:
    problems = tuple(
        ProblemInput(**{**p, "deadline": date.fromisoformat(p["deadline"]) if p.get("deadline") else None})
        for p in data["problems"]
    )
    sign_for = data.get("sign_for_deadline")
    return NoticeContent(**{
        **data, "problems": problems, "target_units": tuple(data["target_units"]),
        "related_task_ids": tuple(data.get("related_task_ids", ())), "copied_units": tuple(data.get("copied_units", ())),
        "sign_for_deadline": date.fromisoformat(sign_for) if sign_for else None,
        "issued_on": date.fromisoformat(data["issued_on"]) if data.get("issued_on") else None,
    })

