"""Importing a checked 整改台账: each notice issued and each case's steps recorded through the services' public
commands, as office staff's 补录 with the real days, so the result is ordinary events.

Resumable and idempotent without relying on Idempotency-Keys (they expire): a notice's id is derived from the
ledger (services/portal/domain/ledger_import.py), an existing notice is not issued again, a signature already
there is not recorded again, and a case only gets the steps beyond the status it has.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import quote

from services.api_client import ApiClient, ServiceRefused, opened_cases
from services.portal.domain.ledger_import import (ORDER, REASON, REASON_UNDATED, ImportedNotice, LedgerImport,
                                                  LedgerRow)


@dataclass
class ImportReport:
    notices_issued: int = 0
    notices_found: int = 0  # already there from an earlier import
    steps_recorded: int = 0
    rows: int = 0
    notice_ids: list[str] = field(default_factory=list)


class LedgerLoader:
    def __init__(self, notices: ApiClient, followups: ApiClient, issuer: str, workers: int = 4):
        self.notices, self.followups, self.issuer, self.workers = notices, followups, issuer, workers

    def load(self, ledger: LedgerImport) -> ImportReport:
        """Issue (and sign) every notice first, then record the cases' steps, a few notices at a time: while
        followups opens one notice's cases from Kafka, the others' are already being worked on."""
        if not ledger.ok:
            raise ValueError("a ledger with mistakes is not imported")
        report = ImportReport(rows=len(ledger.rows), notice_ids=[n.notice_id for n in ledger.notices])
        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            issued = list(pool.map(self._issue, ledger.notices))
            steps = list(pool.map(self._cases_of, ledger.notices))
        report.notices_issued = sum(issued)
        report.notices_found = len(issued) - report.notices_issued
        report.steps_recorded = sum(steps)
        return report

    def _issue(self, notice: ImportedNotice) -> bool:
        """The notice and its units' signatures; True if it was issued now (False: found from an earlier import)."""
        path = f"/notices/{quote(notice.notice_id, safe='')}"
        existing = self._get(self.notices, path)
        if existing is None:
            existing = self.notices.post("/notices", {
                "notice_id": notice.notice_id, "kind": notice.kind, "title": notice.title,
                "doc_number": notice.doc_number, "issuer_unit": self.issuer, "target_units": notice.target_units,
                "issued_on": notice.issued_on.isoformat(),
                "problems": [{"description": row.description, "requirement": row.requirement,
                              "responsible_unit": row.unit, "responsible_person": row.person, "area": row.area,
                              "deadline": row.deadline.isoformat()} for row in notice.rows],
            })
            issued_now = True
        else:
            issued_now = False
        for unit in notice.target_units:  # a unit that rectifies received the notice: its day is not in the ledger
            if unit not in (existing.get("signed_units") or []) and existing.get("status") == "issued":
                existing = self.notices.post(f"{path}/signature", {
                    "unit": unit, **_backfill(notice.issued_on, REASON_UNDATED)})
        return issued_now

    def _cases_of(self, notice: ImportedNotice) -> int:
        """Each case of the notice taken to the status its row says; returns how many steps were recorded."""
        cases = opened_cases(self.followups, notice.notice_id, len(notice.rows))
        return sum(self._steps(row, case) for row, case in zip(notice.rows, cases, strict=True))

    def _steps(self, row: LedgerRow, case: dict) -> int:
        """The steps of ``row`` beyond the status the case has; returns how many were recorded."""
        reached = ORDER.index(case["status"]) if case["status"] in ORDER else len(ORDER)
        recorded = 0
        for action, day in row.steps():
            if _status_after(action) is not None and ORDER.index(_status_after(action)) <= reached:
                continue
            body = {"plan": "；".join(row.measures) or row.requirement or "按督办通知要求整改",
                    "measures": list(row.measures)} if action == "plan" else {}
            if action in ("progress", "completion"):
                body = {"summary": "整改中" if action == "progress" else "已完成整改（据整改台账）"}
            if action == "reinspection":
                body = {"passed": True, "findings": "复查通过（据整改台账）"}
            undated = action in ("plan", "progress")
            self.followups.post(f"/cases/{quote(case['id'], safe='')}/{action}",
                                {**body, **_backfill(day, REASON_UNDATED if undated else REASON)})
            recorded += 1
        return recorded

    @staticmethod
    def _get(client: ApiClient, path: str) -> dict | None:
        try:
            body, _ = client.get(path)
        except ServiceRefused as refused:
            if refused.status == 404:
                return None
            raise
        return body


def _status_after(action: str) -> str | None:
    return {"plan": "planned", "progress": "rectifying", "completion": "reported", "reinspection": "verified",
            "close": "closed"}.get(action)


def _backfill(day: date, reason: str) -> dict:
    return {"occurred_on": day.isoformat(), "backfill_reason": reason}
