"""From what happened to the messages it asks for: the messages worker's reactions to the notices and followups
topics, its two watchers (签收时限前一个工作日仍未签收; 整改时限进入黄灯期) and the daily digest (每日待办摘要).

It keeps the little it needs of notices and cases (adapters/read_models.py: TrackedNotice, TrackedCase), applies the
office's rules (domain/rules.py) to people from the directory (shared/directory.py) and queues each message once.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timezone

from shared.bus import CommandContext
from shared.clock import SHANGHAI, Clock
from shared.deadlines import CalendarOutOfRange, add_working_days
from shared.envelope import Actor, EventEnvelope
from shared.policy import PolicyBook
from shared.service import ServiceContext
from services.messages.adapters.read_models import TrackedCase, TrackedNotice
from services.messages.domain.commands import QueueMessage
from services.messages.domain.digest import (
    DIGEST_CHANNEL,
    LiveNotice,
    OpenCase,
    compose_digest,
    digest_day,
    digest_draft,
    relevant_by_unit,
)
from services.messages.domain.model import Notification, plan_messages
from services.messages.domain.quiet_hours import deferred_until
from services.messages.domain.rules import CASE_DUE_SOON, SIGN_DUE_SOON, RuleBook
from services.messages.domain.wording import describe

log = logging.getLogger(__name__)

NOTIFIER = Actor.system("messages")
CASE_EVENTS = ("RectificationOverdue", "RectificationEscalated", "RectificationReported", "ReinspectionFailed")


@dataclass(frozen=True)
class QuietHours:
    start: time
    end: time


class Notifier:
    def __init__(self, context: ServiceContext, rules: RuleBook, available: set[str], robots: dict[str, str],
                 quiet: QuietHours, clock: Clock, policies: PolicyBook):
        self.context, self.rules, self.available, self.robots = context, rules, available, robots
        self.quiet, self.clock, self.policies = quiet, clock, policies
        # the day this process made its digest pass: one pass a day, so that a person with nothing due in the
        # morning is not sent a "daily" digest in the afternoon because a notice arrived meanwhile
        self._digested_on: date | None = None

    # -- keeping what the rules need -----------------------------------------------------------------

    def on_notices_event(self, envelope: EventEnvelope) -> None:
        data, kind = envelope.data, envelope.type
        if kind == "NoticeIssued":
            TrackedNotice.objects(id=data["notice_id"]).update_one(
                upsert=True, set__title=data["title"], set__kind=data["kind"], set__doc_number=data.get("doc_number"),
                set__issuer_unit=data["issuer_unit"], set__target_units=list(data["target_units"]),
                set__sign_for_deadline=data.get("sign_for_deadline"), set__issued_on=data.get("issued_on"),
                set__entered_on=data.get("entered_on"), set__live=True)
            if not data.get("entered_on"):  # a paper notice entered later (补录) told its units on paper already
                self.raise_for(kind, data, self._notice_notification(kind, data, envelope.event_id, data))
        elif kind == "NoticeSigned":
            TrackedNotice.objects(id=data["notice_id"]).update_one(add_to_set__signed_units=data["unit"])
        elif kind in ("NoticeCleared", "NoticeWithdrawn"):
            notice = TrackedNotice.objects(id=data["notice_id"]).first()
            TrackedNotice.objects(id=data["notice_id"]).update_one(set__live=False)
            # a clearing of the past (the last 销号 of a paper notice entered later) is history, not news
            told = data.get("cleared_on", "") >= envelope.recorded_at.astimezone(SHANGHAI).date().isoformat()
            if kind == "NoticeCleared" and notice is not None and told:
                self.raise_for(kind, data, self._notice_notification(kind, data, envelope.event_id, notice.to_mongo()))

    def on_followups_event(self, envelope: EventEnvelope) -> None:
        data, kind = envelope.data, envelope.type
        if kind == "RectificationOpened":
            TrackedCase.objects(id=data["case_id"]).update_one(
                upsert=True, set__notice_id=data["notice_id"], set__description=data["description"],
                set__responsible_unit=data["responsible_unit"], set__responsible_person=data.get("responsible_person"),
                set__issuer_unit=data.get("issuer_unit"), set__notice_title=data.get("notice_title"),
                set__doc_number=data.get("doc_number"), set__deadline=data.get("deadline"),
                set__entered_on=data.get("entered_on"), set__open=True)
            return
        case = TrackedCase.objects(id=data.get("case_id")).first()
        if case is None:
            return  # a case this service never saw opened (its history predates it): nothing to address
        if kind == "DeadlineExtended":
            case.update(set__deadline=data["new_deadline"])
        elif kind == "ReinspectionFailed":
            case.update(set__open=True)
        elif kind in ("RectificationReported", "RectificationClosed", "RectificationWithdrawn"):
            case.update(set__open=False)
        if kind in CASE_EVENTS and not data.get("backfill"):  # a 补录 tells of the past: nobody is to act on it now
            self.raise_for(kind, data, self._case_notification(kind, data, envelope.event_id, case))

    # -- the watchers ----------------------------------------------------------------------------------

    def watch(self) -> int:
        """One pass: notices one working day before their 签收时限 with units still to sign, and open cases whose
        deadline has come within their office's yellow window. Each finding is told once per deadline."""
        today = self.clock.today()
        queued = 0
        for notice in TrackedNotice.objects(live=True):
            unsigned = [u for u in notice.target_units if u not in notice.signed_units]
            if unsigned and notice.sign_for_deadline and self._due_soon(notice.sign_for_deadline, today, 1, notice):
                data = {**notice.to_mongo(), "notice_id": notice.id, "unsigned_units": unsigned}
                queued += self.raise_for(SIGN_DUE_SOON, data, self._notice_notification(
                    SIGN_DUE_SOON, data, f"sign-due:{notice.sign_for_deadline}", data))
        for case in TrackedCase.objects(open=True):
            window = self.policies.for_office(case.issuer_unit).yellow_within_working_days
            if case.deadline and self._due_soon(case.deadline, today, window, case):
                data = {"case_id": case.id, "deadline": case.deadline}
                queued += self.raise_for(CASE_DUE_SOON, data, self._case_notification(
                    CASE_DUE_SOON, data, f"due-soon:{case.deadline}", case))
        return queued

    @staticmethod
    def _due_soon(deadline: str, today: date, working_days: int, item) -> bool:
        """Due today or within ``working_days`` working days, not yet past; never on a paper notice's entry day."""
        if item.entered_on and today.isoformat() <= item.entered_on:
            return False
        if deadline < today.isoformat():
            return False
        try:
            return deadline <= add_working_days(today, working_days).isoformat()
        except CalendarOutOfRange:  # past every calendar: the window cannot be told, so nobody is told early
            return False

    # -- the daily digest (每日待办摘要) -----------------------------------------------------------------------

    def digest(self) -> int:
        """On the first pass past the digest's hour (Beijing time) of a working day: each active person with an e-mail
        address and something due gets one e-mail listing it. Once per person per day however often this runs and
        however many workers run it (the message id is the person and the day). Returns how many were new."""
        book = self.rules.digest
        if DIGEST_CHANNEL not in self.available or not book.enabled_anywhere:
            return 0
        today = digest_day(self.clock.now(), book.at)
        if today is None or today == self._digested_on:
            return 0
        directory = self.context.directory
        people = [p for p in (directory.accounts() if directory is not None else []) if p.active and p.email and p.unit]
        cases = [OpenCase(c.id, c.description or "", c.responsible_unit, c.issuer_unit, c.deadline, c.notice_title,
                          c.doc_number) for c in TrackedCase.objects(open=True)]
        notices = [LiveNotice(n.id, n.title or "", n.issuer_unit, tuple(n.target_units), tuple(n.signed_units),
                              n.sign_for_deadline, n.doc_number) for n in TrackedNotice.objects(live=True)]
        by_unit = relevant_by_unit(cases, notices)
        queued = 0
        for person in people:
            found = compose_digest(person, today, *by_unit.get(person.unit, ([], [])), book, self.policies)
            if found is not None and self.context.bus.handle(QueueMessage(digest_draft(person, today, found)),
                                                             CommandContext.fresh(NOTIFIER)) is not None:
                queued += 1
        # only once every person was looked at: a pass cut short by an error is made again on the next tick, and the
        # message ids keep those already queued from a second e-mail
        self._digested_on = today
        return queued

    # -- rules → messages ------------------------------------------------------------------------------

    def raise_for(self, event_type: str, data: dict, found: tuple[Notification, str | None, dict[str, list[str]]]) -> int:
        """Queue what the office's rules ask for this finding; returns how many messages were new."""
        notification, office, units_by_source = found
        directory = self.context.directory
        people = directory.accounts() if directory is not None else []
        now = self.clock.now()
        queued = 0
        for rule in self.rules.matching(office, event_type, data):
            drafts = plan_messages(rule, notification, people, units_by_source.get(rule.units, []), office,
                                   self.available, self.robots, lambda _channel: self._quiet_until(now))
            if not drafts:
                log.warning("a message rule found nobody to tell", extra={"rule": rule.id, "item": notification.item})
            for draft in drafts:
                if self.context.bus.handle(QueueMessage(draft), CommandContext.fresh(NOTIFIER)) is not None:
                    queued += 1
        return queued

    def _quiet_until(self, now: datetime) -> str | None:
        until = deferred_until(now, self.quiet.start, self.quiet.end)
        # kept in UTC like every other time of this service, so that times compare as they are written
        return until.astimezone(timezone.utc).isoformat() if until is not None else None

    def _notice_notification(self, kind: str, data: dict, occurrence: str, notice: dict):
        notice_id = data.get("notice_id") or notice.get("_id")
        subject, body = describe(kind, data, notice=notice)
        units = {"targets": list(notice.get("target_units") or []),
                 "unsigned": list(data.get("unsigned_units") or []),
                 "issuer": [notice["issuer_unit"]] if notice.get("issuer_unit") else []}
        return (Notification(kind, notice_id, subject, body, f"/notices/{notice_id}", occurrence, notice_id=notice_id),
                notice.get("issuer_unit"), units)

    def _case_notification(self, kind: str, data: dict, occurrence: str, case: TrackedCase):
        subject, body = describe(kind, data, case=case.to_mongo())
        units = {"responsible": [case.responsible_unit], "issuer": [case.issuer_unit] if case.issuer_unit else []}
        return (Notification(kind, case.id, subject, body, f"/cases/{case.id}", occurrence, notice_id=case.notice_id,
                             case_id=case.id), case.issuer_unit, units)
