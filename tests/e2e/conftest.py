"""The three services as real processes (gunicorn web + worker each) on the session's real servers."""
from __future__ import annotations

import pytest

from tests.helpers import running_services

SERVICE_NAMES = ("tasks", "notices", "followups", "portal")


@pytest.fixture(scope="session")
def services(infra, session_prefix):
    with running_services(infra, f"{session_prefix}_e2e", SERVICE_NAMES) as running:
        yield running
