"""The directory service as the portal's 名录管理 pages use it: whole lists read page by page, and a checked
import sent as ordinary registrations (POST /units, POST /people) in the signed-in administrator's name.

An import goes on where an earlier one stopped: a unit or username the directory already has (409) is counted as
found, not as a failure, so importing the same workbook again registers only what is missing.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from services.api_client import ApiClient, ApiError, ServiceRefused
from services.portal.domain.directory_import import DirectoryImport, PersonToRegister, UnitToRegister

PAGE_SIZE = 100  # the directory's largest page
MAX_PAGES = 1000  # a guard against a service that never stops answering with more


@dataclass
class ImportReport:
    units_registered: int = 0
    units_found: int = 0  # the directory had them already (an earlier import, or registered by hand)
    people_registered: int = 0
    people_found: int = 0


class ImportInterrupted(Exception):
    """A registration the directory refused (or could not take): what was registered before it stays."""

    def __init__(self, entry: UnitToRegister | PersonToRegister, error: ApiError, report: ImportReport):
        super().__init__(str(error))
        self.entry, self.error, self.report = entry, error, report

    def where_zh(self) -> str:
        if isinstance(self.entry, UnitToRegister):
            return f"单位表第{self.entry.row}行（{self.entry.name}）"
        return f"人员表第{self.entry.row}行（{self.entry.username}）"


class DirectoryClient:
    def __init__(self, api: ApiClient):
        self.api = api

    def units(self, **filters: Any) -> list[dict]:
        """Every unit (by name), filtered as GET /units is."""
        return self._every_page("/units", filters)

    def people(self, **filters: Any) -> list[dict]:
        """Every person (by unit, then name), filtered as GET /people is."""
        return self._every_page("/people", filters)

    def unit_standing(self) -> dict[str, bool]:
        """Every unit's name, True while it is active (not 撤并)."""
        return {unit["name"]: bool(unit.get("active", True)) for unit in self.units()}

    def load(self, plan: DirectoryImport) -> ImportReport:
        """Register the plan's units (parents first), then its people; ImportInterrupted at the first refusal."""
        if not plan.ok:
            raise ValueError("a workbook with mistakes is not imported")
        report = ImportReport()
        for unit in plan.units:
            if unit.exists or self._register(unit, "/units", report):
                report.units_found += 1
            else:
                report.units_registered += 1
        for person in plan.people:
            if self._register(person, "/people", report):
                report.people_found += 1
            else:
                report.people_registered += 1
        return report

    def _register(self, entry: UnitToRegister | PersonToRegister, path: str, report: ImportReport) -> bool:
        """True if the directory had it already (409), False if registered now."""
        try:
            self.api.post(path, entry.body())
        except ServiceRefused as refused:
            if refused.status == 409:
                return True
            raise ImportInterrupted(entry, refused, report) from refused
        except ApiError as failed:
            raise ImportInterrupted(entry, failed, report) from failed
        return False

    def _every_page(self, path: str, filters: dict) -> list[dict]:
        params = {k: v for k, v in filters.items() if v is not None}
        items: list[dict] = []
        for page in range(1, MAX_PAGES + 1):
            batch, headers = self.api.get(path, **params, page=page, page_size=PAGE_SIZE)
            items.extend(batch)
            if not batch or not _more_after(headers.get("x-pagination"), page):
                break
        return items


def _more_after(header: str | None, page: int) -> bool:
    """Whether X-Pagination (flask-smorest's {"total_pages": …}) says a page follows; none means one page."""
    try:
        return page < int(json.loads(header)["total_pages"]) if header else False
    except (ValueError, TypeError, KeyError):
        return False
