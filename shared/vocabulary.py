"""The words every service and the portal share: roles, unit kinds, notice kinds, statuses and their Chinese labels.

They are part of the contract between the services (events carry these keys), so they live here once and
everyone imports them: a label changed here changes in every API answer, page and export at once.
Plain Python, no imports: anything may import it.
"""
from __future__ import annotations

# -- people ---------------------------------------------------------------------------------------------------

ROLE_ZH = {
    "office_staff": "督导办工作人员",
    "inspector": "督学",
    "unit_handler": "责任单位经办人",  # 经办人（联络人）of a responsible unit
    "unit_leader": "单位负责人",
    "department_liaison": "成员单位联络员",
    "auditor": "审计",
    "admin": "管理员",
    "system": "系统",  # the services' own watchers and reactions (never a person's role)
}


class UnitKind:  # 单位类别
    OFFICE = "office"  # 督导委员会办公室（督导办）
    BUREAU = "bureau"  # 教育局（教体局）
    MEMBER = "member"  # 成员单位（督导委员会成员单位，如财政局、人社局）
    SCHOOL = "school"  # 学校
    OTHER = "other"

    LABELS_ZH = {OFFICE: "督导委员会办公室", BUREAU: "教育局", MEMBER: "成员单位", SCHOOL: "学校", OTHER: "其他"}
    ALL = tuple(LABELS_ZH)


# -- notices --------------------------------------------------------------------------------------------------

NOTICE_KINDS = ("督办通知", "督办函", "工作提示函", "预警通知", "紧急通知")
PROMPT_LETTER = "工作提示函"  # reminds of work to do; the one kind that may come without a problem list
PROMPT_KINDS = (PROMPT_LETTER,)  # counted apart from the other notices in the figures


class NoticeStatus:
    DRAFT = "draft"  # 草稿
    ISSUED = "issued"  # 已下发
    ACKNOWLEDGED = "acknowledged"  # 已签收（全部督办对象）
    CLEARED = "cleared"  # 已清零
    WITHDRAWN = "withdrawn"  # 已撤回

    LABELS_ZH = {DRAFT: "草稿", ISSUED: "已下发", ACKNOWLEDGED: "已签收", CLEARED: "已清零", WITHDRAWN: "已撤回"}
    ALL = tuple(LABELS_ZH)
    LIVE = (ISSUED, ACKNOWLEDGED)  # issued and not yet cleared or withdrawn


# -- rectification cases (整改) ----------------------------------------------------------------------------------

class CaseStatus:
    OPEN = "open"  # 待整改（待提交整改方案）
    PLANNED = "planned"  # 已提交整改方案
    RECTIFYING = "rectifying"  # 整改中
    REPORTED = "reported"  # 已提交整改报告，待复查
    VERIFIED = "verified"  # 复查通过，待销号
    CLOSED = "closed"  # 已销号
    WITHDRAWN = "withdrawn"  # 已撤销（通知撤回）

    LABELS_ZH = {OPEN: "待整改", PLANNED: "已提交整改方案", RECTIFYING: "整改中", REPORTED: "待复查",
                 VERIFIED: "复查通过", CLOSED: "已销号", WITHDRAWN: "已撤销"}
    ALL = tuple(LABELS_ZH)
    # The unit still owes work: the rectification deadline applies (and the watcher watches it).
    CLOCK_RUNNING = (OPEN, PLANNED, RECTIFYING)
    ENDED = (CLOSED, WITHDRAWN)


class EscalationLevel:
    """The ladder 催办 → 预警 → 约谈 → 通报 → 问责; the first two may be raised automatically."""

    REMINDER = "reminder"  # 催办
    WARNING = "warning"  # 预警
    INTERVIEW = "interview"  # 约谈
    CIRCULATION = "circulation"  # 通报
    ACCOUNTABILITY = "accountability"  # 问责

    LABELS_ZH = {REMINDER: "催办", WARNING: "预警", INTERVIEW: "约谈", CIRCULATION: "通报", ACCOUNTABILITY: "问责"}
    LADDER = tuple(LABELS_ZH)
    # decided by office staff and recorded under a document number (文号)
    NEEDS_DOCUMENT = (INTERVIEW, CIRCULATION, ACCOUNTABILITY)


# 《教育督导问责办法》(2021): measures for the supervised unit and for responsible people.
ACCOUNTABILITY_MEASURES = {
    "unit": ("公开批评", "约谈", "督导通报", "资源调整", "行政处罚"),
    "person": ("责令检查", "约谈", "通报批评", "组织处理", "处分", "移送有关机关"),
}
ACCOUNTABILITY_TARGET_ZH = {"unit": "被督导单位", "person": "相关责任人"}

LIGHT_ZH = {"green": "绿灯", "yellow": "黄灯", "red": "红灯"}  # a deadline's traffic light (shared.deadlines.Light)


# -- tasks ------------------------------------------------------------------------------------------------------

TASK_CATEGORIES = ("督政", "督学", "评估监测")


class TaskStatus:
    PLANNED = "planned"  # 未开始
    IN_PROGRESS = "in_progress"  # 推进中
    DONE = "done"  # 已完成
    CANCELLED = "cancelled"  # 已取消

    LABELS_ZH = {PLANNED: "未开始", IN_PROGRESS: "推进中", DONE: "已完成", CANCELLED: "已取消"}
    ALL = tuple(LABELS_ZH)
    OPEN = (PLANNED, IN_PROGRESS)


# The label tables by the names pages and exports know them by.
CASE_STATUS_ZH = CaseStatus.LABELS_ZH
NOTICE_STATUS_ZH = NoticeStatus.LABELS_ZH
TASK_STATUS_ZH = TaskStatus.LABELS_ZH
ESCALATION_ZH = EscalationLevel.LABELS_ZH
UNIT_KIND_ZH = UnitKind.LABELS_ZH


# The messages service's channels (services/messages), as a delivery line names them: 催办短信已发送至 …
CHANNEL_ZH = {"inbox": "站内消息", "email": "邮件", "sms": "短信", "wecom": "企业微信群消息", "dingtalk": "钉钉群消息"}
