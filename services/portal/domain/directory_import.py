"""Reading a workbook of units and people for the directory: every row checked, turned into registrations.

Sheet 单位: 单位名称, 类别, 上级单位, 简称, 行政区划代码. Sheet 人员: 用户名, 姓名, 所属单位, 角色 (Chinese labels,
、-separated; the first is the one signed in with), 手机, 邮箱, 初始密码. Headers are matched by name (extra columns
are ignored); every mistake is reported with its sheet, row and column ("单位表 第7行 类别：无法识别的类别 '学堂'…"),
and a workbook with any mistake imports nothing. Units come out parents first, so each one's parent is registered
before it; a unit the directory already has is marked and skipped. Plain Python: the workbook is read by
services/portal/adapters/directory_workbook.py, the registrations are sent by adapters/directory_client.py.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Iterable, Mapping, Protocol, Sequence, TypeVar

from marshmallow import ValidationError, validate

from shared.auth import Role
from shared.errors import InvalidInput
from shared.text import control_character
from shared.vocabulary import ROLE_ZH, UNIT_KIND_ZH
# the directory's own rules for a person, so that a row the directory would refuse is named before anything is sent
from shared.accounts import MOBILE_PATTERN, USERNAME_PATTERN, check_password_policy

UNITS_SHEET, PEOPLE_SHEET = "单位", "人员"
UNIT_REQUIRED = ("单位名称", "类别")
UNIT_COLUMNS = (*UNIT_REQUIRED, "上级单位", "简称", "行政区划代码")
PERSON_REQUIRED = ("用户名", "姓名", "角色", "初始密码")
PERSON_COLUMNS = ("用户名", "姓名", "所属单位", "角色", "手机", "邮箱", "初始密码")
UNIT_ALIASES = {"名称": "单位名称", "单位全称": "单位名称", "单位类别": "类别", "单位类型": "类别", "上级": "上级单位",
                "隶属单位": "上级单位", "区划代码": "行政区划代码"}
PERSON_ALIASES = {"账号": "用户名", "登录名": "用户名", "单位": "所属单位", "角色名称": "角色", "手机号": "手机",
                  "手机号码": "手机", "电子邮箱": "邮箱", "邮件": "邮箱", "密码": "初始密码"}
KINDS = {label: kind for kind, label in UNIT_KIND_ZH.items()} | {"督导办": "office", "教体局": "bureau",
                                                                 "教育和体育局": "bureau"}
ROLES = {label: role for role, label in ROLE_ZH.items() if role in Role.ALL}
ROLE_SEPARATORS = r"[、，,；;/\s]+"
MAX_TEXT = {"单位名称": 200, "简称": 50, "上级单位": 200, "姓名": 50, "所属单位": 200, "邮箱": 200, "初始密码": 200}
REGION_CODE = r"\d{6,12}"

T = TypeVar("T")


class Table(Protocol):
    """A sheet's header row (its number and cells) and the rows under it, each with its spreadsheet row number."""

    header_row: int
    headers: Sequence[Any]
    rows: Sequence[tuple[int, Sequence[Any]]]


@dataclass(frozen=True)
class SheetError:
    sheet: str  # 单位 | 人员
    row: int  # the spreadsheet's row number
    column: str  # the header the value was under (表头 or 表格 for the sheet as a whole)
    message: str

    def text(self) -> str:
        return f"{self.sheet}表 第{self.row}行 {self.column}：{self.message}"


@dataclass(frozen=True)
class UnitToRegister:  # 登记单位 (POST /units)
    row: int
    name: str
    kind: str
    parent: str | None
    short_name: str | None
    region_code: str | None
    exists: bool = False  # the directory has it already: skipped
    depth: int = 0  # below how many units of the sheet (for showing the tree)

    def body(self) -> dict:
        return {"name": self.name, "kind": self.kind, "parent": self.parent, "short_name": self.short_name,
                "region_code": self.region_code}


@dataclass(frozen=True)
class PersonToRegister:  # 登记人员 (POST /people)
    row: int
    username: str
    name: str
    unit: str | None
    roles: tuple[str, ...]
    mobile: str | None
    email: str | None
    password: str = field(repr=False)

    def body(self) -> dict:
        return {"username": self.username, "name": self.name, "unit": self.unit, "roles": list(self.roles),
                "password": self.password, "mobile": self.mobile, "email": self.email}


@dataclass
class DirectoryImport:
    units: list[UnitToRegister]  # parents before their children
    people: list[PersonToRegister]
    errors: list[SheetError]

    @property
    def ok(self) -> bool:
        return not self.errors and bool(self.units or self.people)

    @property
    def new_units(self) -> list[UnitToRegister]:
        return [unit for unit in self.units if not unit.exists]


def unit_column(text: Any) -> str | None:
    """The 单位 column a header cell names, or None (spaces, an asterisk of 必填 and a note in brackets ignored)."""
    return _column(text, UNIT_COLUMNS, UNIT_ALIASES)


def person_column(text: Any) -> str | None:
    return _column(text, PERSON_COLUMNS, PERSON_ALIASES)


def _column(text: Any, columns: Sequence[str], aliases: Mapping[str, str]) -> str | None:
    name = re.sub(r"[\s*＊（(].*$", "", str(text).strip()) if text is not None else ""
    name = aliases.get(name, name)
    return name if name in columns else None


def read_directory(units: Table | None, people: Table | None, *, existing_units: Mapping[str, bool]) -> DirectoryImport:
    """Check the 单位 and 人员 sheets (either may be absent). ``existing_units``: the directory's units by name, True
    for one still active (not 撤并)."""
    errors: list[SheetError] = []
    unit_columns = _columns(UNITS_SHEET, units, unit_column, UNIT_REQUIRED, errors)
    person_columns = _columns(PEOPLE_SHEET, people, person_column, PERSON_REQUIRED, errors)
    if errors:  # without the columns every row would be wrong: the header is the one mistake to name
        return DirectoryImport([], [], errors)
    unit_values = list(_filled_rows(units, unit_columns))
    twins = _twins(UNITS_SHEET, unit_values, lambda values: values.get("单位名称"), "单位名称", errors)
    in_sheet = [unit for number, values in unit_values if number not in twins
                if (unit := _read_unit(number, values, existing_units, errors)) is not None]
    named = {values.get("单位名称") for _, values in unit_values}  # a row with a mistake is named once, not again
    for unit in in_sheet:
        if unit.parent is not None and unit.parent not in existing_units and unit.parent not in named:
            errors.append(SheetError(UNITS_SHEET, unit.row, "上级单位", f"“{unit.parent}”既不在名录中，也不在本表中"))
    ordered = _parents_first(in_sheet, errors)
    known = {name for name, active in existing_units.items() if active} | named
    person_values = list(_filled_rows(people, person_columns))
    twins = _twins(PEOPLE_SHEET, person_values, lambda values: values.get("用户名", "").lower(), "用户名", errors)
    persons = [person for number, values in person_values if number not in twins
               if (person := _read_person(number, values, known, existing_units, errors)) is not None]
    if not ordered and not persons and not errors:
        where = units or people
        errors.append(SheetError(UNITS_SHEET if units else PEOPLE_SHEET, where.header_row if where else 1, "表格",
                                 "没有可导入的行"))
    return DirectoryImport(ordered, persons, sorted(errors, key=lambda e: (e.sheet != UNITS_SHEET, e.row)))


def _columns(sheet: str, table: Table | None, recognise: Callable[[Any], str | None], required: Sequence[str],
             errors: list[SheetError]) -> dict[str, int]:
    if table is None:
        return {}
    columns: dict[str, int] = {}
    for index, header in enumerate(table.headers):
        name = recognise(header)
        if name is not None and name not in columns:
            columns[name] = index
    if missing := [name for name in required if name not in columns]:
        errors.append(SheetError(sheet, table.header_row, "表头", f"缺少列：{'、'.join(missing)}"))
    return columns


def _filled_rows(table: Table | None, columns: dict[str, int]) -> Iterable[tuple[int, dict[str, str]]]:
    """Each row that is not blank, as its cells' text by column."""
    for number, cells in table.rows if table is not None else ():
        values = {name: _text(cells[index] if index < len(cells) else None, exact=name == "初始密码")
                  for name, index in columns.items()}
        if any(values.values()):
            yield number, values


def _read_unit(number: int, values: dict[str, str], existing: Mapping[str, bool],
               errors: list[SheetError]) -> UnitToRegister | None:
    found = len(errors)

    def error(column: str, message: str) -> None:
        errors.append(SheetError(UNITS_SHEET, number, column, message))

    _check_texts(values, error)
    name = values.get("单位名称", "")
    if not name:
        error("单位名称", "不能为空")
    kind_text = values.get("类别", "")
    kind = KINDS.get(kind_text, kind_text if kind_text in UNIT_KIND_ZH else None)
    if kind is None:
        error("类别", f"无法识别的类别 '{kind_text}'，应为{'、'.join(UNIT_KIND_ZH.values())}之一" if kind_text else "不能为空")
    parent = values.get("上级单位") or None
    if parent is not None and parent == name:
        error("上级单位", "不能是本单位")
    elif parent is not None and existing.get(parent) is False:
        error("上级单位", f"“{parent}”已撤并，不能作为上级单位")
    region_code = values.get("行政区划代码") or None
    if region_code is not None and not re.fullmatch(REGION_CODE, region_code):
        error("行政区划代码", f"'{region_code}' 应为6至12位数字")
    if len(errors) > found:
        return None
    return UnitToRegister(row=number, name=name, kind=kind, parent=parent, short_name=values.get("简称") or None,
                          region_code=region_code, exists=name in existing)


def _read_person(number: int, values: dict[str, str], units: set[str], existing: Mapping[str, bool],
                 errors: list[SheetError]) -> PersonToRegister | None:
    found = len(errors)

    def error(column: str, message: str) -> None:
        errors.append(SheetError(PEOPLE_SHEET, number, column, message))

    _check_texts(values, error)
    username, name = values.get("用户名", ""), values.get("姓名", "")
    if not username:
        error("用户名", "不能为空")
    elif not re.fullmatch(USERNAME_PATTERN, username):
        error("用户名", f"'{username}' 应以字母或数字开头，2至64位，只含字母、数字和 . _ @ -")
    if not name:
        error("姓名", "不能为空")
    unit = values.get("所属单位") or None
    if unit is not None and unit not in units:
        error("所属单位", f"“{unit}”已撤并" if existing.get(unit) is False else f"“{unit}”既不在名录中，也不在单位表中")
    roles = _roles(values.get("角色", ""), error)
    if unit is None and (bound := [ROLE_ZH[r] for r in roles if r in Role.UNIT_BOUND]):
        error("所属单位", f"{'、'.join(bound)}须属于某个单位，请填写所属单位")
    mobile = values.get("手机") or None
    if mobile is not None and not re.fullmatch(MOBILE_PATTERN, mobile):
        error("手机", f"'{mobile}' 不是11位手机号码")
    email = values.get("邮箱") or None
    if email is not None:
        try:
            validate.Email()(email)
        except ValidationError:
            error("邮箱", f"'{email}' 不是有效的电子邮箱")
    password = values.get("初始密码", "")
    if not password:
        error("初始密码", "不能为空")
    elif username:
        try:
            check_password_policy(password, username)
        except InvalidInput as refused:
            error("初始密码", refused.message_zh)
    if len(errors) > found:
        return None
    return PersonToRegister(row=number, username=username, name=name, unit=unit, roles=roles, mobile=mobile,
                            email=email, password=password)


def _roles(text: str, error: Callable[[str, str], None]) -> tuple[str, ...]:
    """The roles a cell names, by their Chinese labels (or keys), in the order given."""
    if not text:
        error("角色", "不能为空")
        return ()
    roles, unknown = [], []
    for label in re.split(ROLE_SEPARATORS, text):
        if not label:
            continue
        role = ROLES.get(label, label if label in Role.ALL else None)
        if role is None:
            unknown.append(label)
        elif role not in roles:
            roles.append(role)
    if unknown:
        error("角色", f"无法识别的角色 '{'、'.join(unknown)}'，应为{'、'.join(ROLES)}中的一个或几个（以、分隔）")
    return tuple(roles)


def _check_texts(values: dict[str, str], error: Callable[[str, str], None]) -> None:
    for column, text in values.items():
        if (limit := MAX_TEXT.get(column)) is not None and len(text) > limit:
            error(column, f"超过{limit}个字")
        if control_character(text) is not None:
            error(column, "含有不可见的控制字符，请删除后重新输入")


def _twins(sheet: str, rows: list[tuple[int, dict[str, str]]], key: Callable[[dict[str, str]], str | None],
           column: str, errors: list[SheetError]) -> set[int]:
    """The numbers of the rows whose ``key`` an earlier row has (each one a mistake)."""
    first: dict[str, int] = {}
    twins: set[int] = set()
    for number, values in rows:
        if not (value := key(values)):
            continue
        if value in first:
            errors.append(SheetError(sheet, number, column, f"与第{first[value]}行重复"))
            twins.add(number)
        else:
            first[value] = number
    return twins


def _parents_first(units: list[UnitToRegister], errors: list[SheetError]) -> list[UnitToRegister]:
    """The sheet's units with each one after the unit of the sheet it is registered under; a loop is a mistake."""
    placed, loop = in_tree_order(units, lambda u: u.name, lambda u: u.parent)
    for unit in loop:
        errors.append(SheetError(UNITS_SHEET, unit.row, "上级单位", "上级单位之间构成循环（某单位成了自己的下级）"))
    return [replace(unit, depth=depth) for depth, unit in placed]


def in_tree_order(items: Sequence[T], name: Callable[[T], str], parent: Callable[[T], str | None]
                  ) -> tuple[list[tuple[int, T]], list[T]]:
    """``items`` as a tree walked depth first, each with its depth (a parent not among them makes a top item),
    children in the order given; and the items left over, which are under one another in a loop."""
    names = {name(item) for item in items}
    children: dict[str | None, list[T]] = {}
    for item in items:
        above = parent(item)
        children.setdefault(above if above in names else None, []).append(item)
    walked: list[tuple[int, T]] = []
    stack = [(0, item) for item in reversed(children.get(None, []))]
    while stack:
        depth, item = stack.pop()
        walked.append((depth, item))
        stack.extend((depth + 1, child) for child in reversed(children.get(name(item), [])))
    reached = {id(item) for _, item in walked}
    return walked, [item for item in items if id(item) not in reached]


def _text(value: Any, exact: bool = False) -> str:
    """A cell as text, without spaces at its ends: a whole number typed as a number without its ".0"; runs of
    whitespace as one space, unless ``exact`` (a password is taken as typed)."""
    if value is None:
        return ""
    if isinstance(value, float) and value == int(value):
        value = int(value)
    return str(value).strip() if exact else re.sub(r"\s+", " ", str(value)).strip()
