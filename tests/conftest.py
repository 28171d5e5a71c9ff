"""Session fixtures: the real Kafka broker and MongoDB-protocol server, started once per session.

Set KAFKA_BOOTSTRAP / MONGO_URL to run the same suite against servers that already exist.
"""
from __future__ import annotations

import os
import secrets
import uuid

import pytest

from deploy.localstack import temporary_stack
from shared.config import Settings
from shared.deadlines import use_recorded_arrangements

# Set before any Settings() is made, and inherited by every process the tests start (deploy/localstack.py builds their
# environment from this one): a token secret of this session, and development mode for the portal's demo accounts
# that the page and browser tests sign in with. Tests of the refusals outside development mode unset them.
os.environ.setdefault("DUBAN_JWT_SECRET", f"test-session-{secrets.token_urlsafe(32)}")
os.environ.setdefault("DUBAN_DEV_MODE", "1")


@pytest.fixture(scope="session")
def infra():
    """Kafka + MongoDB-protocol server for the whole session (only started if a test asks for them)."""
    with temporary_stack("duban-test-") as stack:
        yield stack


@pytest.fixture(scope="session")
def session_prefix() -> str:
    return f"t{uuid.uuid4().hex[:8]}"


@pytest.fixture
def settings(infra, session_prefix, request) -> Settings:
    """Settings on the real servers, with databases and topics of this test alone."""
    unique = f"{session_prefix}_{uuid.uuid4().hex[:6]}"
    return Settings(mongo_url=infra.mongo_url, kafka_bootstrap=infra.kafka_bootstrap, db_prefix=unique,
                    topic_prefix=unique, relay_idle_seconds=0.02)


def pytest_report_header(config):
    where = {k: os.environ[k] for k in ("KAFKA_BOOTSTRAP", "MONGO_URL") if os.environ.get(k)}
    return f"duban servers: {where or 'started by the test session (Kafka KRaft + FerretDB)'}"


@pytest.fixture(autouse=True)
def _built_in_and_provisional_calendars_after_each_test():
    """A test that recorded a year's holiday arrangement leaves the process counting on it; the next one must not."""
    yield
    use_recorded_arrangements([])


@pytest.fixture(scope="session")
def smtp_sink(tmp_path_factory):
    """A real SMTP server process (tests/sinks.py) for the session; a test clears it before use."""
    from tests.sinks import SmtpSink

    with SmtpSink(tmp_path_factory.mktemp("smtp-sink")) as sink:
        yield sink


@pytest.fixture(scope="session")
def http_sink(tmp_path_factory):
    """A real HTTP process standing in for the SMS gateway and IM robots; a test resets and clears it before use."""
    from tests.sinks import HttpSink

    with HttpSink(tmp_path_factory.mktemp("http-sink")) as sink:
        yield sink
