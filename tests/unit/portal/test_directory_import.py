"""Reading a workbook of units and people for the directory: headers by name, every bad cell named with its sheet, row
and column, units parents first, and what the directory already has marked to be skipped."""
from __future__ import annotations

import io
from dataclasses import dataclass, field

import pytest
from openpyxl import Workbook, load_workbook

from services.portal.adapters.directory_workbook import read_directory_workbook, template_workbook
from services.portal.adapters.ledger_workbook import UnreadableWorkbook
from services.portal.domain.directory_import import (PERSON_COLUMNS, UNIT_COLUMNS, in_tree_order, person_column,
                                                     read_directory, unit_column)

CITY, BAZHOU, SCHOOL = "巴中市教育局", "巴州区教育局", "巴州区第三小学"
PASSWORD = "Bazhong-2026"
UNIT_HEADERS = ["单位名称", "类别", "上级单位", "简称", "行政区划代码"]
PERSON_HEADERS = ["用户名", "姓名", "所属单位", "角色", "手机", "邮箱", "初始密码"]


@dataclass
class Sheet:
    headers: list
    rows: list = field(default_factory=list)
    header_row: int = 1

    def __post_init__(self):
        self.rows = [(number, cells) for number, cells in enumerate(self.rows, start=self.header_row + 1)]


def units(*rows) -> Sheet:
    return Sheet(UNIT_HEADERS, list(rows))


def people(*rows) -> Sheet:
    return Sheet(PERSON_HEADERS, list(rows))


def person(username="zhao", name="赵伟", unit=BAZHOU, roles="责任单位经办人", mobile="13812341234",
           email="zhao@example.cn", password=PASSWORD) -> list:
    return [username, name, unit, roles, mobile, email, password]


def texts(result) -> list[str]:
    return [error.text() for error in result.errors]


class TestAGoodWorkbook:
    def test_units_come_parents_first_and_people_with_their_roles_in_the_order_given(self):
        result = read_directory(
            units([SCHOOL, "学校", BAZHOU, None, None], [BAZHOU, "教育局", CITY, "巴州区", 511902],
                  [CITY, "教育局", None, None, "511900"]),
            people(person(roles="单位负责人、责任单位经办人", mobile=13812341234.0),
                   person(username="office.wang", name="王科长", unit=None, roles="督导办工作人员", mobile=None, email=None)),
            existing_units={})
        assert result.ok and result.errors == []
        assert [(u.name, u.parent, u.depth) for u in result.units] == [(CITY, None, 0), (BAZHOU, CITY, 1),
                                                                      (SCHOOL, BAZHOU, 2)]
        assert result.units[1].body() == {"name": BAZHOU, "kind": "bureau", "parent": CITY, "short_name": "巴州区",
                                          "region_code": "511902"}
        zhao, wang = result.people
        assert zhao.body() == {"username": "zhao", "name": "赵伟", "unit": BAZHOU, "roles": ["unit_leader", "unit_handler"],
                               "password": PASSWORD, "mobile": "13812341234", "email": "zhao@example.cn"}
        assert (wang.unit, wang.roles, wang.mobile) == (None, ("office_staff",), None)
        assert PASSWORD not in repr(zhao)  # a password never reaches a log line through the entry's repr

    def test_units_the_directory_has_are_marked_and_may_be_parents_but_merged_ones_may_not(self):
        result = read_directory(units([BAZHOU, "教育局", CITY, None, None], [SCHOOL, "学校", BAZHOU, None, None]),
                                people(person(unit="恩阳区教育局")),
                                existing_units={CITY: True, BAZHOU: True, "恩阳区教育局": True})
        assert result.ok and [u.exists for u in result.units] == [True, False]
        assert [u.name for u in result.new_units] == [SCHOOL]

    def test_headers_are_found_by_name_in_any_order_with_aliases_marks_and_extra_columns(self):
        sheet = Sheet(["序号", "类别*", "单位全称", "备注"], [[1, "学校", SCHOOL, "新建"]])
        result = read_directory(sheet, None, existing_units={})
        assert result.ok and (result.units[0].name, result.units[0].kind) == (SCHOOL, "school")
        assert (unit_column("上级单位（全称）"), person_column("手机号码"), unit_column("姓名")) == ("上级单位", "手机", None)

    def test_blank_rows_are_skipped_and_only_one_sheet_may_be_given(self):
        result = read_directory(None, people([None] * 7, person(), ["", " "]), existing_units={BAZHOU: True})
        assert result.ok and [p.row for p in result.people] == [3]


class TestEveryMistakeIsNamed:
    def test_bad_unit_cells_name_row_and_column(self):
        result = read_directory(units(["某中学", "学堂", None, None, "5119"], ["", "学校", None, None, None],
                                      ["某小学", "学校", "某小学", None, None], ["某幼儿园", "学校", "某某区教育局", None, None]),
                                None, existing_units={})
        assert texts(result) == [
            "单位表 第2行 类别：无法识别的类别 '学堂'，应为督导委员会办公室、教育局、成员单位、学校、其他之一",
            "单位表 第2行 行政区划代码：'5119' 应为6至12位数字",
            "单位表 第3行 单位名称：不能为空",
            "单位表 第4行 上级单位：不能是本单位",
            "单位表 第5行 上级单位：“某某区教育局”既不在名录中，也不在本表中",
        ]
        assert not result.ok

    def test_a_merged_parent_a_twin_and_a_loop_are_mistakes(self):
        result = read_directory(units(["甲", "学校", "乙", None, None], ["乙", "学校", "甲", None, None],
                                      ["丙", "学校", "已撤并的局", None, None], ["丙", "学校", None, None, None]),
                                None, existing_units={"已撤并的局": False})
        assert texts(result) == ["单位表 第2行 上级单位：上级单位之间构成循环（某单位成了自己的下级）",
                                 "单位表 第3行 上级单位：上级单位之间构成循环（某单位成了自己的下级）",
                                 "单位表 第4行 上级单位：“已撤并的局”已撤并，不能作为上级单位",
                                 "单位表 第5行 单位名称：与第4行重复"]

    def test_bad_person_cells_name_row_and_column(self):
        result = read_directory(None, people(
            person(username="赵", roles="经理、督学"),
            person(username="li", unit=None, roles="责任单位经办人", mobile="1381234", email="li@", password="short"),
            person(username="Zhao", password="zhao-2026-Bazhong"),
            person(username="zhao"),
            person(username="wu", unit="不存在的单位", name=""),
        ), existing_units={BAZHOU: True})
        assert texts(result) == [
            "人员表 第2行 用户名：'赵' 应以字母或数字开头，2至64位，只含字母、数字和 . _ @ -",
            "人员表 第2行 角色：无法识别的角色 '经理'，应为督导办工作人员、督学、责任单位经办人、单位负责人、成员单位联络员、"
            "审计、管理员中的一个或几个（以、分隔）",
            "人员表 第3行 所属单位：责任单位经办人须属于某个单位，请填写所属单位",
            "人员表 第3行 手机：'1381234' 不是11位手机号码",
            "人员表 第3行 邮箱：'li@' 不是有效的电子邮箱",
            "人员表 第3行 初始密码：密码至少 10 位，且含字母、数字、符号中的两类",
            "人员表 第4行 初始密码：密码不能包含用户名",
            "人员表 第5行 用户名：与第4行重复",  # usernames are one whatever their case
            "人员表 第6行 姓名：不能为空",
            "人员表 第6行 所属单位：“不存在的单位”既不在名录中，也不在单位表中",
        ]

    def test_usernames_are_twins_whatever_their_case(self):
        result = read_directory(None, people(person(), person(username="ZHAO")), existing_units={BAZHOU: True})
        assert texts(result) == ["人员表 第3行 用户名：与第2行重复"]

    def test_a_missing_column_is_the_one_mistake_named(self):
        result = read_directory(Sheet(["单位名称", "简称"], [["x", "y"]]), Sheet(["用户名", "姓名"], [["a", "b"]]),
                                existing_units={})
        assert texts(result) == ["单位表 第1行 表头：缺少列：类别", "人员表 第1行 表头：缺少列：角色、初始密码"]

    def test_a_workbook_without_rows_says_so(self):
        assert texts(read_directory(units([None] * 5), people(), existing_units={})) == ["单位表 第1行 表格：没有可导入的行"]

    def test_a_control_character_is_refused(self):
        result = read_directory(units(["巴州区\x07第一小学", "学校", None, None, None]), None, existing_units={})
        assert texts(result) == ["单位表 第2行 单位名称：含有不可见的控制字符，请删除后重新输入"]


class TestTreeOrder:
    def test_children_follow_their_parent_in_the_order_given_and_a_loop_is_left_over(self):
        items = [("b1", "a"), ("a", None), ("c", "b1"), ("b2", "a"), ("x", "y"), ("y", "x"), ("orphan", "gone")]
        walked, loop = in_tree_order(items, lambda i: i[0], lambda i: i[1])
        assert [(depth, name) for depth, (name, _) in walked] == [(0, "a"), (1, "b1"), (2, "c"), (1, "b2"),
                                                                   (0, "orphan")]
        assert [name for name, _ in loop] == ["x", "y"]


def workbook(sheets: dict[str, list[list]]) -> bytes:
    book = Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for cells in rows:
            sheet.append(cells)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


class TestTheWorkbook:
    def test_sheets_are_found_by_name_with_a_title_row_above_the_header(self):
        cells = read_directory_workbook(workbook({
            "说明": [["随便写点什么"]],
            "人员": [["人员名单（2026年）"], PERSON_HEADERS, person()],
            "单位": [UNIT_HEADERS, [BAZHOU, "教育局", None, None, None]],
        }))
        assert (cells.units.header_row, cells.people.header_row) == (1, 2)
        result = read_directory(cells.units, cells.people, existing_units={})
        assert result.ok and result.people[0].row == 3

    def test_a_sheet_named_otherwise_is_found_by_its_header(self):
        cells = read_directory_workbook(workbook({"Sheet1": [UNIT_HEADERS, [CITY, "教育局", None, None, None]]}))
        assert cells.people is None and cells.units.sheet == "Sheet1"

    def test_a_workbook_with_neither_sheet_is_refused(self):
        with pytest.raises(UnreadableWorkbook) as refused:
            read_directory_workbook(workbook({"台账": [["通知名称", "问题"]]}))
        assert "单位" in str(refused.value) and "人员" in str(refused.value)

    def test_the_template_has_both_sheets_with_every_column_and_imports_as_an_empty_workbook(self):
        data = template_workbook()
        book = load_workbook(io.BytesIO(data))
        assert book.sheetnames[:2] == ["单位", "人员"]
        assert [unit_column(c.value) for c in book["单位"][1]] == list(UNIT_COLUMNS)
        assert [person_column(c.value) for c in book["人员"][1]] == list(PERSON_COLUMNS)
        cells = read_directory_workbook(data)
        assert texts(read_directory(cells.units, cells.people, existing_units={})) == ["单位表 第1行 表格：没有可导入的行"]
