"""GET /cases on the real MongoDB-protocol server: newest first, filters, lights and totals, page by page."""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone

import pytest

from shared.auth import Role, issue_token
from shared.clock import FixedClock
from shared.envelope import GENESIS_HASH, Actor, EventEnvelope
from shared.web import create_service_app
from services.followups.adapters.read_models import PROJECTION
from services.followups.bootstrap import bootstrap as bootstrap_followups
from services.followups.entrypoints.api import blp as followups_api

OFFICE = "巴中市教育督导室"
TODAY = date(2026, 3, 20)


def opened(n: int, unit: str, deadline: str, at: datetime, status_events=()) -> list[EventEnvelope]:
    """A case's events as the store would hand them to the projection (rows are what these tests are about)."""
    case_id = f"notice-{n}:P1"
    base = dict(stream_id=case_id, stream_type="Case", schema_version=1, actor=Actor("w", "office_staff", OFFICE),
                correlation_id="c", causation_id=None, prev_hash=GENESIS_HASH, hash="h")
    data = {"case_id": case_id, "notice_id": f"notice-{n}", "problem_id": "P1", "description": f"问题{n}",
            "responsible_unit": unit, "deadline": deadline, "issuer_unit": OFFICE}
    events = [EventEnvelope(event_id=f"e{n}-1", version=1, type="RectificationOpened", data=data, occurred_at=at,
                            recorded_at=at, **base)]
    for version, (kind, extra) in enumerate(status_events, start=2):
        events.append(EventEnvelope(event_id=f"e{n}-{version}", version=version, type=kind, data=extra,
                                    occurred_at=at, recorded_at=at + timedelta(seconds=version), **base))
    return events


@pytest.fixture(scope="module")
def cases(infra, session_prefix):
    """120 cases over 40 days: every third one 恩阳区's, the last ten closed, deadlines from 2026-03-01 on."""
    from tests.conftest import Settings

    prefix = f"{session_prefix}_lists"
    settings = Settings(mongo_url=infra.mongo_url, kafka_bootstrap=infra.kafka_bootstrap, db_prefix=prefix,
                        topic_prefix=prefix)
    context = bootstrap_followups(settings, clock=FixedClock(TODAY))
    start = datetime(2026, 1, 1, 8, tzinfo=timezone.utc)
    for n in range(120):
        unit = "恩阳区教育局" if n % 3 == 0 else "巴州区教育局"
        closing = [("RectificationClosed", {"closed_on": "2026-03-01", "on_time": True})] if n >= 110 else []
        for event in opened(n, unit, (date(2026, 3, 1) + timedelta(days=n % 40)).isoformat(),
                            start + timedelta(days=n // 3, minutes=n), closing):
            PROJECTION(event)
            PROJECTION(event)  # delivered twice, as the direct write and the own topic do
    client = create_service_app(lambda: context, "followups", [followups_api]).test_client()
    return settings, client


def get(cases, as_role=Role.AUDITOR, as_unit=None, **params):
    settings, client = cases
    token = issue_token(settings.jwt_secret, "reader", as_role, as_unit)
    response = client.get("/cases", query_string=params, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.get_json()
    return [row["id"] for row in response.get_json()], json.loads(response.headers["X-Pagination"])


def test_an_unfiltered_list_is_newest_first_with_its_total(cases):
    ids, pagination = get(cases, page_size=5)
    assert ids == [f"notice-{n}:P1" for n in (119, 118, 117, 116, 115)]
    assert pagination["total"] == 120 and pagination["total_pages"] == 24


def test_paging_through_a_filtered_list_sees_every_row_once(cases):
    seen, page = [], 1
    while True:
        ids, pagination = get(cases, unit="恩阳区教育局", page_size=7, page=page)
        seen += ids
        if not ids or not pagination.get("has_more", page < pagination.get("total_pages", 0)):
            break
        page += 1
    assert seen == [f"notice-{n}:P1" for n in range(119, -1, -1) if n % 3 == 0]


def test_a_unit_handler_sees_only_its_units_cases_and_nothing_when_it_asks_for_another(cases):
    ids, pagination = get(cases, as_role=Role.UNIT_HANDLER, as_unit="恩阳区教育局", page_size=100)
    assert len(ids) == 40 and pagination["total"] == 40
    assert get(cases, as_role=Role.UNIT_HANDLER, as_unit="恩阳区教育局", page_size=100, unit="巴州区教育局")[0] == []


def test_status_light_and_deadline_filters(cases):
    closed, pagination = get(cases, status="closed", page_size=50)
    assert closed == [f"notice-{n}:P1" for n in range(119, 109, -1)] and pagination["total"] == 10
    red = get(cases, light="red", page_size=100)[0] + get(cases, light="red", page_size=100, page=2)[0]
    # open cases with a deadline before 2026-03-20
    assert red and all(int(i.split("-")[1].split(":")[0]) < 110 for i in red)
    assert {int(i.split("-")[1].split(":")[0]) % 40 for i in red} == set(range(19))
    march_5, _ = get(cases, deadline_from="2026-03-05", deadline_to="2026-03-05", page_size=50)
    assert march_5 == [f"notice-{n}:P1" for n in (84, 44, 4)]
