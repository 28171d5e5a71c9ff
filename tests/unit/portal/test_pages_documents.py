"""The portal's .docx downloads (督办通知书, 整改情况报告, 督导工作报告): opened with python-docx, named in Chinese, in the
scope of the page each comes from, and linked from those pages."""
from __future__ import annotations

import io
from urllib.parse import quote

import docx
from flask.testing import FlaskClient

from services.portal.adapters.official_documents import MIME_TYPE
from services.portal.adapters.users import DEMO_OFFICE
from services.portal.entrypoints.api import COOKIE
from tests.unit.portal import test_pages_reports_plans as reports
from tests.unit.portal.test_pages_reports_plans import BAZHOU, ENYANG, page, signed_in

# the story and app of the report pages' tests (fixtures are found by their module-level names)
model, app, office = reports.model, reports.app, reports.office


def download(client, url: str):
    answer = client.get(url)
    assert answer.status_code == 200, answer.get_data(as_text=True)[:500]
    assert answer.mimetype == MIME_TYPE
    assert answer.headers["Content-Disposition"].startswith("attachment; filename*=UTF-8''")
    return answer, docx.Document(io.BytesIO(answer.data))


def texts(document) -> list[str]:
    return [p.text for p in document.paragraphs]


def cells(document) -> list[str]:
    return [cell.text for table in document.tables for row in table.rows for cell in row.cells]


def figures_of(document) -> dict[str, str]:
    """The figures table (项目, 数值) below its header row."""
    rows = [[cell.text for cell in row.cells] for row in document.tables[0].rows]
    assert rows[0] == ["项目", "数值"]
    return dict(rows[1:])


class TestNoticeDocument:
    def test_office_staff_download_the_notice_as_a_gongwen(self, office):
        answer, document = download(office, "/notices/notice-1/document.docx")
        assert quote("督办通知书-关于校舍安全隐患整改的督办通知.docx") in answer.headers["Content-Disposition"]
        all_text = texts(document)
        assert f"{DEMO_OFFICE}文件" in all_text  # 发文机关标志
        assert "巴教督办〔2026〕1号" in all_text and "关于校舍安全隐患整改的督办通知" in all_text
        assert "巴州区人民政府、恩阳区人民政府：" in all_text
        assert {"教学楼存在危房未拆除", "消防通道堵塞", "2026年2月10日"} <= set(cells(document))
        assert "2026年1月10日" in all_text

    def test_a_unit_handler_of_another_unit_is_refused_as_on_the_page(self, app):
        client = signed_in(app, "enyang")
        for notice_id in ("notice-1", "notice-2"):  # sent to the 人民政府, not to 恩阳区教育局
            assert client.get(f"/notices/{notice_id}").status_code == 403
            assert client.get(f"/notices/{notice_id}/document.docx").status_code == 403
        assert client.get("/notices/notice-404/document.docx").status_code == 404

    def test_the_notice_page_links_to_it(self, office):
        assert 'href="/notices/notice-1/document.docx"' in page(office, "/notices/notice-1")


class TestCaseReport:
    def test_the_responsible_unit_downloads_its_report_prefilled_from_the_steps(self, app):
        answer, document = download(signed_in(app, "bazhou"), "/cases/notice-1:P1/report.docx")
        assert quote("关于教学楼存在危房未拆除问题整改情况的报告.docx") in answer.headers["Content-Disposition"]
        all_text = texts(document)
        assert "2026年1月15日，拆除危房并重建" in all_text and "1. 封闭危房" in all_text
        assert any(text.endswith("危房已拆除") for text in all_text)
        assert BAZHOU in all_text

    def test_a_unit_handler_of_another_unit_is_refused_as_on_the_page(self, app):
        client = signed_in(app, "enyang")
        assert client.get("/cases/notice-1:P1").status_code == 403
        assert client.get("/cases/notice-1:P1/report.docx").status_code == 403
        assert client.get("/cases/nothing/report.docx").status_code == 404

    def test_the_case_page_links_to_it(self, office):
        assert 'href="/cases/notice-1:P1/report.docx"' in page(office, "/cases/notice-1:P1")


class TestAnnualReport:
    def test_the_reports_figures_are_the_statistics_pages(self, office):
        url = "/statistics?start=2026-01-01&end=2026-02-28"
        html = page(office, url)
        _, document = download(office, "/statistics/report.docx?start=2026-01-01&end=2026-02-28")
        assert "关于2026年督导工作情况的报告" in texts(document)
        figures = figures_of(document)
        assert figures["下发督办通知及工作提示函（份）"] == "2" and figures["跟踪督办问题（个）"] == "4"
        assert figures["已销号（个）"] == "1" and figures["未销号（个）"] == "3" and figures["整改完成率"] == "25.0%"
        assert all(f">{value}<" in html for key, value in figures.items() if key != "未销号（个）")
        assert len(document.inline_shapes) == 3  # the page's three charts

    def test_a_unit_handler_gets_its_own_scope(self, app):
        _, document = download(signed_in(app, "enyang"), "/statistics/report.docx?start=2026-01-01&end=2026-02-28")
        figures = figures_of(document)
        assert figures["跟踪督办问题（个）"] == "1" and ENYANG in "".join(texts(document))

    def test_a_bad_date_is_a_422_and_the_statistics_page_links_to_the_report(self, office):
        assert office.get("/statistics/report.docx?start=yesterday").status_code == 422
        assert 'href="/statistics/report.docx?start=2026-01-01&amp;end=2026-02-28"' in page(
            office, "/statistics?start=2026-01-01&end=2026-02-28")


class TestScriptsWithAnApiToken:
    """The downloads (and every page) read with `Authorization: Bearer`, as the services are called; reads only."""

    def _token(self, app, username: str) -> str:
        return signed_in(app, username).get_cookie(COOKIE).value

    def test_a_bearer_token_downloads_in_its_holders_scope(self, app):
        token = self._token(app, "bazhou")
        fresh = app.test_client()  # no cookie: only the header speaks
        answer = fresh.get("/cases/notice-1:P1/report.docx", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 200 and answer.mimetype == MIME_TYPE
        assert docx.Document(io.BytesIO(answer.data)).paragraphs
        other = self._token(app, "enyang")
        assert fresh.get("/cases/notice-1:P1/report.docx",
                         headers={"Authorization": f"Bearer {other}"}).status_code == 403

    def test_a_bad_token_is_a_401_not_the_sign_in_page(self, app):
        answer = app.test_client().get("/notices/notice-1/document.docx", headers={"Authorization": "Bearer nonsense"})
        assert answer.status_code == 401

    def test_a_form_is_not_accepted_on_a_bearer_token(self, app, model):
        token = self._token(app, "office")
        answer = FlaskClient(app).post("/notices/notice-1/withdraw", headers={"Authorization": f"Bearer {token}"},
                                       data={"reason": "x"})
        assert answer.status_code in (302, 400, 403)  # a form needs the session and its form token
        assert model.notices["notice-1"].status != "withdrawn"
