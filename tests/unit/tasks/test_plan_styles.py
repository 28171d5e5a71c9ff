"""The parser on the other styles such documents come in.

Each derived document (traditional characters, care-mode pinyin, PDF extraction,
a flattened page) must parse to exactly what its clean original parses to.
The hand-written documents cover （一） groups over ① items, a narrative report,
an official red-header document and a covering notice with an attached plan.
"""
from __future__ import annotations

import pytest
from plan_helpers import assert_clean, assert_schema, read_document

from services.tasks.plan_import import parse_plan


def _outline(result: dict) -> list:
    """Everything a consumer relies on, for comparing two parses."""
    out = [result[key] for key in ("title", "issuer", "doc_number", "date", "year")]
    for section in result["sections"]:
        out.append((section["number"], section["title"], section["goal"]))
        out.extend(
            (item["number"], item["text"], item["deadlines"], item["targets"], item["units"])
            for item in section["items"]
        )
    return out


@pytest.mark.parametrize(
    ("variant", "original"),
    [
        ("anhui-2020-traditional.txt", "anhui-2020-workplan.txt"),
        ("langxi-2023-caremode.txt", "langxi-2023-workplan.txt"),
        ("bazhong-2020-traditional-pinyin.txt", "bazhong-2020-report.txt"),
        ("ningguo-2021-pdf.txt", "ningguo-2021-official.txt"),
        ("anhui-2020-flattened.txt", "anhui-2020-workplan.txt"),
    ],
)
def test_variant_parses_like_its_original(parsed, variant, original):
    result = parsed(variant)
    assert_schema(result)
    assert_clean(result)
    assert _outline(result) == _outline(parsed(original))


def test_traditional_input_is_really_traditional():
    text = read_document("anhui-2020-traditional.txt")
    assert "體制機制" in text and "督導" in text


def test_care_mode_input_really_has_pinyin():
    text = read_document("langxi-2023-caremode.txt")
    assert "郎(láng)溪(xī)县(xiàn)" in text and "的(de)" in text


def test_pdf_input_is_really_wrapped():
    text = read_document("ningguo-2021-pdf.txt")
    assert "１．调整" in text and "— 1 —" in text
    assert "请结\n合实际" in text  # broken mid-word


# ---------------------------------------------------------------------- （一） groups and ① items

XUANCHENG = "xuancheng-2022-subheadings.txt"


def test_subheadings_metadata(parsed):
    result = parsed(XUANCHENG)
    assert result["title"] == "宣城市人民政府教育督导委员会办公室2022年教育督导工作要点"
    assert result["issuer"] == "宣城市人民政府教育督导委员会办公室"
    assert result["doc_number"] == "宣教督办〔2022〕2号"
    assert result["date"] == "2022-02-18"  # 成文日期, not the page's 生成日期 2022-02-21
    assert result["year"] == 2022


def test_subheadings_group_circled_items(parsed):
    sections = parsed(XUANCHENG)["sections"]
    assert [s["number"] for s in sections] == ["一", "二", "三", "四", "五"]
    first = sections[0]["items"]
    assert [i["number"] for i in first] == ["①", "②", "①", "②"]
    assert [i["group"] for i in first] == [
        {"number": "一", "title": "健全教育督导机构"},
        {"number": "一", "title": "健全教育督导机构"},
        {"number": "二", "title": "强化督导结果运用"},
        {"number": "二", "title": "强化督导结果运用"},
    ]
    assert first[1]["text"] == (
        "会同市委编办加强县级教育督导机构建设，确保机构独立设置、人员配备到位，专职督学与学校数之比不低于1∶5。"
    )
    assert first[1]["targets"] == ["1∶5"]
    assert first[1]["units"][0] == "市委编办"
    # a measure that runs over two paragraphs
    assert first[3]["text"] == (
        "对履行教育职责不力、整改不到位的地方政府和学校，依法依规予以约谈、通报和问责。\n"
        "（约谈情况报市委组织部、市纪委监委备案。）"
    )


def test_subheadings_goal_and_multi_paragraph_measure(parsed):
    sections = parsed(XUANCHENG)["sections"]
    second = sections[1]["items"]
    assert [i["number"] for i in second] == ["1", "2"]
    assert second[1]["text"].startswith("配合省政府教育督导委员会做好对我市政府履行教育职责的实地核查")
    assert second[1]["text"].endswith("确保问题整改率达到100%。")
    assert second[1]["deadlines"] == [
        {"text": "9月底前", "date": "2022-09-30"},
        {"text": "10月15日前", "date": "2022-10-15"},
    ]
    third = sections[2]
    assert third["goal"].startswith("2022年，全市学前三年毛入园率达到95%及以上")
    assert third["targets"] == ["达到95%及以上", "达到85%以上"]
    assert [i["number"] for i in third["items"]] == ["①", "②", "①", "②"]
    assert third["items"][0]["deadlines"] == [{"text": "2022年底前", "date": "2022-12-31"}]
    assert third["items"][2]["deadlines"] == [{"text": "2022—2024年", "date": "2024-12-31"}]
    assert third["items"][2]["units"] == ["市财政局", "市人社局"]
    assert third["items"][3]["targets"] == ["200人次"]


def test_subheadings_with_their_own_text_are_items(parsed):
    sections = parsed(XUANCHENG)["sections"]
    fourth = sections[3]["items"]
    assert [i["number"] for i in fourth] == ["一", "二"]
    assert fourth[0]["text"].startswith("完善督学聘任管理。按照《督学管理暂行办法》")
    assert fourth[1]["targets"] == ["不少于2次", "不少于40学时"]
    fifth = sections[4]
    assert fifth["items"] == []
    assert fifth["goal"].startswith("围绕“双减”、校园安全、疫情防控等重点工作")


def test_subheadings_page_is_clean(parsed):
    result = parsed(XUANCHENG)
    assert_schema(result)
    assert_clean(result)
    last = result["sections"][-1]["goal"]
    assert last.endswith("切实发挥督导“利剑”作用。")  # signature and footer cut off


# ---------------------------------------------------------------------- narrative report

XUANZHOU = "xuanzhou-2021-narrative.txt"


def test_narrative_sections_and_enumerations(parsed):
    result = parsed(XUANZHOU)
    assert result["title"] == "多措并举奋力推动我区教育督导工作提质增效"
    assert result["date"] == "2022-01-10"
    assert result["year"] == 2021
    sections = result["sections"]
    assert [s["title"] for s in sections] == [
        "聚焦体制改革，督导机制更加健全",
        "强化督政督学，责任落实更加有力",
        "创新方式方法，督导效能持续提升",
        "下一步工作打算",
    ]
    assert [[i["number"] for i in s["items"]] for s in sections] == [
        ["一是", "二是", "三是"], ["一是", "二是", "三是"], [], ["一是", "二是", "三是"],
    ]
    assert sections[1]["goal"] == "今年以来，全区共开展各类督导检查36次，下发督导意见书52份。"
    assert sections[2]["goal"].startswith("区政府教育督导委员会办公室坚持问题导向")
    assert_clean(result)


def test_narrative_item_texts(parsed):
    sections = parsed(XUANZHOU)["sections"]
    first = sections[0]["items"]
    assert first[0]["text"] == (
        "健全机构。调整区政府教育督导委员会组成人员，将区委组织部、区委宣传部纳入成员单位，进一步明确成员单位职责。"
    )
    assert first[0]["units"] == ["区委组织部", "区委宣传部"]
    assert first[2]["text"].startswith("完善制度。制定《宣州区教育督导问责实施细则》")
    assert sections[1]["items"][2]["units"] == ["区公安分局", "区市场监管局"]
    assert sections[1]["items"][1]["targets"] == ["86所", "137个", "达到98%以上"]
    plans = sections[3]["items"]
    # the section opens with "2022年，": its bare months are in 2022
    assert plans[0]["deadlines"] == [{"text": "6月底前", "date": "2022-06-30"}]
    assert plans[2]["text"] == "加强督学队伍建设，每年组织督学培训不少于2次。"
    assert all("供稿" not in item["text"] for s in sections for item in s["items"])


# ---------------------------------------------------------------------- official document, PDF

NINGGUO = "ningguo-2021-pdf.txt"


def test_official_document_metadata(parsed):
    result = parsed(NINGGUO)
    assert result["title"] == "宁国市2021年教育督导工作计划"
    assert result["issuer"] == "宁国市教育体育局"
    assert result["doc_number"] == "宁教体〔2021〕12号"
    assert result["date"] == "2021-03-02"
    assert result["year"] == 2021


def test_official_document_items(parsed):
    sections = parsed(NINGGUO)["sections"]
    assert [s["number"] for s in sections] == ["一", "二", "三", "四", "五"]
    assert [[i["number"] for i in s["items"]] for s in sections] == [
        ["1", "2"], ["3", "4"], ["5", "6"], ["7", "8"], [],
    ]
    first = sections[0]["items"][0]
    assert first["text"] == (
        "调整市政府教育督导委员会组成人员，由市教育体育局牵头，会同市委组织部、市委编办、市财政局等成员单位，"
        "于2021年4月底前出台《宁国市教育督导委员会工作规则》。"
    )
    assert first["deadlines"] == [{"text": "2021年4月底前", "date": "2021-04-30"}]
    assert first["units"] == ["市教育体育局", "市委组织部", "市委编办", "市财政局"]
    fourth = sections[1]["items"][1]
    assert fourth["text"].endswith("明确责任单位和完成时限，确保2021年底前全部整改到位。")
    assert "宣城市政府教育督导委员会" in fourth["units"]
    fifth = sections[2]["items"][0]
    assert fifth["targets"] == ["达到85%以上", "13.5∶1"]
    assert fifth["deadlines"] == [{"text": "2021—2023年", "date": "2023-12-31"}]
    assert sections[2]["items"][1]["targets"] == ["3所", "新增学位1200个", "80名"] or \
        sections[2]["items"][1]["targets"] == ["3所", "1200个", "80名"]
    assert sections[3]["items"][0]["deadlines"] == [{"text": "每月", "date": None}]


def test_official_document_tail_is_not_content(parsed):
    result = parsed(NINGGUO)
    last = result["sections"][-1]
    assert last["goal"].endswith("及时完成市委市政府交办的其他工作任务。")
    for text in (s["text"] for s in result["sections"]):
        assert "抄送" not in text and "印发" not in text and "请结合实际" not in text


# ---------------------------------------------------------------------- notice + attached plan

def test_covering_notice_with_attached_plan(parsed):
    result = parsed("guangde-2024-notice-attachment.txt")
    assert result["title"] == "广德市2024年教育督导工作要点"
    assert result["doc_number"] == "广教督办〔2024〕1号"
    assert result["issuer"] == "广德市人民政府教育督导委员会办公室"
    assert result["date"] == "2024-01-20"
    sections = result["sections"]
    # the notice's own "一、高度重视 二、狠抓落实" are not the plan's sections
    assert [s["title"] for s in sections] == ["深化督导体制机制改革", "开展政府履职评价", "加强督学队伍建设"]
    assert [[i["number"] for i in s["items"]] for s in sections] == [["1", "2"], ["3"], ["4"]]
    # the task table attached after the plan is not part of the last measure
    assert sections[2]["items"][0]["text"] == "每年培训督学不少于100人次。"
    assert sections[0]["items"][0]["deadlines"] == [{"text": "3月底前", "date": "2024-03-31"}]


# ---------------------------------------------------------------------- small constructed cases

def test_full_width_markers_and_digits():
    text = (
        "某县２０２２年教育督导工作要点\n"
        "一、加强督导\n"
        "１．开展专项督导，覆盖率达到９５％及以上，６月底前完成。\n"
        "２．培训督学２００人次。\n"
        "二、强化问责\n"
        "３．师生比达到１∶１５。\n"
    )
    result = parse_plan(text)
    items = [i for s in result["sections"] for i in s["items"]]
    assert [i["number"] for i in items] == ["1", "2", "3"]
    assert items[0]["text"] == "开展专项督导，覆盖率达到95%及以上，6月底前完成。"
    assert items[0]["targets"] == ["达到95%及以上"]
    assert items[0]["deadlines"] == [{"text": "6月底前", "date": "2022-06-30"}]
    assert items[1]["targets"] == ["培训督学200人次"] or items[1]["targets"] == ["200人次"]
    assert items[2]["targets"] == ["1∶15"]


def test_parenthesised_arabic_and_circled_levels_fold_into_their_measure():
    text = (
        "2024年工作要点\n"
        "一、推进督导评估\n"
        "1.开展义务教育质量监测：\n"
        "（1）组织四年级学生参加监测；\n"
        "（2）形成监测报告。\n"
        "2.开展幼儿园办园行为督导评估。\n"
        "二、加强队伍建设\n"
        "3.培训督学。\n"
    )
    sections = parse_plan(text)["sections"]
    items = sections[0]["items"]
    assert [i["number"] for i in items] == ["1", "2"]
    assert items[0]["text"] == "开展义务教育质量监测：\n（1）组织四年级学生参加监测；\n（2）形成监测报告。"


def test_a_stray_number_inside_a_measure_is_not_an_item():
    text = (
        "2024年工作要点\n"
        "一、加强督导\n"
        "1.开展督导检查，\n"
        "3.5亿元资金全部到位。\n"
        "2.完成评估。\n"
        "二、其他工作\n"
        "完成上级交办的其他工作。\n"
    )
    sections = parse_plan(text)["sections"]
    assert [i["number"] for i in sections[0]["items"]] == ["1", "2"]
    assert sections[0]["items"][0]["text"] == "开展督导检查，3.5亿元资金全部到位。"
    assert sections[1]["items"] == [] and sections[1]["goal"] == "完成上级交办的其他工作。"


def test_out_of_sequence_number_is_text():
    text = (
        "2024年工作要点\n"
        "一、加强督导\n"
        "1.开展督导检查。\n"
        "2.完成评估，主要包括以下方面。\n"
        "7.这一行的编号不连续，是正文。\n"
        "3.开展培训。\n"
    )
    items = parse_plan(text)["sections"][0]["items"]
    assert [i["number"] for i in items] == ["1", "2", "3"]
    assert items[1]["text"].endswith("\n7.这一行的编号不连续，是正文。")


def test_number_alone_on_its_line():
    text = "2024年工作要点\n一、\n加强督导\n1.\n开展督导检查。\n2.\n完成评估。\n二、其他\n3.完成交办工作。\n"
    sections = parse_plan(text)["sections"]
    assert sections[0]["title"] == "加强督导"
    assert [(i["number"], i["text"]) for i in sections[0]["items"]] == [("1", "开展督导检查。"), ("2", "完成评估。")]


def test_inline_heading_sentence_is_split_from_its_text():
    text = "2024年工作要点\n一、加强党的建设。坚持党对教育督导工作的全面领导。\n二、强化督政。开展履职评价。\n"
    sections = parse_plan(text)["sections"]
    assert sections[0]["title"] == "加强党的建设。"
    assert sections[0]["goal"] == "坚持党对教育督导工作的全面领导。"
    assert sections[1]["title"] == "强化督政。"


def test_attribute_lines_stay_with_their_item():
    text = (
        "2024年教育督导重点任务\n"
        "一、深化改革\n"
        "1.修订教育督导委员会工作规则。\n"
        "牵头单位：县教育局；配合单位：县委编办、县财政局\n"
        "完成时限：2024年6月底前\n"
        "2.开展专项督导。\n"
        "二、其他\n"
        "3.完成交办任务。\n"
    )
    item = parse_plan(text)["sections"][0]["items"][0]
    assert item["text"].endswith("完成时限：2024年6月底前")
    assert item["units"] == ["县教育局", "县委编办", "县财政局"]
    assert item["deadlines"] == [{"text": "2024年6月底前", "date": "2024-06-30"}]


def test_single_enumerated_paragraph_without_headings():
    text = (
        "2021年工作总结\n"
        "2021年，全县教育督导工作取得明显成效。一是健全机构，调整督导委员会成员单位。"
        "二是强化督学，聘任责任督学30名。三是开展专项督导，整改率达到100%。\n"
    )
    result = parse_plan(text)
    assert len(result["sections"]) == 1
    assert [i["number"] for i in result["sections"][0]["items"]] == ["一是", "二是", "三是"]
    assert result["sections"][0]["items"][2]["targets"] == ["达到100%"]


def test_page_source_html_is_read_as_text():
    plain = read_document("anhui-2020-workplan.txt")
    paragraphs = "".join(
        f'<p style="text-indent:2em">{line.replace("“", "&ldquo;").replace("”", "&rdquo;")}</p>\n'
        for line in plain.split("\n") if line.strip()
    )
    page = f'<html><body><div class="nav">首页 &gt; 通知公告</div>\n{paragraphs}</body></html>'
    assert parse_plan(page)["sections"] == parse_plan(plain)["sections"]
