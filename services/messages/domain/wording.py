"""A message's subject and body: the event's label and one-line summary (shared/event_words.py, the words the
timelines use too) framed with the item it concerns, as a clerk would write a reminder."""
from __future__ import annotations

from shared import event_words
from services.messages.domain.rules import CASE_DUE_SOON, SIGN_DUE_SOON

# The watchers' findings are this service's own; everything else is worded in shared/event_words.py.
FINDINGS = {
    SIGN_DUE_SOON: ("签收提醒", lambda data: f"签收时限为 {data.get('sign_for_deadline')}，以下单位尚未签收："
                                        f"{'、'.join(data.get('unsigned_units') or [])}"),
    CASE_DUE_SOON: ("临近提醒", lambda data: f"整改时限 {data.get('deadline')} 临近，请按时完成整改并提交整改报告"),
}


def describe(kind: str, data: dict, notice: dict | None = None, case: dict | None = None) -> tuple[str, str]:
    """(subject, body) of the messages about ``kind`` (an event type or a watcher's finding)."""
    if kind in FINDINGS:
        label, summarize = FINDINGS[kind]
        summary = summarize(data)
    else:
        words = event_words.describe(kind, data)
        label, summary = words.label, words.summary
    if case is not None:
        item = case.get("description") or ""
        lines = [f"事项：{item}", f"责任单位：{case.get('responsible_unit') or ''}"]
        if case.get("deadline"):
            lines.append(f"整改时限：{case['deadline']}")
        source = case.get("notice_title")
        if source:
            lines.append(f"来源：{source}" + (f"（{case['doc_number']}）" if case.get("doc_number") else ""))
    else:
        notice = notice or {}
        item = notice.get("title") or ""
        lines = [f"通知：{item}" + (f"（{notice['doc_number']}）" if notice.get("doc_number") else ""),
                 f"下发单位：{notice.get('issuer_unit') or ''}"]
        if notice.get("sign_for_deadline"):
            lines.append(f"签收时限：{notice['sign_for_deadline']}")
    subject = f"【{label}】{_short(item)}"
    body = "\n".join([label, *([summary] if summary else []), *lines])
    return subject, body


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"
