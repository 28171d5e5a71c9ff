"""The daily digest (每日待办摘要): what is due for one person today, worded as one e-mail.

Plain Python. A unit's handlers and leaders are told of their own unit's cases that are overdue or come near their
deadline and of the notices it has not signed; the issuing office's staff of the overdue cases of the notices their
office issued and of those notices still unsigned past their 签收时限. Nothing due, no digest.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time

from shared.clock import SHANGHAI
from shared.deadlines import CalendarOutOfRange, Light, TrafficLights, describe_lateness_zh, is_working_day
from shared.directory import Account
from shared.policy import PolicyBook
from services.messages.domain.model import AUDIENCE_ROLES, Draft, message_id_for
from services.messages.domain.rules import DigestBook

DIGEST_RULE = "digest"
DIGEST_CHANNEL = "email"  # e-mail only: the inbox already holds each of these items' own messages
DIGEST_LINK = "/cases"  # the portal's case list
UNIT_AUDIENCES = ("handlers", "leaders")  # told of their own unit's items
OFFICE_AUDIENCES = ("office",)  # told of what is late among the items their office issued


@dataclass(frozen=True)
class OpenCase:  # 整改事项（计时中）
    case_id: str
    description: str
    responsible_unit: str
    issuer_unit: str | None
    deadline: str | None  # ISO date
    notice_title: str | None = None
    doc_number: str | None = None


@dataclass(frozen=True)
class LiveNotice:  # 督办通知（未清零、未撤回）
    notice_id: str
    title: str
    issuer_unit: str | None
    target_units: tuple[str, ...]
    signed_units: tuple[str, ...] = ()
    sign_for_deadline: str | None = None  # ISO date
    doc_number: str | None = None

    @property
    def unsigned_units(self) -> list[str]:
        return [unit for unit in self.target_units if unit not in self.signed_units]


@dataclass(frozen=True)
class Digest:
    """One person's digest: its items by kind, and the words of the e-mail."""

    overdue: tuple[OpenCase, ...]  # 已逾期
    due_soon: tuple[OpenCase, ...]  # 临近时限
    to_sign: tuple[LiveNotice, ...]  # 本单位待签收
    unsigned_late: tuple[LiveNotice, ...]  # 本办下发、逾期未签收
    subject: str
    body: str


def digest_day(now: datetime, at: time) -> date | None:
    """The day whose digest may go out at ``now``: today in Beijing once its time of day is past ``at``, on a working
    day (statutory holidays off, make-up workdays 调休 on); else None."""
    local = now.astimezone(SHANGHAI)
    try:
        if local.time() < at or not is_working_day(local.date()):
            return None
    except CalendarOutOfRange:  # past every calendar: whether offices work that day cannot be told
        return None
    return local.date()


def relevant_by_unit(cases: list[OpenCase], notices: list[LiveNotice]) -> dict[str, tuple[list[OpenCase], list[LiveNotice]]]:
    """Each unit's share of the cases and notices (as responsible or target unit, or as issuer), so that each person
    is composed from their unit's few items rather than from all of them."""
    by_unit: dict[str, tuple[list[OpenCase], list[LiveNotice]]] = defaultdict(lambda: ([], []))
    for case in cases:
        for unit in dict.fromkeys(filter(None, (case.responsible_unit, case.issuer_unit))):
            by_unit[unit][0].append(case)
    for notice in notices:
        for unit in dict.fromkeys(filter(None, (*notice.unsigned_units, notice.issuer_unit))):
            by_unit[unit][1].append(notice)
    return dict(by_unit)


def _holds(person: Account, audiences) -> bool:
    return any(role in person.roles for name in audiences for role in AUDIENCE_ROLES[name])


def compose_digest(person: Account, today: date, cases: list[OpenCase], notices: list[LiveNotice], book: DigestBook,
                   policies: PolicyBook) -> Digest | None:
    """``person``'s digest for ``today`` from the open cases and live notices given (others' are passed over), each
    item under its issuing office's settings; None when nothing is due."""
    if not person.active or not person.unit:
        return None
    lights: dict[int, TrafficLights] = {}

    def light(deadline: str, office: str | None) -> str:
        window = book.for_office(office).within_working_days
        if window is None:
            window = policies.for_office(office).yellow_within_working_days
        if window not in lights:
            lights[window] = TrafficLights(today, window)
        return lights[window].of(deadline)

    def sides(office: str | None) -> tuple[bool, bool]:
        """Whether this person is told of the office's items as someone of the unit, and as its staff."""
        settings = book.for_office(office)
        if not settings.enabled:
            return False, False
        return (_holds(person, [a for a in settings.to if a in UNIT_AUDIENCES]),
                _holds(person, [a for a in settings.to if a in OFFICE_AUDIENCES]))

    overdue, due_soon, to_sign, unsigned_late = {}, {}, {}, {}
    for case in cases:
        if not case.deadline:
            continue
        as_unit, as_office = sides(case.issuer_unit)
        as_unit, as_office = as_unit and person.unit == case.responsible_unit, as_office and person.unit == case.issuer_unit
        if not (as_unit or as_office):
            continue
        shade = light(case.deadline, case.issuer_unit)
        if shade == Light.RED:
            overdue[case.case_id] = case
        elif shade == Light.YELLOW and as_unit:  # the office hears of a case once it is late, not before
            due_soon[case.case_id] = case
    for notice in notices:
        as_unit, as_office = sides(notice.issuer_unit)
        unsigned = notice.unsigned_units
        if as_unit and person.unit in unsigned:
            to_sign[notice.notice_id] = notice
        elif (as_office and person.unit == notice.issuer_unit and unsigned and notice.sign_for_deadline
              and notice.sign_for_deadline < today.isoformat()):
            unsigned_late[notice.notice_id] = notice
    if not (overdue or due_soon or to_sign or unsigned_late):
        return None  # no empty digests
    by_deadline = sorted(overdue.values(), key=lambda c: (c.deadline, c.case_id)), sorted(
        due_soon.values(), key=lambda c: (c.deadline, c.case_id))
    by_sign = [sorted(found.values(), key=lambda n: (n.sign_for_deadline or "9999", n.notice_id))
               for found in (to_sign, unsigned_late)]
    subject = _subject(person.unit, *by_deadline, *by_sign)
    body = _body(person, today, *by_deadline, *by_sign)
    return Digest(*map(tuple, (*by_deadline, *by_sign)), subject, body)


def digest_draft(person: Account, today: date, digest: Digest) -> Draft:
    """The e-mail of ``digest``: one per person per day (its id follows from the person and the day), however often
    the watcher runs and however many workers run it."""
    occurrence = today.isoformat()
    return Draft(message_id_for(DIGEST_RULE, person.username, person.username, DIGEST_CHANNEL, occurrence), DIGEST_RULE,
                 DIGEST_CHANNEL, person.username, person.name or person.username, person.unit, person.email,
                 digest.subject, digest.body, DIGEST_LINK, None, None, occurrence)


# -- wording ----------------------------------------------------------------------------------------

def _subject(unit: str, overdue, due_soon, to_sign, unsigned_late) -> str:
    """【每日待办】巴州区教育局：3项整改临近时限，1项已逾期，1份通知待签收"""
    parts = []
    if due_soon:
        parts.append(f"{len(due_soon)}项整改临近时限")
    if overdue:
        parts.append(f"{len(overdue)}项已逾期" if due_soon else f"{len(overdue)}项整改已逾期")
    if to_sign:
        parts.append(f"{len(to_sign)}份通知待签收")
    if unsigned_late:
        parts.append(f"{len(unsigned_late)}份通知逾期未签收")
    return f"【每日待办】{unit}：{'，'.join(parts)}"


def _flat(text: str | None) -> str:
    """One line per item: an item's own line breaks would split it."""
    return " ".join((text or "").split())


def _source(case: OpenCase) -> str:
    if not case.notice_title:
        return ""
    return f"；来源：《{_flat(case.notice_title)}》" + (f"（{case.doc_number}）" if case.doc_number else "")


def _notice(notice: LiveNotice) -> str:
    return f"《{_flat(notice.title)}》" + (f"（{notice.doc_number}）" if notice.doc_number else "")


def _late(due: str | None, today: date) -> str:
    """逾期N个工作日 (lateness is counted in working days everywhere), or "" when not yet due."""
    if not due or due >= today.isoformat():
        return ""
    return describe_lateness_zh(due, today.isoformat()) or "已逾期"


def _body(person: Account, today: date, overdue, due_soon, to_sign, unsigned_late) -> str:
    """Overdue cases first, then the cases coming near their deadline, then the notices; one line per item."""
    lines = [f"{person.name or person.username}：",
             f"截至{today.year}年{today.month}月{today.day}日，{person.unit}有以下事项需要办理。"]
    if overdue:
        lines += ["", f"已逾期的整改（{len(overdue)}项）："]
        lines += [f"{n}. {_flat(c.description)}——整改时限 {c.deadline}，{_late(c.deadline, today)}；"
                  f"责任单位：{c.responsible_unit}{_source(c)}" for n, c in enumerate(overdue, start=1)]
    if due_soon:
        lines += ["", f"临近时限的整改（{len(due_soon)}项）："]
        lines += [f"{n}. {_flat(c.description)}——整改时限 {c.deadline}"
                  + ("（今日到期）" if c.deadline == today.isoformat() else "") + _source(c)
                  for n, c in enumerate(due_soon, start=1)]
    if to_sign:
        lines += ["", f"待签收的通知（{len(to_sign)}份）："]
        for n, notice in enumerate(to_sign, start=1):
            late = _late(notice.sign_for_deadline, today)
            lines.append(f"{n}. {_notice(notice)}——签收时限 {notice.sign_for_deadline or '未定'}"
                         + (f"，已{late}" if late else "") + f"；下发单位：{notice.issuer_unit or ''}")
    if unsigned_late:
        lines += ["", f"逾期未签收的通知（{len(unsigned_late)}份）："]
        lines += [f"{n}. {_notice(notice)}——签收时限 {notice.sign_for_deadline}，{_late(notice.sign_for_deadline, today)}；"
                  f"未签收单位：{'、'.join(notice.unsigned_units)}" for n, notice in enumerate(unsigned_late, start=1)]
    lines += ["", "以上为每日待办摘要；各事项的提醒另见站内消息，请登录督办平台办理。"]
    return "\n".join(lines)
