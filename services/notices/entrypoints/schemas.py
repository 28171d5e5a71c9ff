"""The notices API contract: marshmallow schemas for every request and response."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from services.notices.domain.model import NOTICE_KINDS

UNIT = fields.String(validate=validate.Length(min=1, max=200))


class ProblemInSchema(Schema):  # 问题清单中的一项
    description = fields.String(required=True, validate=validate.Length(min=1, max=4000))
    requirement = fields.String(load_default="", validate=validate.Length(max=4000))
    responsible_unit = fields.String(required=True, validate=validate.Length(min=1, max=200))
    deadline = fields.Date(load_default=None, allow_none=True)


class IssueNoticeSchema(Schema):  # 下发督办通知
    kind = fields.String(required=True, validate=validate.OneOf(NOTICE_KINDS))
    title = fields.String(required=True, validate=validate.Length(min=1, max=500))
    doc_number = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=100))
    issuer_unit = fields.String(required=True, validate=validate.Length(min=1, max=200))
    target_units = fields.List(UNIT, required=True, validate=validate.Length(min=1, max=200))
    problems = fields.List(fields.Nested(ProblemInSchema), required=True, validate=validate.Length(min=1, max=500))
    related_task_ids = fields.List(fields.String(validate=validate.Length(min=1, max=200)), load_default=list)
    listed = fields.Boolean(load_default=False)


class ProblemSchema(Schema):
    problem_id = fields.String()
    description = fields.String()
    requirement = fields.String()
    responsible_unit = fields.String()
    deadline = fields.String(allow_none=True)


class NoticeSchema(Schema):  # 督办通知
    id = fields.String()
    kind = fields.String()
    title = fields.String()
    doc_number = fields.String(allow_none=True)
    issuer_unit = fields.String()
    target_units = fields.List(fields.String())
    related_task_ids = fields.List(fields.String())
    problems = fields.List(fields.Nested(ProblemSchema))
    listed = fields.Boolean()
    status = fields.String()
    issued_at = fields.DateTime()
    version = fields.Integer()


class NoticeQuerySchema(Schema):
    status = fields.String()
    unit = fields.String(metadata={"description": "a target unit"})
