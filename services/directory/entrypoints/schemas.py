"""The directory API contract: marshmallow schemas for every request and response."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from shared.auth import Role
from shared.openapi import FILLED_TEXT
from shared.vocabulary import UnitKind
from shared.accounts import MOBILE_PATTERN, USERNAME_PATTERN

EXPECTED_VERSION = fields.Integer(strict=True, load_default=None, allow_none=True, validate=validate.Range(min=1),
                                  metadata={"description": "the version the caller saw; 409 if it changed since"})
REGION_CODE_PATTERN = r"^\d{6,12}$"  # 行政区划代码: 6 digits (county level) up to 12 (village level)
ROLES = fields.List(fields.String(validate=validate.OneOf(Role.ALL)), required=True,
                    validate=validate.Length(min=1, max=len(Role.ALL)),
                    metadata={"description": "the person's roles; the first is the default at sign-in"})
PASSWORD = fields.String(required=True, load_only=True, validate=validate.Length(min=1, max=200))


class UnitInSchema(Schema):  # 登记单位
    name = fields.String(required=True, validate=[validate.Length(min=1, max=200), FILLED_TEXT],
                         metadata={"description": "全称, e.g. 巴州区教育局; it never changes (撤并 registers a new unit)"})
    kind = fields.String(required=True, validate=validate.OneOf(UnitKind.ALL),
                         metadata={"description": "; ".join(f"{k} {v}" for k, v in UnitKind.LABELS_ZH.items())})
    short_name = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=50))
    parent = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=200),
                           metadata={"description": "the parent unit's name; empty for a top unit"})
    region_code = fields.String(load_default=None, allow_none=True, validate=validate.Regexp(REGION_CODE_PATTERN),
                                metadata={"description": "行政区划代码"})


class UnitChangeSchema(Schema):  # 修改单位信息
    kind = fields.String(required=True, validate=validate.OneOf(UnitKind.ALL))
    short_name = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=50))
    region_code = fields.String(load_default=None, allow_none=True, validate=validate.Regexp(REGION_CODE_PATTERN))
    expected_version = EXPECTED_VERSION


class UnitMoveSchema(Schema):  # 调整隶属关系
    parent = fields.String(required=True, allow_none=True, validate=validate.Length(min=1, max=200))
    expected_version = EXPECTED_VERSION


class UnitMergeSchema(Schema):  # 撤并
    merged_into = fields.String(required=True, validate=[validate.Length(min=1, max=200), FILLED_TEXT],
                                metadata={"description": "the surviving unit's name"})
    expected_version = EXPECTED_VERSION


class UnitSchema(Schema):
    id = fields.String()
    name = fields.String()
    short_name = fields.String(allow_none=True)
    kind = fields.String()
    parent = fields.String(allow_none=True)
    region_code = fields.String(allow_none=True)
    merged_into = fields.String(allow_none=True)
    active = fields.Boolean()
    version = fields.Integer()


class UnitQuerySchema(Schema):
    name = fields.String(validate=validate.Length(min=1, max=200), metadata={"description": "exactly this name"})
    kind = fields.String(validate=validate.OneOf(UnitKind.ALL))
    parent = fields.String(validate=validate.Length(min=1, max=200))
    active = fields.Boolean()


class PersonInSchema(Schema):  # 登记人员
    username = fields.String(required=True, validate=validate.Regexp(USERNAME_PATTERN),
                             metadata={"description": "sign-in name: letters, digits, . _ @ -"})
    name = fields.String(required=True, validate=[validate.Length(min=1, max=50), FILLED_TEXT])
    unit = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=200))
    roles = ROLES
    password = PASSWORD
    mobile = fields.String(load_default=None, allow_none=True, validate=validate.Regexp(MOBILE_PATTERN))
    email = fields.Email(load_default=None, allow_none=True, validate=validate.Length(max=200))


class PersonDetailsSchema(Schema):  # 修改姓名、手机、邮箱
    name = fields.String(required=True, validate=[validate.Length(min=1, max=50), FILLED_TEXT])
    mobile = fields.String(load_default=None, allow_none=True, validate=validate.Regexp(MOBILE_PATTERN))
    email = fields.Email(load_default=None, allow_none=True, validate=validate.Length(max=200))
    expected_version = EXPECTED_VERSION


class PersonUnitSchema(Schema):  # 调整所属单位
    unit = fields.String(required=True, allow_none=True, validate=validate.Length(min=1, max=200))
    expected_version = EXPECTED_VERSION


class PersonRolesSchema(Schema):  # 调整角色
    roles = ROLES
    expected_version = EXPECTED_VERSION


class DisableSchema(Schema):  # 停用账号
    reason = fields.String(required=True, validate=[validate.Length(min=1, max=500), FILLED_TEXT])
    expected_version = EXPECTED_VERSION


class EnableSchema(Schema):
    expected_version = EXPECTED_VERSION


class PasswordChangeSchema(Schema):  # 修改本人密码
    current_password = PASSWORD
    new_password = fields.String(required=True, load_only=True, validate=validate.Length(min=1, max=200))


class PasswordResetSchema(Schema):  # 管理员重置密码
    new_password = fields.String(required=True, load_only=True, validate=validate.Length(min=1, max=200))


class PersonSchema(Schema):
    id = fields.String()
    username = fields.String()
    name = fields.String()
    unit = fields.String(allow_none=True)
    roles = fields.List(fields.String())
    mobile = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    active = fields.Boolean()
    epoch = fields.Integer()
    version = fields.Integer()


class PersonQuerySchema(Schema):
    unit = fields.String(validate=validate.Length(min=1, max=200))
    role = fields.String(validate=validate.OneOf(Role.ALL))
    active = fields.Boolean()


class SignInSchema(Schema):  # 登录
    username = fields.String(required=True, validate=validate.Length(min=1, max=100))
    password = PASSWORD
    role = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(Role.ALL),
                         metadata={"description": "act in this one of the person's roles; default their first"})


class SessionSchema(Schema):
    token = fields.String(metadata={"description": "bearer token for every service (JWT)"})
    expires_at = fields.DateTime()
    role = fields.String()
    person = fields.Nested(PersonSchema)
