"""Shared helpers for the work-plan parser tests: sample documents and output checks.

(A uniquely named module rather than ``conftest``: the repository has another
conftest.py, and test modules import these helpers by name.)"""
from __future__ import annotations

from pathlib import Path

import opencc

DOCUMENTS = Path(__file__).resolve().parent / "documents"

# Strings that only page furniture contains; none may reach a section or an item.
BOILERPLATE = (
    "网站地图", "上一篇", "下一篇", "版权", "ICP", "分享", "首页", "责任编辑", "Copyright", "©",
    "打印", "关闭窗口", "相关热词", "相关新闻", "公网安备", "网站标识码", "浏览次数", "发布时间",
    "人民周刊", "热门视频", "网上信访", "扫一扫", "微信", "APP下载", "供稿", "生成日期", "主办",
)

_T2S = opencc.OpenCC("t2s")


def read_document(name: str) -> str:
    return (DOCUMENTS / name).read_text(encoding="utf-8")


def all_strings(value):
    """Every string inside a parse result."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from all_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from all_strings(item)


def assert_clean(result: dict) -> None:
    """No boilerplate in any section or item, nothing traditional, no pinyin."""
    for section in result["sections"]:
        texts = [section["title"], section["goal"] or "", section["text"]]
        texts += [item["text"] for item in section["items"]]
        for text in texts:
            for junk in BOILERPLATE:
                assert junk not in text, f"{junk!r} in section {section['number']}: {text[:60]}"
    for text in all_strings(result):
        assert _T2S.convert(text) == text, f"traditional characters left in: {text[:60]}"
        assert "(jī)" not in text and "ǎ" not in text and "ò" not in text


def assert_schema(result: dict) -> None:
    """The JSON shape promised by `duban plan parse`."""
    assert isinstance(result["title"], str)
    assert result["issuer"] is None or isinstance(result["issuer"], str)
    assert result["doc_number"] is None or isinstance(result["doc_number"], str)
    date = result["date"]
    assert date is None or (isinstance(date, str) and len(date) == 10 and date[4] == "-" and date[7] == "-")
    assert result["year"] is None or isinstance(result["year"], int)
    assert isinstance(result["sections"], list) and result["sections"]
    for section in result["sections"]:
        assert isinstance(section["number"], str) and section["number"]
        assert isinstance(section["title"], str)
        assert section["goal"] is None or isinstance(section["goal"], str)
        for item in section["items"]:
            assert isinstance(item["number"], str) and item["number"]
            assert isinstance(item["text"], str) and item["text"]
            assert not item["text"].startswith(item["number"] + ".")
            for deadline in item["deadlines"]:
                assert set(deadline) == {"text", "date"}
                assert deadline["date"] is None or len(deadline["date"]) == 10
            assert all(isinstance(target, str) for target in item["targets"])
            assert all(isinstance(unit, str) for unit in item["units"])
