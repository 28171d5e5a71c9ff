"""The case page's 佐证材料 (evidence files): the forms' file inputs, each step's files listed with thumbnails and
download links, the timeline's lines naming them, and the portal's own refusals (too many files, a file the case does
not hold, a case the viewer does not see) made before any service is called. The followups service's side is in
tests/integration/test_portal_evidence_files.py."""
from __future__ import annotations

import csv
import io
import re
from datetime import date

import pytest

from shared.clock import FixedClock
from shared.config import Settings
from shared.policy import PolicyBook
from services.portal.adapters.users import UserDirectory
from services.portal.context import PortalContext
from tests.unit.portal import test_pages_messages
from tests.unit.portal.test_pages_notices_cases import Recorder, closed_port
from tests.unit.portal_model import test_portal_evidence_model as evidence_model

CASE = "n1:P1"
login = test_pages_messages.login  # signs a demo person in on this module's portal_context
world, events = evidence_model.world, evidence_model.events  # the steps and the files they attached


@pytest.fixture
def portal_context(events):
    nowhere = f"http://127.0.0.1:{closed_port()}"  # nothing listens here: a call to a service fails to connect
    return PortalContext(settings=Settings(followups_url=nowhere, notices_url=nowhere), model=evidence_model.built(events),
                         users=UserDirectory.demo(), policies=PolicyBook(), clock=FixedClock(date(2020, 9, 2)))


def text(answer, status: int = 200) -> str:
    assert answer.status_code == status, (answer.status_code, answer.get_data(as_text=True)[:1500])
    return answer.get_data(as_text=True)


class TestTheCasePage:
    def test_lists_each_file_with_its_step_and_who_a_thumbnail_for_each_picture_and_a_link_for_every_file(self, login):
        html = text(login("inspector").get(f"/cases/{CASE}"))
        table = re.search(r'<table class="attachments">.*?</table>', html, re.S).group(0)
        assert re.findall(r"<tr data-sha256=\"(\w+)\">", table) == ["a" * 64, "b" * 64, "c" * 64]
        assert "提交整改报告" in table and "h-巴州区教育局" in table and "复查通过" in table and "liu" in table
        thumbnails = re.findall(r'<img class="thumbnail" src="([^"]+)"', table)
        assert thumbnails == [f"/cases/{CASE}/files/{'a' * 64}/thumbnail", f"/cases/{CASE}/files/{'b' * 64}/thumbnail"]
        assert re.findall(r'<a class="download" href="[^"]+" download>([^<]+)</a>', table) == [
            "整改前.png", "整改后.png", "复查记录.pdf"]
        assert "88 KB" in table  # 90 000 bytes

    def test_the_step_forms_carry_a_file_input_and_the_form_token(self, login):
        html = text(login("office").get("/cases/n1:P2"))  # open: the office's 延期 form is there
        form = re.search(r'<form[^>]*action="/cases/n1:P2/extension".*?</form>', html, re.S).group(0)
        assert 'enctype="multipart/form-data"' in form and '<input type="file" name="files" multiple>' in form
        assert 'name="csrf_token"' in form


class TestTheTimeline:
    def test_the_steps_line_names_its_files_and_the_export_too(self, login):
        inspector = login("inspector")
        html = text(inspector.get("/notices/n1/timeline"))
        first, second = re.findall(r'<tr id="event-[^"]+" data-event="RectificationReported".*?</tr>', html, re.S)
        assert "佐证材料" not in first and "整改前.png" in second and "整改后.png" in second
        rows = list(csv.reader(io.StringIO(text(inspector.get("/notices/n1/timeline?format=csv")).lstrip("\ufeff"))))
        assert any(row[-1].endswith("佐证材料：整改前.png、整改后.png") for row in rows)


class TestThePortalRefusesBeforeCallingTheService:
    @pytest.fixture
    def services(self, portal_context, monkeypatch):
        recorder = Recorder()
        monkeypatch.setattr(portal_context, "service", recorder)
        return recorder

    def test_more_than_twenty_files(self, login, services):
        files = [(io.BytesIO(b"%PDF-1.4 a"), f"{n}.pdf") for n in range(21)]
        answer = login("bazhou").post(f"/cases/{CASE}/progress", content_type="multipart/form-data",
                                      follow_redirects=True, data={"summary": "进展", "files": files})
        assert "一次最多上传20个文件" in text(answer) and services.calls == []

    def test_an_empty_file(self, login, services):
        answer = login("bazhou").post(f"/cases/{CASE}/progress", content_type="multipart/form-data",
                                      follow_redirects=True, data={"summary": "进展", "files": [(io.BytesIO(b""), "空.png")]})
        assert "空.png 是空文件" in text(answer) and services.calls == []

    def test_no_file_chosen_posts_the_step_without_files(self, login, services):
        login("bazhou").post(f"/cases/{CASE}/progress", content_type="multipart/form-data",
                             data={"summary": "进展", "files": [(io.BytesIO(b""), "")]})
        [(_, path, body, _, _)] = services.calls
        assert path == "/cases/n1%3AP1/progress" and "files" not in body


class TestTheFileRoutes:
    def test_a_viewer_who_may_not_see_the_case_is_refused_its_files(self, login):
        enyang = login("enyang")
        for path in (f"files/{'a' * 64}", f"files/{'a' * 64}/thumbnail"):
            text(enyang.get(f"/cases/{CASE}/{path}"), 403)

    def test_a_file_the_case_does_not_hold_a_malformed_name_and_a_thumbnail_of_a_pdf_are_404s(self, login):
        inspector = login("inspector")
        for path in (f"files/{'d' * 64}", "files/AAAA", f"files/{'c' * 64}/thumbnail"):
            text(inspector.get(f"/cases/{CASE}/{path}"), 404)

    def test_the_followups_service_out_of_reach_is_a_503_not_a_500(self, login):
        answer = login("inspector").get(f"/cases/{CASE}/files/{'a' * 64}")
        assert answer.status_code == 503 and answer.headers["Retry-After"]
