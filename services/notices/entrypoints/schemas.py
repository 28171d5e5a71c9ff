"""The notices API contract: marshmallow schemas for every request and response."""
from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from shared.deadlines import DayKind
from shared.openapi import FILLED_TEXT, JsonBoolean, StepSchema
from services.notices.domain.model import NOTICE_KINDS, PROMPT_LETTER, NoticeStatus

UNIT = fields.String(validate=validate.Length(min=1, max=200))
EXPECTED_VERSION = fields.Integer(strict=True, load_default=None, allow_none=True, validate=validate.Range(min=1),
                                  metadata={"description": "the notice version the caller saw; 409 if it changed since"})


NOTICE_ID_PATTERN = r"^notice-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"


class ProblemInSchema(Schema):  # 问题清单中的一项
    # the OpenAPI document says what _one_deadline checks: not a date and a number of days both
    OPENAPI_RULES = {"not": {"required": ["deadline", "deadline_days"], "properties": {
        "deadline": {"type": "string"}, "deadline_days": {"type": "integer"}}}}

    description = fields.String(required=True, validate=validate.Length(min=1, max=4000))
    requirement = fields.String(load_default="", validate=validate.Length(max=4000))
    responsible_unit = fields.String(required=True, validate=validate.Length(min=1, max=200))
    responsible_person = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=100))
    area = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=100),
                         metadata={"description": "领域, e.g. 校园安全"})
    deadline = fields.Date(load_default=None, allow_none=True, metadata={"description": "整改时限 as a date"})
    deadline_days = fields.Integer(strict=True, load_default=None, allow_none=True, validate=validate.Range(min=1, max=3650),
                                   metadata={"description": "整改时限 as days from the issue date"})
    deadline_kind = fields.String(load_default=DayKind.CALENDAR, validate=validate.OneOf((DayKind.CALENDAR, DayKind.WORKING)),
                                  metadata={"description": "calendar (自然日) or working (工作日) days"})

    @validates_schema
    def _one_deadline(self, data, **_):
        if data.get("deadline") is not None and data.get("deadline_days") is not None:
            raise ValidationError("give a deadline date or deadline_days, not both / 整改时限请填写日期或天数之一", "deadline")


class NoticeContentSchema(Schema):  # 督办通知
    # What the domain checks (services/notices/domain/model.py): only a 工作提示函 may come without problems.
    OPENAPI_RULES = {"oneOf": [
        {"description": "a 工作提示函 (work prompt letter): the problem list may be empty",
         "properties": {"kind": {"enum": [PROMPT_LETTER]}}},
        {"description": "every other kind lists at least one problem",
         "properties": {"kind": {"enum": [kind for kind in NOTICE_KINDS if kind != PROMPT_LETTER]},
                        "problems": {"minItems": 1}}},
    ]}

    kind = fields.String(required=True, validate=validate.OneOf(NOTICE_KINDS))
    title = fields.String(required=True, validate=validate.Length(min=1, max=500))
    doc_number = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=100))
    issuer_unit = fields.String(required=True, validate=validate.Length(min=1, max=200))
    target_units = fields.List(UNIT, required=True, validate=validate.Length(min=1, max=200))
    copied_units = fields.List(UNIT, load_default=list, validate=validate.Length(max=200))
    problems = fields.List(fields.Nested(ProblemInSchema), required=True, validate=validate.Length(max=500),
                           metadata={"description": "问题清单; may be empty only for a 工作提示函"})
    related_task_ids = fields.List(fields.String(validate=validate.Length(min=1, max=200)), load_default=list)
    listed = JsonBoolean(load_default=False, metadata={"description": "挂牌督办"})
    sign_for_deadline = fields.Date(load_default=None, allow_none=True,
                                    metadata={"description": "签收时限; default from the office's policy"})
    issued_on = fields.Date(load_default=None, allow_none=True,
                            metadata={"description": "补录: the date a paper notice was issued (not in the future)"})
    notice_id = fields.String(load_default=None, allow_none=True, validate=validate.Regexp(NOTICE_ID_PATTERN), metadata={
        "description": "an id the caller derived (an import gives the same notice the same id each time: a second "
                       "import is a 409, not a second notice); default a new one"})


class SignSchema(StepSchema):  # 签收
    unit = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=200),
                         metadata={"description": "补录 by office staff: the target unit that signed"})
    expected_version = EXPECTED_VERSION


class IssueDraftSchema(Schema):
    expected_version = EXPECTED_VERSION


class WithdrawSchema(Schema):  # 撤回
    reason = fields.String(required=True, validate=[validate.Length(min=1, max=2000), FILLED_TEXT])
    expected_version = EXPECTED_VERSION


class ProblemSchema(Schema):
    problem_id = fields.String()
    description = fields.String()
    requirement = fields.String()
    responsible_unit = fields.String()
    responsible_person = fields.String(allow_none=True)
    area = fields.String(allow_none=True)
    deadline = fields.String(allow_none=True)
    deadline_rule = fields.Dict(allow_none=True)
    deadline_provisional = fields.Boolean(
        dump_default=False, metadata={"description": "counted in working days on a year whose holiday arrangement "
                                                    "was not yet published (provisional calendar)"})


class NoticeSchema(Schema):  # 督办通知
    id = fields.String()
    kind = fields.String()
    title = fields.String()
    doc_number = fields.String(allow_none=True)
    issuer_unit = fields.String()
    target_units = fields.List(fields.String())
    copied_units = fields.List(fields.String())
    related_task_ids = fields.List(fields.String())
    problems = fields.List(fields.Nested(ProblemSchema))
    listed = fields.Boolean()
    status = fields.String()
    status_zh = fields.Function(lambda row: NoticeStatus.LABELS_ZH.get(row.status))
    issued_on = fields.String(allow_none=True)
    sign_for_deadline = fields.String(allow_none=True)
    sign_for_deadline_provisional = fields.Boolean(
        metadata={"description": "counted on a provisional calendar (holiday arrangement not yet published)"})
    signatures = fields.List(fields.Dict())
    signed_units = fields.List(fields.String())
    sign_overdue = fields.Boolean()
    closed_problem_ids = fields.List(fields.String())
    cleared_on = fields.String(allow_none=True)
    withdrawn_reason = fields.String(allow_none=True)
    draft = fields.Dict(allow_none=True)
    issued_at = fields.DateTime(allow_none=True)
    updated_at = fields.DateTime(allow_none=True)
    version = fields.Integer()


class NoticeQuerySchema(Schema):
    status = fields.String(validate=validate.OneOf(NoticeStatus.ALL))
    unit = fields.String(metadata={"description": "a target unit"})
    kind = fields.String(validate=validate.OneOf(NOTICE_KINDS))
    issuer_unit = fields.String()
    task_id = fields.String(metadata={"description": "notices related to this task"})
    listed = fields.Boolean(metadata={"description": "挂牌督办 only"})
    sign_overdue = fields.Boolean(metadata={"description": "not signed for by the sign-for deadline"})
    issued_from = fields.Date()
    issued_to = fields.Date()
