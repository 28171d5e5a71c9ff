"""Office staff record the State Council's published arrangement of 2027; every service counts on it.

tasks keeps it (an ordinary event on its topic); notices learns it from the topic into its own database and
counts its next deadlines on it: official, no longer provisional.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from shared.auth import issue_token
from shared.calendars import COLLECTION
from shared.clock import FixedClock
from shared.deadlines import is_provisional, use_recorded_arrangements
from shared.web import create_service_app
from shared.worker import Worker
from services.notices.bootstrap import bootstrap as bootstrap_notices
from services.notices.entrypoints.api import blp as notices_api
from services.tasks.bootstrap import bootstrap as bootstrap_tasks
from services.tasks.entrypoints.api import calendars_api
from tests.helpers import eventually

OFFICE = "巴中市人民政府教育督导委员会办公室"
# A made-up 2027 for the test: 1 January and Monday 4 January off, Sunday 10 January worked.
ARRANGEMENT = {"holidays": ["2027-01-01", "2027-01-04"], "workdays": ["2027-01-10"], "source": "国办发明电〔2026〕99号"}


@pytest.fixture
def services(settings):
    settings = replace(settings, deadline_watch_seconds=0.5)
    clock = FixedClock(date(2026, 12, 30))
    contexts = {"tasks": bootstrap_tasks(settings, clock=clock), "notices": bootstrap_notices(settings, clock=clock)}
    apps = {"tasks": create_service_app(lambda: contexts["tasks"], "tasks", [calendars_api]).test_client(),
            "notices": create_service_app(lambda: contexts["notices"], "notices", [notices_api]).test_client()}
    workers = [Worker(context) for context in contexts.values()]
    for worker in workers:
        worker.start()
    try:
        yield settings, contexts, apps
    finally:
        for worker in workers:
            worker.shutdown()
        use_recorded_arrangements([])  # the process counts on the built-in and provisional years again


def _as(settings, role: str, unit: str | None = OFFICE) -> dict:
    return {"Authorization": f"Bearer {issue_token(settings.jwt_secret, f'{role}-user', role, unit)}"}


def _issue(apps, settings) -> dict:
    answer = apps["notices"].post("/notices", headers=_as(settings, "office_staff"), json={
        "kind": "工作提示函", "title": "年末工作提示", "issuer_unit": OFFICE, "target_units": ["巴州区教育局"],
        "problems": []})
    assert answer.status_code == 201, answer.get_data(as_text=True)
    return answer.get_json()


def test_a_recorded_2027_replaces_the_provisional_one_in_every_service(services):
    settings, contexts, apps = services
    before = _issue(apps, settings)
    assert (before["sign_for_deadline"], before["sign_for_deadline_provisional"]) == ("2027-01-05", True)

    refused = apps["tasks"].post("/calendars/2027", headers=_as(settings, "unit_handler", "巴州区教育局"), json=ARRANGEMENT)
    assert refused.status_code == 403
    weekday = apps["tasks"].post("/calendars/2027", headers=_as(settings, "office_staff"),
                                 json={**ARRANGEMENT, "workdays": ["2027-01-11"]})
    assert weekday.status_code == 422 and weekday.get_json()["details"]["field"] == "workdays.0"
    built_in = apps["tasks"].post("/calendars/2026", headers=_as(settings, "office_staff"), json=ARRANGEMENT)
    assert built_in.status_code == 422 and built_in.get_json()["details"]["field"] == "year"

    recorded = apps["tasks"].post("/calendars/2027", headers=_as(settings, "office_staff"), json=ARRANGEMENT)
    assert recorded.status_code == 201, recorded.get_data(as_text=True)
    assert recorded.get_json()["status"] == "recorded"
    overview = apps["tasks"].get("/calendars", headers=_as(settings, "auditor", None)).get_json()
    [entry] = overview["recorded"]
    assert (entry["year"], entry["source"], entry["recorded_by"]["role"]) == (2027, "国办发明电〔2026〕99号", "office_staff")
    assert entry["recorded_at"] and overview["provisional_from"] == 2028
    assert apps["tasks"].get("/calendars/2028", headers=_as(settings, "auditor", None)).get_json()["status"] == "provisional"

    # notices keeps its own copy, from the tasks topic, and counts on it after its next refresh
    eventually(lambda: _assert(contexts["notices"].database[COLLECTION].find_one({"_id": 2027}) is not None), timeout=60)
    use_recorded_arrangements([])  # as a separate process would be, before its refresh
    assert is_provisional(date(2027, 1, 5))
    contexts["notices"].calendar(force=True)
    assert not is_provisional(date(2027, 1, 5))

    after = _issue(apps, settings)
    # 31 December, then 1 January off, the weekend, 4 January off: 5 and 6 January
    assert (after["sign_for_deadline"], after["sign_for_deadline_provisional"]) == ("2027-01-06", False)
    again = apps["notices"].get(f"/notices/{before['id']}", headers=_as(settings, "auditor", None)).get_json()
    assert (again["sign_for_deadline"], again["sign_for_deadline_provisional"]) == ("2027-01-05", True), (
        "a deadline fixed before stays fixed")


def _assert(condition: bool) -> None:
    assert condition
