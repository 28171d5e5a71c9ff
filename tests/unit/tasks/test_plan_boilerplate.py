"""Web-page furniture after the last measure is not part of it."""
from __future__ import annotations

import pytest

from services.tasks.plan_import import parse_plan
from services.tasks.plan_import.boilerplate import is_page_furniture, is_tail_marker

PLAN = "郎溪县教育局2023年工作要点\n一、加强督导\n1.开展专项督导，6月底前完成。\n2.组织督学培训，全年培训120人次。\n"
LAST = "组织督学培训，全年培训120人次。"

FURNITURE = [
    "打印", "关闭", "关闭窗口", "关闭本页", "分享", "分享到", "分享到：", "分享：", "扫一扫", "扫一扫在手机打开当前页",
    "在手机上打开当前页", "【打印本页】", "【关闭窗口】", "【打印】 【关闭】", "[ 打印 ] [ 关闭 ]", "打印 关闭", "打印 | 关闭",
    "打印本文", "字号 大 中 小", "字号：大 中 小", "【字号：大 中 小】", "字体：大 中 小", "字体：【大】【中】【小】", "大 中 小",
    "【大 中 小】", "收藏", "【收藏】", "加入收藏", "返回顶部", "【返回顶部】", "↑返回顶部", "TOP", "Top", "顶部",
    "微信", "微博", "QQ空间", "分享到：微信 微博 QQ空间", "扫码阅读", "手机扫码", "手机阅读", "视力保护色", "保存",
    "上一篇", "下一篇", "上一篇：关于开展春季开学专项督导的通知", "下一篇：无",
]


class TestFurnitureAfterTheLastMeasure:
    @pytest.mark.parametrize("line", FURNITURE)
    def test_a_furniture_line_is_not_text_of_the_last_measure(self, line):
        result = parse_plan(PLAN + line + "\n")
        assert result["sections"][-1]["items"][-1]["text"] == LAST

    def test_a_whole_block_of_furniture_is_dropped(self):
        footer = "\n".join(["【打印本页】 【关闭窗口】", "分享到：", "扫一扫在手机打开当前页", "字号 大 中 小", "收藏",
                            "返回顶部", "上一篇：2022年工作总结", "下一篇：无"])
        result = parse_plan(PLAN + "\n" + footer + "\n")
        assert result["sections"][-1]["items"][-1]["text"] == LAST
        assert len(result["sections"][-1]["items"]) == 2

    def test_furniture_right_under_the_last_measure_without_a_blank_line_is_dropped(self):
        result = parse_plan(PLAN.rstrip("\n") + "\n打印 关闭\n")
        assert result["sections"][-1]["items"][-1]["text"] == LAST


class TestMeasuresThatUseTheSameWords:
    @pytest.mark.parametrize(
        "line",
        ["关闭不合格校外培训机构12所", "建立经验分享机制", "收藏优秀督导案例", "利用微信公众号宣传督导工作",
         "打印督导报告并存档", "中小学", "大中小学校"],
    )
    def test_a_sentence_is_not_furniture(self, line):
        assert not is_page_furniture(line)

    def test_a_last_measure_that_mentions_them_is_kept_whole(self):
        result = parse_plan(PLAN + "3.关闭不合格校外培训机构12所，建立经验分享机制。\n")
        assert result["sections"][-1]["items"][-1]["text"] == "关闭不合格校外培训机构12所，建立经验分享机制。"

    def test_furniture_is_a_tail_marker_only_on_a_short_line(self):
        assert is_tail_marker("打印 关闭 分享到 微信 微博")
        assert not is_tail_marker("打印" * 30)
