"""Charts on the report pages (served as images from the portal, so pages print without script), the dashboard's
bar scale, and the 考评 page with its chart and Excel export, for each viewer's scope."""
from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET

from openpyxl import load_workbook

from services.portal.entrypoints.pages_dashboard import BAR_SCALE_FLOOR, bar_scale
from services.portal.entrypoints.pages_evaluation import EVALUATION_HEADERS
from tests.unit.portal import test_pages_reports_plans as reports
from tests.unit.portal.test_pages_reports_plans import BAZHOU, ENYANG, TONGJIANG, page, signed_in

# the pages' story and app, shared with the report pages' tests (fixtures are found by their module-level names)
model, app, office = reports.model, reports.app, reports.office


def image(client, url: str) -> str:
    answer = client.get(url)
    assert answer.status_code == 200, answer.get_data(as_text=True)[:500]
    assert answer.mimetype == "image/svg+xml"
    assert "img-src 'self'" in answer.headers["Content-Security-Policy"]
    svg = answer.get_data(as_text=True)
    ET.fromstring(svg)
    return svg


def img_sources(html: str) -> list[str]:
    return [src.replace("&amp;", "&") for src in re.findall(r'<img class="chart-image"[^>]* src="([^"]+)"', html)]


class TestStatusAndStatisticsCharts:
    def test_the_status_page_shows_its_rows_as_a_chart_of_the_same_grouping_and_period(self, office):
        html = page(office, "/status?by=unit&start=2026-01-01&end=2026-03-01")
        [src] = img_sources(html)
        assert src.startswith("/status/chart.svg?") and "by=unit" in src and "start=2026-01-01" in src
        svg = image(office, src)
        assert all(unit in svg for unit in (BAZHOU, ENYANG, TONGJIANG)) and "在办" in svg and "逾期" in svg

    def test_a_unit_handlers_chart_names_only_its_own_unit(self, app):
        svg = image(signed_in(app, "enyang"), "/status/chart.svg?by=unit")
        assert ENYANG in svg and BAZHOU not in svg and TONGJIANG not in svg

    def test_statistics_shows_three_charts_of_its_period(self, office):
        html = page(office, "/statistics?start=2026-01-01&end=2026-02-28")
        sources = img_sources(html)
        assert [s.split("?")[0] for s in sources] == [
            "/statistics/chart/areas.svg", "/statistics/chart/closings.svg", "/statistics/chart/on_time.svg"]
        assert all("start=2026-01-01&end=2026-02-28" in s for s in sources)
        assert "校园安全" in image(office, sources[0]) and "控辍保学" in image(office, sources[0])
        assert "2026-02" in image(office, sources[1])  # notice-1:P1 closed on 5 Feb
        assert BAZHOU in image(office, sources[2])

    def test_an_unknown_chart_is_a_404_and_a_bad_date_a_422(self, office):
        assert office.get("/statistics/chart/salaries.svg").status_code == 404
        assert office.get("/status/chart.svg?start=yesterday").status_code == 422


class TestDashboardBars:
    def test_one_matter_is_not_a_full_width_bar(self, office):
        assert bar_scale([1]) == bar_scale([]) == BAR_SCALE_FLOOR and bar_scale([3, 25]) == 25
        html = page(office, "/")
        widths = re.findall(r'class="open" style="display:block;width:([\d.]+)%"', html)
        assert widths and all(float(width) < 100 for width in widths)  # the story's units have one or two open


class TestEvaluationPage:
    def test_office_staff_see_every_unit_ranked_with_a_chart_and_the_rule(self, office):
        html = page(office, "/evaluation?start=2026-01-01&end=2026-03-01")
        assert '<a href="/evaluation">考评</a>' in html
        units = re.findall(r'<tr data-key="([^"]+)">', html)
        assert set(units) >= {BAZHOU, ENYANG, TONGJIANG}
        bazhou = re.search(rf'<tr data-key="{BAZHOU}">(.*?)</tr>', html, re.S).group(1)
        cells = re.findall(r'data-col="\d+">([^<]*)<', bazhou)
        assert cells[1] == BAZHOU and cells[7] == "100.0%"  # its one case due was closed on time
        [src] = img_sources(html)
        assert src == "/evaluation/chart.svg?start=2026-01-01&end=2026-03-01"
        svg = image(office, src)
        assert "考评得分" in svg and BAZHOU in svg
        assert "整改按时 40 分" in html

    def test_a_units_own_people_see_only_their_units_row_and_no_nav_link(self, app):
        client = signed_in(app, "enyang")
        html = page(client, "/evaluation")
        assert re.findall(r'<tr data-key="([^"]+)">', html) == [ENYANG]
        assert '<a href="/evaluation">考评</a>' not in html
        assert BAZHOU not in image(client, "/evaluation/chart.svg")

    def test_the_excel_export_holds_the_rows_of_the_page(self, office):
        answer = office.get("/evaluation?start=2026-01-01&end=2026-03-01&format=xlsx")
        assert answer.status_code == 200 and "attachment" in answer.headers["Content-Disposition"]
        rows = list(load_workbook(io.BytesIO(answer.data)).active.iter_rows(values_only=True))
        assert rows[0] == EVALUATION_HEADERS
        assert {row[1] for row in rows[1:]} >= {BAZHOU, ENYANG, TONGJIANG}
        ranks = [row[0] for row in rows[1:] if row[0] != "—"]
        assert ranks == sorted(ranks) and ranks[0] == 1

    def test_a_bad_period_or_format_is_a_422(self, office):
        assert office.get("/evaluation?start=nonsense").status_code == 422
        assert office.get("/evaluation?format=pdf").status_code == 422
