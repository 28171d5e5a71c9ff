"""shared.event_words: one label and one summary per event type, the same in the CLI's and the portal's timelines."""
from __future__ import annotations

import dataclasses
import importlib
import inspect
from datetime import datetime, timezone

import pytest

from services import cli_lifecycle as lifecycle
from services.directory.domain import events as directory
from services.followups.domain import events as followups
from services.notices.domain import events as notices
from services.portal.domain.model import PortalModel, TimelineEntry
from services.portal.entrypoints import pages_notices
from services.tasks.domain import events as tasks
from shared import contracts
from shared import event_words as words
from shared.envelope import Actor, EventEnvelope
from shared.events import DomainEvent

N, C = "notice-1", "notice-1:P1"
T = "plan-2026-T3"
PLAN = "2026年全市教育督导工作要点"

# (event, label, summary): every event type of shared.contracts and of each service's domain/events.py
WORDING = [
    # tasks
    (contracts.PlanRecorded(plan_id="plan-2026", title=PLAN, year=2026, issuer="巴中市教育督导委员会办公室",
                            doc_number="巴教督委办〔2026〕1号", task_ids=["t1", "t2", "t3"]),
     "录入工作要点", f"《{PLAN}》（巴教督委办〔2026〕1号）；印发单位：巴中市教育督导委员会办公室；督导任务3项"),
    (contracts.PlanImported(plan_id="plan-2027", title="全市教育督导工作要点", year=2027, issuer=None, doc_number=None,
                            task_ids=["t1"]),
     "导入工作要点", "2027年《全市教育督导工作要点》；督导任务1项"),
    (contracts.TaskCreated(task_id=T, plan_id="plan-2026", number="3", text="开展校舍安全专项督导", lead_unit="巴中市教育督导室",
                           partner_units=["巴中市住建局", "巴中市应急局"], due_date="2026-12-31"),
     "创建督导任务",
     "3 开展校舍安全专项督导；牵头单位：巴中市教育督导室；配合单位：巴中市住建局、巴中市应急局；完成时限：2026-12-31"),
    (tasks.TaskProgressRecorded(task_id=T, summary="已完成3个区县现场督导", percent=60),
     "记录任务进展", "已完成3个区县现场督导；进度60%"),
    (tasks.TaskCompleted(task_id=T, summary="专项督导报告已印发"), "任务完成", "专项督导报告已印发"),
    (tasks.TaskCancelled(task_id=T, reason="并入年度综合督导"), "任务取消", "原因：并入年度综合督导"),
    (tasks.TaskNoticeLinked(task_id=T, notice_id=N, matter_ids=[C, "notice-1:P2"]), "关联督导任务", "督办事项2个"),
    (tasks.TaskNoticeWithdrawn(task_id=T, notice_id=N), "相关督办通知撤回", "该通知的督办事项不再计入本任务"),
    (tasks.TaskMatterClosed(task_id=T, notice_id=N, matter_id=C, closed_on="2026-12-01", on_time=False),
     "督办事项销号", "问题 P1 于 2026-12-01 销号（逾期完成）"),
    (contracts.HolidayArrangementRecorded(year=2027, holidays=["2027-01-01", "2027-02-06"], workdays=["2027-02-14"],
                                          source="国办发明电〔2026〕7号"),
     "录入节假日安排", "2027年放假2天，调休上班1天；依据：国办发明电〔2026〕7号"),
    # notices
    (notices.NoticeDrafted(notice_id=N, content={"kind": "督办函", "title": "校舍安全"}), "保存通知草稿", "督办函《校舍安全》"),
    (contracts.NoticeIssued(notice_id=N, kind="督办通知", title="校舍安全", doc_number="巴教督〔2026〕7号",
                            issuer_unit="巴中市教育督导室", target_units=["巴州区教育局", "恩阳区教育局"], problems=[{}, {}],
                            listed=True, sign_for_deadline="2026-11-20"),
     "下发督办通知", "督办通知《校舍安全》（巴教督〔2026〕7号）；督办对象：巴州区教育局、恩阳区教育局；问题2个；挂牌督办；"
                "签收时限：2026-11-20"),
    (notices.NoticeSigned(notice_id=N, unit="巴州区教育局", signed_on="2026-11-23", late=True),
     "签收", "巴州区教育局 于 2026-11-23 签收（逾期签收）"),
    (notices.NoticeSignOverdue(notice_id=N, deadline="2026-11-20", unsigned_units=["巴州区教育局", "恩阳区教育局"]),
     "逾期未签收", "签收时限 2026-11-20 已过；未签收：巴州区教育局、恩阳区教育局"),
    (notices.NoticeProblemClosed(notice_id=N, problem_id="P1", case_id=C, closed_on="2026-12-01"),
     "问题销号", "问题 P1 于 2026-12-01 销号"),
    (contracts.NoticeCleared(notice_id=N, cleared_on="2026-12-05", problem_ids=["P1", "P2"]),
     "通知清零", "全部2个问题已销号，于 2026-12-05 清零"),
    (contracts.NoticeWithdrawn(notice_id=N, reason="文号有误，重新下发", problem_ids=["P1", "P2"]),
     "撤回督办通知", "原因：文号有误，重新下发；整改事项2个随之撤销"),
    # followups
    (contracts.RectificationOpened(case_id=C, notice_id=N, problem_id="P1", description="部分学校D级危房未拆除",
                                   responsible_unit="巴州区教育局", deadline="2026-12-31", responsible_person="张局长"),
     "建立整改事项", "问题 P1 部分学校D级危房未拆除；责任单位：巴州区教育局；责任人：张局长；整改时限：2026-12-31"),
    (followups.RectificationPlanSubmitted(case_id=C, plan="分两批拆除", measures=["封闭", "拆除"],
                                          planned_completion="2026-12-20"),
     "提交整改方案", "整改方案：分两批拆除；措施2项；计划完成：2026-12-20"),
    (followups.RectificationProgressReported(case_id=C, summary="已封闭危房", evidence=["封闭照片"]),
     "报告整改进展", "已封闭危房；佐证材料1项"),
    (followups.RectificationReported(case_id=C, summary="危房已拆除", evidence=["验收单", "照片"], reinspection_due="2026-12-28"),
     "提交整改报告", "危房已拆除；佐证材料2项；复查时限：2026-12-28"),
    (followups.ReinspectionPassed(case_id=C, findings="现场核实已拆除"), "复查通过", "复查意见：现场核实已拆除"),
    (followups.ReinspectionFailed(case_id=C, findings="仍有一栋未拆除"), "复查未通过，退回整改", "复查意见：仍有一栋未拆除"),
    (contracts.RectificationClosed(case_id=C, notice_id=N, problem_id="P1", closed_on="2026-12-01", deadline="2026-11-30",
                                   on_time=False),
     "销号", "于 2026-12-01 销号（逾期1个工作日）"),
    (followups.DeadlineExtended(case_id=C, previous_deadline="2026-11-30", new_deadline="2026-12-31", reason="需协调消防部门",
                                approver="李主任"),
     "延期", "整改时限由 2026-11-30 延至 2026-12-31（理由：需协调消防部门）；批准人：李主任"),
    (followups.RectificationOverdue(case_id=C, notice_id=N, deadline="2026-11-30", detected_on="2026-12-01"),
     "整改逾期", "整改时限 2026-11-30 已过（2026-12-01 发现）"),
    (followups.RectificationEscalated(case_id=C, level="interview", reason="逾期未整改", doc_number="巴教督〔2026〕9号"),
     "约谈", "事由：逾期未整改；文号：巴教督〔2026〕9号"),
    (followups.RectificationCommended(case_id=C, reason="提前完成整改", doc_number="巴教督〔2026〕10号"),
     "表彰", "事由：提前完成整改；文号：巴教督〔2026〕10号"),
    (followups.RectificationWithdrawn(case_id=C, reason="通知撤回"), "撤销整改事项", "原因：通知撤回"),
    # directory
    (contracts.UnitRegistered(unit_id="u1", name="巴州区教育局", kind="bureau", parent="巴州区人民政府", region_code="511902"),
     "登记单位", "巴州区教育局（教育局）；上级单位：巴州区人民政府；行政区划代码：511902"),
    (contracts.UnitChanged(unit_id="u1", name="巴州区教育局", kind="bureau", short_name="巴州教育局"),
     "修改单位信息", "巴州区教育局（教育局）；简称：巴州教育局"),
    (contracts.UnitMoved(unit_id="u2", name="巴州区第一小学", parent="巴州区教育局", previous_parent="恩阳区教育局"),
     "调整隶属关系", "巴州区第一小学 改为隶属 巴州区教育局（原上级单位：恩阳区教育局）"),
    (contracts.UnitMerged(unit_id="u3", name="巴州区第三小学", merged_into="巴州区第一小学"),
     "撤并单位", "巴州区第三小学 并入 巴州区第一小学"),
    (contracts.PersonRegistered(person_id="p1", username="li.si", name="李四", unit="巴州区教育局", roles=["unit_handler"],
                                mobile="13800000000"),
     "登记人员", "李四（li.si）；单位：巴州区教育局；角色：责任单位经办人"),
    (contracts.PersonDetailsChanged(person_id="p1", username="li.si", name="李四", mobile="13900000000"),
     "修改人员信息", "李四（li.si）"),  # contact details never reach a summary
    (contracts.PersonMoved(person_id="p1", username="li.si", unit="恩阳区教育局", epoch=2),
     "调整人员所属单位", "li.si 调至 恩阳区教育局"),
    (contracts.PersonRolesChanged(person_id="p1", username="li.si", roles=["unit_handler", "unit_leader"], epoch=3),
     "调整人员角色", "li.si；角色：责任单位经办人、单位负责人"),
    (contracts.PersonDisabled(person_id="p1", username="li.si", reason="调离", epoch=4), "停用账号", "li.si；原因：调离"),
    (contracts.PersonEnabled(person_id="p1", username="li.si", epoch=5), "启用账号", "li.si"),
    (contracts.PasswordChanged(person_id="p1", username="li.si", reset=False, epoch=6), "修改密码", "li.si"),
    (directory.SignInFailed(subject="li.si", address="10.0.0.7", at="2026-11-23T01:00:00+00:00"),
     "登录失败", "li.si（来自 10.0.0.7）"),
    (directory.SignInLocked(subject="li.si", until="2026-11-23T01:15:00+00:00", failures=5),
     "登录锁定", "li.si 连续失败5次，锁定至 2026-11-23 09:15"),  # in Beijing time
    (directory.SignedInAfterFailures(subject="li.si", address="10.0.0.7", at="2026-11-23T01:20:00+00:00"),
     "失败后登录成功", "li.si（来自 10.0.0.7）"),
    # messages
    (contracts.MessageQueued(message_id="msg-1", rule="case-overdue", channel="sms", recipient="li.si", recipient_name="李四",
                             unit="巴州区教育局", address="13800000000", subject="【整改逾期】部分学校D级危房未拆除", body="…",
                             case_id=C, not_before="2026-11-23T00:00:00+00:00"),
     "生成消息", "短信 致 李四：【整改逾期】部分学校D级危房未拆除；暂缓至：2026-11-23 08:00"),
    (contracts.DeliveryAttempted(message_id="msg-1", attempt=2, lease_until="2026-11-23T00:01:00+00:00"),
     "发送消息", "第2次发送"),
    (contracts.MessageSent(message_id="msg-1", attempt=2, answer="250 2.0.0 OK", sent_at="2026-11-23T00:00:30+00:00"),
     "消息已发送", "第2次发送成功；网关答复：250 2.0.0 OK"),
    (contracts.DeliveryFailed(message_id="msg-1", attempt=1, error="connection refused",
                              retry_at="2026-11-23T00:05:00+00:00"),
     "消息发送失败", "第1次发送失败：connection refused；将于 2026-11-23 08:05 重试"),
    (contracts.MessageDeadLettered(message_id="msg-1", attempts=6, error="550 mailbox unavailable"),
     "消息转入待处理", "发送6次均失败：550 mailbox unavailable"),
    (contracts.MessageRequeued(message_id="msg-1", reason="已更正手机号"), "重新发送消息", "原因：已更正手机号"),
    (contracts.MessageRead(message_id="msg-1", read_at="2026-11-23T02:30:00+00:00"), "消息已读", "于 2026-11-23 10:30 阅读"),
]
CASES = [pytest.param(event.event_type(), event.to_data(), label, summary, id=event.event_type())
         for event, label, summary in WORDING]


def every_event_type() -> set[str]:
    modules = [contracts, tasks, notices, followups, directory]
    return {cls.__name__ for module in modules for _, cls in inspect.getmembers(module, inspect.isclass)
            if issubclass(cls, DomainEvent) and dataclasses.is_dataclass(cls) and cls.__module__ in
            {m.__name__ for m in modules} | {"shared.contracts"}}


class TestEveryEventHasItsWords:
    def test_the_table_covers_every_event_type_of_the_contracts_and_the_services(self):
        assert every_event_type() - {event.event_type() for event, _, _ in WORDING} == set()
        assert every_event_type() <= set(words.LABEL_ZH)

    @pytest.mark.parametrize("event_type, data, label, summary", CASES)
    def test_label_and_summary_read_as_the_office_writes(self, event_type, data, label, summary):
        said = words.describe(event_type, data)
        assert (said.label, said.summary) == (label, summary)

    def test_the_modules_listed_are_the_services_event_modules(self):
        for name in ("tasks", "notices", "followups", "directory"):
            assert importlib.import_module(f"services.{name}.domain.events").REGISTRY is not None


class TestWordingThatDependsOnTheData:
    def test_an_escalation_is_labelled_by_its_level_and_says_when_the_system_raised_it(self):
        assert words.label("RectificationEscalated", {"level": "reminder", "automatic": True}) == "催办（系统自动）"
        assert words.label("RectificationEscalated", {"level": "warning"}) == "预警"
        assert words.label("RectificationEscalated", {}) == "督办升级"

    def test_accountability_names_its_measure_and_whom_it_targets(self):
        data = {"level": "accountability", "reason": "屡催不改", "doc_number": "巴教督〔2026〕11号", "measure": "约谈",
                "target": "person"}
        assert words.summary("RectificationEscalated", data) == (
            "事由：屡催不改；文号：巴教督〔2026〕11号；问责方式：约谈；问责对象：相关责任人")

    def test_a_late_signature_says_by_how_many_working_days_when_the_deadline_is_known(self):
        data = {"notice_id": N, "unit": "巴州区教育局", "signed_on": "2026-11-23", "late": True}
        assert words.summary("NoticeSigned", data, due="2026-11-20") == "巴州区教育局 于 2026-11-23 签收（逾期1个工作日）"
        assert words.summary("NoticeSigned", {**data, "late": False}, due="2026-11-20") == "巴州区教育局 于 2026-11-23 签收"

    def test_an_extension_without_a_previous_deadline(self):
        data = {"case_id": C, "previous_deadline": None, "new_deadline": "2026-12-31", "reason": "汛期", "approver": "李主任"}
        assert words.summary("DeadlineExtended", data) == "整改时限延至 2026-12-31（理由：汛期）；批准人：李主任"

    def test_closed_on_time(self):
        closed = {"closed_on": "2026-12-01", "on_time": True}
        assert words.summary("RectificationClosed", closed) == "于 2026-12-01 销号（按期完成）"

    def test_a_reset_password_and_a_unit_without_a_parent(self):
        assert words.label("PasswordChanged", {"reset": True}) == "重置密码"
        assert words.summary("UnitMoved", {"name": "巴州区第一小学", "parent": None, "previous_parent": "巴州区教育局"}) == (
            "巴州区第一小学 不再有上级单位（原上级单位：巴州区教育局）")
        assert words.summary("PersonMoved", {"username": "li.si", "unit": None}) == "li.si 不再属于任何单位"

    def test_typed_text_stays_on_one_line(self):
        assert words.summary("ReinspectionFailed", {"findings": "一、未拆除\n二、未封闭"}) == "复查意见：一、未拆除 二、未封闭"

    def test_a_backfilled_step_has_a_note(self):
        backfill = {"reason": "纸质签收单", "recorded_on": "2026-11-23", "recorded_for": "巴州区教育局"}
        assert words.backfill_note({"backfill": backfill}) == "补录说明：纸质签收单（代巴州区教育局登记）"
        assert words.backfill_note({"backfill": None}) == ""


class TestFallbacks:
    def test_an_unknown_type_keeps_its_name_and_lists_its_plain_fields(self):
        said = words.describe("SomethingNew", {"a": "x", "b": 2, "nested": {"c": 1}, "empty": ""})
        assert (said.label, said.summary, said.about) == ("SomethingNew", "a=x, b=2", words.About("", None))

    def test_an_unexpected_shape_lists_its_plain_fields(self):
        assert words.describe("NoticeIssued", {"problems": 3, "title": "t"}).summary == "problems=3, title=t"
        assert words.describe("NoticeDrafted", {"notice_id": N, "content": None}).summary == f"notice_id={N}"


class TestWhatItConcernsAndWho:
    @pytest.mark.parametrize("event_type, data, about", [
        ("NoticeIssued", {"notice_id": N}, words.About("notice", N, N)),
        ("RectificationPlanSubmitted", {"case_id": C}, words.About("case", C, N)),  # the notice from the case id
        ("NoticeProblemClosed", {"notice_id": N, "case_id": C}, words.About("case", C, N)),
        ("TaskMatterClosed", {"task_id": T, "notice_id": N, "matter_id": C}, words.About("task", T, N)),
        ("TaskCreated", {"task_id": T, "plan_id": "plan-2026"}, words.About("task", T)),
        ("PlanRecorded", {"plan_id": "plan-2026"}, words.About("plan", "plan-2026")),
        ("HolidayArrangementRecorded", {"year": 2027}, words.About("calendar", "2027")),
        ("UnitMerged", {"unit_id": "u3"}, words.About("unit", "u3")),
        ("PersonDisabled", {"person_id": "p1"}, words.About("person", "p1")),
        ("SignInLocked", {"subject": "li.si"}, words.About("account", "li.si")),
        ("MessageSent", {"message_id": "msg-1", "case_id": C}, words.About("message", "msg-1", N)),
    ])
    def test_the_item_an_event_concerns(self, event_type, data, about):
        assert words.about(event_type, data) == about

    def test_people_by_name_and_the_services_processes_by_what_they_do(self):
        assert words.actor_name({"user_id": "li.si", "role": "unit_handler", "name": "李四"}) == "李四"
        assert words.actor_name({"user_id": "li.si", "role": "unit_handler"}) == "li.si"
        assert words.actor_name(Actor.system("followups-deadline-watcher").to_dict()) == "整改时限监测"
        assert words.actor_name(None) == ""
        assert words.describe("PersonEnabled", {"username": "li.si"}, {"user_id": "admin", "role": "admin"}).actor == "admin"


class TestTheCliAndThePortalSayTheSame:
    AT = datetime(2026, 11, 23, 1, 0, tzinfo=timezone.utc)
    ACTOR = Actor("wang", "office_staff", "巴中市教育督导室", "王科长")

    def cli_words(self, event_type: str, data: dict) -> tuple[str, str]:
        envelope = EventEnvelope(event_id="e1", stream_id="s", stream_type="x", version=1, type=event_type, schema_version=1,
                                 data=data, actor=self.ACTOR, occurred_at=self.AT, recorded_at=self.AT,
                                 correlation_id="c", causation_id=None, prev_hash="0" * 64)
        entry = lifecycle.TimelineEntry("notices", envelope)
        [row] = lifecycle.timeline_to_json(lifecycle.Timeline("n", [entry], [], []), [])
        line = lifecycle.format_timeline_line(entry)
        assert f"  {row['label']} " in line and f"  {lifecycle.summarize(event_type, data)}" in line
        return row["label"], row["summary"]

    def portal_words(self, event_type: str, data: dict) -> tuple[str, str]:
        entry = TimelineEntry(service="notices", event_id="e1", stream_id="s", stream_type="x", version=1, type=event_type,
                              recorded_at=self.AT, actor=self.ACTOR.to_dict(), data=data, correlation_id="c",
                              causation_id=None, prev_hash="0" * 64, hash="")
        [row] = pages_notices.timeline_rows([entry], PortalModel())
        return row["event"], row["summary"]

    @pytest.mark.parametrize("event_type, data, label, summary", CASES)
    def test_same_label_and_summary(self, event_type, data, label, summary):
        assert self.cli_words(event_type, data) == self.portal_words(event_type, data) == (label, summary)

    def test_the_portal_adds_the_backfill_note_the_cli_shows_in_its_own_bracket(self):
        data = {"case_id": C, "plan": "分两批拆除", "occurred_on": "2026-03-04",
                "backfill": {"reason": "纸质台账", "recorded_on": "2026-11-23", "recorded_for": "巴州区教育局"}}
        _, portal_summary = self.portal_words("RectificationPlanSubmitted", data)
        assert portal_summary == "整改方案：分两批拆除；补录说明：纸质台账（代巴州区教育局登记）"
        assert self.cli_words("RectificationPlanSubmitted", data) == ("提交整改方案", "整改方案：分两批拆除")
