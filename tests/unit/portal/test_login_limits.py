"""Sign-in attempts limited per account and per address (pure Python, on a clock the test moves)."""
from __future__ import annotations

import pytest

from services.portal.domain.login_limits import FAILURE, LOCKOUT, LoginLimiter, SignInAttemptEvent


class Clock:
    def __init__(self):
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def events() -> list[SignInAttemptEvent]:
    return []


@pytest.fixture
def limiter(clock, events) -> LoginLimiter:
    return LoginLimiter(clock=clock, on_event=events.append)


def fail(limiter: LoginLimiter, times: int, account: str = "office", address: str = "10.0.0.1") -> None:
    for _ in range(times):
        limiter.failed(account, address)


class TestPerAccount:
    def test_four_failures_still_allow_a_fifth_attempt(self, limiter):
        fail(limiter, 4)
        assert limiter.retry_after("office", "10.0.0.1") is None

    def test_the_fifth_failure_locks_the_account_for_fifteen_minutes_from_any_address(self, limiter, clock):
        fail(limiter, 5)
        assert limiter.retry_after("office", "10.0.0.9") == pytest.approx(15 * 60)
        clock.advance(14 * 60)
        assert limiter.retry_after("office", "10.0.0.9") == pytest.approx(60)
        clock.advance(60)
        assert limiter.retry_after("office", "10.0.0.9") is None

    def test_other_accounts_are_not_locked(self, limiter):
        fail(limiter, 5)
        assert limiter.retry_after("inspector", "10.0.0.2") is None

    def test_failures_older_than_fifteen_minutes_no_longer_count(self, limiter, clock):
        fail(limiter, 4)
        clock.advance(15 * 60 + 1)
        fail(limiter, 1)
        assert limiter.retry_after("office", "10.0.0.1") is None

    def test_a_success_starts_the_accounts_count_again(self, limiter):
        fail(limiter, 4)
        limiter.succeeded("office", "10.0.0.1")
        fail(limiter, 4)
        assert limiter.retry_after("office", "10.0.0.1") is None

    def test_changing_the_case_or_spacing_of_the_name_counts_for_the_same_account(self, limiter):
        for name in ("office", "Office", " OFFICE", "office ", "oFFice"):
            limiter.failed(name, None)
        assert limiter.retry_after("office", None) is not None


class TestPerAddress:
    def test_twenty_failures_from_one_address_lock_the_address_for_every_account(self, limiter):
        for n in range(20):
            limiter.failed(f"guess{n}", "10.0.0.7")
        assert limiter.retry_after("office", "10.0.0.7") == pytest.approx(15 * 60)
        assert limiter.retry_after("office", "10.0.0.8") is None

    def test_a_success_does_not_clear_the_addresss_count(self, limiter):
        for n in range(19):
            limiter.failed(f"guess{n}", "10.0.0.7")
        limiter.succeeded("office", "10.0.0.7")
        limiter.failed("guess-last", "10.0.0.7")
        assert limiter.retry_after("office", "10.0.0.7") is not None


class TestTheHook:
    def test_each_failure_and_each_lockout_is_told(self, limiter, events, clock):
        fail(limiter, 5)
        failures = [e for e in events if e.kind == FAILURE]
        lockouts = [e for e in events if e.kind == LOCKOUT]
        assert len(failures) == 10  # each attempt counts for the account and for the address
        assert lockouts == [SignInAttemptEvent(LOCKOUT, "account", "office", clock.now, clock.now + 15 * 60)]


class TestMemory:
    def test_made_up_names_are_forgotten_once_they_no_longer_count(self, clock):
        limiter = LoginLimiter(clock=clock, max_tracked=10)
        for n in range(10):
            limiter.failed(f"nobody{n}", None)
        clock.advance(15 * 60 + 1)
        limiter.failed("someone", None)
        assert len(limiter._failures) == 1
