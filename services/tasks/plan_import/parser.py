"""Public entry point: ``parse_plan(text)`` → the plan as plain dicts and lists."""
from __future__ import annotations

import re

from .deadline import NO_DEADLINE, ParseDeadline
from .errors import PlanParseError
from .extract import extract_deadlines, extract_metadata, extract_targets, extract_units
from .normalize import (
    check_chinese,
    check_text,
    clean_text,
    decode_document,
    to_paragraphs,
)
from .structure import build_structure


def parse_plan(text: str | bytes, deadline: ParseDeadline | None = None) -> dict:
    """Parse an education-supervision work plan (工作要点/工作计划) or annual report.

    ``text`` is the document as copied from a web page or extracted from a PDF
    (bytes are decoded with ``decode_document``). Returns::

        {"title", "issuer", "doc_number", "date", "year", "intro",
         "sections": [{"number", "title", "goal", "text", "numbered",
                       "deadlines", "targets", "units",
                       "items": [{"number", "text", "deadlines", "targets", "units"}]}]}

    Raises PlanParseError (message in Chinese and English) for empty, binary,
    non-Chinese or oversized input, or text in which no plan structure is found;
    its subclass PlanParseTimeout once ``deadline`` (a ParseDeadline) has passed.
    """
    deadline = deadline or NO_DEADLINE
    if isinstance(text, (bytes, bytearray, memoryview)):
        text = decode_document(bytes(text))
    check_text(text)
    cleaned = clean_text(text)
    check_chinese(cleaned)
    deadline.check()
    paragraphs = to_paragraphs(cleaned, deadline)
    structure = build_structure(paragraphs, deadline)
    if not structure.sections:
        raise PlanParseError(
            "no_structure",
            "未识别到工作要点的章节或条目（如“一、”“（一）”“1.”或“一是”）",
            "no sections or numbered measures were found (such as 一、 （一） 1. or 一是)",
        )
    meta = extract_metadata(paragraphs, structure.first_index, structure.end_index)
    year = meta.year
    sections = []
    for section in structure.sections:
        deadline.check()
        # "2022年，我区将重点做好以下工作：一是…6月底前…" — a section that opens with
        # its own year dates its items' bare months in that year.
        opening_year = re.match(r"((?:19|20)\d{2})\s*年[，,]", section.goal or "")
        section_year = int(opening_year.group(1)) if opening_year else year
        items = []
        for item in section.items:
            deadline.check()
            items.append({
                "number": item["number"],
                "text": item["text"],
                "deadlines": extract_deadlines(item["text"], section_year),
                "targets": extract_targets(item["text"]),
                "units": extract_units(item["text"]),
                **({"group": item["group"]} if "group" in item else {}),
            })
        own_text = section.body if not items else (section.goal or "")
        sections.append({
            "number": section.number,
            # a single unheaded enumeration: the document is the section
            "title": section.title or (meta.title if len(structure.sections) == 1 else ""),
            "goal": section.goal,
            "items": items,
            "text": section.body,
            "numbered": section.numbered,
            "deadlines": extract_deadlines(own_text, section_year),
            "targets": extract_targets(own_text),
            "units": extract_units(own_text),
        })
    return {
        "title": meta.title,
        "issuer": meta.issuer,
        "doc_number": meta.doc_number,
        "date": meta.date,
        "year": year,
        "intro": meta.intro,
        "sections": sections,
    }
