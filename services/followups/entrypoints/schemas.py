"""The followups API contract: marshmallow schemas for every request and response."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from shared.deadlines import Light
from shared.evidence import MAX_FILES_PER_STEP, MAX_NAME_LENGTH, SHA256
from shared import text
from shared.openapi import FILLED_TEXT, JsonBoolean, StepSchema
from services.followups.domain.model import ACCOUNTABILITY_MEASURES, CaseStatus, EscalationLevel

# what a step records must say something: the domain refuses blank text (shared.errors.require_text)
TEXT_LENGTH = validate.Length(min=1, max=4000)
TEXT = [TEXT_LENGTH, FILLED_TEXT]
SHORT = [validate.Length(min=1, max=200), FILLED_TEXT]


class FileRefSchema(Schema):  # a stored 佐证材料 file a step attaches
    sha256 = fields.String(required=True, validate=validate.Regexp(SHA256.pattern))
    name = fields.String(required=True, validate=[validate.Length(min=1, max=MAX_NAME_LENGTH), FILLED_TEXT])


EVIDENCE = fields.List(fields.String(validate=TEXT_LENGTH), load_default=list, validate=validate.Length(max=50),
                       metadata={"description": "descriptions of the evidence (佐证材料)"})
FILES = fields.List(fields.Nested(FileRefSchema), load_default=list, validate=validate.Length(max=MAX_FILES_PER_STEP),
                    metadata={"description": "佐证材料文件 uploaded first (POST /cases/<id>/files), by hash, with their names"})
EXPECTED_VERSION = fields.Integer(strict=True, load_default=None, allow_none=True, validate=validate.Range(min=1),
                                  metadata={"description": "the case version the caller saw; 409 if it changed since"})


class SubmitPlanSchema(StepSchema):  # 整改方案
    plan = fields.String(required=True, validate=TEXT)
    measures = fields.List(fields.String(validate=TEXT_LENGTH), load_default=list, validate=validate.Length(max=50))
    planned_completion = fields.Date(load_default=None, allow_none=True)
    expected_version = EXPECTED_VERSION
    files = FILES


class ReportSchema(StepSchema):  # 整改进展 / 整改报告
    summary = fields.String(required=True, validate=TEXT)
    evidence = EVIDENCE
    expected_version = EXPECTED_VERSION
    files = FILES


class ReinspectSchema(StepSchema):  # 复查
    passed = JsonBoolean(required=True)
    findings = fields.String(required=True, validate=TEXT)
    expected_version = EXPECTED_VERSION
    files = FILES


class CloseSchema(StepSchema):  # 销号
    expected_version = EXPECTED_VERSION


class ExtendDeadlineSchema(StepSchema):  # 延期
    new_deadline = fields.Date(required=True)
    reason = fields.String(required=True, validate=TEXT)
    approver = fields.String(required=True, validate=SHORT, metadata={"description": "批准人"})
    expected_version = EXPECTED_VERSION
    files = FILES


def _escalation_rules() -> dict:
    """What the domain checks per level (services/followups/domain/model.py), as one OpenAPI branch per case:
    约谈 / 通报 / 问责 carry their 文号; 问责 names a measure of 《教育督导问责办法》 for its target."""
    document = {"type": "string", "pattern": text.FILLED_TEXT_PATTERN}
    plain = [level for level in EscalationLevel.LADDER if level not in EscalationLevel.NEEDS_DOCUMENT]
    documented = [level for level in EscalationLevel.NEEDS_DOCUMENT if level != EscalationLevel.ACCOUNTABILITY]
    branches = [
        {"description": "催办 / 预警", "properties": {"level": {"enum": plain}}},
        {"description": "约谈 / 通报: with the document number (文号)",
         "properties": {"level": {"enum": documented}, "doc_number": document}, "required": ["doc_number"]},
    ]
    for target, measures in ACCOUNTABILITY_MEASURES.items():
        branch = {"description": f"问责 of a {target}: with the document number and one of its measures",
                  "properties": {"level": {"enum": [EscalationLevel.ACCOUNTABILITY]}, "target": {"enum": [target]},
                                 "doc_number": document, "measure": {"type": "string", "enum": list(measures)}},
                  "required": ["doc_number", "measure"]}
        if target != EscalateSchema.DEFAULT_TARGET:  # the default target may be left out
            branch["required"].append("target")
        branches.append(branch)
    return {"oneOf": branches}


class EscalateSchema(StepSchema):  # 催办 / 预警 / 约谈 / 通报 / 问责
    DEFAULT_TARGET = "unit"
    level = fields.String(required=True, validate=validate.OneOf(EscalationLevel.LADDER))
    reason = fields.String(required=True, validate=TEXT)
    doc_number = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=100))
    measure = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(
        sorted({m for measures in ACCOUNTABILITY_MEASURES.values() for m in measures})))
    target = fields.String(load_default=DEFAULT_TARGET, validate=validate.OneOf(tuple(ACCOUNTABILITY_MEASURES)))
    expected_version = EXPECTED_VERSION


EscalateSchema.OPENAPI_RULES = _escalation_rules()


class CommendSchema(StepSchema):  # 表彰
    reason = fields.String(required=True, validate=TEXT)
    doc_number = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=100))
    expected_version = EXPECTED_VERSION


class EvidenceFileSchema(Schema):  # 佐证材料文件 as stored
    sha256 = fields.String()
    size = fields.Integer()
    type = fields.String(metadata={"description": "MIME type decided from the content"})
    name = fields.String()


class UploadedFilesSchema(Schema):  # the answer to an upload
    files = fields.List(fields.Nested(EvidenceFileSchema))


class CaseFileSchema(EvidenceFileSchema):  # a file a step of the case attached
    step = fields.String(metadata={"description": "the event type of the step"})
    attached_by = fields.Dict(metadata={"description": "the actor as the event records it: user_id, role, unit, name"})
    attached_at = fields.DateTime()


class CaseSchema(Schema):  # 整改事项（整改台账的一行）
    id = fields.String()
    notice_id = fields.String()
    problem_id = fields.String()
    description = fields.String()
    requirement = fields.String()
    responsible_unit = fields.String()
    responsible_person = fields.String(allow_none=True)
    area = fields.String(allow_none=True)
    issuer_unit = fields.String(allow_none=True)
    notice_title = fields.String(allow_none=True)
    notice_kind = fields.String(allow_none=True)
    doc_number = fields.String(allow_none=True)
    listed = fields.Boolean()
    related_task_ids = fields.List(fields.String())
    deadline = fields.String(allow_none=True)
    original_deadline = fields.String(allow_none=True)
    deadline_provisional = fields.Boolean(
        metadata={"description": "the deadline was counted in working days on a year whose holiday arrangement was "
                                 "not yet published (provisional calendar); an extension's date is given, never counted"})
    status = fields.String()
    status_zh = fields.Function(lambda row: CaseStatus.LABELS_ZH.get(row.status))
    light = fields.String(allow_none=True, metadata={"description": "green / yellow / red; null once ended"})
    plan = fields.String(allow_none=True)
    measures = fields.List(fields.String())
    planned_completion = fields.String(allow_none=True)
    progress = fields.List(fields.Dict())
    reported_on = fields.String(allow_none=True)
    reinspection_due = fields.String(allow_none=True)
    findings = fields.String(allow_none=True)
    closed_on = fields.String(allow_none=True)
    on_time = fields.Boolean(allow_none=True)
    overdue = fields.Boolean()
    escalation_level = fields.String(allow_none=True)
    escalations = fields.List(fields.Dict())
    extensions = fields.List(fields.Dict())
    commendations = fields.List(fields.Dict())
    files = fields.List(fields.Nested(CaseFileSchema))
    opened_at = fields.DateTime()
    updated_at = fields.DateTime()
    version = fields.Integer()


class CaseQuerySchema(Schema):
    notice_id = fields.String()
    unit = fields.String(metadata={"description": "responsible unit (责任单位)"})
    area = fields.String(metadata={"description": "领域"})
    status = fields.String(validate=validate.OneOf(CaseStatus.ALL))
    light = fields.String(validate=validate.OneOf((Light.GREEN, Light.YELLOW, Light.RED)))
    overdue = fields.Boolean(metadata={"description": "a RectificationOverdue stands for the current deadline"})
    task_id = fields.String(metadata={"description": "cases of notices related to this task"})
    listed = fields.Boolean(metadata={"description": "挂牌督办 only"})
    escalation_level = fields.String(validate=validate.OneOf(EscalationLevel.LADDER))
    deadline_from = fields.Date()
    deadline_to = fields.Date()
