"""The tasks API contract."""
from __future__ import annotations

from flask_smorest.fields import Upload
from marshmallow import Schema, fields, validate

from shared.openapi import FILLED_TEXT, StepSchema
from services.tasks.domain.model import TASK_CATEGORIES, TaskStatus

# The most tasks one plan records in one request. A real 工作要点 has up to 100–200 measures; each task is its
# own stream and write, so a plan of 300 already takes tens of seconds on a loaded server.
MAX_PLAN_TASKS = 300
# Shorter pasted text is never a plan: the parser wants 10 Chinese characters or 40 visible ones (too_short).
MIN_PREVIEW_CHARS = 10


class TaskInSchema(Schema):  # 督导任务
    number = fields.String(required=True, validate=validate.Length(min=1, max=40))
    text = fields.String(required=True, validate=validate.Length(min=1, max=20000))
    lead_unit = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))
    partner_units = fields.List(fields.String(validate=validate.Length(min=1, max=200)), load_default=list)
    due_date = fields.Date(load_default=None, allow_none=True)
    category = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(TASK_CATEGORIES),
                             metadata={"description": "督政 / 督学 / 评估监测"})
    targets = fields.List(fields.String(validate=validate.Length(min=1, max=500)), load_default=list)


class RecordPlanSchema(Schema):  # 工作要点
    title = fields.String(required=True, validate=validate.Length(min=1, max=500))
    year = fields.Integer(strict=True, load_default=None, allow_none=True, validate=validate.Range(min=1990, max=2100))
    issuer = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))
    doc_number = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=100))
    tasks = fields.List(fields.Nested(TaskInSchema), required=True, validate=validate.Length(min=1, max=MAX_PLAN_TASKS))


class TaskCountsSchema(Schema):
    notices_issued = fields.Integer()
    matters_supervised = fields.Integer()
    matters_closed = fields.Integer()
    completion_rate = fields.Float(allow_none=True)


class TaskSchema(Schema):  # 督导任务
    id = fields.String()
    plan_id = fields.String()
    number = fields.String()
    text = fields.String()
    category = fields.String(allow_none=True)
    targets = fields.List(fields.String())
    lead_unit = fields.String(allow_none=True)
    partner_units = fields.List(fields.String())
    due_date = fields.String(allow_none=True)
    status = fields.String()
    status_zh = fields.Function(lambda row: TaskStatus.LABELS_ZH.get(row.status))
    progress = fields.List(fields.Dict())
    outcome = fields.String(allow_none=True)
    counts = fields.Nested(TaskCountsSchema, metadata={"description": "notices, matters supervised/closed, rate"})
    updated_at = fields.DateTime(allow_none=True)
    version = fields.Integer()


class TaskProgressSchema(StepSchema):  # 任务进展
    summary = fields.String(required=True, validate=[validate.Length(min=1, max=4000), FILLED_TEXT])
    percent = fields.Integer(strict=True, load_default=None, allow_none=True, validate=validate.Range(min=0, max=100))
    expected_version = fields.Integer(strict=True, load_default=None, allow_none=True, validate=validate.Range(min=1))


class TaskOutcomeSchema(StepSchema):  # 完成情况 / 取消理由
    summary = fields.String(required=True, validate=[validate.Length(min=1, max=4000), FILLED_TEXT])
    expected_version = fields.Integer(strict=True, load_default=None, allow_none=True, validate=validate.Range(min=1))


class PlanSchema(Schema):
    id = fields.String()
    title = fields.String()
    year = fields.Integer(allow_none=True)
    issuer = fields.String(allow_none=True)
    doc_number = fields.String(allow_none=True)
    task_ids = fields.List(fields.String())
    source = fields.String()
    document_date = fields.String(allow_none=True)
    recorded_at = fields.DateTime()
    version = fields.Integer()


class TaskQuerySchema(Schema):
    plan_id = fields.String()
    lead_unit = fields.String()
    status = fields.String(validate=validate.OneOf(TaskStatus.ALL))
    category = fields.String(validate=validate.OneOf(TASK_CATEGORIES))


class PreviewTextSchema(Schema):  # 粘贴公文文本
    text = fields.String(required=True, validate=validate.Length(min=MIN_PREVIEW_CHARS, error=(
        "文档内容过少，不是工作要点 / the document has too little text to be a work plan")), metadata={
        "description": "the plan document's text (up to 5 MB); 422 when it is not a Chinese plan with numbered "
                       "sections or measures (reason: too_short, not_chinese, binary, no_structure …)"})


class PreviewFileSchema(Schema):  # 上传公文文件（.txt，UTF-8 或 GB18030）
    file = Upload(required=True, metadata={
        "description": "a text file (UTF-8 or GB18030, up to 5 MB); 422 when it is binary or not a Chinese plan"})


class DraftTaskSchema(Schema):
    number = fields.String()
    text = fields.String()
    lead_unit = fields.String(allow_none=True)
    partner_units = fields.List(fields.String())
    due_date = fields.String(allow_none=True)
    targets = fields.List(fields.String())


class ImportDraftSchema(Schema):
    title = fields.String()
    issuer = fields.String(allow_none=True)
    doc_number = fields.String(allow_none=True)
    document_date = fields.String(allow_none=True)
    year = fields.Integer(allow_none=True)
    source_sha256 = fields.String()
    tasks = fields.List(fields.Nested(DraftTaskSchema))


class PlanPreviewSchema(Schema):
    document = fields.Dict(metadata={"description": "everything the parser found (sections, items, deadlines…)"})
    draft = fields.Nested(ImportDraftSchema, metadata={"description": "edit, then POST to /plans/import"})


class ImportPlanSchema(RecordPlanSchema):  # 确认导入
    document_date = fields.Date(load_default=None, allow_none=True)
    source_sha256 = fields.String(load_default=None, allow_none=True, validate=validate.Length(equal=64))


class RecordHolidaysSchema(Schema):  # 录入当年放假安排
    holidays = fields.List(fields.Date(), required=True, validate=validate.Length(min=1, max=80),
                           metadata={"description": "every day off (放假), including the weekend days of a break"})
    workdays = fields.List(fields.Date(), load_default=list, validate=validate.Length(max=30),
                           metadata={"description": "weekend days worked instead (调休上班)"})
    source = fields.String(required=True, validate=[validate.Length(min=1, max=200), FILLED_TEXT],
                           metadata={"description": "the notice it was published in, e.g. 国办发明电〔2026〕N号"})
    expected_version = fields.Integer(strict=True, load_default=None, allow_none=True,
                                      validate=validate.Range(min=0, max=1_000_000))


class HolidayYearSchema(Schema):  # 某年的工作日历
    year = fields.Integer()
    status = fields.String(metadata={"description": "official (built in), recorded (entered by an office) or "
                                                    "provisional (computed from the law until one is entered)"})
    holidays = fields.List(fields.String())
    workdays = fields.List(fields.String())
    source = fields.String(allow_none=True)
    recorded_by = fields.Dict(allow_none=True)
    recorded_at = fields.DateTime(allow_none=True)
    version = fields.Integer(allow_none=True)


class CalendarsSchema(Schema):  # 工作日历概况
    official_years = fields.List(fields.Integer(), metadata={"description": "first and last built-in year"})
    recorded = fields.List(fields.Nested(HolidayYearSchema))
    provisional_from = fields.Integer(metadata={"description": "the first year neither built in nor recorded"})
