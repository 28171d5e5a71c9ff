"""Deadlines, targets, units and text cleanup, one rule at a time."""
from __future__ import annotations

import pytest

from services.tasks.plan_import.extract import (
    extract_deadlines,
    extract_targets,
    extract_units,
    find_doc_number,
    parse_date,
)
from services.tasks.plan_import.markers import cjk_to_int, int_to_cjk, match_marker
from services.tasks.plan_import.normalize import (
    clean_text,
    remove_pinyin,
    to_paragraphs,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2020年底前完成", [("2020年底前", "2020-12-31")]),
        ("于2023年6月底前出台", [("2023年6月底前", "2023-06-30")]),
        ("9月底前完成整改", [("9月底前", "2024-09-30")]),
        ("2023-2025年分年度推进", [("2023-2025年", "2025-12-31")]),
        ("2023—2025年", [("2023—2025年", "2025-12-31")]),
        ("省三年（2023-2025）行动", [("2023-2025", "2025-12-31")]),
        ("2023年至2025年", [("2023年至2025年", "2025-12-31")]),
        ("每年开展一次", [("每年", None)]),
        ("长期坚持", [("长期", None)]),
        ("持续推进", [("持续", None)]),
        ("2024年3月15日前报送", [("2024年3月15日前", "2024-03-15")]),
        ("10月15日前报市政府", [("10月15日前", "2024-10-15")]),
        ("2024年上半年完成", [("2024年上半年", "2024-06-30")]),
        ("2024年第三季度前", [("2024年第三季度前", "2024-09-30")]),
        ("到2025年，入园率达到95%", [("到2025年", "2025-12-31")]),
        ("年底前完成", [("年底前", "2024-12-31")]),
        ("6月前完成", [("6月前", "2024-05-31")]),  # literally before June
        ("11月下旬", [("11月下旬", "2024-11-30")]),
        ("2月底前", [("2月底前", "2024-02-29")]),
    ],
)
def test_deadlines(text, expected):
    assert [(d["text"], d["date"]) for d in extract_deadlines(text, 2024)] == expected


def test_references_to_years_are_not_deadlines():
    assert extract_deadlines("完成对2019年度市政府履行教育职责评价工作", 2020) == []
    assert extract_deadlines("完成《安徽省2019年幼儿园办园行为督导评估报告》", 2020) == []


def test_deadline_without_a_document_year_has_no_date():
    assert extract_deadlines("9月底前完成", None) == [{"text": "9月底前", "date": None}]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("毛入园率达到95%及以上", ["达到95%及以上"]),
        ("完成率达到100%", ["达到100%"]),
        ("抽查比例不低于30%", ["不低于30%"]),
        ("培训200人次", ["培训200人次"]),
        ("新建学校3所", ["3所"]),
        ("师生比1∶5", ["1∶5"]),
        ("师生比1:5", ["1:5"]),
        ("每名督学负责3至5所学校", ["3至5所学校"]),
        ("共计投资40.5亿元", ["投资40.5亿元"]),
        ("督促兑现落实资金2200余万元", ["2200余万元"]),
        ("2020年3月30日召开", []),
        ("郎教督〔2023〕3号", []),
        ("18:19:45", []),
    ],
)
def test_targets(text, expected):
    assert extract_targets(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("会同省委组织部开展督导考核", ["省委组织部"]),
        ("由省教育厅牵头，省财政厅、省人社厅配合", ["省教育厅", "省财政厅", "省人社厅"]),
        ("督促各市、县（区）政府落实主体责任", ["各市、县（区）政府"]),
        ("县财政局、县教体局负责", ["县财政局", "县教体局"]),
        ("报省政府常务会议和省委全面深化改革委员会审定", ["省政府", "省委全面深化改革委员会"]),
        ("省委编办、省发展改革委", ["省委编办", "省发展改革委"]),
        ("配合宣城市政府教育督导委员会做好评价", ["宣城市政府教育督导委员会"]),
        ("适时开展市、县两级政府专项督导", ["市、县两级政府"]),
        ("各镇人民政府，各街道办事处", ["各镇人民政府", "各街道办事处"]),
        ("会同发改部门、财政部门", ["发改部门", "财政部门"]),
        # no junk: generic words, verbs and document titles are not units
        ("推动县域义务教育学校均衡发展", []),
        ("推动各县市区健全教育督导委员会", []),
        ("开展县(市、区)党政领导干部履行教育职责督导考核", []),
        ("贯彻《安徽省教育督导条例》", []),
        ("协调相关部门和有关方面", []),
        ("服务大局，完善布局", []),
    ],
)
def test_units(text, expected):
    assert extract_units(text) == expected


def test_doc_number_only_from_its_own_line():
    assert find_doc_number(["皖教督〔2020〕5号"]) == "皖教督〔2020〕5号"
    assert find_doc_number(["文号：宣教督办[2022]2号  成文日期：2022-02-18"]) == "宣教督办〔2022〕2号"
    assert find_doc_number(["郎教督（2023）3号"]) == "郎教督〔2023〕3号"
    # a number cited inside a sentence belongs to another document
    assert find_doc_number(["根据《关于深化新时代教育督导体制机制改革的意见》（中办发〔2020〕5号）精神，制定本要点。"]) is None


def test_parse_date_formats():
    assert parse_date("2023年5月5日").isoformat() == "2023-05-05"
    assert parse_date("二〇二三年五月五日").isoformat() == "2023-05-05"
    assert parse_date("发布时间：2021-02-02 18:19:45").isoformat() == "2021-02-02"
    assert parse_date("2020/3/30").isoformat() == "2020-03-30"
    assert parse_date("2023年2月30日") is None


# ---------------------------------------------------------------------- markers

@pytest.mark.parametrize(
    ("text", "rank", "number"),
    [
        ("一、加强督导", 1, "一"),
        ("十一、其他工作", 1, "十一"),
        ("（一）健全机构", 2, "一"),
        ("(二)强化问责", 2, "二"),
        ("1.开展督导", 3, "1"),
        ("12、开展督导", 3, "12"),
        ("（1）组织监测", 4, "1"),
        ("①推动各地", 5, "①"),
        ("⑴推动各地", 4, "1"),
        ("第一部分 总体要求", 0, "一"),
    ],
)
def test_markers(text, rank, number):
    marker = match_marker(text)
    assert (marker.rank, marker.number) == (rank, number)


@pytest.mark.parametrize("text", ["1.5亿元资金到位", "2023年工作", "一、二年级学生", "十三五规划", "加强督导"])
def test_not_markers(text):
    assert match_marker(text) is None


def test_numerals():
    assert [cjk_to_int(t) for t in ("一", "十", "十一", "二十三", "一百零五", "二〇二三")] == [1, 10, 11, 23, 105, 2023]
    assert [int_to_cjk(n) for n in (1, 10, 11, 23, 105, 110)] == ["一", "十", "十一", "二十三", "一百零五", "一百一十"]


# ---------------------------------------------------------------------- cleanup

def test_pinyin_annotations_are_removed():
    assert remove_pinyin("機(jī)構(gòu)") == "機構"
    assert remove_pinyin("教育督導(dǎo)會(huì)議") == "教育督导会议".replace("导", "導").replace("会", "會").replace("议", "議")
    assert remove_pinyin("机（jī）构（gòu）的(de)") == "机构的"  # toneless only in care mode
    # an ordinary document keeps Latin text in parentheses
    assert remove_pinyin("利用智能平台(app)开展督导(ai)") == "利用智能平台(app)开展督导(ai)"


def test_clean_text_converts_traditional_and_full_width():
    assert clean_text("教育督導體制機(jī)制改革，達到９５％") == "教育督导体制机制改革，达到95%"
    assert clean_text("１．开展督导") == "1.开展督导"
    assert clean_text("⼀、⼯作") == "一、工作"  # Kangxi radicals from PDF fonts


def test_web_text_broken_by_a_page_break_is_joined():
    text = (
        "一、持续实施教育督导\n"
        "制定“双减”督导工作方案，聚焦“双减”政策落地的主要矛盾、关键环节\n\n"
        "和重点事项，开展常态化督导。\n"
        "二、其他工作"
    )
    assert to_paragraphs(text) == [
        "一、持续实施教育督导",
        "制定“双减”督导工作方案，聚焦“双减”政策落地的主要矛盾、关键环节和重点事项，开展常态化督导。",
        "二、其他工作",
    ]


def test_short_lines_without_punctuation_are_not_joined():
    # titles, headings and signatures end without punctuation but are complete
    text = "郎溪县人民政府教育督导委员会\n2023年5月5日\n2023年郎溪县教育督导工作计划\n2023年，全县教育督导工作坚持以人民为中心。"
    assert len(to_paragraphs(text)) == 4


def test_layout_spaces_are_removed():
    assert to_paragraphs("2023 年郎溪县教育督导 工作计划") == ["2023年郎溪县教育督导工作计划"]
