"""Events that cross service boundaries: their shape is a contract, so it lives here once.

Each service publishes its own store's events to its own topic (duban.tasks, duban.notices,
duban.followups); other services read them and never read each other's databases. The words these events
carry (roles, unit kinds, notice kinds, statuses, escalation levels, 问责 measures) and their Chinese labels
are the vocabulary in shared/vocabulary.py, re-exported here as ``shared.contracts.vocabulary``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from shared import vocabulary  # noqa: F401 - the words of the contract (shared/vocabulary.py)
from shared.backfill import Step
from shared.events import DomainEvent


# -- tasks (工作要点与督导任务) -------------------------------------------------------------------

@dataclass(frozen=True)
class PlanRecorded(DomainEvent):  # 工作要点已录入
    plan_id: str
    title: str
    year: int | None
    issuer: str | None
    doc_number: str | None
    task_ids: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class PlanImported(DomainEvent):  # 工作要点已从公文导入
    plan_id: str
    title: str
    year: int | None
    issuer: str | None
    doc_number: str | None
    document_date: str | None = None
    source_sha256: str | None = None  # of the text the preview was made from
    task_ids: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class TaskCreated(DomainEvent):  # 督导任务已创建
    task_id: str
    plan_id: str
    number: str
    text: str
    lead_unit: str | None = None
    partner_units: list[str] = field(default_factory=list)
    due_date: str | None = None
    category: str | None = None  # 督政 / 督学 / 评估监测
    targets: list[str] = field(default_factory=list)  # quantitative targets, e.g. "创建率达到95%及以上"


@dataclass(frozen=True)
class HolidayArrangementRecorded(DomainEvent):  # 节假日安排已录入（国务院办公厅公布的当年放假安排）
    """Every service counts working days on it (shared/calendars.py) once an office has recorded it."""

    year: int
    holidays: list[str]  # ISO dates off (放假)
    workdays: list[str] = field(default_factory=list)  # weekend days worked instead (调休上班)
    source: str = ""  # the notice it was published in, e.g. 国办发明电〔2026〕N号


# -- notices (督办通知) --------------------------------------------------------------------------

@dataclass(frozen=True)
class NoticeIssued(DomainEvent):  # 督办通知已下发
    """``problems``: [{problem_id, description, requirement, responsible_unit, responsible_person,
    deadline (ISO date), deadline_rule ({amount, kind} or None when a date was given), deadline_provisional
    (counted in working days on a year the State Council had not published; absent in older events)}]"""

    notice_id: str
    kind: str
    title: str
    doc_number: str | None
    issuer_unit: str
    target_units: list[str]
    problems: list[dict]
    related_task_ids: list[str] = field(default_factory=list)
    listed: bool = False  # 挂牌督办
    copied_units: list[str] = field(default_factory=list)  # 抄送
    issued_on: str | None = None  # the date the deadlines count from (Asia/Shanghai)
    sign_for_deadline: str | None = None  # 签收时限
    sign_for_deadline_provisional: bool = False  # counted on a provisional calendar (shared/holidays.py)
    sign_for_rule: dict | None = None  # {amount, kind} it was counted with; None when a date was given
    # 补录 of a paper notice: the day it was entered. The watchers judge it from the next day on, so the office
    # can first enter what already happened (signatures, reports, closings) with their real dates.
    entered_on: str | None = None


@dataclass(frozen=True)
class NoticeWithdrawn(DomainEvent):  # 督办通知已撤回
    notice_id: str
    reason: str
    problem_ids: list[str] = field(default_factory=list)  # the problems whose cases end with it (none for a draft)
    related_task_ids: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class NoticeCleared(DomainEvent):  # 督办通知已清零（所有问题均已销号）
    notice_id: str
    cleared_on: str
    problem_ids: list[str] = field(default_factory=list)


# -- followups (整改) ----------------------------------------------------------------------------

@dataclass(frozen=True)
class RectificationOpened(DomainEvent):  # 整改事项已建立
    case_id: str
    notice_id: str
    problem_id: str
    description: str
    responsible_unit: str
    deadline: str | None = None
    requirement: str = ""
    responsible_person: str | None = None  # 责任人
    area: str | None = None  # 领域
    issuer_unit: str | None = None
    notice_title: str | None = None
    notice_kind: str | None = None
    doc_number: str | None = None
    listed: bool = False
    related_task_ids: list[str] = field(default_factory=list)
    issued_on: str | None = None  # the notice's issue date: when the matter was raised
    deadline_provisional: bool = False  # counted on a provisional calendar (shared/holidays.py)
    entered_on: str | None = None  # a paper notice's entry day (NoticeIssued.entered_on): watched from the next day


@dataclass(frozen=True)
class RectificationClosed(Step):  # 整改事项已销号
    case_id: str
    notice_id: str
    problem_id: str
    closed_on: str
    deadline: str | None = None
    on_time: bool = True
    related_task_ids: list[str] = field(default_factory=list)


# -- directory (单位与人员名录) ---------------------------------------------------------------------
# Units are named everywhere by their full name (notices, cases, tasks); a name never changes: a 撤并 makes the old
# unit merged into another, and its history stays readable under the old name. A person's ``epoch`` grows whenever
# their unit, roles, password or standing change: a token carrying an older epoch is refused everywhere.

@dataclass(frozen=True)
class UnitRegistered(DomainEvent):  # 单位已登记
    unit_id: str
    name: str
    kind: str  # shared.vocabulary unit kinds: office, bureau, member, school, other
    short_name: str | None = None
    parent: str | None = None  # the parent unit's name; None for a top unit
    region_code: str | None = None  # 行政区划代码


@dataclass(frozen=True)
class UnitChanged(DomainEvent):  # 单位信息已修改
    unit_id: str
    name: str
    kind: str
    short_name: str | None = None
    region_code: str | None = None


@dataclass(frozen=True)
class UnitMoved(DomainEvent):  # 隶属关系已调整
    unit_id: str
    name: str
    parent: str | None
    previous_parent: str | None = None


@dataclass(frozen=True)
class UnitMerged(DomainEvent):  # 单位已撤并
    unit_id: str
    name: str
    merged_into: str  # the surviving unit's name


@dataclass(frozen=True)
class PersonRegistered(DomainEvent):  # 人员已登记
    person_id: str
    username: str
    name: str
    unit: str | None
    roles: list[str]
    mobile: str | None = None
    email: str | None = None
    epoch: int = 1


@dataclass(frozen=True)
class PersonDetailsChanged(DomainEvent):  # 人员信息已修改（姓名、手机、邮箱）
    person_id: str
    username: str
    name: str
    mobile: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class PersonMoved(DomainEvent):  # 人员所属单位已调整
    person_id: str
    username: str
    unit: str | None
    epoch: int


@dataclass(frozen=True)
class PersonRolesChanged(DomainEvent):  # 人员角色已调整
    person_id: str
    username: str
    roles: list[str]
    epoch: int


@dataclass(frozen=True)
class PersonDisabled(DomainEvent):  # 账号已停用
    person_id: str
    username: str
    reason: str
    epoch: int


@dataclass(frozen=True)
class PersonEnabled(DomainEvent):  # 账号已启用
    person_id: str
    username: str
    epoch: int


@dataclass(frozen=True)
class PasswordChanged(DomainEvent):  # 密码已修改（或由管理员重置）; the hash itself is never in an event
    person_id: str
    username: str
    reset: bool
    epoch: int


# -- messages (消息提醒) ---------------------------------------------------------------------------
# Every delivery is an event: queued, attempted, sent (with the gateway's answer), failed (attempt, error), dead-lettered,
# requeued by office staff, read (in-portal inbox). One stream per message, whose id follows from (rule, item,
# recipient, channel, occurrence): the same reminder is never queued twice.

@dataclass(frozen=True)
class MessageQueued(DomainEvent):  # 消息已生成（待发送）
    message_id: str
    rule: str  # the rule that asked for it (services/messages/rules.yaml)
    channel: str  # inbox | email | sms | wecom | dingtalk
    recipient: str | None  # the person's username (None for a unit's IM group)
    recipient_name: str
    unit: str | None  # the recipient's unit
    address: str | None  # e-mail address or mobile (None for the inbox and IM groups)
    subject: str
    body: str
    link: str | None = None  # the portal page of the item (path)
    notice_id: str | None = None
    case_id: str | None = None
    occurrence: str = ""  # what makes a repeat a new message (a deadline, a level)
    not_before: str | None = None  # ISO time: deferred past quiet hours
    mentions: list[str] = field(default_factory=list)  # mobiles @-mentioned in an IM group


@dataclass(frozen=True)
class DeliveryAttempted(DomainEvent):  # 开始发送（第 n 次）
    message_id: str
    attempt: int
    lease_until: str  # ISO time: another worker takes it over after this if nothing was recorded


@dataclass(frozen=True)
class MessageSent(DomainEvent):  # 已发送（网关已接收）
    message_id: str
    attempt: int
    answer: str  # the gateway's answer, e.g. "250 2.0.0 OK" or "HTTP 200 {errcode: 0}"
    sent_at: str
    notice_id: str | None = None
    case_id: str | None = None


@dataclass(frozen=True)
class DeliveryFailed(DomainEvent):  # 发送失败（将重试）
    message_id: str
    attempt: int
    error: str
    retry_at: str | None  # ISO time of the next attempt; None when it goes to the dead-letter list


@dataclass(frozen=True)
class MessageDeadLettered(DomainEvent):  # 发送失败，已转入待处理列表
    message_id: str
    attempts: int
    error: str
    notice_id: str | None = None
    case_id: str | None = None


@dataclass(frozen=True)
class MessageRequeued(DomainEvent):  # 已重新发送（督导办从待处理列表）
    message_id: str
    reason: str = ""


@dataclass(frozen=True)
class MessageRead(DomainEvent):  # 已读（站内消息）
    message_id: str
    read_at: str
