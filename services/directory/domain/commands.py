"""Commands the directory service accepts (imperative names)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RegisterUnit:  # 登记单位
    name: str
    kind: str
    short_name: str | None = None
    parent: str | None = None  # the parent unit's name
    region_code: str | None = None


@dataclass(frozen=True)
class ChangeUnit:  # 修改单位信息
    unit_id: str
    kind: str
    short_name: str | None = None
    region_code: str | None = None
    expected_version: int | None = None


@dataclass(frozen=True)
class MoveUnit:  # 调整隶属关系
    unit_id: str
    parent: str | None
    expected_version: int | None = None


@dataclass(frozen=True)
class MergeUnit:  # 撤并
    unit_id: str
    merged_into: str
    expected_version: int | None = None


@dataclass(frozen=True)
class RegisterPerson:  # 登记人员（开通账号）
    username: str
    name: str
    unit: str | None
    roles: tuple[str, ...]
    password: str
    mobile: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class ChangePersonDetails:  # 修改姓名、手机、邮箱
    person_id: str
    name: str
    mobile: str | None = None
    email: str | None = None
    expected_version: int | None = None


@dataclass(frozen=True)
class MovePerson:  # 调整所属单位
    person_id: str
    unit: str | None
    expected_version: int | None = None


@dataclass(frozen=True)
class SetRoles:  # 调整角色
    person_id: str
    roles: tuple[str, ...]
    expected_version: int | None = None


@dataclass(frozen=True)
class DisablePerson:  # 停用账号
    person_id: str
    reason: str
    expected_version: int | None = None


@dataclass(frozen=True)
class EnablePerson:  # 启用账号
    person_id: str
    expected_version: int | None = None


@dataclass(frozen=True)
class ChangePassword:  # 修改本人密码
    person_id: str
    current_password: str
    new_password: str


@dataclass(frozen=True)
class ResetPassword:  # 管理员重置密码
    person_id: str
    new_password: str


@dataclass(frozen=True)
class SignIn:  # 登录
    username: str
    password: str
    address: str  # the client's address, for the per-address lockout
    role: str | None = None  # which of the person's roles to act in; default the first
