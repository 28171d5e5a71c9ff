"""佐证材料 through the portal's case page, against the real followups service on the real MongoDB-protocol server.

The followups service's web app is served over HTTP on a free port by werkzeug in this process (the portal reaches
it by URL, as the signed-in person); its cases are opened from a notice issued through the notices service's own
bus. The portal is a Flask test client whose model is fed the very events the followups store holds.
"""
from __future__ import annotations

import io
import re
import threading
from dataclasses import replace
from datetime import date

import pytest
from PIL import Image
from werkzeug.serving import make_server

from shared.auth import Role, issue_token
from shared.bus import CommandContext
from shared.clock import FixedClock
from shared.contracts import NoticeIssued
from shared.envelope import Actor
from shared.policy import PolicyBook
from shared.web import create_service_app
from services.followups.bootstrap import bootstrap as bootstrap_followups
from services.followups.entrypoints.api import blp as followups_api
from services.followups.reactions import commands_for_notice_issued
from services.notices.bootstrap import bootstrap as bootstrap_notices
from services.notices.domain.commands import IssueNotice, NoticeContent, ProblemInput
from services.portal.adapters.users import UserDirectory
from services.portal.context import PortalContext
from services.portal.domain.model import PortalModel
from services.portal.entrypoints.api import COOKIE, CSRF_FIELD, MAX_REQUEST_BYTES, create_app
from tests.portal_forms import FormClient

TODAY = date(2026, 12, 4)
OFFICE, BAZHOU, ENYANG = "巴中市教育督导室", "巴州区教育局", "恩阳区教育局"


def photo(colour: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (640, 480), colour).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def world(settings):
    """A notice with one problem of 巴州区 (its case opened in followups), followups served over HTTP."""
    clock = FixedClock(TODAY)
    notices = bootstrap_notices(settings, clock=clock)
    followups = bootstrap_followups(settings, clock=clock)
    notices.bus.handle(IssueNotice(NoticeContent(
        kind="督办通知", title="校园安全督办", issuer_unit=OFFICE, target_units=(BAZHOU,),
        problems=(ProblemInput("消防通道堵塞", "清理", BAZHOU, date(2026, 12, 31)),)), notice_id="evidence-n1"),
        CommandContext(Actor("wang", Role.OFFICE_STAFF, OFFICE, "王科长"), correlation_id="c1"))
    [issued] = notices.store.read_stream("evidence-n1")
    for command in commands_for_notice_issued(NoticeIssued.from_data(issued.data)):
        followups.bus.handle(command, CommandContext.caused_by(issued, Actor.system("test")))
    server = make_server("127.0.0.1", 0, create_service_app(lambda: followups, "followups", [followups_api]),
                         threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="followups-http", daemon=True)
    thread.start()
    portal = PortalContext(settings=replace(settings, followups_url=f"http://127.0.0.1:{server.server_port}"),
                           model=PortalModel(), users=UserDirectory.demo(), policies=PolicyBook(), clock=clock)
    app = create_app(portal)
    app.test_client_class = FormClient

    def caught_up():  # the events the topics would carry, as the portal's feed applies them
        for service, context in (("notices", notices), ("followups", followups)):
            for event in context.store.read_all():
                portal.model.apply(service, event)

    def signed_in(username: str, role: str, unit: str, name: str):
        client = app.test_client()
        client.set_cookie(COOKIE, issue_token(settings.jwt_secret, username, role, unit, name))
        with client.session_transaction() as session:
            session[CSRF_FIELD] = "form-token-of-this-test"
        return client

    caught_up()
    try:
        yield signed_in, caught_up
    finally:
        server.shutdown()
        thread.join(10)


CASE = "evidence-n1:P1"


def test_a_handler_attaches_photos_to_the_report_and_everyone_who_sees_the_case_sees_them(world):
    signed_in, caught_up = world
    zhao = signed_in("zhao", Role.UNIT_HANDLER, BAZHOU, "赵伟")
    answer = zhao.post(f"/cases/{CASE}/plan", data={"plan": "清理通道", "idempotency_key": "key-plan-1"})
    assert answer.status_code == 302
    caught_up()
    before, after = photo("red"), photo("green")
    answer = zhao.post(f"/cases/{CASE}/completion", content_type="multipart/form-data", data={
        "summary": "通道已清理", "idempotency_key": "key-report-1", CSRF_FIELD: "form-token-of-this-test",
        "files": [(io.BytesIO(before), "整改前.png"), (io.BytesIO(after), "整改后.png")]}, follow_redirects=True)
    assert "已提交" in answer.get_data(as_text=True), re.findall(r'class="flash[^"]*">([^<]*)', answer.get_data(as_text=True))
    caught_up()

    inspector = signed_in("liu", Role.INSPECTOR, OFFICE, "刘督学")
    page = inspector.get(f"/cases/{CASE}").get_data(as_text=True)
    assert "整改前.png" in page and "整改后.png" in page
    thumbnails = re.findall(r'<img class="thumbnail" src="([^"]+)"', page)
    assert len(thumbnails) == 2
    for src in thumbnails:
        image = inspector.get(src)
        assert image.status_code == 200 and image.mimetype == "image/png"
        assert max(Image.open(io.BytesIO(image.data)).size) <= 240
    downloads = sorted(set(re.findall(r'<a class="download" href="([^"]+)"', page)))
    assert len(downloads) == 2
    files = [inspector.get(href) for href in downloads]
    assert sorted(f.data for f in files) == sorted((before, after))
    for file in files:
        assert file.headers["X-Content-Type-Options"] == "nosniff"
        assert file.headers["Content-Disposition"].startswith("attachment")

    # The audit timeline: the report's line names its files, with who and when the line already has.
    timeline = inspector.get("/notices/evidence-n1/timeline").get_data(as_text=True)
    line = re.search(r'<tr id="event-[^"]+" data-event="RectificationReported".*?</tr>', timeline, re.S).group(0)
    assert "赵伟" in line and "整改前.png" in line and "整改后.png" in line
    exported = inspector.get("/notices/evidence-n1/timeline?format=csv").get_data(as_text=True)
    assert "佐证材料：整改前.png、整改后.png" in exported

    # Another unit's handler sees neither the case nor its files.
    other = signed_in("sun", Role.UNIT_HANDLER, ENYANG, "孙经办")
    for href in (*downloads, *thumbnails):
        assert other.get(href).status_code == 403


def test_a_refused_file_is_named_on_the_page_and_the_step_is_not_posted(world):
    signed_in, caught_up = world
    zhao = signed_in("zhao", Role.UNIT_HANDLER, BAZHOU, "赵伟")
    zhao.post(f"/cases/{CASE}/plan", data={"plan": "清理通道", "idempotency_key": "key-plan-1"})
    caught_up()
    answer = zhao.post(f"/cases/{CASE}/progress", content_type="multipart/form-data", follow_redirects=True, data={
        "summary": "正在清理", "idempotency_key": "key-progress-1", CSRF_FIELD: "form-token-of-this-test",
        "files": [(io.BytesIO(photo("red")), "现场.png"), (io.BytesIO(b"#!/bin/sh\necho hi\n"), "脚本.exe")]})
    page = answer.get_data(as_text=True)
    assert "未能办理" in page and "脚本.exe" in page
    caught_up()
    assert portal_case_status(signed_in) == "planned"  # no progress was reported


def portal_case_status(signed_in) -> str:
    page = signed_in("liu", Role.INSPECTOR, OFFICE, "刘督学").get(f"/cases/{CASE}").get_data(as_text=True)
    return re.search(r'data-status="([^"]+)"', page).group(1)


def test_a_file_the_case_does_not_hold_is_a_404_and_so_is_a_malformed_name(world):
    signed_in, _ = world
    inspector = signed_in("liu", Role.INSPECTOR, OFFICE, "刘督学")
    assert inspector.get(f"/cases/{CASE}/files/{'a' * 64}").status_code == 404
    assert inspector.get(f"/cases/{CASE}/files/not-a-hash/thumbnail").status_code == 404
    assert inspector.get(f"/cases/{CASE}-nope/files/{'a' * 64}").status_code == 404


def test_a_request_larger_than_twenty_files_of_twenty_megabytes_is_a_413_with_the_reason(world):
    signed_in, _ = world
    zhao = signed_in("zhao", Role.UNIT_HANDLER, BAZHOU, "赵伟")
    # what the request says of its length is enough: the portal refuses before reading a byte of it
    answer = zhao.post(f"/cases/{CASE}/progress", data=b"x", content_type="multipart/form-data; boundary=b",
                       environ_overrides={"CONTENT_LENGTH": str(MAX_REQUEST_BYTES + 1)})
    assert answer.status_code == 413 and "每个不超过20MB" in answer.get_data(as_text=True)
    assert MAX_REQUEST_BYTES >= 20 * 20 * 1024 * 1024  # twenty files of 20 MB are never refused for their size
