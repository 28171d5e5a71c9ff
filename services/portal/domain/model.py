"""The portal's picture of the whole 督办 system, built only from the events on the five topics (of the three
services, the directory and the messages service).

Plain Python: records for notices, cases, tasks and plans kept in step with their streams, every event
kept in the timeline of the notice it belongs to, and each stream's hash chain checked as it arrives.
A redelivered event (same stream, version already seen) changes nothing, so the live path and a
rebuild from the beginning of the topics end in the same state (``digest``).
"""
from __future__ import annotations

import hashlib
import json
from bisect import bisect_left, bisect_right, insort
from collections import Counter
from dataclasses import dataclass, field, fields
from datetime import date, datetime, timezone
from typing import Any

from shared.clock import SHANGHAI
from shared.directory import directory_change
from shared.envelope import GENESIS_HASH, Actor, EventEnvelope, format_time
from shared.scope import UnitTree, case_units, notice_units
from shared.vocabulary import PROMPT_KINDS, CaseStatus, EscalationLevel

# Case statuses, the escalation ladder and the notice kinds as the services name them in their events, from the
# one vocabulary (shared/vocabulary.py).
CLOCK_RUNNING, CASE_ENDED = CaseStatus.CLOCK_RUNNING, CaseStatus.ENDED
LADDER = EscalationLevel.LADDER
NO_TASK = "（未关联任务）"  # the status-table group of cases linked to no task


def group_keys(case: "CaseRecord", by: str) -> list:
    """The status-table groups a case counts in: its unit, its notice's targets (departments), or its tasks."""
    if by == "unit":
        return [case.responsible_unit]
    if by == "department":
        return case.target_units or [case.responsible_unit]
    return case.related_task_ids or [NO_TASK]


def local_date(moment) -> date:
    """The Asia/Shanghai date of a UTC moment (what offices call "the day")."""
    return moment.astimezone(SHANGHAI).date()


@dataclass(slots=True)
class NoticeRecord:  # 督办通知
    id: str
    kind: str = ""
    title: str = ""
    doc_number: str | None = None
    issuer_unit: str = ""
    target_units: list[str] = field(default_factory=list)
    copied_units: list[str] = field(default_factory=list)
    related_task_ids: list[str] = field(default_factory=list)
    listed: bool = False
    status: str = "draft"
    issued_on: str | None = None
    sign_for_deadline: str | None = None
    sign_for_deadline_provisional: bool = False  # counted on a calendar not yet published (暂定)
    sign_for_rule: dict | None = None  # {amount, kind} the sign-for deadline was counted with
    signatures: list[dict] = field(default_factory=list)
    sign_overdue: bool = False
    problems: list[dict] = field(default_factory=list)
    closed_problem_ids: list[str] = field(default_factory=list)
    cleared_on: str | None = None
    withdrawn_reason: str | None = None

    @property
    def signed_units(self) -> list[str]:
        return [s["unit"] for s in self.signatures]


@dataclass(slots=True)
class CaseRecord:  # 整改事项 (one row of the 整改台账)
    id: str
    notice_id: str
    problem_id: str
    description: str = ""
    requirement: str = ""
    responsible_unit: str = ""
    responsible_person: str | None = None
    area: str | None = None
    issuer_unit: str | None = None
    notice_title: str | None = None
    notice_kind: str | None = None
    doc_number: str | None = None
    listed: bool = False
    related_task_ids: list[str] = field(default_factory=list)
    target_units: list[str] = field(default_factory=list)  # the notice's 督办对象 (the "department" it went to)
    deadline: str | None = None
    original_deadline: str | None = None
    deadline_provisional: bool = False  # counted on a calendar not yet published (暂定); an extension's date is given
    status: str = "open"
    opened_on: str | None = None
    plan: str | None = None
    measures: list[str] = field(default_factory=list)
    reported_on: str | None = None
    reinspection_due: str | None = None
    findings: str | None = None
    closed_on: str | None = None
    on_time: bool | None = None
    overdue: bool = False
    escalation_level: str | None = None
    escalations: list[dict] = field(default_factory=list)
    extensions: list[dict] = field(default_factory=list)
    # 佐证材料: each file a step attached, in the order attached: {sha256, name, size, type, step (the event's type),
    # event_id, by (the actor's user id), by_name, unit, at (recorded_at, UTC)}
    files: list[dict] = field(default_factory=list)

    @property
    def days_to_close(self) -> int | None:
        if not (self.closed_on and self.opened_on):
            return None
        return (date.fromisoformat(self.closed_on) - date.fromisoformat(self.opened_on)).days


@dataclass(slots=True)
class TaskRecord:  # 督导任务
    id: str
    plan_id: str = ""
    number: str = ""
    text: str = ""
    category: str | None = None
    lead_unit: str | None = None
    partner_units: list[str] = field(default_factory=list)
    due_date: str | None = None
    status: str = "planned"
    progress: list[dict] = field(default_factory=list)
    notice_ids: list[str] = field(default_factory=list)
    matters: dict[str, list[str]] = field(default_factory=dict)
    withdrawn_notices: list[str] = field(default_factory=list)
    closed_matters: list[str] = field(default_factory=list)


@dataclass(slots=True)
class PlanRecord:  # 工作要点
    id: str
    title: str = ""
    year: int | None = None
    issuer: str | None = None
    doc_number: str | None = None
    task_ids: list[str] = field(default_factory=list)
    source: str = "manual"
    recorded_on: str | None = None


@dataclass(slots=True)
class TimelineEntry:
    """One event in a notice's story, with the deadline it was due against and how late or early it came."""

    service: str
    event_id: str
    stream_id: str
    stream_type: str
    version: int
    type: str
    recorded_at: Any  # datetime (UTC)
    actor: dict
    data: dict
    correlation_id: str
    causation_id: str | None
    prev_hash: str
    hash: str
    due: str | None = None
    happened_on: str | None = None  # the day of the step judged against ``due`` (lateness is told on display)


@dataclass(slots=True)
class StreamCheck:
    """A stream's hash chain as seen on its topic: version and hash so far, and the first break if any."""

    version: int = 0
    last_hash: str = GENESIS_HASH
    ok: bool = True
    first_bad_event_id: str | None = None
    reason: str | None = None


class PortalModel:
    def __init__(self) -> None:
        self.notices: dict[str, NoticeRecord] = {}
        self.cases: dict[str, CaseRecord] = {}
        self.tasks: dict[str, TaskRecord] = {}
        self.plans: dict[str, PlanRecord] = {}
        self.timelines: dict[str, list[TimelineEntry]] = {}
        self.streams: dict[str, StreamCheck] = {}
        self.case_ids_by_notice: dict[str, list[str]] = {}
        self.events_applied = 0
        self._handlers: dict[str, Any] = {}
        # Indexes the queries read instead of walking every record (kept in step by the handlers below).
        self.scopes: dict[str | None, ScopeIndex] = {None: ScopeIndex()}
        self._case_index: dict[str, _CaseEntry] = {}
        self._notice_index: dict[str, _NoticeEntry] = {}
        self.case_order: dict[str, int] = {}  # case id -> its place in ``cases`` (insertion order)
        self.notice_order: dict[str, int] = {}
        self.case_ids_by_task: dict[str, list[str]] = {}  # task id (or NO_TASK) -> cases linked to it, in order
        # year -> {holidays, workdays, source, by, on}: the State Council's arrangement as an office recorded it
        self.holiday_years: dict[int, dict] = {}
        # the directory (its topic): unit name -> {parent, kind, short_name, region_code, merged_into, active};
        # username -> {name, unit, roles, mobile, email, epoch, active}
        self.units: dict[str, dict] = {}
        self.people: dict[str, dict] = {}
        self._unit_tree: UnitTree | None = None  # built from ``units`` when first asked after a change
        # the messages topic (消息提醒): message id -> its delivery as a plain dict (see _on_MessageQueued); with the
        # in-portal messages of each person (username -> ids, in the order queued) and how many are unread, and the
        # deliveries about each notice or its cases (notice id -> ids, in the order queued)
        self.messages: dict[str, dict] = {}
        self.inbox: dict[str, list[str]] = {}
        self.unread: dict[str, int] = {}
        self.deliveries: dict[str, list[str]] = {}

    # -- applying events ----------------------------------------------------------------------------

    def apply(self, service: str, event: EventEnvelope) -> bool:
        """Apply one event from ``service``'s topic; False for a redelivery (nothing changes)."""
        check = self.streams.get(event.stream_id)
        if check is None:  # (not setdefault: that would make a StreamCheck for every event)
            check = self.streams[event.stream_id] = StreamCheck()
        if event.version <= check.version:
            return False
        actor = event.actor
        # Actor.to_dict is dataclasses.asdict: the same dict, built directly for the plain Actor.
        actor_dict = ({"user_id": actor.user_id, "role": actor.role, "unit": actor.unit, "name": actor.name}
                      if type(actor) is Actor else actor.to_dict())
        self._check_chain(check, event, actor_dict)
        entry = TimelineEntry(
            service=service, event_id=event.event_id, stream_id=event.stream_id, stream_type=event.stream_type,
            version=event.version, type=event.type, recorded_at=event.recorded_at, actor=actor_dict,
            data=dict(event.data), correlation_id=event.correlation_id, causation_id=event.causation_id,
            prev_hash=event.prev_hash, hash=event.hash,
        )
        # the business date of a step (补录 keeps the day it happened); else the day it was recorded
        day = entry.data.get("occurred_on") or local_date(event.recorded_at).isoformat()
        notice_id = self._route(entry, day)
        if notice_id is not None:
            self.timelines.setdefault(notice_id, []).append(entry)
        self.events_applied += 1
        return True

    def _check_chain(self, check: StreamCheck, event: EventEnvelope, actor_dict: dict | None = None) -> None:
        if check.ok:
            reason = None
            if event.version != check.version + 1:
                reason = f"version {event.version} where {check.version + 1} was expected"
            elif event.prev_hash != check.last_hash:
                reason = "prev_hash does not match the previous event's hash"
            elif event_hash(event, actor_dict) != event.hash:
                reason = "hash does not match the event's content"
            if reason:
                check.ok, check.first_bad_event_id, check.reason = False, event.event_id, reason
        check.version, check.last_hash = event.version, event.hash

    def _route(self, entry: TimelineEntry, day: str) -> str | None:
        """Update the records the event concerns; returns the notice whose timeline it belongs to."""
        try:
            handler = self._handlers[entry.type]
        except KeyError:
            handler = self._handlers[entry.type] = getattr(self, f"_on_{entry.type}", None)
        if handler is not None:
            return handler(entry, entry.data, day)
        return entry.data.get("notice_id")

    def _route_directory(self, entry, data, day):
        """A unit or a person as the directory says (shared/directory.py); no notice's timeline."""
        kind, key, changes = directory_change(entry.type, data)
        (self.units if kind == "unit" else self.people).setdefault(key, {}).update(changes)
        if kind == "unit":
            self._unit_tree = None
        return None

    _on_UnitRegistered = _on_UnitChanged = _on_UnitMoved = _on_UnitMerged = _route_directory
    _on_PersonRegistered = _on_PersonDetailsChanged = _on_PersonMoved = _on_PersonRolesChanged = _route_directory
    _on_PersonDisabled = _on_PersonEnabled = _on_PasswordChanged = _route_directory

    def unit_tree(self) -> UnitTree:
        """The directory's hierarchy as the events so far tell it (for read scopes, shared/scope.py)."""
        tree = self._unit_tree
        if tree is None:
            tree = self._unit_tree = UnitTree({name: unit.get("parent") for name, unit in self.units.items()})
        return tree

    def _on_HolidayArrangementRecorded(self, entry, data, day):
        actor = entry.actor or {}
        self.holiday_years[int(data["year"])] = {
            "holidays": list(data["holidays"]), "workdays": list(data.get("workdays") or []), "source": data.get("source"),
            "by": actor.get("name") or actor.get("user_id"), "unit": actor.get("unit"), "on": day,
            "version": entry.version}
        return None  # no notice's timeline

    # notices ----------------------------------------------------------------------------------------

    def _on_NoticeDrafted(self, entry, data, day):
        content = data["content"]
        self.notices[data["notice_id"]] = NoticeRecord(
            id=data["notice_id"], kind=content["kind"], title=content["title"], doc_number=content.get("doc_number"),
            issuer_unit=content["issuer_unit"], target_units=list(content["target_units"]),
            copied_units=list(content.get("copied_units") or []), related_task_ids=list(content.get("related_task_ids") or []),
            listed=bool(content.get("listed")), status="draft")
        self._index_notice(data["notice_id"])
        return data["notice_id"]

    def _on_NoticeIssued(self, entry, data, day):
        notice = self.notices.setdefault(data["notice_id"], NoticeRecord(id=data["notice_id"]))
        notice.kind, notice.title, notice.doc_number = data["kind"], data["title"], data.get("doc_number")
        notice.issuer_unit, notice.target_units = data["issuer_unit"], list(data["target_units"])
        notice.copied_units = list(data.get("copied_units") or [])
        notice.related_task_ids = list(data.get("related_task_ids") or [])
        notice.listed, notice.status = bool(data.get("listed")), "issued"
        notice.issued_on, notice.sign_for_deadline = data.get("issued_on") or day, data.get("sign_for_deadline")
        notice.sign_for_deadline_provisional = bool(data.get("sign_for_deadline_provisional"))
        notice.sign_for_rule = data.get("sign_for_rule")
        notice.problems = list(data["problems"])
        for case in self.cases_of(notice.id):  # a case opened before its notice arrived learns the targets now
            case.target_units = list(notice.target_units)
            self._index_case(case.id)
        self._index_notice(notice.id)
        return notice.id

    def _on_NoticeSigned(self, entry, data, day):
        notice = self.notices.get(data["notice_id"])
        if notice is not None:
            notice.signatures.append({"unit": data["unit"], "signed_on": data["signed_on"], "late": data.get("late", False)})
            if notice.status == "issued" and set(notice.signed_units) >= set(notice.target_units):
                notice.status = "acknowledged"
            entry.due = notice.sign_for_deadline
        entry.happened_on = data["signed_on"]
        return data["notice_id"]

    def _on_NoticeSignOverdue(self, entry, data, day):
        if (notice := self.notices.get(data["notice_id"])) is not None:
            notice.sign_overdue = True
        entry.due, entry.happened_on = data["deadline"], day
        return data["notice_id"]

    def _on_NoticeProblemClosed(self, entry, data, day):
        if (notice := self.notices.get(data["notice_id"])) is not None and data["problem_id"] not in notice.closed_problem_ids:
            notice.closed_problem_ids.append(data["problem_id"])
        return data["notice_id"]

    def _on_NoticeCleared(self, entry, data, day):
        if (notice := self.notices.get(data["notice_id"])) is not None:
            notice.status, notice.cleared_on = "cleared", data["cleared_on"]
            self._index_notice(notice.id)
        return data["notice_id"]

    def _on_NoticeWithdrawn(self, entry, data, day):
        if (notice := self.notices.get(data["notice_id"])) is not None:
            notice.status, notice.withdrawn_reason = "withdrawn", data["reason"]
            self._index_notice(notice.id)
        return data["notice_id"]

    # cases ------------------------------------------------------------------------------------------

    def _on_RectificationOpened(self, entry, data, day):
        notice = self.notices.get(data["notice_id"])
        self.cases[data["case_id"]] = CaseRecord(
            id=data["case_id"], notice_id=data["notice_id"], problem_id=data["problem_id"],
            description=data["description"], requirement=data.get("requirement", ""),
            responsible_unit=data["responsible_unit"], responsible_person=data.get("responsible_person"),
            area=data.get("area"), issuer_unit=data.get("issuer_unit"), notice_title=data.get("notice_title"),
            notice_kind=data.get("notice_kind"), doc_number=data.get("doc_number"), listed=bool(data.get("listed")),
            related_task_ids=list(data.get("related_task_ids") or []),
            target_units=list(notice.target_units) if notice else [],
            deadline=data.get("deadline"), original_deadline=data.get("deadline"),
            deadline_provisional=bool(data.get("deadline_provisional")), opened_on=data.get("issued_on") or day)
        self.case_ids_by_notice.setdefault(data["notice_id"], []).append(data["case_id"])
        self._index_case(data["case_id"])
        entry.due = data.get("deadline")
        return data["notice_id"]

    def _case_step(self, entry, data, day, **changes):
        case = self.cases.get(entry.stream_id)
        if case is None:
            return None
        if data.get("files"):
            _attach_files(case, entry, data["files"])
        before = (_status_class(case.status), case.closed_on, case.deadline)
        for name, value in changes.items():
            setattr(case, name, value)
        if (_status_class(case.status), case.closed_on, case.deadline) != before:  # what the indexes hold changed
            self._index_case(case.id)
        entry.due = case.deadline
        return case

    def _on_RectificationPlanSubmitted(self, entry, data, day):
        case = self._case_step(entry, data, day, status="planned", plan=data["plan"], measures=list(data.get("measures") or []))
        return self._timed(entry, case, day)

    def _on_RectificationProgressReported(self, entry, data, day):
        return self._timed(entry, self._case_step(entry, data, day, status="rectifying"), day)

    def _on_RectificationReported(self, entry, data, day):
        case = self._case_step(entry, data, day, status="reported", reported_on=data.get("reported_on") or day,
                               reinspection_due=data.get("reinspection_due"))
        return self._timed(entry, case, data.get("reported_on") or day)

    def _on_ReinspectionPassed(self, entry, data, day):
        case = self.cases.get(entry.stream_id)
        due = case.reinspection_due if case else None
        case = self._case_step(entry, data, day, status="verified", findings=data["findings"])
        entry.due, entry.happened_on = due, day
        return case.notice_id if case else None

    def _on_ReinspectionFailed(self, entry, data, day):
        case = self.cases.get(entry.stream_id)
        due = case.reinspection_due if case else None
        case = self._case_step(entry, data, day, status="rectifying", findings=data["findings"], reported_on=None)
        entry.due, entry.happened_on = due, day
        return case.notice_id if case else None

    def _on_RectificationClosed(self, entry, data, day):
        case = self._case_step(entry, data, day, status="closed", closed_on=data["closed_on"], on_time=data.get("on_time"))
        entry.happened_on = (case.reported_on if case else None) or data["closed_on"]
        return data["notice_id"]

    def _on_RectificationWithdrawn(self, entry, data, day):
        return self._notice_of(self._case_step(entry, data, day, status="withdrawn"))

    def _on_DeadlineExtended(self, entry, data, day):
        case = self._case_step(entry, data, day, deadline=data["new_deadline"], overdue=False,
                               deadline_provisional=False)
        if case is not None:
            case.extensions.append({k: data.get(k) for k in ("previous_deadline", "new_deadline", "reason", "approver")})
        entry.due = data.get("previous_deadline")
        return self._notice_of(case)

    def _on_RectificationOverdue(self, entry, data, day):
        self._case_step(entry, data, day, overdue=True)
        entry.due, entry.happened_on = data["deadline"], data["detected_on"]
        return data["notice_id"]

    def _on_RectificationEscalated(self, entry, data, day):
        case = self._case_step(entry, data, day)
        if case is not None:
            case.escalations.append({**{k: data.get(k) for k in ("level", "reason", "doc_number", "measure", "target",
                                                                  "automatic")}, "on": day})
            current = LADDER.index(case.escalation_level) if case.escalation_level in LADDER else -1
            if LADDER.index(data["level"]) > current:
                case.escalation_level = data["level"]
        entry.due = data.get("deadline") or entry.due
        entry.happened_on = day
        return self._notice_of(case)

    def _on_RectificationCommended(self, entry, data, day):
        return self._notice_of(self._case_step(entry, data, day))

    def _timed(self, entry, case, on_day: str):
        entry.happened_on = on_day
        return self._notice_of(case)

    def _notice_of(self, case: CaseRecord | None) -> str | None:
        return case.notice_id if case else None

    def cases_of(self, notice_id: str) -> list[CaseRecord]:
        """The notice's cases in problem order."""
        cases = [self.cases[case_id] for case_id in self.case_ids_by_notice.get(notice_id, ())]
        return sorted(cases, key=lambda case: int(case.problem_id.lstrip("P") or 0))

    # tasks ------------------------------------------------------------------------------------------

    def _on_PlanRecorded(self, entry, data, day):
        self.plans[data["plan_id"]] = PlanRecord(
            id=data["plan_id"], title=data["title"], year=data.get("year"), issuer=data.get("issuer"),
            doc_number=data.get("doc_number"), task_ids=list(data.get("task_ids") or []),
            source="imported" if entry.type == "PlanImported" else "manual", recorded_on=day)
        return None

    _on_PlanImported = _on_PlanRecorded

    def _on_TaskCreated(self, entry, data, day):
        self.tasks[data["task_id"]] = TaskRecord(
            id=data["task_id"], plan_id=data["plan_id"], number=data["number"], text=data["text"],
            category=data.get("category"), lead_unit=data.get("lead_unit"),
            partner_units=list(data.get("partner_units") or []), due_date=data.get("due_date"))
        return None

    def _task(self, entry) -> TaskRecord | None:
        return self.tasks.get(entry.stream_id)

    def _on_TaskProgressRecorded(self, entry, data, day):
        if (task := self._task(entry)) is not None:
            task.status = "in_progress"
            task.progress.append({"summary": data["summary"], "percent": data.get("percent"), "on": day})
        return None

    def _on_TaskCompleted(self, entry, data, day):
        if (task := self._task(entry)) is not None:
            task.status = "done"
        return None

    def _on_TaskCancelled(self, entry, data, day):
        if (task := self._task(entry)) is not None:
            task.status = "cancelled"
        return None

    def _on_TaskNoticeLinked(self, entry, data, day):
        if (task := self._task(entry)) is not None and data["notice_id"] not in task.matters:
            task.notice_ids.append(data["notice_id"])
            task.matters[data["notice_id"]] = list(data.get("matter_ids") or [])
        return data["notice_id"]

    def _on_TaskNoticeWithdrawn(self, entry, data, day):
        if (task := self._task(entry)) is not None and data["notice_id"] not in task.withdrawn_notices:
            task.withdrawn_notices.append(data["notice_id"])
        return data["notice_id"]

    def _on_TaskMatterClosed(self, entry, data, day):
        if (task := self._task(entry)) is not None and data["matter_id"] not in task.closed_matters:
            task.closed_matters.append(data["matter_id"])
        return data["notice_id"]

    # messages (消息提醒) -------------------------------------------------------------------------------
    # A message's events update its record; none joins a notice's timeline of events (the timeline tells each
    # delivery as one line, from its record).

    def _on_MessageQueued(self, entry, data, day):
        message_id = data.get("message_id") or entry.stream_id
        if message_id in self.messages:
            return None
        channel, recipient, case_id = data["channel"], data.get("recipient"), data.get("case_id")
        notice_id = data.get("notice_id")
        if not notice_id and isinstance(case_id, str):
            case = self.cases.get(case_id)
            notice_id = case.notice_id if case is not None else case_id.rsplit(":", 1)[0]
        inbox = channel == "inbox"
        self.messages[message_id] = {
            "id": message_id, "rule": data.get("rule"), "channel": channel, "recipient": recipient,
            "recipient_name": data.get("recipient_name"), "unit": data.get("unit"), "address": data.get("address"),
            "subject": data.get("subject") or "", "body": data.get("body") or "", "link": data.get("link"),
            "notice_id": notice_id, "case_id": case_id, "status": "unread" if inbox else "queued",
            "queued_at": entry.recorded_at, "not_before": data.get("not_before"), "attempts": 0, "sent_at": None,
            "answer": None, "error": None, "retry_at": None, "read_at": None}
        if inbox and recipient:
            self.inbox.setdefault(recipient, []).append(message_id)
            self.unread[recipient] = self.unread.get(recipient, 0) + 1
        if notice_id:
            self.deliveries.setdefault(notice_id, []).append(message_id)
        return None

    def _message_step(self, entry, data, **changes) -> None:
        message = self.messages.get(data.get("message_id") or entry.stream_id)
        if message is None:
            return None
        if message["status"] == "unread" and changes.get("status", "unread") != "unread":
            recipient = message["recipient"]
            self.unread[recipient] = max(0, self.unread.get(recipient, 0) - 1)
        message.update(changes)
        return None

    def _on_DeliveryAttempted(self, entry, data, day):
        return self._message_step(entry, data, status="sending", attempts=data.get("attempt", 0))

    def _on_MessageSent(self, entry, data, day):
        return self._message_step(entry, data, status="sent", attempts=data.get("attempt", 0),
                                  answer=data.get("answer"), sent_at=data.get("sent_at"), retry_at=None)

    def _on_DeliveryFailed(self, entry, data, day):
        retry_at = data.get("retry_at")
        return self._message_step(entry, data, status="retrying" if retry_at else "dead", error=data.get("error"),
                                  attempts=data.get("attempt", 0), retry_at=retry_at)

    def _on_MessageDeadLettered(self, entry, data, day):
        return self._message_step(entry, data, status="dead", error=data.get("error"), retry_at=None)

    def _on_MessageRequeued(self, entry, data, day):
        return self._message_step(entry, data, status="queued", retry_at=None)

    def _on_MessageRead(self, entry, data, day):
        return self._message_step(entry, data, status="read", read_at=data.get("read_at"))

    def inbox_of(self, username: str) -> list[dict]:
        """The person's in-portal messages, newest first."""
        messages = [self.messages[i] for i in reversed(self.inbox.get(username, ()))]
        return sorted(messages, key=lambda m: m["queued_at"], reverse=True)  # stable: the later queued first on a tie

    def unread_count(self, username: str) -> int:
        return self.unread.get(username, 0)

    def deliveries_of(self, notice_id: str) -> list[dict]:
        """Every message about the notice or its cases, in the order they were queued."""
        messages = [self.messages[i] for i in self.deliveries.get(notice_id, ())]
        return sorted(messages, key=lambda m: m["queued_at"])

    # -- the indexes the queries read -------------------------------------------------------------------

    def _index_case(self, case_id: str) -> None:
        """Bring the indexes in step with the case's record (nothing to do when what they hold is unchanged)."""
        case = self.cases.get(case_id)
        if case is None:
            return
        entry = self._case_index.get(case_id)
        if entry is None or entry.case is not case:  # a new case (or, never in practice, a replaced record)
            if case_id not in self.case_order:
                self.case_order[case_id] = len(self.case_order)
            for key in case.related_task_ids or [NO_TASK]:
                if type(key) is not str:
                    continue
                linked = self.case_ids_by_task.setdefault(key, [])
                if entry is None:
                    linked.append(case_id)  # the newest case: the list stays in case order
                elif case_id not in linked:
                    linked.append(case_id)
                    linked.sort(key=self.case_order.__getitem__)
        signature = _case_signature(case)
        if entry is not None:
            if entry.signature == signature and entry.case is case:
                return
            if not self._recount_case(case_id, entry, case, signature):
                self._count_case(case_id, entry.case, entry.signature, -1)
                self._count_case(case_id, case, signature, 1)
        else:
            self._count_case(case_id, case, signature, 1)
        self._case_index[case_id] = _CaseEntry(case, signature)

    def _recount_case(self, case_id: str, entry: "_CaseEntry", case: CaseRecord, signature: tuple) -> bool:
        """A summed case that moved on (planned → reported → closed, a new deadline): add only the differences.
        False when the change is of another kind (the caller takes the old counts out and puts the new in)."""
        (old_scopes, old), (scopes, new) = entry.signature, signature
        if entry.case is not case or old_scopes != scopes or old is None or new is None or old[1] != new[1]:
            return False
        day = new[1]
        before, after = _contributions(old), _contributions(new)
        changes = []
        for target in {**before, **after}:
            zero = (0,) * (3 if target[0] is None else 4)
            change = tuple(n - o for n, o in zip(after.get(target, zero), before.get(target, zero), strict=True))
            if any(change):
                changes.append((target, change))
        was_running = old[3] if old[0] == "open" else None
        is_running = new[3] if new[0] == "open" else None
        for unit in (None, *scopes):
            index = self._scope(unit)
            for (by, key), change in changes:
                if by is None:
                    index.counts.add(day, change)
                else:
                    sums = index.groups[by]
                    total = sums.get(key)
                    if total is None:
                        total = sums[key] = RangeSum(4)
                    total.add(day, change)
            if was_running != is_running:
                if was_running is not None:
                    self._run(index, case_id, was_running, -1)
                if is_running is not None:
                    self._run(index, case_id, is_running, 1)
        return True

    @staticmethod
    def _run(index: "ScopeIndex", case_id: str, running: tuple, sign: int) -> None:
        deadline, office = running
        if sign > 0:
            insort(index.running, (deadline, case_id))
            index.offices[office] += 1
        else:
            del index.running[bisect_left(index.running, (deadline, case_id))]
            index.offices[office] -= 1
            if not index.offices[office]:
                del index.offices[office]

    def _scope(self, unit: str | None) -> "ScopeIndex":
        index = self.scopes.get(unit)
        if index is None:
            index = self.scopes[unit] = ScopeIndex()
        return index

    def _count_case(self, case_id: str, case: CaseRecord, signature: tuple, sign: int) -> None:
        scopes, summed = signature
        contributions = {}
        if summed is not None:
            contributions = {target: counts if sign > 0 else tuple(-count for count in counts)
                             for target, counts in _contributions(summed).items()}
        for unit in (None, *scopes):
            index = self._scope(unit)
            if unit is not None:
                if sign > 0:
                    index.cases[case_id] = case
                else:
                    index.cases.pop(case_id, None)
            if summed is None:
                if sign > 0:
                    index.live[case_id] = case
                else:
                    index.live.pop(case_id, None)
                continue
            opened_on = summed[1]
            for (by, key), counts in contributions.items():
                if by is None:
                    index.counts.add(opened_on, counts)
                else:
                    sums = index.groups[by]
                    total = sums.get(key)
                    if total is None:
                        total = sums[key] = RangeSum(4)
                    total.add(opened_on, counts)
            if summed[0] == "open" and summed[3] is not None:
                self._run(index, case_id, summed[3], sign)

    def _index_notice(self, notice_id: str) -> None:
        notice = self.notices.get(notice_id)
        if notice is None:
            return
        if notice_id not in self.notice_order:
            self.notice_order[notice_id] = len(self.notice_order)
        signature = _notice_signature(notice)
        entry = self._notice_index.get(notice_id)
        if entry is not None:
            if entry.signature == signature and entry.notice is notice:
                return
            self._count_notice(notice_id, entry.notice, entry.signature, -1)
        self._count_notice(notice_id, notice, signature, 1)
        self._notice_index[notice_id] = _NoticeEntry(notice, signature)

    def _count_notice(self, notice_id: str, notice: NoticeRecord, signature: tuple, sign: int) -> None:
        scopes, counted = signature
        for unit in (None, *scopes):
            index = self._scope(unit)
            if unit is not None:
                if sign > 0:
                    index.notices[notice_id] = notice
                else:
                    index.notices.pop(notice_id, None)
            if counted is None:
                continue
            if counted[0] == "summed":
                index.notice_counts.add(counted[1], (sign, sign * counted[2]))
            elif sign > 0:
                index.live_notices[notice_id] = notice
            else:
                index.live_notices.pop(notice_id, None)

    # -- the whole state, for snapshots and for comparing the live path with a rebuild --------------------

    def __getstate__(self) -> dict:
        """Everything but the caches of bound handlers and of the unit tree (rebuilt on demand): records, timelines,
        chain checks and the query indexes, whose records are the very objects in ``cases`` and ``notices``."""
        state = self.__dict__.copy()
        state["_handlers"] = {}
        state["_unit_tree"] = None
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._handlers = {}
        self.__dict__.setdefault("units", {})
        self.__dict__.setdefault("people", {})
        for name in ("messages", "inbox", "unread", "deliveries"):
            self.__dict__.setdefault(name, {})
        self._unit_tree = None

    def adopt(self, other: "PortalModel") -> None:
        """Take over another model's whole state (a restored snapshot), so that whoever holds this one sees it."""
        self.__dict__.clear()
        self.__setstate__(other.__getstate__())

    def digest(self) -> str:
        """sha256 of every record, timeline and chain check, in a canonical order."""
        state = {
            "notices": _as_dicts(self.notices),
            "cases": _as_dicts(self.cases),
            "tasks": _as_dicts(self.tasks),
            "plans": _as_dicts(self.plans),
            "timelines": {k: sorted(e.event_id for e in v) for k, v in sorted(self.timelines.items())},
            "streams": _as_dicts(self.streams),
            "units": dict(sorted(self.units.items())),
            "people": dict(sorted(self.people.items())),
            "messages": dict(sorted(self.messages.items())),
        }
        canonical = json.dumps(state, sort_keys=True, ensure_ascii=False, default=str, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _attach_files(case: CaseRecord, entry: TimelineEntry, files: Any) -> None:
    """Keep the files a step's event carries (佐证材料) with who attached them and when; malformed entries are
    left out (the event itself stays in the timeline as it came)."""
    if not isinstance(files, list):
        return
    actor = entry.actor or {}
    for item in files:
        if isinstance(item, dict) and isinstance(item.get("sha256"), str):
            case.files.append({
                "sha256": item["sha256"], "name": str(item.get("name") or item["sha256"][:12]),
                "size": item.get("size"), "type": item.get("type"), "step": entry.type, "event_id": entry.event_id,
                "by": actor.get("user_id"), "by_name": actor.get("name"), "unit": actor.get("unit"),
                "at": entry.recorded_at})


def _as_dicts(records: dict) -> dict:
    """``{key: asdict(record)}`` in key order, without asdict's deep copy (the records hold no dataclasses)."""
    # The same JSON at a tenth of the cost: the digest is taken for every snapshot and checked at every restore.
    names_of: dict[type, tuple] = {}
    result = {}
    for key, record in sorted(records.items()):
        kind = type(record)
        names = names_of.get(kind)
        if names is None:
            names = names_of[kind] = tuple(f.name for f in fields(record))
        result[key] = {name: getattr(record, name) for name in names}
    return result


# -- the chain check, without shared.envelope's generic conversions where the event is plain JSON ------------

_CANONICAL_JSON = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode


def _plain(value: Any) -> bool:
    """JSON-native data (str-keyed dicts, lists, str, int, float, bool, None), which to_jsonable leaves as it is."""
    kind = type(value)
    if kind is dict:
        for key, item in value.items():
            if type(key) is not str:
                return False
            kind = type(item)
            if not (kind is str or kind is int or kind is bool or item is None or kind is float or _plain(item)):
                return False
        return True
    if kind is list:
        for item in value:
            kind = type(item)
            if not (kind is str or kind is int or kind is bool or item is None or kind is float or _plain(item)):
                return False
        return True
    return kind is str or kind is int or kind is bool or value is None or kind is float


def _utc_text(moment: Any) -> str:
    """shared.envelope.format_time, for the UTC datetimes events are read back with (others go through it)."""
    if type(moment) is datetime and moment.tzinfo is timezone.utc and moment.year >= 1000:
        return moment.isoformat(timespec="milliseconds")[:-6] + "Z"  # "…+00:00" → "…Z"
    return format_time(moment)


def event_hash(event: EventEnvelope, actor_dict: dict | None = None) -> str:
    """``event.compute_hash()``: the same canonical JSON, built directly when the event holds plain JSON data
    (as every event read from a topic does); anything else goes through EventEnvelope itself."""
    if (type(event) is EventEnvelope and actor_dict is not None and _plain(event.data) and _plain(actor_dict)
            and _plain([event.event_id, event.stream_id, event.stream_type, event.version, event.type,
                        event.schema_version, event.correlation_id, event.causation_id, event.prev_hash])):
        recorded = _utc_text(event.recorded_at)
        # equal moments print alike (format_time prints the UTC instant)
        occurred = recorded if event.occurred_at == event.recorded_at else _utc_text(event.occurred_at)
        body = {"event_id": event.event_id, "stream_id": event.stream_id, "stream_type": event.stream_type,
                "version": event.version, "type": event.type, "schema_version": event.schema_version, "data": event.data,
                "actor": actor_dict, "occurred_at": occurred, "recorded_at": recorded,
                "correlation_id": event.correlation_id, "causation_id": event.causation_id, "prev_hash": event.prev_hash}
        return hashlib.sha256((event.prev_hash + _CANONICAL_JSON(body)).encode("utf-8")).hexdigest()
    return event.compute_hash()


# -- indexes for the queries ------------------------------------------------------------------------------------

STATUS_GROUPINGS = ("unit", "department", "task")  # the ways status_table groups cases


class RangeSum:
    """Counts kept by day (ISO date strings), summed over a closed range of days.

    Changes only touch one day's counts; the running sums the range queries bisect are rebuilt, once, by the
    first query after a change.
    """

    __slots__ = ("width", "by_day", "_days", "_running")

    def __init__(self, width: int):
        self.width = width
        self.by_day: dict[str, list[int]] = {}
        self._days: list[str] | None = None
        self._running: list[list[int]] = []

    def __getstate__(self) -> tuple:
        """The counts only: a query may be rebuilding the running sums while a snapshot is taken."""
        return self.width, self.by_day

    def __setstate__(self, state: tuple) -> None:
        self.width, self.by_day = state
        self._days, self._running = None, []

    def add(self, day: str, counts: tuple) -> None:
        row = self.by_day.get(day)
        if row is None:
            row = self.by_day[day] = [0] * self.width
        for i, count in enumerate(counts):
            row[i] += count
        self._days = None

    def total(self, start: str | None, end: str | None) -> tuple:
        """The counts summed over the days d with start <= d <= end (an end left None is open)."""
        if self._days is None:
            self._resum()
        days = self._days
        low = 0 if start is None else bisect_left(days, start)
        high = len(days) if end is None else bisect_right(days, end)
        if high <= low:
            return (0,) * self.width
        return tuple(running[high] - running[low] for running in self._running)

    def _resum(self) -> None:
        days = sorted(self.by_day)
        by_day = self.by_day
        running = []
        for i in range(self.width):
            total, column = 0, [0]
            for day in days:
                total += by_day[day][i]
                column.append(total)
            running.append(column)
        self._days, self._running = days, running


class ScopeIndex:
    """What one viewer scope sees (a unit's, or everyone's under the key None), summed where it can be.

    Cases are summed by the day they were opened: ended ones (closed, withdrawn) and open ones, whose count does
    not depend on the day asked; the open cases whose deadline clock runs are also kept in deadline order, so
    that the red and yellow ones of a day are a slice. Non-draft notices are summed by the day they were issued.
    Records the sums cannot hold (a closing date that is not a date, ...) stay in ``live``/``live_notices`` and
    are counted one by one, exactly as the queries always did.
    """

    __slots__ = ("cases", "live", "counts", "groups", "running", "offices", "notices", "notice_counts", "live_notices")

    def __init__(self) -> None:
        self.cases: dict[str, CaseRecord] = {}  # every case of the scope (not kept for None: that is model.cases)
        self.live: dict[str, CaseRecord] = {}
        self.counts = RangeSum(3)  # by opened_on: (ended, of them closed, open)
        # by group key, by opened_on: (closed, their days to close summed, closed with days to close, open)
        self.groups: dict[str, dict[Any, RangeSum]] = {by: {} for by in STATUS_GROUPINGS}
        self.running: list[tuple[str, str]] = []  # (deadline, case id) of open cases whose clock runs, sorted
        self.offices: Counter = Counter()  # the issuing offices of those cases (whose yellow windows apply)
        self.notices: dict[str, NoticeRecord] = {}  # every notice of the scope, drafts too (not kept for None)
        self.notice_counts = RangeSum(2)  # by issued_on: (non-draft notices, of them prompt letters)
        self.live_notices: dict[str, NoticeRecord] = {}


@dataclass(slots=True)
class _CaseEntry:
    case: CaseRecord
    signature: tuple


@dataclass(slots=True)
class _NoticeEntry:
    notice: NoticeRecord
    signature: tuple


def _units(*groups) -> tuple:
    return tuple(sorted({unit for group in groups for unit in group if isinstance(unit, str)}))


def _case_signature(case: CaseRecord) -> tuple:
    """Everything the indexes hold about a case: the units that make it visible (shared/scope.py) and what it adds
    to their sums (None: nothing, it is counted one by one)."""
    scopes = _units(case_units(case.responsible_unit))
    opened_on, status = case.opened_on, case.status
    if type(opened_on) is not str:
        return scopes, None
    if status == "withdrawn":
        return scopes, ("withdrawn", opened_on)
    keys = tuple(tuple(group_keys(case, by)) for by in STATUS_GROUPINGS)
    if not all(type(key) is str for group in keys for key in group):
        return scopes, None
    if status == "closed":
        try:
            days = case.days_to_close
        except (TypeError, ValueError):  # the query raises as it always did
            return scopes, None
        return scopes, ("closed", opened_on, days, keys) if days is None or type(days) is int else None
    running = None
    if status in CLOCK_RUNNING and case.deadline is not None:
        if type(case.deadline) is not str or not isinstance(case.issuer_unit, (str, type(None))):
            return scopes, None
        running = (case.deadline, case.issuer_unit)
    return scopes, ("open", opened_on, keys, running)


def _status_class(status: Any) -> str:
    """All a case's status tells the indexes (see _case_signature)."""
    if status == "withdrawn" or status == "closed":
        return status
    return "running" if status in CLOCK_RUNNING else "open"


def _contributions(summed: tuple) -> dict:
    """What a summed case adds, on the day it was opened, to its scope's counts (under (None, None):
    ended, closed, open) and to each of its groups (under (grouping, key): closed, days to close, closed with
    days to close, open); a group listed twice among a case's keys gets it twice, as the queries count it."""
    state = summed[0]
    if state == "withdrawn":
        return {(None, None): (1, 0, 0)}
    if state == "closed":
        days, keys = summed[2], summed[3]
        result = {(None, None): (1, 1, 0)}
        counts = (1, days or 0, 0 if days is None else 1, 0)
    else:
        keys = summed[2]
        result = {(None, None): (0, 0, 1)}
        counts = (0, 0, 0, 1)
    for by, group in zip(STATUS_GROUPINGS, keys, strict=True):
        for key in group:
            target = (by, key)
            before = result.get(target)
            result[target] = counts if before is None else tuple(a + b for a, b in zip(before, counts, strict=True))
    return result


def _notice_signature(notice: NoticeRecord) -> tuple:
    """The units that make a notice visible (shared/scope.py) and what it adds to their sums."""
    scopes = _units(notice_units(notice.target_units))
    if notice.status == "draft":
        counted = None
    elif type(notice.issued_on) is str:
        counted = ("summed", notice.issued_on, 1 if notice.kind in PROMPT_KINDS else 0)
    else:
        counted = ("live",)
    return scopes, counted
