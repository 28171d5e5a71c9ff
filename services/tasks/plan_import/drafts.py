"""Turn a parsed plan into draft tasks an office can edit before confirming the import."""
from __future__ import annotations

from .roles import PlanScope, UnitResolver, assign_roles, plan_scope, same_name


def draft_tasks(parsed: dict, resolve: UnitResolver = same_name) -> list[dict]:
    """One task per numbered measure, or per section that has none; units and due date pre-filled.

    The lead and partner units are read from the measure's words ("由A牵头，B配合", "A会同B",
    "（责任单位：A、B）"; see ``roles``), then passed through ``resolve`` so that a directory
    can turn "省教育厅" into its registered unit; the due date is the latest dated deadline.
    """
    scope = plan_scope(parsed)
    drafts = []
    for section in parsed.get("sections", []):
        items = section.get("items") or []
        if items:
            for item in items:
                drafts.append(_draft(f"{section['number']}.{item['number']}", item["text"], item, scope, resolve))
        else:
            text = "：".join(part for part in (section.get("title"), section.get("goal")) if part)
            # the section's units were found in its body, so their roles are read there too
            drafts.append(_draft(section["number"], text, section, scope, resolve, section.get("text") or text))
    return drafts


def _draft(number: str, text: str, source: dict, scope: PlanScope, resolve: UnitResolver,
           words: str | None = None) -> dict:
    roles = assign_roles(words or text, source.get("units") or [], scope).resolved(resolve)
    dates = sorted(d["date"] for d in source.get("deadlines") or [] if d.get("date"))
    return {
        "number": number,
        "text": text,
        "lead_unit": roles.lead,
        "partner_units": list(roles.partners),
        "due_date": dates[-1] if dates else None,
        "targets": list(source.get("targets") or []),
    }
