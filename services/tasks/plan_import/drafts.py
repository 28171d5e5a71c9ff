"""Turn a parsed plan into draft tasks an office can edit before confirming the import."""
from __future__ import annotations


def draft_tasks(parsed: dict) -> list[dict]:
    """One task per numbered measure, or per section that has none; units and due date pre-filled.

    The first unit a measure names is taken as its lead unit (plans name the lead first, e.g.
    "省教育厅会同省委组织部"), the others as partners; the due date is the latest dated deadline.
    """
    drafts = []
    for section in parsed.get("sections", []):
        items = section.get("items") or []
        if items:
            for item in items:
                drafts.append(_draft(f"{section['number']}.{item['number']}", item["text"], item))
        else:
            text = "：".join(part for part in (section.get("title"), section.get("goal")) if part)
            drafts.append(_draft(section["number"], text, section))
    return drafts


def _draft(number: str, text: str, source: dict) -> dict:
    units = list(dict.fromkeys(source.get("units") or []))
    dates = sorted(d["date"] for d in source.get("deadlines") or [] if d.get("date"))
    return {
        "number": number,
        "text": text,
        "lead_unit": units[0] if units else None,
        "partner_units": units[1:],
        "due_date": dates[-1] if dates else None,
        "targets": list(source.get("targets") or []),
    }
