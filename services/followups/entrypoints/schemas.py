"""The followups API contract."""
from marshmallow import Schema, fields


class CaseSchema(Schema):  # 整改事项
    id = fields.String()
    notice_id = fields.String()
    problem_id = fields.String()
    description = fields.String()
    responsible_unit = fields.String()
    deadline = fields.String(allow_none=True)
    status = fields.String()
    opened_at = fields.DateTime()
    version = fields.Integer()


class CaseQuerySchema(Schema):
    notice_id = fields.String()
    unit = fields.String(metadata={"description": "responsible unit (责任单位)"})
    status = fields.String()
