"""The demo year `make run` loads: every fact goes through the public APIs of the running services."""
from __future__ import annotations

import json

import pytest

from services.demo import OFFICE, PROMPT_LETTER_TOPICS, DemoLoader
from tests.helpers import eventually


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

    def test_the_overdue_cases_are_flagged_by_the_watcher_and_escalated(self, demo, services):
        cases = services.client("followups", role="auditor", unit=None)

        def two_red_and_warned():
            red = cases.get("/cases", params={"light": "red", "page_size": 100}).json()
            demo_red = [c for c in red if c["issuer_unit"] == OFFICE]
            assert len(demo_red) == 2 and all(c["overdue"] for c in demo_red)
            levels = {c["escalation_level"] for c in demo_red}
            assert levels == {"interview", "circulation"}  # the office's 约谈 / 通报 outrank the automatic 催办/预警
            automatic = [e["level"] for c in demo_red for e in c["escalations"] if e["automatic"]]
            assert sorted(automatic) == ["reminder", "reminder", "warning", "warning"]

        eventually(two_red_and_warned, timeout=60)

    def test_loading_again_adds_nothing(self, demo, services):
        loader, _ = demo
        auditor = services.client("notices", role="auditor", unit=None)
        before = total(auditor, "/notices")
        assert loader.load() == {"notices": 39, "problems": 21, "closed": 18}
        assert total(auditor, "/notices") == before
