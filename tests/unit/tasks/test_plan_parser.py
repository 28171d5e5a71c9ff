"""The work-plan parser on the three published sample documents."""
from __future__ import annotations

import pytest
from plan_helpers import assert_clean, assert_schema

ANHUI = "anhui-2020-workplan.txt"
LANGXI = "langxi-2023-workplan.txt"
BAZHONG = "bazhong-2020-report.txt"


def _items(result: dict) -> list[dict]:
    return [item for section in result["sections"] for item in section["items"]]


def _item(result: dict, number: str) -> dict:
    return next(item for item in _items(result) if item["number"] == number)


# ---------------------------------------------------------------------------------- Anhui

def test_anhui_metadata(parsed):
    result = parsed(ANHUI)
    assert result["title"] == "安徽省人民政府教育督导委员会办公室2020年工作要点"
    assert result["issuer"] == "安徽省人民政府教育督导委员会办公室"
    assert result["doc_number"] is None  # the page shows none
    assert result["date"] == "2020-03-30"
    assert result["year"] == 2020
    assert result["intro"].startswith("教育督导是推动教育政策落实")


def test_anhui_sections(parsed):
    sections = parsed(ANHUI)["sections"]
    assert [s["number"] for s in sections] == ["一", "二", "三", "四", "五", "六", "七"]
    assert [s["title"] for s in sections] == [
        "全面贯彻《关于深化新时代教育督导体制机制改革的意见》",
        "筹备召开省政府教育督导委员会全体会议",
        "加快起草《安徽省教育督导条例》",
        "继续做好教育督政工作",
        "大力推动义务教育优质均衡发展",
        "持续推进责任督学挂牌督导",
        "做好相关专项督导评估工作",
    ]
    assert [len(s["items"]) for s in sections] == [3, 1, 1, 3, 4, 4, 5]


def test_anhui_items_are_numbered_straight_through(parsed):
    assert [item["number"] for item in _items(parsed(ANHUI))] == [str(n) for n in range(1, 22)]


def test_anhui_goals_come_from_the_target_blocks(parsed):
    sections = parsed(ANHUI)["sections"]
    first = sections[0]["goal"]
    assert first.startswith("制定我省《关于深化新时代教育督导体制机制改革的意见》的具体落实措施")
    assert first.endswith("推动教育督导“长牙齿”,树权威。")
    assert "目标任务" not in first and "工作措施" not in first
    assert sections[1]["goal"] == (
        "召开省政府教育督导委员会全体会议,部署我省深化新时代教育督导体制机制改革工作,"
        "充分发挥省政府教育督导委员会成员单位作用。"
    )
    assert sections[6]["goal"].endswith("中西部教育发展评估监测工作等督导评估。")


def test_anhui_item_texts_are_complete(parsed):
    result = parsed(ANHUI)
    first = _item(result, "1")["text"]
    assert first.startswith("根据省委、省政府主要领导的批示精神,以“优化管理体制、完善运行机制、强化结果应用”为突破口")
    assert first.endswith("报省政府常务会议和省委全面深化改革委员会审定后印发执行。")
    assert _item(result, "4")["text"] == (
        "充实调整省政府教育督导委员会成员单位组成人员,明确成员单位职责任务;研究教育督导委员会近期重点工作,"
        "建立完善省政府教育督导委员会议事规程等工作制度。"
    )
    last = _item(result, "21")["text"]
    assert last.startswith("会同相关部门组成若干督查指导组")
    assert last.endswith("对全省教育系统疫情防控、线上教学、返校开学等进行专项督查指导。")
    for item in _items(result):
        assert "工作措施" not in item["text"] and "目标任务" not in item["text"]
        assert item["text"].endswith("。")


def test_anhui_units(parsed):
    result = parsed(ANHUI)
    assert "省委组织部" in _item(result, "8")["units"]
    assert "国务院教育督导委员会" in _item(result, "7")["units"]
    assert "国务院教育督导委员会办公室" in _item(result, "18")["units"]
    assert "省委全面深化改革委员会" in _item(result, "1")["units"]


def test_anhui_is_clean(parsed):
    result = parsed(ANHUI)
    assert_schema(result)
    assert_clean(result)


# ---------------------------------------------------------------------------------- Langxi

LANGXI_TITLES = [
    "持续深化教育督导体制机制改革",
    "持续实施教育督导“一号工程”",
    "持续做好政府履行教育职责评价和考核",
    "扎实推进县域学前教育普及普惠督导评估",
    "稳步推动县域义务教育优质均衡发展督导评估",
    "统筹开展各类专项督导和重点督导",
    "积极开展中小学幼儿园校（园）长任期结束综合督导",
    "统筹协调推进学校（幼儿园）教育质量评价工作",
    "切实加强督学专业队伍建设",
    "大力提升督导工作效能",
    "全面完成市政府教育督导委员会和县委县政府交办的其他工作任务",
]


def test_langxi_metadata(parsed):
    result = parsed(LANGXI)
    assert result["title"] == "2023年郎溪县教育督导工作计划"
    assert result["issuer"] == "郎溪县人民政府教育督导委员会"
    assert result["doc_number"] == "郎教督〔2023〕3号"
    assert result["date"] == "2023-05-05"  # the signature date
    assert result["year"] == 2023
    assert result["intro"].startswith("2023年，郎溪县教育督导工作坚持以习近平新时代中国特色社会主义思想为指导")


def test_langxi_sections_without_measures_are_tasks(parsed):
    sections = parsed(LANGXI)["sections"]
    assert [s["number"] for s in sections] == ["一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "十一"]
    assert [s["title"] for s in sections] == LANGXI_TITLES
    assert all(s["items"] == [] for s in sections)
    assert sections[7]["goal"] == "会同有关方面，统筹协调推进学前教育、义务教育、普通高中、特殊教育等教育质量评价工作。"
    assert sections[10]["goal"] is None  # a heading with no body


def test_langxi_paragraphs_broken_by_page_breaks_are_joined(parsed):
    sections = parsed(LANGXI)["sections"]
    second = sections[1]["goal"]
    assert "聚焦“双减”政策落地的主要矛盾、关键环节和重点事项，开展常态化重点督导" in second
    assert second.endswith("督促学校发挥主阵地作用。")
    seventh = sections[6]["goal"]
    assert "积极配合省、市试点工作，积极开展中小学幼儿园校（园）长任期结束综合督导试点工作" in seventh
    assert "\n" not in second and "\n" not in seventh


def test_langxi_traditional_characters_are_converted(parsed):
    result = parsed(LANGXI)
    first = result["sections"][0]["goal"]
    assert "督导体制机制" in first and "督導" not in first and "體制" not in first
    assert result["sections"][0]["title"] == "持续深化教育督导体制机制改革"


def test_langxi_range_deadline(parsed):
    fifth = parsed(LANGXI)["sections"][4]
    assert {"text": "2023-2025", "date": "2025-12-31"} in fifth["deadlines"]


def test_langxi_is_clean(parsed):
    result = parsed(LANGXI)
    assert_schema(result)
    assert_clean(result)
    for section in result["sections"]:
        assert "印发给你们" not in (section["goal"] or "")


# ---------------------------------------------------------------------------------- Bazhong

def test_bazhong_metadata(parsed):
    result = parsed(BAZHONG)
    assert result["title"] == "唱好“三部曲”,巴中教育督导再上新台阶"
    assert result["issuer"] is None  # a news report: its byline is a journalist
    assert result["doc_number"] is None
    assert result["date"] == "2021-02-02"  # published date
    assert result["year"] == 2020  # "2020年,巴中市教育督导系统…": the year reported on


def test_bazhong_headings_are_sections(parsed):
    sections = parsed(BAZHONG)["sections"]
    assert [s["number"] for s in sections] == ["一", "二", "三"]
    assert [s["title"] for s in sections] == [
        "深化体制机制改革,保障督导规范运行。",
        "切实履行督导职能,突出督查督办实效。",
        "推动政府履行职责,促进教育长远发展。",
    ]
    assert all(s["numbered"] is False for s in sections)


def test_bazhong_enumerations_are_items(parsed):
    sections = parsed(BAZHONG)["sections"]
    assert [[i["number"] for i in s["items"]] for s in sections] == [
        ["一是", "二是", "三是"],
        ["一是", "二是", "三是", "四是"],
        ["一是", "二是"],
    ]
    assert sections[0]["goal"] is None
    assert sections[1]["goal"] == (
        "2020年分别就规范办学行为、重点项目推进、惠民政策落实、教育专项治理等工作,"
        "下发督办通知及工作提示函共39份,督促整改落实事项18件。"
    )


def test_bazhong_item_texts_are_complete(parsed):
    sections = parsed(BAZHONG)["sections"]
    first = sections[0]["items"][0]["text"]
    assert first.startswith("完善督导机构建设。全面落实全国全省全市教育大会精神")
    assert first.endswith("新增了市委组织部、市委宣传部为教育督导成员单位。")
    fourth = sections[1]["items"][3]["text"]
    assert fourth.startswith("开展教育重点任务专项督导。")
    assert fourth.endswith("及时纠正学校食堂运行管理中损害群众利益行为。")
    last = sections[2]["items"][1]["text"]
    assert last.startswith("扎实开展市对区县政府履职实地督导。")
    assert last.endswith("形成了分区县初步反馈意见和问题清单,督促落实整改。")


def test_bazhong_targets_and_units(parsed):
    sections = parsed(BAZHONG)["sections"]
    assert sections[0]["items"][0]["units"] == ["市委组织部", "市委宣传部"]
    assert sections[0]["items"][1]["targets"] == ["5名", "65名"]
    second = sections[1]["items"][1]
    assert "达到100%" in second["targets"] and "投资40.5亿元" in second["targets"]
    assert "各区县政府" in second["units"]
    assert "提高15%" in sections[1]["items"][3]["targets"]
    assert "市政府目标绩效办" in sections[2]["items"][0]["units"]


def test_bazhong_site_text_is_dropped(parsed):
    result = parsed(BAZHONG)
    assert_schema(result)
    assert_clean(result)
    everything = "".join(s["text"] for s in result["sections"])
    assert "本网注明" not in everything and "010-65363526" not in everything


@pytest.mark.parametrize("name", [ANHUI, LANGXI, BAZHONG])
def test_parsing_is_deterministic(parsed, name):
    from plan_helpers import read_document

    from services.tasks.plan_import import parse_plan

    assert parse_plan(read_document(name)) == parsed(name)
