"""The rectification case aggregate (整改事项): one per problem of a notice, from opening to 销号."""
from __future__ import annotations

from datetime import date

from shared.aggregate import Aggregate
from shared.backfill import StepDate, latest_step_on, step_fields
from shared.deadlines import CalendarOutOfRange, TrafficLights, case_light, overdue_working_days
from shared.errors import IllegalTransition, InvalidInput, require_text
from shared.evidence import EvidenceFile, check_count
from shared.policy import OfficePolicy
from shared.vocabulary import ACCOUNTABILITY_MEASURES, CaseStatus, EscalationLevel  # noqa: F401 - one vocabulary
from services.followups.domain.events import (
    DeadlineExtended,
    RectificationClosed,
    RectificationCommended,
    RectificationEscalated,
    RectificationOpened,
    RectificationOverdue,
    RectificationPlanSubmitted,
    RectificationProgressReported,
    RectificationReported,
    RectificationWithdrawn,
    ReinspectionFailed,
    ReinspectionPassed,
)


def _sealed(files: list[EvidenceFile]) -> list[dict]:
    """What a step's event records of its 佐证材料: each file's hash (the chain then covers it), size, type, name."""
    check_count(len(files))
    return [file.to_dict() for file in files]


def case_id_for(notice_id: str, problem_id: str) -> str:
    """Deterministic, so a redelivered NoticeIssued finds the case it opened the first time."""
    return f"{notice_id}:{problem_id}"


class RectificationCase(Aggregate):  # 整改事项
    stream_type = "rectification_case"

    def __init__(self, stream_id: str):
        super().__init__(stream_id)
        self.status: str | None = None
        self.notice_id: str | None = None
        self.problem_id: str | None = None
        self.responsible_unit: str | None = None
        self.issuer_unit: str | None = None
        self.deadline: str | None = None
        self.reported_on: str | None = None
        self.issued_on: str | None = None  # the notice's issue date: no step happened before it
        self.entered_on: str | None = None  # a paper notice's entry day: the watcher judges it from the next day
        self.last_step_on: str | None = None  # the business date of the latest step a person recorded
        self.overdue_flagged_for: str | None = None  # the deadline a RectificationOverdue was raised for
        self.auto_warned_for: str | None = None  # the deadline a 预警 after it was missed was raised for
        self.reminded_for: str | None = None  # the deadline a person's 催办 after it was missed was raised for
        self.escalations: list[str] = []
        self.related_task_ids: list[str] = []

    # -- opening -------------------------------------------------------------------------------

    def open(self, *, notice_id: str, problem_id: str, description: str, responsible_unit: str,
             deadline: str | None, **details) -> None:
        """Open the case; opening an already open case changes nothing (idempotent reaction)."""
        if self.exists:
            return
        self._record(RectificationOpened(
            case_id=self.id, notice_id=notice_id, problem_id=problem_id, description=description,
            responsible_unit=responsible_unit, deadline=deadline, **details,
        ))

    # -- the unit's steps (签收后：整改方案 → 整改进展 → 整改报告) ---------------------------------------

    def submit_plan(self, *, plan: str, measures: list[str], planned_completion: date | None,
                    when: StepDate, files: list[EvidenceFile] = ()) -> None:
        self._require((CaseStatus.OPEN, CaseStatus.PLANNED), "submit a rectification plan", "提交整改方案")
        require_text(plan, "plan", "整改方案")
        self._record(RectificationPlanSubmitted(
            case_id=self.id, plan=plan, measures=list(measures),
            planned_completion=planned_completion.isoformat() if planned_completion else None, **self._dated(when),
            files=_sealed(files),
        ))

    def report_progress(self, *, summary: str, evidence: list[str], when: StepDate,
                        files: list[EvidenceFile] = ()) -> None:
        self._require((CaseStatus.PLANNED, CaseStatus.RECTIFYING), "report progress", "报告整改进展",
                      hint=("submit the rectification plan first", "请先提交整改方案"))
        require_text(summary, "summary", "整改进展")
        self._record(RectificationProgressReported(case_id=self.id, summary=summary, evidence=list(evidence),
                                                   **self._dated(when), files=_sealed(files)))

    def report_completion(self, *, summary: str, evidence: list[str], when: StepDate, policy: OfficePolicy,
                          files: list[EvidenceFile] = ()) -> None:
        self._require((CaseStatus.PLANNED, CaseStatus.RECTIFYING), "report completion", "提交整改报告",
                      hint=("submit the rectification plan first", "请先提交整改方案"))
        require_text(summary, "summary", "整改报告")
        dated = self._dated(when)
        self._record(RectificationReported(
            case_id=self.id, summary=summary, evidence=list(evidence), reported_on=when.on.isoformat(),
            reinspection_due=policy.reinspection_period.after(when.on).isoformat(), **dated, files=_sealed(files),
        ))

    # -- the inspector's steps (复查 → 销号) ------------------------------------------------------

    def reinspect(self, *, passed: bool, findings: str, when: StepDate, files: list[EvidenceFile] = ()) -> None:
        self._require((CaseStatus.REPORTED,), "re-inspect", "复查",
                      hint=("the unit has not reported completion yet", "责任单位尚未提交整改报告"))
        require_text(findings, "findings", "复查意见")
        event = ReinspectionPassed if passed else ReinspectionFailed
        self._record(event(case_id=self.id, findings=findings, **self._dated(when), files=_sealed(files)))

    def close(self, *, when: StepDate) -> None:
        self._require((CaseStatus.VERIFIED,), "close (销号)", "销号",
                      hint=("only a case that passed re-inspection can be closed", "只有复查通过的事项才能销号"))
        closed_on = when.on.isoformat()
        dated = self._dated(when)
        on_time = self.deadline is None or (self.reported_on or closed_on) <= self.deadline
        self._record(RectificationClosed(
            case_id=self.id, notice_id=self.notice_id, problem_id=self.problem_id, closed_on=closed_on,
            deadline=self.deadline, on_time=on_time, related_task_ids=list(self.related_task_ids), **dated,
        ))

    # -- the office's steps (延期、约谈/通报/问责、表彰) -------------------------------------------------

    def extend_deadline(self, *, new_deadline: date, reason: str, approver: str, when: StepDate,
                        files: list[EvidenceFile] = ()) -> None:
        self._require_not_ended("extend the deadline", "延期")
        dated = self._dated(when)
        if new_deadline < when.on:  # a 补录 extension was judged on the day it was granted
            raise InvalidInput(f"the new deadline {new_deadline} is before the day it is granted ({when.on})",
                               f"新的整改时限 {new_deadline} 早于批准延期之日（{when.on}）", field="new_deadline")
        require_text(reason, "reason", "延期理由")
        require_text(approver, "approver", "批准人")
        if self.deadline is not None and new_deadline.isoformat() <= self.deadline:
            raise InvalidInput(
                f"the new deadline {new_deadline} must be after the current one ({self.deadline})",
                f"新的整改时限 {new_deadline} 必须晚于当前时限 {self.deadline}", field="new_deadline",
            )
        self._record(DeadlineExtended(case_id=self.id, previous_deadline=self.deadline,
                                      new_deadline=new_deadline.isoformat(), reason=reason, approver=approver, **dated,
                                      files=_sealed(files)))

    def escalate(self, *, level: str, reason: str, when: StepDate, doc_number: str | None = None,
                 measure: str | None = None, target: str = "unit") -> None:
        self._require_not_ended("escalate", "升级督办")
        dated = self._dated(when)
        if level not in EscalationLevel.LADDER:
            raise InvalidInput(f"unknown escalation level {level!r}", f"未知的督办升级方式：{level}", field="level")
        if target not in ACCOUNTABILITY_MEASURES:
            raise InvalidInput(f"unknown target {target!r} (unit or person)", f"问责对象应为 unit 或 person：{target}",
                               field="target")
        require_text(reason, "reason", "事由")
        label = EscalationLevel.LABELS_ZH[level]
        if level in EscalationLevel.NEEDS_DOCUMENT and not (doc_number or "").strip():
            raise InvalidInput(f"{level} must be recorded with its document number",
                               f"{label}须登记文号", field="doc_number")
        if level == EscalationLevel.ACCOUNTABILITY and measure not in ACCOUNTABILITY_MEASURES[target]:
            allowed = "、".join(ACCOUNTABILITY_MEASURES[target])
            raise InvalidInput(f"accountability measure for a {target} must be one of {allowed}",
                               f"问责方式须为《教育督导问责办法》规定的：{allowed}", field="measure")
        self._record(RectificationEscalated(case_id=self.id, level=level, reason=reason, doc_number=doc_number,
                                            measure=measure, target=target, deadline=self.deadline, **dated))

    def commend(self, *, reason: str, doc_number: str | None, when: StepDate) -> None:
        if self.status == CaseStatus.WITHDRAWN:
            raise self._refusal("commend", "表彰")
        require_text(reason, "reason", "表彰事由")
        self._record(RectificationCommended(case_id=self.id, reason=reason, doc_number=doc_number,
                                            **self._dated(when)))

    def withdraw(self, *, reason: str) -> None:
        """The notice was withdrawn: the case ends without 销号 (a closed case keeps its history as is)."""
        if self.status in CaseStatus.ENDED:
            return
        self._record(RectificationWithdrawn(case_id=self.id, reason=reason))

    # -- the deadline watcher -------------------------------------------------------------------

    def check_deadline(self, *, today: date, policy: OfficePolicy) -> None:
        """Raise what a missed deadline calls for, once each: 逾期 + automatic 催办, then 预警 N working days later."""
        if self.status not in CaseStatus.CLOCK_RUNNING or self.deadline is None:
            return
        if today.isoformat() <= self.deadline or today.isoformat() <= (self.entered_on or ""):
            return  # not missed yet, or a paper notice entered today whose history is still being entered (补录)
        if self.overdue_flagged_for != self.deadline:
            self._record(RectificationOverdue(case_id=self.id, notice_id=self.notice_id, deadline=self.deadline,
                                              detected_on=today.isoformat()))
            if self.reminded_for != self.deadline:  # the office may have sent this 催办 already (e.g. 补录 on paper)
                self._record(RectificationEscalated(
                    case_id=self.id, level=EscalationLevel.REMINDER, automatic=True, deadline=self.deadline,
                    reason=f"已超过整改时限 {self.deadline}，请抓紧整改并报送进展",
                ))
        due = date.fromisoformat(self.deadline)
        try:
            overdue_days = overdue_working_days(due, today)
        except CalendarOutOfRange:
            return  # the 预警 waits until the calendar knows these days; the overdue and 催办 above still stand
        if self.auto_warned_for != self.deadline and overdue_days >= policy.warning_after_working_days:
            self._record(RectificationEscalated(
                case_id=self.id, level=EscalationLevel.WARNING, automatic=True, deadline=self.deadline,
                reason=f"逾期已达 {policy.warning_after_working_days} 个工作日仍未完成整改",
            ))

    def light(self, today: date, policy: OfficePolicy) -> str | None:
        """Traffic light of an open item; None once the case has ended."""
        return case_light(self.status, self.deadline, TrafficLights(today, policy.yellow_within_working_days))

    # -- state ------------------------------------------------------------------------------------

    def _dated(self, when: StepDate) -> dict:
        return step_fields(when, self.last_step_on, self.issued_on)

    def apply(self, event) -> None:
        self.last_step_on = latest_step_on(self.last_step_on, event)
        match event:
            case RectificationOpened():
                self.status = CaseStatus.OPEN
                self.notice_id, self.problem_id = event.notice_id, event.problem_id
                self.responsible_unit, self.issuer_unit = event.responsible_unit, event.issuer_unit
                self.deadline = event.deadline
                self.related_task_ids = list(event.related_task_ids)
                self.issued_on = event.issued_on
                self.entered_on = event.entered_on
            case RectificationPlanSubmitted():
                self.status = CaseStatus.PLANNED
            case RectificationProgressReported() | ReinspectionFailed():
                self.status = CaseStatus.RECTIFYING
                self.reported_on = None
            case RectificationReported():
                self.status = CaseStatus.REPORTED
                self.reported_on = event.reported_on
            case ReinspectionPassed():
                self.status = CaseStatus.VERIFIED
            case RectificationClosed():
                self.status = CaseStatus.CLOSED
            case RectificationWithdrawn():
                self.status = CaseStatus.WITHDRAWN
            case DeadlineExtended():
                self.deadline = event.new_deadline
            case RectificationOverdue():
                self.overdue_flagged_for = event.deadline
            case RectificationEscalated():
                self.escalations.append(event.level)
                # a person's 催办 / 预警 for a deadline already missed stands for the watcher's own, raised once each
                after_missed = bool(event.deadline and event.occurred_on and event.occurred_on > event.deadline)
                if event.level == EscalationLevel.WARNING and (event.automatic or after_missed):
                    self.auto_warned_for = event.deadline
                if event.level == EscalationLevel.REMINDER and not event.automatic and after_missed:
                    self.reminded_for = event.deadline

    def _require(self, allowed: tuple[str, ...], action_en: str, action_zh: str,
                 hint: tuple[str, str] | None = None) -> None:
        if self.status not in allowed:
            raise self._refusal(action_en, action_zh, hint)

    def _require_not_ended(self, action_en: str, action_zh: str) -> None:
        if self.status in CaseStatus.ENDED:
            raise self._refusal(action_en, action_zh)

    def _refusal(self, action_en: str, action_zh: str, hint: tuple[str, str] | None = None) -> IllegalTransition:
        label = CaseStatus.LABELS_ZH.get(self.status, self.status)
        en = f"cannot {action_en}: case {self.id} is {self.status}"
        zh = f"整改事项当前状态为“{label}”，不能{action_zh}"
        if hint and self.status not in CaseStatus.ENDED:
            en, zh = f"{en} ({hint[0]})", f"{zh}（{hint[1]}）"
        return IllegalTransition(en, zh, state=self.status)

