"""Concurrent sign-ins from one address meet on that address's guard stream: each failure is still counted once,
the password is checked once, and nobody gets a 409 for it."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from shared.bus import CommandContext
from shared.clock import FixedClock
from shared.envelope import Actor
from shared.errors import TooManyAttempts, Unauthorized
from shared.eventstore.base import AppendRequest
from shared.eventstore.memory import InMemoryEventStore
from services.directory import handlers
from services.directory.adapters.credentials import MemoryCredentials
from services.directory.bootstrap import bootstrap
from services.directory.domain import commands as c
from services.directory.domain.events import SignInFailed, SignedInAfterFailures
from services.directory.domain.model import SignInGuard

ADDRESS = "10.0.0.9"
NOW = datetime(2026, 12, 4, 9, 0, tzinfo=timezone.utc)
ADDRESS_STREAM = SignInGuard.stream_for(f"address:{ADDRESS}", NOW)
ANONYMOUS = CommandContext(Actor(f"anonymous@{ADDRESS}", "system", "登录"), correlation_id="corr-sign-in")


class RacedStore(InMemoryEventStore):
    """Before each of the first ``races`` appends to the address's guard, another sign-in's failure lands there."""

    def __init__(self, races: int):
        super().__init__()
        self.races = races

    def append(self, request: AppendRequest):
        if request.stream_id == ADDRESS_STREAM and self.races > 0:
            self.races -= 1
            rival = SignInGuard(ADDRESS_STREAM)
            for event in self.read_stream(ADDRESS_STREAM):
                rival.version = event.version
            rival.record_failure(ADDRESS, ADDRESS, datetime(2026, 12, 4, 9, 0, tzinfo=timezone.utc), 10_000)
            super().append(AppendRequest(stream_id=ADDRESS_STREAM, stream_type=rival.stream_type,
                                         expected_version=rival.version,
                                         events=[e.to_new_event() for e in rival.pending], actor=ANONYMOUS.actor,
                                         correlation_id="corr-rival"))
        return super().append(request)


@pytest.fixture
def password_checks(monkeypatch) -> list[str]:
    """The passwords checked, in order: the check is the slow part of a sign-in, on purpose."""
    checked: list[str] = []
    verify = handlers.verify_password

    def counting(stored_hash, password):
        checked.append(password)
        return verify(stored_hash, password)

    monkeypatch.setattr(handlers, "verify_password", counting)
    return checked


def _bus(store):
    return bootstrap(store=store, clock=FixedClock(datetime(2026, 12, 4, 9, 0, tzinfo=timezone.utc)),
                     credentials=MemoryCredentials()).bus


def _events(store, stream_id, kind):
    return [e for e in store.read_stream(stream_id) if e.type == kind.__name__]


def test_a_failure_raced_by_other_sign_ins_is_counted_once_on_each_guard_and_the_password_checked_once(
        password_checks):
    store = RacedStore(races=5)

    with pytest.raises(Unauthorized):
        _bus(store).handle(c.SignIn("nobody", "wrong-password", ADDRESS), ANONYMOUS)

    assert len(_events(store, SignInGuard.stream_for("account:nobody", NOW), SignInFailed)) == 1
    ours = [e for e in _events(store, ADDRESS_STREAM, SignInFailed) if e.correlation_id == "corr-sign-in"]
    assert len(ours) == 1
    assert len(_events(store, ADDRESS_STREAM, SignInFailed)) == 6  # five rivals and ours
    assert password_checks == ["wrong-password"]


def test_a_success_raced_by_other_sign_ins_still_signs_in_and_restarts_the_count(password_checks):
    store = RacedStore(races=0)
    bus = _bus(store)
    admin = CommandContext(Actor("admin", "admin", "管理员"), correlation_id="corr-admin")
    bus.handle(c.RegisterUnit("巴州区教育局", "bureau"), admin)
    bus.handle(c.RegisterPerson("zhao", "赵伟", "巴州区教育局", ("unit_handler",), "Bazhou-2026!x"), admin)
    with pytest.raises(Unauthorized):
        bus.handle(c.SignIn("zhao", "a typo", ADDRESS), ANONYMOUS)
    store.races, password_checks[:] = 3, []

    person, role = bus.handle(c.SignIn("zhao", "Bazhou-2026!x", ADDRESS), ANONYMOUS)

    assert (person.username, role) == ("zhao", "unit_handler")
    assert len(_events(store, ADDRESS_STREAM, SignedInAfterFailures)) == 1
    assert password_checks == ["Bazhou-2026!x"]


def test_endless_contention_on_a_guard_answers_429_not_409(monkeypatch):
    monkeypatch.setattr(handlers, "GUARD_RETRIES", 3)

    with pytest.raises(TooManyAttempts):
        _bus(RacedStore(races=1_000)).handle(c.SignIn("nobody", "wrong-password", ADDRESS), ANONYMOUS)


class CountingStore(InMemoryEventStore):
    """Counts the guard events each read of a sign-in stream returns."""

    def __init__(self):
        super().__init__()
        self.guard_events_read = 0

    def read_stream(self, stream_id, *args, **kwargs):
        events = super().read_stream(stream_id, *args, **kwargs)
        if stream_id.startswith("sign-in-"):
            self.guard_events_read += len(events)
        return events


def test_a_sign_in_reads_the_last_two_hours_of_failures_not_all_of_them():
    """One failure every 20 minutes never locks, and for ten hours: each sign-in still reads only this hour's and
    the last hour's guard events (one stream for all time would be read whole, every time)."""
    store, clock = CountingStore(), FixedClock(NOW)
    bus = bootstrap(store=store, clock=clock, credentials=MemoryCredentials()).bus
    for _ in range(30):
        with pytest.raises(Unauthorized):
            bus.handle(c.SignIn("nobody", "wrong-password", ADDRESS), ANONYMOUS)
        clock.advance(minutes=20)
    store.guard_events_read = 0

    with pytest.raises(Unauthorized):
        bus.handle(c.SignIn("nobody", "wrong-password", ADDRESS), ANONYMOUS)

    assert store.guard_events_read <= 2 * 2 * 3  # account and address, this hour and the last, 3 failures an hour
    failures = [e for e in store.read_all() if e.type == "SignInFailed"]
    assert len(failures) == 2 * 31  # every failure is still on record


def test_the_fifth_failure_locks_though_the_first_four_fell_in_the_hour_before():
    clock = FixedClock(NOW.replace(minute=57))
    bus = bootstrap(store=InMemoryEventStore(), clock=clock, credentials=MemoryCredentials()).bus
    for _ in range(4):
        with pytest.raises(Unauthorized):
            bus.handle(c.SignIn("nobody", "wrong-password", ADDRESS), ANONYMOUS)
    clock.advance(minutes=5)
    with pytest.raises(Unauthorized):
        bus.handle(c.SignIn("nobody", "wrong-password", ADDRESS), ANONYMOUS)

    with pytest.raises(TooManyAttempts):
        bus.handle(c.SignIn("nobody", "wrong-password", ADDRESS), ANONYMOUS)
