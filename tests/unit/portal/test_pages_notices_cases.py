"""The portal's notice and case pages over a model built from real events.

The three services run in-process on in-memory stores (their buses, their reactions to each other), a fixed clock
moves through March 2024, and every stored event is applied to a PortalModel the way the topic feed would. The
services' HTTP APIs are not running: the action routes are checked up to the call (a stand-in client records it)
and for what a person sees when the call fails.
"""
from __future__ import annotations

import csv
import io
import socket
import uuid
from dataclasses import replace
from datetime import date

import pytest
from openpyxl import load_workbook

from shared.auth import Role
from shared.bus import CommandContext
from shared.clock import FixedClock
from shared.config import Settings
from shared.envelope import Actor
from shared.eventstore import base as eventstore_base
from shared.eventstore.memory import InMemoryEventStore
from shared.policy import PolicyBook
from services.api_client import ServiceRefused
from services.followups.bootstrap import bootstrap as bootstrap_followups
from services.followups.domain import commands as fc
from services.notices.bootstrap import bootstrap as bootstrap_notices
from services.notices.domain import commands as nc
from services.portal.adapters.users import DEMO_OFFICE, DEMO_PASSWORD, UserDirectory
from services.portal.context import PortalContext
from services.portal.domain.model import PortalModel, TimelineEntry
from services.portal.entrypoints import pages_cases, pages_notices
from services.portal.entrypoints.api import create_app
from services.tasks.bootstrap import bootstrap as bootstrap_tasks
from services.tasks.domain.commands import RecordPlan, TaskInput
from tests.portal_forms import FormClient

BAZHOU, ENYANG, TONGJIANG = "巴州区教育局", "恩阳区教育局", "通江县教育局"
OFFICE = Actor("office", Role.OFFICE_STAFF, DEMO_OFFICE, "王科长")
INSPECTOR = Actor("inspector", Role.INSPECTOR, DEMO_OFFICE, "刘督学")
BAZHOU_HANDLER = Actor("bazhou", Role.UNIT_HANDLER, BAZHOU, "巴州区经办人")
ENYANG_HANDLER = Actor("enyang", Role.UNIT_HANDLER, ENYANG, "恩阳区经办人")
WATCHER = Actor.system("followups-deadline-watcher")
PORTAL_TODAY = date(2024, 3, 26)
BOM = "\ufeff".encode()


class Offices:
    """tasks, notices and followups on in-memory stores, each reacting to the others' events as their workers would."""

    def __init__(self, clock: FixedClock):
        self.clock = clock
        make = {"tasks": bootstrap_tasks, "notices": bootstrap_notices, "followups": bootstrap_followups}
        self.services = {name: boot(store=InMemoryEventStore(), clock=clock, policies=PolicyBook())
                         for name, boot in make.items()}
        self.delivered = dict.fromkeys(self.services, 0)

    def on(self, day: date) -> None:
        self.clock.set(day)

    def act(self, service: str, command, actor: Actor):
        self.clock.advance(minutes=1)  # one action a minute: the timeline's order is the order things were done
        result = self.services[service].bus.handle(command, CommandContext.fresh(actor))
        self._settle()
        return result

    def _settle(self) -> None:
        moved = True
        while moved:
            moved = False
            for name, context in self.services.items():
                events = list(context.store.read_all())
                for envelope in events[self.delivered[name]:]:
                    self.delivered[name] += 1
                    moved = True
                    for other in self.services.values():
                        if (react := other.reactions.get(name)) is not None:
                            self.clock.advance(seconds=1)  # a reaction comes a moment after its cause
                            react(envelope)

    def events(self, service: str) -> list:
        return list(self.services[service].store.read_all())

    def model(self) -> PortalModel:
        model = PortalModel()
        for name in ("tasks", "notices", "followups"):  # topic by topic, as the feed may well deliver them
            for envelope in self.events(name):
                model.apply(name, envelope)
        return model


@pytest.fixture(scope="module")
def world():
    """Three notices of March 2024: A (挂牌督办, two units, three problems), B (督办函 to 恩阳, one problem for 通江 too),
    C (工作提示函)."""
    clock = FixedClock(date(2024, 3, 4))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(eventstore_base, "utc_now", clock.now)  # events are recorded at the fixed clock's time
        offices = Offices(clock)
        offices.act("tasks", RecordPlan(title="巴中市2024年教育督导工作要点", plan_id="plan-2024", year=2024,
                                        tasks=(TaskInput("1", "开展校园安全专项督导"), TaskInput("2", "落实控辍保学"))), OFFICE)
        task_ids = [e.data["task_id"] for e in offices.events("tasks") if e.type == "TaskCreated"]
        notice_a = offices.act("notices", nc.IssueNotice(nc.NoticeContent(
            kind="督办通知", title="关于校舍安全问题整改的督办通知", issuer_unit=DEMO_OFFICE, target_units=(BAZHOU, ENYANG),
            doc_number="巴教督办〔2024〕1号", related_task_ids=(task_ids[0],), listed=True, sign_for_deadline=date(2024, 3, 6),
            problems=(nc.ProblemInput("教学楼危房未拆除", "限期拆除并报送佐证", BAZHOU, deadline=date(2024, 3, 20),
                                      responsible_person="张三", area="校园安全"),
                      nc.ProblemInput("消防通道堵塞", "立即清理", ENYANG, deadline_days=10, deadline_kind="working"),
                      nc.ProblemInput("食堂证照过期", "补办证照", BAZHOU, deadline=date(2024, 4, 30))))), OFFICE)
        offices.on(date(2024, 3, 5))
        notice_b = offices.act("notices", nc.IssueNotice(nc.NoticeContent(
            kind="督办函", title="关于控辍保学工作的督办函", issuer_unit=DEMO_OFFICE, target_units=(ENYANG,),
            doc_number="巴教督函〔2024〕2号", related_task_ids=(task_ids[1],), sign_for_deadline=date(2024, 3, 8),
            problems=(nc.ProblemInput("辍学学生劝返不及时", "逐一劝返", ENYANG, deadline=date(2024, 3, 15)),
                      nc.ProblemInput("跨县转学学籍未接续", "核实学籍", TONGJIANG, deadline=date(2024, 4, 30))))), OFFICE)
        offices.act("notices", nc.SignNotice(notice_a), ENYANG_HANDLER)
        a1, a2, a3 = (f"{notice_a}:P{n}" for n in (1, 2, 3))
        offices.on(date(2024, 3, 6))
        offices.act("followups", fc.SubmitRectificationPlan(a1, "拆除危房，学生转移至新楼", ("封闭危房", "拆除", "验收")),
                    BAZHOU_HANDLER)
        offices.on(date(2024, 3, 8))
        offices.act("notices", nc.SignNotice(notice_a), BAZHOU_HANDLER)  # two days after the sign-for deadline
        offices.on(date(2024, 3, 10))
        offices.act("followups", fc.ReportProgress(a1, "危房已封闭，拆除队伍已进场", ("封闭现场照片",)), BAZHOU_HANDLER)
        offices.on(date(2024, 3, 18))
        offices.act("followups", fc.ReportCompletion(a1, "危房已全部拆除", ("拆除验收单", "现场照片")), BAZHOU_HANDLER)
        offices.on(date(2024, 3, 19))
        offices.act("followups", fc.Reinspect(a1, True, "现场核查，危房已拆除"), INSPECTOR)
        offices.act("followups", fc.CloseCase(a1), INSPECTOR)
        offices.on(date(2024, 3, 25))
        offices.act("followups", fc.CheckDeadline(a2), WATCHER)
        offices.act("followups", fc.Escalate(a2, "circulation", "逾期未整改", doc_number="巴教督通〔2024〕3号"), OFFICE)
        offices.on(date(2024, 3, 26))
        offices.act("followups", fc.ExtendDeadline(a2, date(2024, 4, 15), "需协调消防部门", "李主任"), OFFICE)
        notice_c = offices.act("notices", nc.IssueNotice(nc.NoticeContent(
            kind="工作提示函", title="关于做好春季开学工作的提示函", issuer_unit=DEMO_OFFICE, target_units=(BAZHOU, ENYANG),
            doc_number="巴教督函〔2024〕4号", problems=(), sign_for_deadline=date(2024, 3, 29))), OFFICE)
    return {"offices": offices, "a": notice_a, "b": notice_b, "c": notice_c, "a1": a1, "a2": a2, "a3": a3,
            "b1": f"{notice_b}:P1", "b2": f"{notice_b}:P2", "tasks": task_ids}


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def portal_context(world):
    nowhere = f"http://127.0.0.1:{closed_port()}"  # nothing listens here: every service call fails to connect
    settings = Settings(notices_url=nowhere, followups_url=nowhere, tasks_url=nowhere)
    return PortalContext(settings=settings, model=world["offices"].model(), users=UserDirectory.demo(), policies=PolicyBook(),
                         clock=FixedClock(PORTAL_TODAY))


@pytest.fixture
def app(portal_context):
    app = create_app(portal_context)
    app.config["TESTING"] = True
    app.test_client_class = FormClient  # posts carry the form token, as the portal's pages do
    return app


@pytest.fixture
def login(app):
    def signed_in(username: str):
        client = app.test_client()
        answer = client.post("/login", data={"username": username, "password": DEMO_PASSWORD})
        assert answer.status_code == 302, answer.get_data(as_text=True)
        return client

    return signed_in


class Recorder:
    """Stands in for the services' HTTP client: records each POST and answers like the service would."""

    def __init__(self, answer=None, refuse: Exception | None = None):
        self.calls: list[tuple] = []
        self.answer, self.refuse = answer or {}, refuse

    def __call__(self, name: str, token: str):
        recorder = self

        class Client:
            def post(self, path, body=None, idempotency_key=None):
                recorder.calls.append((name, path, body, idempotency_key, bool(token)))
                if recorder.refuse is not None:
                    raise recorder.refuse
                return recorder.answer

        return Client()


@pytest.fixture
def services(portal_context, monkeypatch):
    recorder = Recorder()
    monkeypatch.setattr(portal_context, "service", recorder)
    return recorder


def page(client, url: str, status: int = 200) -> str:
    answer = client.get(url)
    assert answer.status_code == status, (url, answer.status_code, answer.get_data(as_text=True)[:2000])
    return answer.get_data(as_text=True)


def listed(html: str, world) -> set[str]:
    return {name for name in ("a", "b", "c") if f'data-notice="{world[name]}"' in html}


# -- the list -------------------------------------------------------------------------------------------------

class TestNoticeList:
    @pytest.mark.parametrize("query, expected", [
        ("", {"a", "b", "c"}),
        ("?kind=督办函", {"b"}),
        (f"?unit={BAZHOU}", {"a", "c"}),
        (f"?department={ENYANG}", {"a", "b"}),
        ("?status=acknowledged", {"a"}),
        ("?status=issued", {"b", "c"}),
        ("?light=red", {"b"}),
        ("?light=green", {"a"}),
        ("?listed=true", {"a"}),
        ("?listed=false", {"b", "c"}),
        ("?start=2024-03-05", {"b", "c"}),
        ("?start=2024-03-04&end=2024-03-04", {"a"}),
        ("?kind=&unit=&light=", {"a", "b", "c"}),  # empty fields mean "any"
    ])
    def test_filters(self, login, world, query, expected):
        assert listed(page(login("office"), f"/notices{query}"), world) == expected

    def test_the_task_filter(self, login, world):
        assert listed(page(login("auditor"), f"/notices?task_id={world['tasks'][1]}"), world) == {"b"}

    def test_columns_light_and_counts(self, login, world):
        html = page(login("office"), f"/notices?unit={BAZHOU}&kind=督办通知")
        for text in ("巴教督办〔2024〕1号", "关于校舍安全问题整改的督办通知", "督办通知", f"{BAZHOU}、{ENYANG}", "2024-03-04",
                     "已签收", "3 / 1", "挂牌督办", f'href="/notices/{world["a"]}"'):
            assert text in html
        assert '<span class="light green">' in html

    def test_office_staff_get_the_issue_link_others_do_not(self, login):
        assert "下发督办通知</a>" in page(login("office"), "/notices")
        assert "下发督办通知</a>" not in page(login("auditor"), "/notices")

    def test_a_bad_filter_is_a_422_not_a_500(self, login):
        html = page(login("office"), "/notices?light=purple", 422)
        assert "查询条件有误" in html

    def test_a_unit_handler_sees_only_its_units_notices(self, login, world):
        assert listed(page(login("bazhou"), "/notices"), world) == {"a", "c"}
        assert listed(page(login("enyang"), "/notices"), world) == {"a", "b", "c"}
        assert listed(page(login("finance"), "/notices"), world) == set()


# -- one notice -----------------------------------------------------------------------------------------------

class TestNoticePage:
    def test_problems_cases_and_signatures(self, login, world):
        html = page(login("office"), f"/notices/{world['a']}")
        for text in ("教学楼危房未拆除", "限期拆除并报送佐证", "张三", "已销号", "消防通道堵塞", "2024-04-15", "原 ", "通报",
                     "食堂证照过期", "待整改", "逾期签收", "按时签收", f'/cases/{world["a1"]}',
                     f'/notices/{world["a"]}/timeline'):
            assert text in html, text
        assert "10个工作日" in html  # the deadline rule the problem was issued with

    def test_a_unit_handler_of_another_unit_is_refused_the_notice_and_its_case(self, login, world):
        bazhou = login("bazhou")
        page(bazhou, f"/notices/{world['b']}", 403)
        page(bazhou, f"/cases/{world['b1']}", 403)
        page(bazhou, f"/notices/{world['b']}/timeline", 403)
        page(bazhou, f"/notices/{world['b']}/timeline?format=xlsx", 403)

    def test_the_sign_button_only_for_a_target_units_handler_that_has_not_signed(self, login, world):
        assert "签收</button>" in page(login("bazhou"), f"/notices/{world['c']}")
        assert "签收</button>" not in page(login("bazhou"), f"/notices/{world['a']}")  # signed already
        assert "签收</button>" not in page(login("office"), f"/notices/{world['c']}")

    def test_office_staff_see_the_withdraw_form(self, login, world):
        assert "撤回原因" in page(login("office"), f"/notices/{world['a']}")
        assert "撤回原因" not in page(login("bazhou"), f"/notices/{world['a']}")

    def test_a_notice_just_issued_but_not_yet_in_the_model(self, login):
        office, fresh = login("office"), f"notice-{uuid.uuid4()}"
        assert "数据同步中，请稍候刷新" in page(office, f"/notices/{fresh}?just_issued=1")
        page(office, f"/notices/{fresh}", 404)
        page(office, "/notices/not-a-notice-id?just_issued=1", 404)

    def test_signing_goes_to_the_notices_service_as_the_person(self, login, world, services):
        answer = login("bazhou").post(f"/notices/{world['c']}/sign", data={"idempotency_key": "portal-key-123456"})
        assert answer.status_code == 302 and answer.headers["Location"].endswith(f"/notices/{world['c']}")
        assert services.calls == [("notices", f"/notices/{world['c']}/signature", {}, "portal-key-123456", True)]

    def test_withdrawing_needs_a_reason(self, login, world, services):
        office = login("office")
        html = office.post(f"/notices/{world['a']}/withdraw", data={"reason": ""}, follow_redirects=True).get_data(as_text=True)
        assert "请填写撤回原因" in html and services.calls == []
        office.post(f"/notices/{world['a']}/withdraw", data={"reason": "重复下发"})
        sent = [(path, body) for _, path, body, _, _ in services.calls]
        assert sent == [(f"/notices/{world['a']}/withdrawal", {"reason": "重复下发"})]

    def test_only_office_staff_withdraw_and_unit_handlers_sign(self, login, world, services):
        assert login("bazhou").post(f"/notices/{world['a']}/withdraw", data={"reason": "x"}).status_code == 403
        assert login("inspector").post(f"/notices/{world['c']}/sign").status_code == 403
        assert services.calls == []

    def test_office_staff_enter_a_paper_signature_with_its_day_and_reason(self, login, world, services):
        office = login("office")
        page = office.get(f"/notices/{world['c']}").get_data(as_text=True)
        assert "补录签收" in page and 'name="occurred_on"' in page
        form = {"unit": BAZHOU, "occurred_on": "2024-03-20", "backfill_reason": "纸质签收单",
                "idempotency_key": "portal-abcdef12"}
        assert office.post(f"/notices/{world['c']}/sign", data=form).status_code == 302
        path = f"/notices/{world['c']}/signature"
        assert services.calls == [("notices", path, {"unit": BAZHOU, "occurred_on": "2024-03-20",
                                                     "backfill_reason": "纸质签收单"}, "portal-abcdef12", True)]


# -- issuing ----------------------------------------------------------------------------------------------------

def issue_form(**overrides) -> dict:
    form = {"kind": "督办通知", "title": "关于食品安全的督办通知", "doc_number": "巴教督办〔2024〕9号",
            "issuer_unit": DEMO_OFFICE, "target_units": f"{BAZHOU}\n{ENYANG}、", "listed": "on",
            "sign_for_deadline": "2024-03-29", "idempotency_key": "portal-0123456789", "rows": "5",
            "problems-0-description": "食堂未公示菜谱", "problems-0-responsible_unit": BAZHOU,
            "problems-0-deadline": "2024-04-10", "problems-0-deadline_kind": "calendar",
            "problems-1-deadline_kind": "calendar",  # a blank row: left out
            "problems-2-description": "冷库温度记录缺失", "problems-2-requirement": "补齐记录",
            "problems-2-responsible_unit": ENYANG, "problems-2-responsible_person": "李四",
            "problems-2-deadline_days": "5", "problems-2-deadline_kind": "working"}
    form.update(overrides)
    return form


class TestIssuingANotice:
    def test_only_office_staff(self, login):
        for username in ("bazhou", "inspector", "auditor", "finance"):
            page(login(username), "/notices/new", 403)
            assert login(username).post("/notices/new", data=issue_form()).status_code == 403

    def test_the_form_has_five_blank_problem_rows_and_the_tasks(self, login, world):
        html = page(login("office"), "/notices/new")
        assert html.count('class="problem-row"') == 5
        assert world["tasks"][0] in html and "开展校园安全专项督导" in html and f'value="{DEMO_OFFICE}"' in html

    def test_more_rows_keeps_what_was_typed(self, login, services):
        html = login("office").post("/notices/new", data=issue_form(more_rows="1")).get_data(as_text=True)
        assert html.count('class="problem-row"') == 10 and "食堂未公示菜谱" in html and services.calls == []

    def test_an_invalid_form_is_shown_again_with_the_reasons_and_nothing_is_sent(self, login, services):
        answer = login("office").post("/notices/new", data=issue_form(title="", target_units="", **{
            "problems-0-deadline_days": "3", "problems-2-deadline_days": "abc"}))
        html = answer.get_data(as_text=True)
        assert answer.status_code == 422
        for text in ("请填写标题", "请填写督办对象", "第1个问题·整改时限：整改时限请填写日期或天数之一",
                     "第3个问题·整改天数：整改天数须为整数"):
            assert text in html, text
        assert "食堂未公示菜谱" in html  # what was typed is kept
        assert services.calls == []

    def test_a_row_with_content_but_no_description_is_not_dropped_silently(self, login, services):
        form = issue_form(**{"problems-3-responsible_unit": BAZHOU})
        html = login("office").post("/notices/new", data=form).get_data(as_text=True)
        assert "第4个问题：请填写问题描述" in html and services.calls == []

    def test_a_notice_needs_problems_unless_it_is_a_prompt_letter(self, login, services):
        blank = {key: "" for key in issue_form() if key.startswith("problems-") and not key.endswith("deadline_kind")}
        html = login("office").post("/notices/new", data=issue_form(**blank)).get_data(as_text=True)
        assert "问题清单不能为空" in html and services.calls == []
        login("office").post("/notices/new", data=issue_form(kind="工作提示函", **blank))
        assert services.calls[0][2]["problems"] == []

    def test_issuing_posts_the_notice_and_shows_it_while_it_syncs(self, login, services):
        services.answer = {"id": (notice_id := f"notice-{uuid.uuid4()}")}
        office = login("office")
        answer = office.post("/notices/new", data=issue_form())
        assert answer.status_code == 302 and answer.headers["Location"] == f"/notices/{notice_id}?just_issued=1"
        [(name, path, body, key, with_token)] = services.calls
        assert (name, path, key, with_token) == ("notices", "/notices", "portal-0123456789", True)
        assert body == {
            "kind": "督办通知", "title": "关于食品安全的督办通知", "doc_number": "巴教督办〔2024〕9号",
            "issuer_unit": DEMO_OFFICE, "target_units": [BAZHOU, ENYANG], "copied_units": [], "related_task_ids": [],
            "listed": True, "sign_for_deadline": "2024-03-29",
            "problems": [
                {"description": "食堂未公示菜谱", "requirement": "", "responsible_unit": BAZHOU, "responsible_person": None,
                 "area": None, "deadline": "2024-04-10", "deadline_days": None, "deadline_kind": "calendar"},
                {"description": "冷库温度记录缺失", "requirement": "补齐记录", "responsible_unit": ENYANG,
                 "responsible_person": "李四", "area": None, "deadline": None, "deadline_days": 5, "deadline_kind": "working"}]}
        assert "数据同步中，请稍候刷新" in page(office, answer.headers["Location"])

    def test_the_body_passes_the_notices_services_own_schema(self, login, services):
        from services.notices.entrypoints.schemas import NoticeContentSchema

        services.answer = {"id": f"notice-{uuid.uuid4()}"}
        login("office").post("/notices/new", data=issue_form(related_task_ids=["plan-2024-T1"], copied_units="巴中市财政局"))
        assert NoticeContentSchema().validate(services.calls[0][2]) == {}

    def test_a_refusal_keeps_the_form_with_a_new_key(self, login, services):
        services.refuse = ServiceRefused("http://notices/notices", 422, {"message": "bad", "message_zh": "整改时限早于下发日期"})
        answer = login("office").post("/notices/new", data=issue_form())
        html = answer.get_data(as_text=True)
        assert answer.status_code == 422 and "未能办理" in html and "整改时限早于下发日期" in html
        assert "食堂未公示菜谱" in html and 'value="portal-0123456789"' not in html

    def test_no_service_listening_is_a_message_not_a_500_and_sending_again_reuses_the_key(self, login):
        answer = login("office").post("/notices/new", data=issue_form())
        html = answer.get_data(as_text=True)
        assert answer.status_code == 503 and "无法连接服务" in html  # the service is unavailable for now: retry later
        assert 'value="portal-0123456789"' in html  # no answer came: it may have been issued, so a retry must not issue twice


# -- the timeline -------------------------------------------------------------------------------------------------

class TestTimeline:
    def test_every_event_in_order_with_its_timing_and_the_chain_check(self, login, world, portal_context):
        from services.portal.domain.queries import timeline

        entries = timeline(portal_context.model, world["a"])
        assert [e.recorded_at for e in entries] == sorted(e.recorded_at for e in entries)
        html = page(login("auditor"), f"/notices/{world['a']}/timeline")
        types = [chunk.split('"', 1)[0] for chunk in html.split('data-event="')[1:]]
        assert types == [e.type for e in entries]
        assert types[0] == "NoticeIssued" and types[-1] == "DeadlineExtended"
        for text in ("下发督办通知", "签收", "逾期2个工作日", "提前1个工作日", "提前2个工作日", "提交整改报告", "复查通过",
                     "销号", "问题销号",
                     "整改逾期", "催办（系统自动）", "通报", "延期", "巴州区经办人", "责任单位经办人",
                     "督导办工作人员",
                     "2024-03-08 09:01:00", "巴教督通〔2024〕3号", "整改时限监测", "整改跟踪服务", "问题 P1 于 2024-03-19 销号",
                     "导出 Excel", "打印版"):
            assert text in html, text
        assert html.count("✔ 哈希链完整") == len({e.stream_id for e in entries}) and "断裂" not in html

    def test_a_tampered_event_shows_where_the_chain_breaks(self, login, world, portal_context):
        model = PortalModel()
        forged = None
        for name in ("tasks", "notices", "followups"):
            for envelope in world["offices"].events(name):
                if envelope.type == "ReinspectionPassed" and envelope.stream_id == world["a1"]:
                    forged = envelope = replace(envelope, data={**envelope.data, "findings": "未到现场"})  # the old hash kept
                model.apply(name, envelope)
        portal_context.model = model
        html = page(login("auditor"), f"/notices/{world['a']}/timeline")
        assert "✘ 哈希链断裂" in html and forged.event_id in html and "事件内容与其哈希不符" in html
        assert f'id="event-{forged.event_id}" data-event="ReinspectionPassed" class="chain-broken"' in html
        assert "✔ 哈希链完整" in html  # the other streams are still whole

    def test_xlsx_export(self, login, world, portal_context):
        from services.portal.domain.queries import timeline

        answer = login("auditor").get(f"/notices/{world['a']}/timeline?format=xlsx")
        assert answer.status_code == 200 and "spreadsheetml" in answer.mimetype
        assert "%E7%9D%A3%E5%8A%9E%E9%80%9A%E7%9F%A5%E6%97%B6%E9%97%B4%E7%BA%BF" in answer.headers["Content-Disposition"]
        sheet = load_workbook(io.BytesIO(answer.data)).active
        rows = list(sheet.iter_rows(values_only=True))
        assert rows[0] == pages_notices.TIMELINE_HEADERS
        assert len(rows) == 1 + len(timeline(portal_context.model, world["a"]))
        assert rows[1][2] == "下发督办通知" and any(row[8] == "逾期2个工作日" for row in rows)

    def test_typed_text_is_never_exported_as_a_formula(self, login, world, portal_context):
        from services.portal.domain.queries import timeline

        [report] = [e for e in timeline(portal_context.model, world["a"]) if e.type == "RectificationProgressReported"]
        report.data["summary"] = '=HYPERLINK("http://example.invalid","点击")'
        answer = login("auditor").get(f"/notices/{world['a']}/timeline?format=xlsx")
        cells = [row[9] for row in load_workbook(io.BytesIO(answer.data)).active.iter_rows(min_row=2)]
        assert all(cell.data_type != "f" for cell in cells)
        assert any(str(cell.value).startswith("'=HYPERLINK") for cell in cells)
        text = login("auditor").get(f"/notices/{world['a']}/timeline?format=csv").data.decode("utf-8-sig")
        assert "'=HYPERLINK" in text

    def test_csv_export(self, login, world, portal_context):
        from services.portal.domain.queries import timeline

        answer = login("office").get(f"/notices/{world['a']}/timeline?format=csv")
        assert answer.status_code == 200 and answer.data.startswith(BOM)
        rows = list(csv.reader(io.StringIO(answer.data.decode("utf-8-sig"))))
        assert rows[0] == list(pages_notices.TIMELINE_HEADERS)
        assert len(rows) == 1 + len(timeline(portal_context.model, world["a"]))

    def test_the_print_view_has_no_navigation(self, login, world):
        html = page(login("office"), f"/notices/{world['a']}/timeline?print=1")
        assert "<nav" not in html and "<header" not in html and "filters" not in html
        assert "督办通知审计时间线" in html and "巴教督办〔2024〕1号" in html and "哈希链完整" in html

    def test_a_bad_format_is_a_422(self, login, world):
        page(login("office"), f"/notices/{world['a']}/timeline?format=pdf", 422)

    def test_a_target_unit_sees_the_story_of_its_own_cases_only(self, login, world):
        csv_text = login("enyang").get(f"/notices/{world['a']}/timeline?format=csv").data.decode("utf-8-sig")
        subjects = {row[3] for row in list(csv.reader(io.StringIO(csv_text)))[1:]}
        # P1 and P3 are 巴州's (shared/scope.py: a case is its responsible unit's)
        assert "督办通知" in subjects and {s for s in subjects if s.startswith("问题")} == {"问题P2"}

    def test_a_unit_responsible_for_a_problem_of_a_notice_sent_elsewhere_sees_its_case_but_not_the_notice(self, login,
                                                                                                       world):
        tongjiang = login("tongjiang")  # responsible for B:P2 only; B went to 恩阳 (as the notices API answers: 403)
        page(tongjiang, f"/notices/{world['b']}/timeline", 403)
        page(tongjiang, f"/notices/{world['b']}", 403)
        page(tongjiang, f"/cases/{world['b1']}", 403)
        html = page(tongjiang, f"/cases/{world['b2']}")
        assert "跨县转学学籍未接续" in html and "辍学学生劝返不及时" not in html


# -- one case ------------------------------------------------------------------------------------------------------

class TestCasePage:
    def test_the_whole_story_of_a_closed_case(self, login, world):
        html = page(login("auditor"), f"/cases/{world['a1']}")
        for text in ("教学楼危房未拆除", "限期拆除并报送佐证", BAZHOU, "张三", "2024-03-20", "已销号",
                     "拆除危房，学生转移至新楼", "封闭危房", "危房已封闭，拆除队伍已进场", "封闭现场照片", "危房已全部拆除",
                     "拆除验收单", "现场核查，危房已拆除", "按期完成", "提前2个工作日"):
            assert text in html, text
        assert "<h2>办理</h2>" not in html  # an auditor reads only

    def test_an_extended_and_escalated_case(self, login, world):
        html = page(login("office"), f"/cases/{world['a2']}")
        for text in ("2024-04-15", "原时限", "需协调消防部门", "李主任", "通报", "巴教督通〔2024〕3号", "系统自动"):
            assert text in html, text

    @pytest.mark.parametrize("username, case, shown, hidden", [
        ("bazhou", "a3", ["提交整改方案</button>"], ["复查通过</button>", "新的整改时限", "登记督办升级"]),
        ("inspector", "a3", [], ["提交整改方案</button>", "复查通过</button>", "销号</button>"]),
        # office staff get the unit's form too, as a 补录 that needs the day it happened and a reason
        ("office", "a3", ["新的整改时限", "登记督办升级", "登记表彰", "约谈", "问责", "公开批评", "移送有关机关",
                          "补录·提交整改方案", 'name="occurred_on"', 'name="backfill_reason"', "只能按实际发生日期补录"],
         ["复查通过</button>"]),
        ("bazhou", "a3", [], ['name="occurred_on"', "补录说明"]),  # a unit records its own steps on the day
        ("office", "a1", ["登记表彰"], ["新的整改时限", "登记督办升级"]),  # closed: only a commendation is left
    ])
    def test_forms_by_role_and_status(self, login, world, username, case, shown, hidden):
        html = page(login(username), f"/cases/{world[case]}")
        for text in shown:
            assert text in html, text
        for text in hidden:
            assert text not in html, text

    def test_a_unit_handler_is_refused_another_units_case(self, login, world):
        page(login("bazhou"), f"/cases/{world['b1']}", 403)
        page(login("enyang"), f"/cases/{world['a3']}", 403)  # 巴州's case of a notice that went to 恩阳 too
        page(login("finance"), f"/cases/{world['a1']}", 403)
        page(login("office"), f"/cases/{world['a']}:P9", 404)


class TestCaseActions:
    def test_an_invalid_form_is_a_flash_message_and_nothing_is_sent(self, login, world, services):
        answer = login("office").post(f"/cases/{world['a3']}/extension", data={"new_deadline": "2024-13-40"},
                                      follow_redirects=True)
        html = answer.get_data(as_text=True)
        assert answer.status_code == 200 and answer.request.path == f"/cases/{world['a3']}"
        for text in ("新的整改时限不是有效日期", "请填写延期理由", "请填写批准人"):
            assert text in html, text
        assert services.calls == []

    @pytest.mark.parametrize("username, action, form, body", [
        ("bazhou", "plan", {"plan": "补办证照", "measures": "联系市场监管局\n\n提交材料", "planned_completion": "2024-04-20"},
         {"plan": "补办证照", "measures": ["联系市场监管局", "提交材料"], "planned_completion": "2024-04-20"}),
        ("bazhou", "progress", {"summary": "已提交申请", "evidence": "受理回执"},
         {"summary": "已提交申请", "evidence": ["受理回执"]}),
        ("bazhou", "completion", {"summary": "证照已补办"}, {"summary": "证照已补办", "evidence": []}),
        ("inspector", "reinspection", {"passed": "false", "findings": "证照未上墙"}, {"passed": False, "findings": "证照未上墙"}),
        ("inspector", "close", {}, {}),
        ("office", "extension", {"new_deadline": "2024-05-31", "reason": "审批周期长", "approver": "李主任"},
         {"new_deadline": "2024-05-31", "reason": "审批周期长", "approver": "李主任"}),
        ("office", "escalations", {"level": "accountability", "reason": "屡催不改", "doc_number": "巴教督问〔2024〕1号",
                                   "measure": "通报批评", "target": "person"},
         {"level": "accountability", "reason": "屡催不改", "doc_number": "巴教督问〔2024〕1号", "measure": "通报批评",
          "target": "person"}),
        ("office", "escalations", {"level": "reminder", "reason": "请加快进度", "measure": ""},
         {"level": "reminder", "reason": "请加快进度", "doc_number": None, "measure": None, "target": "unit"}),
        ("office", "commendations", {"reason": "整改迅速"}, {"reason": "整改迅速", "doc_number": None}),
    ])
    def test_each_form_goes_to_the_followups_service_as_the_person(self, login, world, services, username, action, form, body):
        answer = login(username).post(f"/cases/{world['a3']}/{action}", data={**form, "idempotency_key": "portal-abcdef12"})
        assert answer.status_code == 302 and answer.headers["Location"] == f"/cases/{world['a3']}"
        path = f"/cases/{world['a3'].replace(':', '%3A')}/{action}"
        assert services.calls == [("followups", path, body, "portal-abcdef12", True)]

    @pytest.mark.parametrize("username, action", [
        ("enyang", "plan"), ("inspector", "plan"), ("auditor", "reinspection"), ("bazhou", "extension"),
        ("auditor", "commendations"),
    ])
    def test_the_wrong_person_is_refused_before_anything_is_sent(self, login, world, services, username, action):
        assert login(username).post(f"/cases/{world['a3']}/{action}", data={"plan": "x", "reason": "x"}).status_code == 403
        assert services.calls == []

    def test_a_case_not_seen_is_refused_before_the_form_is_read(self, login, world, services):
        assert login("bazhou").post(f"/cases/{world['b1']}/plan", data={"plan": "x"}).status_code == 403
        assert login("office").post(f"/cases/{world['a']}:P9/plan", data={"plan": "x"}).status_code == 404
        assert login("office").post(f"/cases/{world['a3']}/delete").status_code in (404, 405)
        assert services.calls == []

    def test_a_refusal_by_the_service_is_a_flash_message(self, login, world, services):
        services.refuse = ServiceRefused("http://followups/cases", 409, {
            "code": "illegal_transition", "message": "cannot close", "message_zh": "只有复查通过的事项才能销号"})
        answer = login("inspector").post(f"/cases/{world['a3']}/close", follow_redirects=True)
        assert answer.status_code == 200 and "只有复查通过的事项才能销号" in answer.get_data(as_text=True)

    def test_no_service_listening_is_a_flash_message_not_a_500(self, login, world):
        answer = login("office").post(f"/cases/{world['a3']}/commendations", data={"reason": "整改迅速"}, follow_redirects=True)
        html = answer.get_data(as_text=True)
        assert answer.status_code == 200 and "未能办理" in html and "无法连接服务" in html


def test_the_case_page_offers_every_escalation_level():
    assert set(pages_cases.ESCALATION_CHOICES) == set(pages_cases.ESCALATION_ZH)


def test_timing_labels_count_working_days():
    def label(due, on):
        entry = TimelineEntry(service="notices", event_id="e", stream_id="s", stream_type="notice", version=1,
                              type="NoticeSigned", recorded_at=None, actor={}, data={}, correlation_id="c",
                              causation_id=None, prev_hash="", hash="", due=due, happened_on=on)
        return pages_notices.timing_label(entry), pages_notices.is_late(entry)

    assert label("2024-03-06", "2024-03-08") == ("逾期2个工作日", True)  # Wednesday → Friday
    assert label("2024-03-08", "2024-03-11") == ("逾期1个工作日", True)  # Friday → Monday: the weekend is not counted
    assert label("2024-03-08", "2024-03-09") == ("逾期不足1个工作日", True)  # done on the Saturday after
    assert label("2024-03-20", "2024-03-18") == ("提前2个工作日", False)
    assert label("2024-03-20", "2024-03-20") == ("按期", False)
    assert label(None, "2024-03-20") == ("", False)


class TestDeadlinesOnAnUnpublishedCalendar:
    """Issued on 2026-12-30, when chinese-calendar knows 2026 last: what was counted in working days says 暂定."""

    @staticmethod
    def late_2026(*then) -> tuple[str, PortalContext]:
        """A notice issued 2026-12-30 (P1 in 10 working days, P2 on a given date), then ``then`` (service,
        command) acted by office staff; the portal on the 31st over what they stored."""
        from services.portal.adapters.feed import count_on_recorded_calendars

        clock = FixedClock(date(2026, 12, 30))
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(eventstore_base, "utc_now", clock.now)
            offices = Offices(clock)
            notice = offices.act("notices", nc.IssueNotice(nc.NoticeContent(
                kind="督办通知", title="年末校舍安全督办", issuer_unit=DEMO_OFFICE, target_units=(BAZHOU,),
                problems=(nc.ProblemInput("校舍隐患", "限期整改", BAZHOU, deadline_days=10, deadline_kind="working"),
                          nc.ProblemInput("台账不全", "补齐台账", BAZHOU, deadline=date(2027, 3, 1))))), OFFICE)
            for service, command in then:
                offices.act(service, command, OFFICE)
        model = offices.model()
        count_on_recorded_calendars(model)  # as the topic feed does
        nowhere = f"http://127.0.0.1:{closed_port()}"
        return notice, PortalContext(settings=Settings(notices_url=nowhere, followups_url=nowhere, tasks_url=nowhere),
                                     model=model, users=UserDirectory.demo(), policies=PolicyBook(),
                                     clock=FixedClock(date(2026, 12, 31)))

    def test_the_notice_and_case_pages_mark_counted_deadlines_as_provisional(self):
        notice, context = self.late_2026()
        client = create_app(context).test_client()
        assert client.post("/login", data={"username": "auditor", "password": DEMO_PASSWORD}).status_code == 302

        notice_page = page(client, f"/notices/{notice}")
        assert notice_page.count(">暂定</span>") == 2  # the default 签收时限 (2027-01-05) and P1 (2027-01-14)
        assert "2027-01-05" in notice_page and "2027-01-14" in notice_page
        assert ">暂定</span>" in page(client, f"/cases/{notice}:P1")
        assert ">暂定</span>" not in page(client, f"/cases/{notice}:P2"), "a date given by the issuer is not counted"

    def test_the_calendar_page_lists_a_recorded_year_and_the_provisional_deadlines_it_moves(self, monkeypatch):
        from services.tasks.domain.commands import RecordHolidayArrangement

        notice, context = self.late_2026(("tasks", RecordHolidayArrangement(
            2027, (date(2027, 1, 1), date(2027, 1, 4)), (), "国办发明电〔2026〕99号")))
        app = create_app(context)
        app.test_client_class = FormClient
        recorder = Recorder()
        monkeypatch.setattr(context, "service", recorder)

        def signed_in(username: str):
            client = app.test_client()
            assert client.post("/login", data={"username": username, "password": DEMO_PASSWORD}).status_code == 302
            return client

        html = page(signed_in("auditor"), "/calendars")
        assert 'data-year="2027"' in html and "国办发明电〔2026〕99号" in html and "2028 起" in html
        # 签收 counted 2027-01-05 provisionally; with 4 January off it is the 6th. P1: the 14th → the 15th.
        assert f'/notices/{notice}' in html and "签收时限" in html and "2027-01-05" in html and "2027-01-06" in html
        assert "问题P1整改时限" in html and "2027-01-14" in html and "2027-01-15" in html
        assert "录入当年放假安排" not in html, "an auditor reads only"

        assert signed_in("bazhou").post("/calendars", data={"year": "2028"}).status_code == 403
        office = signed_in("office")
        assert "录入当年放假安排" in page(office, "/calendars")
        office.post("/calendars", data={"year": "2028", "holidays": "2028-01-01\n2028-01-03", "workdays": "",
                                        "source": "国办发明电〔2027〕5号", "idempotency_key": "portal-key-2028"})
        assert recorder.calls == [("tasks", "/calendars/2028", {"holidays": ["2028-01-01", "2028-01-03"], "workdays": [],
                                                                "source": "国办发明电〔2027〕5号"}, "portal-key-2028", True)]
        office.post("/calendars", data={"year": "2020", "holidays": "not a date", "source": "x"})
        assert len(recorder.calls) == 1, "a bad form is not sent"
