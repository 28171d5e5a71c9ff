"""Lead and partner units of a draft task, read from the words of its measure."""
from __future__ import annotations

import time

import pytest

from services.tasks.plan_import import draft_tasks
from services.tasks.plan_import.roles import PlanScope, Roles, assign_roles, is_authority, plan_scope

PROVINCE = PlanScope(("安徽",), 3)
CITY = PlanScope(("宣城",), 2)
COUNTY = PlanScope(("郎溪",), 1)


def _roles(text: str, units: str, scope: PlanScope = PROVINCE) -> tuple[str | None, list[str]]:
    roles = assign_roles(text, units.split(), scope)
    return roles.lead, list(roles.partners)


class TestRoleWords:
    @pytest.mark.parametrize(
        ("text", "units", "lead", "partners"),
        [
            ("由省教育厅牵头，省财政厅、省人社厅配合", "省教育厅 省财政厅 省人社厅", "省教育厅", ["省财政厅", "省人社厅"]),
            ("开展专项督导（省教育厅牵头，省财政厅配合）。", "省教育厅 省财政厅", "省教育厅", ["省财政厅"]),
            ("由省教育厅、省财政厅负责", "省教育厅 省财政厅", "省教育厅", ["省财政厅"]),
            ("省教育厅会同省委组织部开展督导考核", "省教育厅 省委组织部", "省教育厅", ["省委组织部"]),
            ("省财政厅、省人社厅配合，由省教育厅牵头", "省教育厅 省财政厅 省人社厅", "省教育厅", ["省财政厅", "省人社厅"]),
            ("县财政局、县教体局负责保障经费", "县财政局 县教体局", "县财政局", ["县教体局"]),
            ("由市教育体育局牵头，会同市委组织部、市委编办、市财政局等成员单位出台工作规则",
             "市教育体育局 市委组织部 市委编办 市财政局", "市教育体育局", ["市委组织部", "市委编办", "市财政局"]),
            ("协同省公安厅、协助省市场监管局开展检查", "省公安厅 省市场监管局", None, ["省公安厅", "省市场监管局"]),
            ("省教育厅参与，由省财政厅负责", "省教育厅 省财政厅", "省财政厅", ["省教育厅"]),
        ],
    )
    def test_the_body_the_words_mark_as_doer_leads_and_the_others_partner(self, text, units, lead, partners):
        assert _roles(text, units) == (lead, partners)

    def test_with_only_partners_named_no_lead_is_guessed(self):
        assert _roles("会同省委组织部开展县级党政领导干部督导考核", "省委组织部") == (None, ["省委组织部"])

    def test_labelled_lead_and_partner_lines_are_read(self):
        text = "修订工作规则。\n牵头单位：县教育局；配合单位：县委编办、县财政局\n完成时限：2024年6月底前"
        assert _roles(text, "县教育局 县委编办 县财政局", COUNTY) == ("县教育局", ["县委编办", "县财政局"])

    def test_the_responsibility_label_names_the_lead_first(self):
        text = "开展学前教育专项督导。（责任单位：省教育厅、省财政厅、省发展改革委）"
        assert _roles(text, "省教育厅 省财政厅 省发展改革委") == ("省教育厅", ["省财政厅", "省发展改革委"])

    def test_a_comma_separates_clauses_not_the_bodies_of_one_list(self):
        assert _roles("报省政府，省教育厅负责落实", "省政府 省教育厅") == ("省教育厅", [])
        assert _roles("开展督导。（责任单位：省教育厅，省财政厅）", "省教育厅 省财政厅") == ("省教育厅", ["省财政厅"])

    def test_a_higher_authority_marked_as_doer_still_leads(self):
        assert _roles("由省政府牵头，省教育厅配合", "省政府 省教育厅") == ("省政府", ["省教育厅"])

    def test_a_person_in_charge_is_not_a_lead_word(self):
        assert _roles("邀请省教育厅负责同志出席会议", "省教育厅") == (None, [])


class TestWithoutRoleWords:
    def test_the_responsibility_parenthesis_wins_over_a_body_in_the_sentence(self):
        text = "省政府教育督导委员会办公室将按照省政府要求开展专项督导（省教育厅、省财政厅）"
        units = "省政府教育督导委员会办公室 省政府 省教育厅 省财政厅"
        assert _roles(text, units) == ("省教育厅", ["省政府教育督导委员会办公室", "省财政厅"])

    def test_the_subject_of_the_sentence_leads(self):
        text = "省政府教育督导委员会将适时开展市、县两级政府专项督导，确保省委省政府要求落细落实。"
        assert _roles(text, "省政府教育督导委员会 市、县两级政府 省委省政府") == ("省政府教育督导委员会", [])

    @pytest.mark.parametrize(
        ("text", "units"),
        [
            ("向市政府反馈履行教育职责评价中发现的主要问题", "市政府"),
            ("督促各区县政府加大教育项目储备", "各区县政府"),
            ("将区委组织部、区委宣传部纳入成员单位", "区委组织部 区委宣传部"),
            ("（约谈情况报市委组织部、市纪委监委备案。）", "市委组织部 市纪委监委"),
            ("组织开展市级政府履行教育职责评价", "市级政府"),
        ],
    )
    def test_a_body_the_action_is_done_to_is_neither_lead_nor_partner(self, text, units):
        assert _roles(text, units, CITY) == (None, [])

    def test_units_missing_from_the_text_keep_the_old_order(self):
        assert assign_roles("开展督导", ["省教育厅", "省财政厅"], PROVINCE) == Roles("省教育厅", ("省财政厅",))


class TestAuthorities:
    @pytest.mark.parametrize(
        "name",
        ["国务院", "国务院教育督导委员会", "国务院教育督导委员会办公室", "教育部", "中共中央", "省政府", "省委",
         "省委省政府", "省人民政府", "省政府常务会议", "省委全面深化改革委员会", "四川省人民政府教育督导委员会办公室"],
    )
    def test_in_a_provinces_plan(self, name):
        assert is_authority(name, PROVINCE)

    @pytest.mark.parametrize(
        "name", ["省教育厅", "省委组织部", "省委编办", "省政府办公厅", "省政府教育督导委员会", "市政府", "市、县两级政府",
                 "安徽省教育厅", "各市、县（区）政府"],
    )
    def test_not_in_a_provinces_plan(self, name):
        assert not is_authority(name, PROVINCE)

    def test_in_a_county_level_citys_plan_its_prefecture_and_its_own_government_are_authorities(self):
        ningguo = PlanScope(("宁国",), 2)
        assert is_authority("宣城市政府教育督导委员会", ningguo)
        assert is_authority("市委市政府", ningguo) and is_authority("省教育厅", ningguo)
        assert not is_authority("市教育体育局", ningguo) and not is_authority("宁国市教育体育局", ningguo)

    def test_a_district_plan_knows_its_city(self):
        scope = plan_scope({"issuer": "宣城市宣州区教育体育局"})
        assert scope == PlanScope(("宣城", "宣州"), 1)
        assert is_authority("宣城市政府", scope) and is_authority("市教育局", scope) and is_authority("区委区政府", scope)
        assert not is_authority("区委组织部", scope) and not is_authority("区政府教育督导委员会办公室", scope)

    def test_without_a_known_issuer_only_governments_and_party_committees_are_authorities(self):
        unknown = PlanScope()
        assert is_authority("省政府", unknown) and is_authority("巴中市人民政府", unknown) and is_authority("国务院", unknown)
        assert not is_authority("巴中市财政局", unknown) and not is_authority("县教育局", unknown)

    def test_in_a_national_plan_only_national_bodies_are_not_authorities(self):
        national = PlanScope((), 4)
        assert not is_authority("教育部", national) and not is_authority("国务院教育督导委员会办公室", national)
        assert not is_authority("安徽省人民政府", national)

    @pytest.mark.parametrize(
        ("parsed", "scope"),
        [
            ({"issuer": "安徽省人民政府教育督导委员会办公室"}, PlanScope(("安徽",), 3)),
            ({"issuer": None, "title": "2023年郎溪县教育督导工作计划"}, PlanScope(("郎溪",), 1)),
            ({"title": "唱好“三部曲”", "intro": "2020年,巴中市教育督导系统持续深化改革"}, PlanScope(("巴中",), 2)),
            ({"issuer": "国务院教育督导委员会办公室"}, PlanScope((), 4)),
            ({}, PlanScope()),
        ],
    )
    def test_the_plans_place_and_level_come_from_its_issuer_title_or_first_sentence(self, parsed, scope):
        assert plan_scope(parsed) == scope


def _draft(parsed, name: str, number: str) -> tuple[str | None, list[str]]:
    [draft] = [d for d in draft_tasks(parsed(name)) if d["number"] == number]
    return draft["lead_unit"], draft["partner_units"]


class TestSampleDocuments:
    @pytest.mark.parametrize(
        ("name", "number", "lead", "partners"),
        [
            # "报省政府常务会议和省委全面深化改革委员会审定": approvers, not doers (was 省政府)
            ("anhui-2020-workplan.txt", "一.1", None, []),
            ("anhui-2020-workplan.txt", "一.3", "省政府教育督导委员会", []),
            # "向市政府反馈…": the body evaluated (was 市政府)
            ("anhui-2020-workplan.txt", "四.6", None, []),
            # "完成国务院教育督导委员会对省政府…评价自评工作": evaluator and evaluated (was 国务院教育督导委员会)
            ("anhui-2020-workplan.txt", "四.7", None, []),
            ("anhui-2020-workplan.txt", "四.8", None, ["省委组织部"]),
            ("anhui-2020-workplan.txt", "七.18", None, []),
            ("anhui-2020-traditional.txt", "四.7", None, []),
            ("anhui-2020-flattened.txt", "一.1", None, []),
            ("ningguo-2021-official.txt", "一.1", "市教育体育局", ["市委组织部", "市委编办", "市财政局"]),
            ("ningguo-2021-pdf.txt", "一.1", "市教育体育局", ["市委组织部", "市委编办", "市财政局"]),
            ("ningguo-2021-official.txt", "二.3", None, []),
            ("ningguo-2021-official.txt", "二.4", None, []),
            ("ningguo-2021-official.txt", "五", None, []),
            ("xuancheng-2022-subheadings.txt", "二.2", None, []),
            ("xuanzhou-2021-narrative.txt", "二.三是", None, ["区公安分局", "区市场监管局"]),
            ("xuanzhou-2021-narrative.txt", "一.一是", None, []),
            ("xuanzhou-2021-narrative.txt", "三", "区政府教育督导委员会办公室", []),
            ("langxi-2023-workplan.txt", "四", None, []),
            ("langxi-2023-workplan.txt", "五", None, []),
            ("bazhong-2020-report.txt", "二.二是", None, []),
            ("bazhong-2020-report.txt", "三.一是", None, []),
        ],
    )
    def test_each_measure_gets_the_units_its_words_give(self, parsed, name, number, lead, partners):
        assert _draft(parsed, name, number) == (lead, partners)

    def test_xuanchengs_circled_measures_numbered_alike_read_their_own_words(self, parsed):
        drafts = draft_tasks(parsed("xuancheng-2022-subheadings.txt"))
        # ②会同市委编办加强县级教育督导机构建设 / ②对…地方政府和学校…问责。（约谈情况报市委组织部、市纪委监委备案。）
        assert [(d["lead_unit"], d["partner_units"]) for d in drafts if d["number"] == "一.②"] == [
            (None, ["市委编办"]), (None, [])]
        # ①会同市财政局、市人社局，督促各县市区落实优质均衡发展规划
        assert [(d["lead_unit"], d["partner_units"]) for d in drafts if d["number"] == "三.①"][1] == (
            None, ["市财政局", "市人社局"])

    def test_no_higher_authority_is_ever_a_lead_without_a_role_word(self, parsed):
        anhui = draft_tasks(parsed("anhui-2020-workplan.txt"))
        leads = {d["lead_unit"] for d in anhui} | {p for d in anhui for p in d["partner_units"]}
        assert leads.isdisjoint({"省政府", "省委", "省委省政府", "国务院教育督导委员会", "国务院教育督导委员会办公室"})


class TestUnitResolver:
    PARSED = {"issuer": "安徽省人民政府教育督导委员会办公室", "sections": [{"number": "一", "title": "t", "goal": None,
              "items": [{"number": "1", "text": "由省教育厅牵头，省委组织部、安徽省教育厅配合",
                         "units": ["省教育厅", "省委组织部", "安徽省教育厅"]}]}]}

    def test_names_are_kept_as_written_by_default(self):
        [draft] = draft_tasks(self.PARSED)
        assert (draft["lead_unit"], draft["partner_units"]) == ("省教育厅", ["省委组织部", "安徽省教育厅"])

    def test_a_resolver_maps_each_name_to_its_registered_unit_once(self):
        directory = {"省教育厅": "安徽省教育厅", "省委组织部": "中共安徽省委组织部"}
        [draft] = draft_tasks(self.PARSED, resolve=lambda name: directory.get(name, name))
        assert (draft["lead_unit"], draft["partner_units"]) == ("安徽省教育厅", ["中共安徽省委组织部"])


class TestBounds:
    """Reading roles stays cheap on what a broken page can put into one "measure" (hang guards, not speed)."""

    NAMES = [f"省{a}{b}厅" for a in "甲乙丙丁戊己庚辛壬癸" for b in "子丑寅卯辰巳午未申酉戌亥"]

    @pytest.mark.parametrize("size", [19_000, 3_000_000])
    def test_a_long_text_with_many_units_and_parentheses_is_read_in_linear_time(self, size):
        pieces = [f"（由{a}牵头，{b}配合）" for a, b in zip(self.NAMES[::2], self.NAMES[1::2], strict=True)]
        text = ("".join(pieces) * (size // 800 + 1))[:size]
        started = time.process_time()
        roles = assign_roles(text, self.NAMES[:100], PROVINCE)
        assert time.process_time() - started < 5.0
        assert roles.lead == self.NAMES[0]
