"""The portal's message pages over a model built from real events: the header's unread count, 站内消息 (opening one
marks it read through the messages service, as the person), 消息投递 and 待处理 for the office, and the delivery
lines of a notice's audit timeline, masked on the page and in its exports.

The services run in-process on in-memory stores; their HTTP APIs are not running: a stand-in client records each
call and answers as the messages service would.
"""
from __future__ import annotations

import copy

import csv
import io
from datetime import datetime, timezone

import pytest
from openpyxl import load_workbook

from shared.auth import token_claims
from shared.bus import CommandContext
from shared.clock import FixedClock
from shared.config import Settings
from shared.contracts import NoticeIssued
from shared.envelope import Actor
from shared.eventstore import base as eventstore_base
from shared.eventstore.memory import InMemoryEventStore
from shared.policy import PolicyBook
from services.api_client import ServiceRefused, ServiceUnreachable
from services.followups.bootstrap import bootstrap as bootstrap_followups
from services.followups.reactions import commands_for_notice_issued
from services.notices.bootstrap import bootstrap as bootstrap_notices
from services.notices.domain.commands import IssueNotice, NoticeContent, ProblemInput
from services.portal.adapters.users import DEMO_OFFICE, DEMO_PASSWORD, UserDirectory
from services.portal.context import PortalContext
from services.portal.domain.model import PortalModel
from services.portal.entrypoints.api import create_app
from services.portal.entrypoints.common import masked_email, masked_mobile
from services.portal.entrypoints.pages_messages import delivery_line, mask_contacts
from tests.message_events import Messages
from tests.portal_forms import FormClient

BAZHOU, ENYANG = "巴州区教育局", "恩阳区教育局"
OFFICE = CommandContext(Actor("office", "office_staff", DEMO_OFFICE, "王科长"), correlation_id="c1")
BAZHOU_HANDLER = Actor("bazhou", "unit_handler", BAZHOU, "巴州区经办人")
NOTICE, P1, P2 = "n1", "n1:P1", "n1:P2"
SETTINGS = Settings()


@pytest.fixture(scope="module")
def world():
    """A notice with P1 (巴州) and P2 (恩阳); then its reminders: the 巴州 handler's inbox (one read, one unread), an SMS
    to 赵伟 sent at 10:02, an e-mail to him failed for good, an SMS to 恩阳 waiting to be retried."""
    clock = FixedClock(datetime(2024, 3, 25, 1, 0, tzinfo=timezone.utc))  # 09:00 in Beijing
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(eventstore_base, "utc_now", clock.now)
        notice_store, case_store = InMemoryEventStore(), InMemoryEventStore()
        notices = bootstrap_notices(store=notice_store, clock=clock)
        followups = bootstrap_followups(store=case_store, clock=clock)
        notices.bus.handle(IssueNotice(NoticeContent(
            kind="督办通知", title="校园安全督办", issuer_unit=DEMO_OFFICE, target_units=(BAZHOU, ENYANG),
            problems=(ProblemInput("消防通道堵塞", "清理", BAZHOU, deadline_days=10),
                      ProblemInput("围墙破损", "修复", ENYANG, deadline_days=10))), notice_id=NOTICE), OFFICE)
        [issued] = notice_store.read_stream(NOTICE)
        for command in commands_for_notice_issued(NoticeIssued.from_data(issued.data)):
            followups.bus.handle(command, CommandContext.caused_by(issued, Actor.system("followups")))
        clock.advance(minutes=30)
        bus = Messages(clock)
        ids = {
            "issued": bus.queue("inbox", "bazhou", "巴州区经办人", BAZHOU, "【下发督办通知】校园安全督办", notice_id=NOTICE,
                                rule="notice-issued"),
            "inbox": bus.queue("inbox", "bazhou", "巴州区经办人", BAZHOU, "【催办】消防通道堵塞", notice_id=NOTICE, case_id=P1,
                               body="催办：消防通道堵塞\n请于时限内整改"),
            "sms": bus.queue("sms", "zhao", "赵伟", BAZHOU, "【催办】消防通道堵塞", address="13812341234", notice_id=NOTICE,
                             case_id=P1),
            "email": bus.queue("email", "zhao", "赵伟", BAZHOU, "【催办】消防通道堵塞", address="zhao@example.cn",
                               notice_id=NOTICE, case_id=P1),
            "enyang": bus.queue("sms", "sun", "孙经办", ENYANG, "【催办】围墙破损", address="13900001111", notice_id=NOTICE,
                                case_id=P2),
        }
        clock.advance(minutes=1)
        bus.read(ids["issued"], BAZHOU_HANDLER)
        clock.set(datetime(2024, 3, 25, 2, 2, tzinfo=timezone.utc))  # 10:02 in Beijing
        bus.send(ids["sms"], "HTTP 200 {code: 0}")
        bus.fail(ids["email"], "550 no mailbox zhao@example.cn", retryable=False)
        bus.fail(ids["enyang"], "gateway timeout")
        model = PortalModel()
        for service, events in (("notices", notice_store.read_all()), ("followups", case_store.read_all()),
                                ("messages", bus.events())):
            for event in events:
                model.apply(service, event)
    return {"model": model, "ids": ids, "bus": bus}


class MessagesService:
    """Stands in for the services' HTTP clients: records each call (with whose token) and answers like the service."""

    def __init__(self):
        self.calls: list[tuple] = []
        self.dead: list[dict] = []
        self.refuse: Exception | None = None

    def __call__(self, name: str, token: str):
        service = self

        class Client:
            def get(self, path, **params):
                service.calls.append(("GET", name, path, params, token_claims(SETTINGS.jwt_secret, token)["sub"]))
                if service.refuse is not None:
                    raise service.refuse
                return list(service.dead), {"x-pagination": '{"total": %d}' % len(service.dead)}

            def post(self, path, body=None, idempotency_key=None):
                service.calls.append(("POST", name, path, body, token_claims(SETTINGS.jwt_secret, token)["sub"]))
                if service.refuse is not None:
                    raise service.refuse
                return {}

        return Client()


@pytest.fixture
def portal_context(world):
    return PortalContext(settings=SETTINGS, model=world["model"], users=UserDirectory.demo(), policies=PolicyBook(),
                         clock=FixedClock(datetime(2024, 3, 25, 3, 0, tzinfo=timezone.utc)))


@pytest.fixture
def services(portal_context, monkeypatch):
    stand_in = MessagesService()
    monkeypatch.setattr(portal_context, "service", stand_in)
    return stand_in


@pytest.fixture
def login(portal_context):
    app = create_app(portal_context)
    app.config["TESTING"] = True
    app.test_client_class = FormClient

    def signed_in(username: str):
        client = app.test_client()
        assert client.post("/login", data={"username": username, "password": DEMO_PASSWORD}).status_code == 302
        return client

    return signed_in


def page(client, url: str, status: int = 200) -> str:
    answer = client.get(url)
    assert answer.status_code == status, (url, answer.status_code, answer.get_data(as_text=True)[:2000])
    return answer.get_data(as_text=True)


def badge(html: str) -> str | None:
    marker = 'class="badge" data-unread="'
    return html.split(marker, 1)[1].split('"', 1)[0] if marker in html else None


class TestTheHeaderCountsUnreadMessages:
    def test_every_page_shows_the_persons_unread_count_linking_to_the_inbox(self, login):
        for path in ("/", "/notices", "/ledger", f"/notices/{NOTICE}"):
            html = page(login("bazhou"), path)
            assert badge(html) == "1" and 'href="/messages/inbox"' in html, path

    def test_someone_without_unread_messages_sees_no_count(self, login):
        html = page(login("enyang"), "/")
        assert badge(html) is None and "站内消息" in html

    def test_the_count_costs_no_call_to_the_messages_service(self, login, services):
        page(login("bazhou"), "/")
        assert services.calls == []

    def test_those_who_watch_deliveries_get_the_link(self, login):
        assert 'href="/messages/deliveries"' in page(login("office"), "/")
        assert 'href="/messages/deliveries"' not in page(login("bazhou"), "/")


class TestTheInbox:
    def test_newest_first_with_the_unread_marked(self, login, world):
        html = page(login("bazhou"), "/messages/inbox")
        ids = world["ids"]
        assert html.index(f'data-message="{ids["inbox"]}"') < html.index(f'data-message="{ids["issued"]}"')
        assert f'data-message="{ids["inbox"]}" class="unread"' in html
        assert f'data-message="{ids["issued"]}" class="read"' in html
        assert "全部标为已读" in html and ids["sms"] not in html  # an SMS is not an in-portal message

    def test_only_unread(self, login, world):
        html = page(login("bazhou"), "/messages/inbox?unread=1")
        assert world["ids"]["inbox"] in html and world["ids"]["issued"] not in html

    def test_opening_one_marks_it_read_as_the_person_and_offers_the_case(self, login, world, services):
        message_id = world["ids"]["inbox"]
        html = page(login("bazhou"), f"/messages/inbox/{message_id}")
        assert services.calls == [("POST", "messages", f"/inbox/{message_id}/read", None, "bazhou")]
        assert "请于时限内整改" in html and f'href="/cases/{P1}"' in html and 'data-status="read"' in html
        assert badge(html) is None  # the count no longer includes it, before the event comes back on the topic

    def test_a_read_that_comes_back_on_the_topic_before_the_page_is_rendered_is_not_counted_twice(
            self, world, portal_context, login, monkeypatch):
        """The messages topic may be quicker than the page: the model has learnt the read when the header is drawn."""
        model = copy.deepcopy(world["model"])
        message_id = world["ids"]["inbox"]
        bus = world["bus"]  # appending to its store changes no other test: they read the model built before
        bus.queue("inbox", "bazhou", "巴州区经办人", BAZHOU, "【预警】消防通道堵塞", notice_id=NOTICE, case_id=P1,
                  occurrence="warning")
        for event in bus.events():
            model.apply("messages", event)  # a second unread message: the count is 2
        unread_before = model.unread_count("bazhou")
        assert unread_before == 2

        class Quick(MessagesService):
            def __call__(self, name, token):
                client = super().__call__(name, token)
                post = client.post

                def read_and_learn(path, body=None, idempotency_key=None):
                    answer = post(path, body, idempotency_key)
                    bus.read(message_id, BAZHOU_HANDLER)
                    for event in bus.events():
                        model.apply("messages", event)  # earlier events are redeliveries: nothing changes
                    return answer

                client.post = read_and_learn
                return client

        monkeypatch.setattr(portal_context, "model", model)
        monkeypatch.setattr(portal_context, "service", Quick())
        html = page(login("bazhou"), f"/messages/inbox/{message_id}")
        assert model.unread_count("bazhou") == unread_before - 1
        assert badge(html) == "1"

    def test_opening_a_read_one_calls_nothing(self, login, world, services):
        html = page(login("bazhou"), f"/messages/inbox/{world['ids']['issued']}")
        assert services.calls == [] and f'href="/notices/{NOTICE}"' in html

    def test_another_persons_message_is_not_found(self, login, world, services):
        page(login("enyang"), f"/messages/inbox/{world['ids']['inbox']}", 404)
        page(login("bazhou"), f"/messages/inbox/{world['ids']['sms']}", 404)  # zhao's SMS, not an inbox message
        assert services.calls == []

    def test_a_failed_mark_is_said_and_the_message_still_shown(self, login, world, services):
        services.refuse = ServiceUnreachable("http://messages", "connection refused")
        html = page(login("bazhou"), f"/messages/inbox/{world['ids']['inbox']}")
        assert "未能标记为已读" in html and "请于时限内整改" in html and badge(html) == "1"

    def test_mark_all_read(self, login, world, services):
        answer = login("bazhou").post("/messages/inbox/read-all")
        assert answer.status_code == 302 and answer.headers["Location"].endswith("/messages/inbox")
        assert services.calls == [("POST", "messages", f"/inbox/{world['ids']['inbox']}/read", None, "bazhou")]


class TestDeliveries:
    def test_office_staff_see_every_delivery_with_its_status_and_masked_address(self, login, world):
        html = page(login("office"), "/messages/deliveries")
        for text in ("已发送", "发送失败", "等待重试", "未读", "138****1234", "z***@example.cn", "139****1111"):
            assert text in html, text
        assert "13812341234" not in html and "zhao@example.cn" not in html

    def test_filters(self, login, world):
        html = page(login("auditor"), "/messages/deliveries?status=dead")
        assert world["ids"]["email"] in html and world["ids"]["sms"] not in html
        html = page(login("office"), "/messages/deliveries?channel=sms")
        assert world["ids"]["sms"] in html and world["ids"]["enyang"] in html and world["ids"]["email"] not in html
        page(login("office"), "/messages/deliveries?status=lost", 422)

    def test_unit_handlers_are_refused(self, login):
        page(login("bazhou"), "/messages/deliveries", 403)
        page(login("bazhou"), "/messages/dead", 403)


class TestTheDeadLetterList:
    ROW = {"id": "msg-1", "channel": "email", "recipient": "zhao", "recipient_name": "赵伟", "unit": BAZHOU,
           "address": "zhao@example.cn", "subject": "【催办】消防通道堵塞", "status": "dead", "attempts": 6,
           "last_error": "550 no mailbox zhao@example.cn", "queued_at": "2024-03-25T01:30:00"}

    def test_read_from_the_messages_service_with_a_retry_button_for_office_staff(self, login, services):
        services.dead = [self.ROW]
        html = page(login("office"), "/messages/dead")
        assert services.calls == [("GET", "messages", "/messages", {"status": "dead", "page": 1, "page_size": 100},
                                   "office")]
        assert "重新发送" in html and "z***@example.cn" in html and "zhao@example.cn" not in html
        assert "2024-03-25 09:30" in html

    def test_retrying_posts_as_the_person(self, login, services):
        answer = login("office").post("/messages/msg-1/retry", data={"reason": "地址已更正"})
        assert answer.status_code == 302 and answer.headers["Location"].endswith("/messages/dead")
        assert services.calls == [("POST", "messages", "/messages/msg-1/retry", {"reason": "地址已更正"}, "office")]

    def test_auditors_see_the_list_but_may_not_retry(self, login, services):
        services.dead = [self.ROW]
        assert "重新发送</button>" not in page(login("auditor"), "/messages/dead")
        assert login("auditor").post("/messages/msg-1/retry", data={}).status_code == 403
        assert [call[0] for call in services.calls] == ["GET"]

    def test_the_service_unavailable_is_a_503_page(self, login, services):
        services.refuse = ServiceUnreachable("http://messages", "connection refused")
        answer = login("office").get("/messages/dead")
        assert answer.status_code == 503 and answer.headers["Retry-After"]
        assert "消息服务暂时不可用" in answer.get_data(as_text=True)

    def test_a_refused_retry_is_said_and_no_blank_reason_is_sent(self, login, services):
        services.refuse = ServiceRefused("http://messages", 409, {"message_zh": "只有发送失败的消息可以重新发送"})
        office = login("office")
        assert office.post("/messages/msg-1/retry", data={"reason": "  "}).status_code == 302
        assert services.calls[0][3] == {}
        services.refuse = None
        assert "未能办理" in page(office, "/messages/dead")  # the refusal, flashed on the list it came from


class TestTheTimelineTellsTheDeliveries:
    SENT = "催办短信已发送至 巴州区教育局 赵伟 138****1234，已送达 10:02"

    def test_the_office_sees_each_delivery_masked(self, login):
        html = page(login("office"), f"/notices/{NOTICE}/timeline")
        assert self.SENT in html
        assert "催办邮件发送至 巴州区教育局 赵伟 z***@example.cn 失败，已转入待处理：550 no mailbox z***@example.cn" in html
        assert "催办短信发送至 恩阳区教育局 孙经办 139****1111 失败（第1次：gateway timeout），将于" in html
        assert "下发督办通知站内消息已送达 巴州区教育局 巴州区经办人，已读 09:31" in html
        assert "13812341234" not in html and "zhao@example.cn" not in html and "13900001111" not in html
        assert html.index("data-event=\"RectificationOpened\"") < html.index('data-delivery="sent"')

    def test_the_exports_are_masked_too(self, login):
        office = login("office")
        sheet = load_workbook(io.BytesIO(office.get(f"/notices/{NOTICE}/timeline?format=xlsx").data)).active
        rows = [[str(v or "") for v in row] for row in sheet.iter_rows(values_only=True)]
        assert any(row[9] == self.SENT for row in rows) and not any("13812341234" in "".join(row) for row in rows)
        assert [row[0] for row in rows[1:]] == [str(n) for n in range(1, len(rows))]  # numbered in one run
        text = office.get(f"/notices/{NOTICE}/timeline?format=csv").data.decode("utf-8-sig")
        lines = list(csv.reader(io.StringIO(text)))
        assert lines == rows and "zhao@example.cn" not in text

    def test_a_unit_sees_only_its_own_deliveries(self, login):
        bazhou = page(login("bazhou"), f"/notices/{NOTICE}/timeline")
        assert self.SENT in bazhou and "孙经办" not in bazhou
        enyang = page(login("enyang"), f"/notices/{NOTICE}/timeline")
        assert "孙经办" in enyang and "赵伟" not in enyang


class TestMasking:
    def test_mobiles_and_addresses(self):
        assert (masked_mobile("13812341234"), masked_email("zhao@example.cn")) == ("138****1234", "z***@example.cn")
        assert mask_contacts("550 zhao@example.cn; SMS 13812341234 refused") == "550 z***@example.cn; SMS 138****1234 refused"

    def test_a_group_message_names_the_group_once(self):
        line = delivery_line({"channel": "wecom", "unit": BAZHOU, "recipient_name": f"{BAZHOU}工作群", "address": None,
                              "subject": "【整改已逾期】x", "status": "queued", "queued_at": None})
        assert line == f"整改已逾期企业微信群消息待发送至 {BAZHOU}工作群"
