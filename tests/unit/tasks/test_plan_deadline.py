"""The parse deadline: a preview stops, with a clear 422, instead of holding a web worker for minutes.

Clocks are injected (one tick per look at the time), so nothing here depends on how fast the machine is.
"""
from __future__ import annotations

import io

import pytest
from plan_helpers import read_document

from shared.auth import Role, issue_token
from shared.config import Settings
from shared.eventstore.memory import InMemoryEventStore
from shared.web import create_service_app
from services.tasks.bootstrap import bootstrap
from services.tasks.entrypoints.api import plans
from services.tasks.plan_import import ParseDeadline, PlanParseError, PlanParseTimeout, parse_plan
from services.tasks.plan_import.markers import int_to_cjk

DOCUMENT = "anhui-2020-workplan.txt"
SECRET = "plan-deadline-test-secret-of-32-bytes-or-more"


class TickingClock:
    """Advances one second every time it is read."""

    def __init__(self) -> None:
        self.now = 0.0
        self.reads = 0

    def __call__(self) -> float:
        self.reads += 1
        self.now += 1.0
        return self.now


class StoppedClock:
    """Never advances; counts how often the parser looked at it."""

    def __init__(self) -> None:
        self.reads = 0

    def __call__(self) -> float:
        self.reads += 1
        return 0.0


def flattened_plan(sections: int) -> str:
    """A plan pasted without a single line break: every marker is inline."""
    parts = ["示例市2024年教育督导工作要点。"]
    for section in range(1, sections + 1):
        parts.append(f"{int_to_cjk(section)}、推进第{section}项重点工作。")
        parts += [f"{item}.会同市财政局督促各县落实督导任务，6月底前完成，达到95%以上。" for item in range(1, 13)]
    return "".join(parts)


def checks_made(text: str) -> int:
    clock = StoppedClock()
    parse_plan(text, deadline=ParseDeadline(10.0, clock=clock))
    return clock.reads - 1  # the first read set the deadline


class TestParseDeadline:
    def test_it_expires_once_its_seconds_have_passed(self):
        clock = TickingClock()
        deadline = ParseDeadline(3.0, clock=clock)  # made at t=1, expires at t=4
        deadline.check()
        deadline.check()
        with pytest.raises(PlanParseTimeout) as raised:
            deadline.check()
        assert raised.value.code == "too_slow" and raised.value.seconds == 3.0
        assert "秒" in raised.value.zh and "3 s" in raised.value.en

    @pytest.mark.parametrize("seconds", [None, 0, -1])
    def test_none_or_zero_seconds_mean_no_limit(self, seconds):
        clock = TickingClock()
        deadline = ParseDeadline(seconds, clock=clock)
        for _ in range(100):
            deadline.check()
        assert deadline.seconds is None


class TestParsePlanWithADeadline:
    def test_a_parse_past_its_deadline_stops_with_a_plan_parse_error(self):
        with pytest.raises(PlanParseError) as raised:
            parse_plan(read_document(DOCUMENT), deadline=ParseDeadline(5.0, clock=TickingClock()))
        assert isinstance(raised.value, PlanParseTimeout) and raised.value.code == "too_slow"

    def test_a_parse_within_its_deadline_gives_the_same_result(self):
        text = read_document(DOCUMENT)
        assert parse_plan(text, deadline=ParseDeadline(10.0, clock=StoppedClock())) == parse_plan(text)

    def test_the_deadline_is_checked_throughout_not_only_at_the_end(self):
        text = read_document(DOCUMENT)
        total = checks_made(text)
        assert total > 50
        # a budget of half the looks stops the parse half-way, without finishing the work first
        clock = TickingClock()
        with pytest.raises(PlanParseTimeout):
            parse_plan(text, deadline=ParseDeadline(total // 2, clock=clock))
        assert clock.reads == total // 2 + 1

    def test_checks_grow_with_the_document_even_without_line_breaks(self):
        small, large = checks_made(flattened_plan(10)), checks_made(flattened_plan(40))
        assert large > 3 * small > 0


@pytest.fixture(scope="module")
def client_with_deadline():
    """The plans API on an in-memory store, with a parse budget no real parse can meet."""

    def make(seconds: float):
        settings = Settings(jwt_secret=SECRET, log_level="WARNING", policy_file=None, plan_parse_deadline_seconds=seconds)
        app = create_service_app(lambda: bootstrap(settings, store=InMemoryEventStore()), "tasks test", [plans])
        client = app.test_client()
        token = issue_token(SECRET, "office-1", Role.OFFICE_STAFF, unit="市教育督导办")
        client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        return client

    return make


class TestPreviewDeadline:
    def test_a_preview_past_its_deadline_gets_422_with_a_chinese_reason(self, client_with_deadline):
        # A nanosecond budget: the decoding and cleanup before the first check already take longer.
        client = client_with_deadline(1e-9)
        answer = client.post("/plans/preview", json={"text": read_document(DOCUMENT)})
        assert answer.status_code == 422, answer.get_data(as_text=True)[:500]
        body = answer.get_json()
        assert body["code"] == "deadline_exceeded" and body["status"] == 422
        assert "解析超过" in body["message_zh"] and body["message"]
        assert body["details"]["field"] == "text" and body["details"]["reason"] == "too_slow"

    def test_an_upload_past_its_deadline_names_the_file_field(self, client_with_deadline):
        client = client_with_deadline(1e-9)
        data = read_document(DOCUMENT).encode("utf-8")
        answer = client.post("/plans/preview/upload", data={"file": (io.BytesIO(data), "plan.txt")},
                             content_type="multipart/form-data")
        assert answer.status_code == 422 and answer.get_json()["details"]["field"] == "file"

    def test_a_preview_within_its_deadline_is_answered(self, client_with_deadline):
        client = client_with_deadline(0)  # no limit
        answer = client.post("/plans/preview", json={"text": read_document(DOCUMENT)})
        assert answer.status_code == 200, answer.get_data(as_text=True)[:500]
        assert answer.get_json()["draft"]["tasks"]
