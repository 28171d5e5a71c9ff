"""The portal's .xlsx exports with text no spreadsheet can hold, and the portal when a service is unavailable.

Events recorded before the APIs refused control characters may carry them (a bell in a problem's text, a vertical
tab in a unit's name): every export still answers, without them. A service that cannot be reached, does not answer
in time or answers 503 makes the portal answer 503 with Retry-After (retry later), not 500 or 502.
"""
from __future__ import annotations

import io
from datetime import date

import pytest
from flask import Flask
from openpyxl import load_workbook

import services.api_client as api_client
from shared.auth import Role
from shared.bus import CommandContext
from shared.clock import FixedClock
from shared.config import Settings
from shared.envelope import Actor
from shared.eventstore.memory import InMemoryEventStore
from shared.policy import PolicyBook
from services.api_client import HttpAnswer, ServiceRefused, ServiceUnreachable
from services.followups.bootstrap import bootstrap as bootstrap_followups
from services.notices.bootstrap import bootstrap as bootstrap_notices
from services.notices.domain import commands as nc
from services.portal.adapters.users import DEMO_OFFICE, DEMO_PASSWORD, UserDirectory
from services.portal.context import PortalContext
from services.portal.domain.model import PortalModel
from services.portal.entrypoints.api import create_app
from tests.portal_forms import FormClient

OFFICE = Actor("office", Role.OFFICE_STAFF, DEMO_OFFICE)
BELL_UNIT = "巴州区\x0b教育局"  # a vertical tab pasted from a word processor


def model_with_control_characters() -> PortalModel:
    clock = FixedClock(date(2026, 1, 10))
    notices = bootstrap_notices(store=InMemoryEventStore(), clock=clock, policies=PolicyBook())
    followups = bootstrap_followups(store=InMemoryEventStore(), clock=clock, policies=PolicyBook())
    content = nc.NoticeContent(
        kind="督办通知", title="关于校舍安全\x07的督办通知", issuer_unit=DEMO_OFFICE, target_units=("巴州区人民政府",),
        problems=(nc.ProblemInput("危房\x07未拆除", "限期\x1b拆除", BELL_UNIT, deadline=date(2026, 2, 10)),
                  nc.ProblemInput("=消防通道堵塞\x01", "立即清理", "恩阳区教育局", deadline=date(2026, 2, 20))),
        doc_number="巴教督办〔2026〕1号\x08")
    notices.bus.handle(nc.IssueNotice(content=content, notice_id="notice-1"), CommandContext(OFFICE, "corr-1"))
    model = PortalModel()
    for event in notices.store.read_all():
        assert model.apply("notices", event)
        followups.reactions["notices"](event)
    for event in followups.store.read_all():
        assert model.apply("followups", event)
    return model


class FailingClient:
    """A service client whose every call fails with ``error``."""

    def __init__(self, error: Exception):
        self.error = error
        self.base_url, self.token, self.timeout = "http://127.0.0.1:9", "t", 1.0

    def post(self, *_args, **_kwargs):
        raise self.error

    def get(self, *_args, **_kwargs):
        raise self.error


@pytest.fixture(scope="module")
def context() -> PortalContext:
    settings = Settings(jwt_secret="portal-outage-test-secret-of-32-bytes-or-more", log_level="WARNING")
    return PortalContext(settings=settings, model=model_with_control_characters(), users=UserDirectory.demo(),
                         policies=PolicyBook(), clock=FixedClock(date(2026, 3, 1)))


@pytest.fixture(scope="module")
def app(context) -> Flask:
    app = create_app(context)
    app.test_client_class = FormClient  # posts carry the form token, as the portal's pages do

    @app.get("/test-only/uncaught/<kind>")
    def uncaught(kind: str):
        raise {"unreachable": ServiceUnreachable("http://notices", "timed out"),
               "unavailable": ServiceRefused("http://notices", 503, {"code": "service_unavailable", "message": "down",
                                                                     "message_zh": "数据库暂时不可用，请稍后重试"}),
               "broken": ServiceRefused("http://notices", 500, {"code": "internal_error"})}[kind]

    return app


@pytest.fixture
def office(app):
    client = app.test_client()
    assert client.post("/login", data={"username": "office", "password": DEMO_PASSWORD}).status_code == 302
    return client


def workbook_rows(answer) -> list[list]:
    assert answer.status_code == 200, answer.get_data(as_text=True)[:1000]
    sheet = load_workbook(io.BytesIO(answer.get_data())).active
    return [[cell.value for cell in row] for row in sheet.iter_rows()]


class TestExportsOfTextNoSpreadsheetCanHold:
    def test_the_ledger_exports_without_the_characters(self, office):
        rows = workbook_rows(office.get("/ledger?format=xlsx"))
        text = "\n".join(str(value) for row in rows for value in row if value is not None)
        assert "危房未拆除" in text and "巴州区教育局" in text and "关于校舍安全的督办通知" in text
        assert not any(c in text for c in "\x01\x07\x08\x0b\x1b")
        assert "'=消防通道堵塞" in text  # still inert once cleaned

    def test_the_status_table_by_unit_exports(self, office):
        rows = workbook_rows(office.get("/status?format=xlsx&by=unit"))
        assert "巴州区教育局" in [row[0] for row in rows]

    def test_the_timeline_exports(self, office):
        rows = workbook_rows(office.get("/notices/notice-1/timeline?format=xlsx"))
        assert len(rows) > 1

    def test_the_page_itself_shows_the_rows(self, office):
        assert office.get("/ledger").status_code == 200


class TestAServiceUnavailable:
    @pytest.mark.parametrize("error", [
        ServiceUnreachable("http://127.0.0.1:9/plans/preview", "no answer within 30 s (timed out)"),
        ServiceRefused("http://tasks/plans/preview", 503, {"code": "service_unavailable", "status": 503, "message": "down",
                                                           "message_zh": "数据库暂时不可用，请稍后重试"})])
    def test_a_plan_preview_is_a_503_with_retry_after(self, office, context, monkeypatch, error):
        monkeypatch.setattr(context, "service", lambda name, token: FailingClient(error))
        answer = office.post("/plans/preview", data={"text": "巴中市2026年教育督导工作要点"})
        assert answer.status_code == 503 and answer.headers["Retry-After"] == "5"
        assert "请稍后重试" in answer.get_data(as_text=True)

    def test_a_plan_import_to_an_unavailable_service_is_a_503(self, office, monkeypatch):
        monkeypatch.setattr(api_client, "http_call", lambda method, url, **_: HttpAnswer(
            503, {"content-type": "application/json", "retry-after": "5"},
            b'{"code": "service_unavailable", "status": 503, "message": "down", "message_zh": "x"}', url))
        form = {"title": "2026年全市教育督导工作要点", "year": "2026", "tasks-0-number": "1",
                "tasks-0-text": "开展校舍安全专项督导"}
        answer = office.post("/plans/import", data=form)
        assert answer.status_code == 503 and answer.headers["Retry-After"] == "5"

    def test_another_failure_of_the_service_is_a_502(self, office, context, monkeypatch):
        broken = ServiceRefused("http://tasks/plans/preview", 500, {"code": "internal_error", "status": 500})
        monkeypatch.setattr(context, "service", lambda name, token: FailingClient(broken))
        answer = office.post("/plans/preview", data={"text": "巴中市2026年教育督导工作要点"})
        assert answer.status_code == 502 and "Retry-After" not in answer.headers

    def test_issuing_a_notice_while_the_service_is_unavailable_is_a_503_keeping_the_form(self, office, context,
                                                                                         monkeypatch):
        unavailable = ServiceRefused("http://notices/notices", 503, {
            "code": "service_unavailable", "status": 503, "message": "down", "message_zh": "数据库暂时不可用，请稍后重试"})
        monkeypatch.setattr(context, "service", lambda name, token: FailingClient(unavailable))
        form = {"kind": "督办通知", "title": "关于食品安全的督办通知", "issuer_unit": DEMO_OFFICE,
                "target_units": "巴州区人民政府", "idempotency_key": "portal-0123456789", "rows": "5",
                "problems-0-description": "食堂未公示菜谱", "problems-0-responsible_unit": "巴州区教育局",
                "problems-0-deadline_days": "10",
                "problems-0-deadline_kind": "calendar"}
        answer = office.post("/notices/new", data=form)
        html = answer.get_data(as_text=True)
        assert answer.status_code == 503 and answer.headers["Retry-After"] == "5"
        assert "数据库暂时不可用，请稍后重试" in html and "食堂未公示菜谱" in html

    @pytest.mark.parametrize("kind, status", [("unreachable", 503), ("unavailable", 503), ("broken", 502)])
    def test_a_call_no_page_caught_is_a_503_or_502_page_or_json_not_a_500(self, office, kind, status):
        page = office.get(f"/test-only/uncaught/{kind}")
        assert page.status_code == status and "服务" in page.get_data(as_text=True)
        as_json = office.get(f"/test-only/uncaught/{kind}", headers={"Accept": "application/json"})
        assert as_json.status_code == status and as_json.get_json()["status"] == status
        if status == 503:
            assert page.headers["Retry-After"] == as_json.headers["Retry-After"] == "5"
            assert as_json.get_json()["code"] == "service_unavailable"
