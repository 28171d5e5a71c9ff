"""Parse published education-supervision work plans (工作要点 / 工作计划) and reports.

Pure code: no web, queue or database imports. ``parse_plan`` takes the text of a
document and returns its title, issuer, document number, date, year and its
sections with their numbered measures (deadlines, targets and units included).
"""
from .deadline import ParseDeadline
from .drafts import draft_tasks
from .errors import PlanParseError, PlanParseTimeout
from .normalize import MAX_BYTES, decode_document
from .parser import parse_plan
from .roles import UnitResolver, same_name

__all__ = ["MAX_BYTES", "ParseDeadline", "PlanParseError", "PlanParseTimeout", "UnitResolver", "decode_document",
           "draft_tasks", "parse_plan", "same_name"]
