"""Server-drawn charts: SVG that parses and names what it shows, PNG of the expected size, same input → same bytes."""
from __future__ import annotations

import struct
import xml.etree.ElementTree as ET

import pytest

from services.portal.adapters import charts

UNITS = ["巴中市发展和改革委员会办公室", "恩阳区教育局", "通江县教育局"]


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


class TestBarChart:
    def test_svg_parses_and_contains_the_title_labels_series_and_values(self):
        svg = charts.bar_chart("部门状态", UNITS, {"未销号": [3, 1, 0], "超期": [1, 0, 0]}).decode()
        root = ET.fromstring(svg)
        assert root.tag.endswith("svg")
        for text in ["部门状态", "恩阳区教育局", "通江县教育局", "未销号", "超期"]:
            assert text in svg
        assert "巴中市发展和改革委" in svg  # a long name is wrapped, not cut

    def test_the_same_input_draws_the_same_bytes_without_a_date(self):
        first = charts.bar_chart("统计", UNITS, {"问题": [5, 2, 1]})
        second = charts.bar_chart("统计", UNITS, {"问题": [5, 2, 1]})
        assert first == second
        assert b"<dc:date>" not in first

    def test_png_has_the_signature_and_the_figure_size(self):
        width, height = png_size(charts.bar_chart("按时率", ["a", "b"], {"按时": [50.0, 100.0]}, fmt="png",
                                                  percent=True))
        assert (width, height) == (600, 450)  # 6 × 4.5 inches at 100 dpi: few short labels stand upright

    def test_many_or_long_labels_lie_horizontally_and_grow_the_figure(self):
        width, height = png_size(charts.bar_chart("x", UNITS * 4, {"s": list(range(12))}, fmt="png"))
        assert width == 800 and height > 450

    def test_percent_values_are_labelled_as_percentages(self):
        svg = charts.bar_chart("按时率", ["a", "b"], {"按时": [87.5, 0.0]}, percent=True).decode()
        assert "87.5%" in svg and "100%" in svg

    def test_nothing_to_show_still_draws(self):
        assert png_size(charts.bar_chart("空", [], {}, fmt="png"))[0] > 0

    def test_a_series_of_the_wrong_length_or_an_unknown_format_is_refused(self):
        with pytest.raises(ValueError):
            charts.bar_chart("x", ["a", "b"], {"s": [1]})
        with pytest.raises(ValueError):
            charts.bar_chart("x", ["a"], {"s": [1]}, fmt="gif")


class TestLineChart:
    def test_svg_names_the_months_and_png_is_a_png(self):
        months = ["2026-01", "2026-02", "2026-03"]
        svg = charts.line_chart("销号", months, {"销号": [2, 5, 0]}).decode()
        ET.fromstring(svg)
        assert all(month in svg for month in months)
        assert png_size(charts.line_chart("销号", months, {"销号": [2, 5, 0]}, fmt="png")) == (600, 400)


class TestFont:
    def test_a_cjk_font_is_found_and_without_one_charts_still_draw(self, monkeypatch):
        assert charts.cjk_font_family()  # the Makefile installs WenQuanYi Zen Hei
        monkeypatch.setattr(charts, "cjk_font_family", lambda: None)
        assert charts.bar_chart("无字体", ["甲"], {"s": [1]}, fmt="png")[:4] == b"\x89PNG"

    def test_without_the_preferred_font_file_fontconfig_finds_another(self, monkeypatch):
        monkeypatch.setattr(charts, "PREFERRED_FONT_FILE", "/nonexistent/font.ttc")
        charts.cjk_font_family.cache_clear()
        try:
            assert charts.cjk_font_family()  # fc-list :lang=zh lists the installed CJK font
        finally:
            charts.cjk_font_family.cache_clear()
