"""The demo year `make run` loads: every fact goes through the public APIs of the running services."""
from __future__ import annotations

import json
from datetime import date

import pytest

from services.demo import (DEMO_REASON, FIRST_WORKING_DAY_AFTER, OFFICE, PROMPT_LETTER_TOPICS, WARNING_AFTER,
                           DemoLoader)


@pytest.fixture(scope="module")
def demo(services):
    loader = DemoLoader(services.urls, services.settings.jwt_secret, say=lambda _: None)
    return loader, loader.load()


def total(client, path: str, **params) -> int:
    response = client.get(path, params={**params, "page_size": 1})
    assert response.status_code == 200, response.text
    return json.loads(response.headers["X-Pagination"])["total"]


class TestDemoYear:
    def test_the_office_issued_39_notices_and_letters_with_21_problems_of_which_18_are_closed(self, demo, services):
        _, summary = demo
        assert summary == {"notices": 39, "problems": 21, "closed": 18}
        auditor = services.client("notices", role="auditor", unit=None)
        assert total(auditor, "/notices", issuer_unit=OFFICE) == 39
        assert total(auditor, "/notices", kind="工作提示函", issuer_unit=OFFICE) == len(PROMPT_LETTER_TOPICS)
        cases = services.client("followups", role="auditor", unit=None)
        demo_cases = [c for c in cases.get("/cases", params={"page_size": 100}).json() if c["issuer_unit"] == OFFICE]
        assert len(demo_cases) == 21 and len({c["area"] for c in demo_cases}) == 7
        assert sum(c["status"] == "closed" for c in demo_cases) == 18

    def test_the_overdue_cases_were_reminded_and_warned_on_the_days_the_watcher_would_have(self, demo, services):
        cases = services.client("followups", role="auditor", unit=None)
        red = [c for c in cases.get("/cases", params={"light": "red", "page_size": 100}).json() if c["issuer_unit"] == OFFICE]
        assert len(red) == 2
        assert {c["escalation_level"] for c in red} == {"interview", "circulation"}  # the office's 约谈 / 通报
        for case in red:
            deadline = date.fromisoformat(case["deadline"])
            reminder, warning, decision = case["escalations"]
            assert (reminder["level"], reminder["on"]) == ("reminder", FIRST_WORKING_DAY_AFTER.after(deadline).isoformat())
            assert (warning["level"], warning["on"]) == ("warning", WARNING_AFTER.after(deadline).isoformat())
            assert decision["on"] > warning["on"] and not any(e["automatic"] for e in case["escalations"])
            assert all(e["backfill"]["reason"] == DEMO_REASON for e in case["escalations"])

    def test_the_year_looks_like_a_year(self, demo, services):
        """Notices from month to month, signatures within their 签收时限 but a few late, closings spread over the
        months, some late; every step on its own day, none on the day the demo was loaded."""
        loader, _ = demo
        today = loader.today.isoformat()
        notices = services.client("notices", role="auditor", unit=None)
        demo_notices = [n for n in notices.get("/notices", params={"page_size": 100}).json() if n["issuer_unit"] == OFFICE]
        assert len({n["issued_on"][:7] for n in demo_notices}) >= 10  # eleven months of notices
        signatures = [s for n in demo_notices for s in n["signatures"]]
        assert all(s["signed_on"] < today for s in signatures)
        assert 0 < sum(s["late"] for s in signatures) < len(signatures) / 5
        cases = services.client("followups", role="auditor", unit=None)
        closed = [c for c in cases.get("/cases", params={"status": "closed", "page_size": 100}).json()
                  if c["issuer_unit"] == OFFICE]
        assert len(closed) == 18 and all(c["closed_on"] < today for c in closed)
        assert len({c["closed_on"][:7] for c in closed}) >= 6
        # late: the one reported after its deadline, and the one whose report failed 复查 and came again too late
        assert [c["on_time"] for c in closed].count(False) == 2
        [extended] = [c for c in closed if c["extensions"]]
        assert extended["on_time"] and extended["deadline"] > extended["original_deadline"]

    def test_loading_again_adds_nothing(self, demo, services):
        loader, _ = demo
        auditor = services.client("notices", role="auditor", unit=None)
        before = total(auditor, "/notices")
        assert loader.load() == {"notices": 39, "problems": 21, "closed": 18}
        assert total(auditor, "/notices") == before
