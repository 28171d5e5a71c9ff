"""DeferredReleases: the keys of attempts answered 503 are released from a thread of their own, tried again while
the database does not answer, and given up once the record would be stale anyway.

The store here is a stand-in whose ``abandon`` fails a given number of times: what is under test is the retrying,
not the database (tests/integration/test_idempotency.py and tests/reliability/test_database_outage.py release
real records on FerretDB)."""
from __future__ import annotations

import threading
import time
from datetime import timedelta

from pymongo.errors import NetworkTimeout

from shared.idempotency import DeferredReleases
from tests.helpers import eventually


class UnreachableFor:
    """Answers ``abandon`` with a timeout the first ``failures`` times, then releases."""

    def __init__(self, failures: int):
        self.failures = failures
        self.tries: list[tuple[str, str]] = []
        self.released: list[tuple[str, str]] = []
        self.threads: set[str] = set()

    def abandon(self, record_id: str, token: str) -> bool:
        self.tries.append((record_id, token))
        self.threads.add(threading.current_thread().name)
        if len(self.tries) <= self.failures:
            raise NetworkTimeout("timed out")
        self.released.append((record_id, token))
        return True


def test_a_release_is_tried_again_until_the_database_answers():
    store = UnreachableFor(failures=3)
    releases = DeferredReleases(store, retry_every=0.01)

    releases.add("wang\x1fPOST\x1f/notices\x1fk-1", "token-1")

    eventually(lambda: _equal(store.released, [("wang\x1fPOST\x1f/notices\x1fk-1", "token-1")]), timeout=5)
    assert len(store.tries) == 4
    assert store.threads == {"idempotency-releases"}, "released on the caller's thread"


def test_add_returns_at_once_while_the_release_waits():
    store = UnreachableFor(failures=1_000_000)
    releases = DeferredReleases(store, retry_every=0.05, give_up_after=timedelta(seconds=30))

    started = time.monotonic()
    for n in range(20):
        releases.add(f"record-{n}", f"token-{n}")

    assert time.monotonic() - started < 1.0
    eventually(lambda: _at_least(len(store.tries), 2), timeout=5)
    assert store.released == []


def test_a_release_is_given_up_once_its_record_would_be_stale():
    store = UnreachableFor(failures=1_000_000)
    releases = DeferredReleases(store, retry_every=0.01, give_up_after=timedelta(seconds=0.2))

    releases.add("record-1", "token-1")
    eventually(lambda: _at_least(len(store.tries), 1), timeout=5)
    time.sleep(0.5)
    tries_after_giving_up = len(store.tries)
    time.sleep(0.2)

    assert len(store.tries) == tries_after_giving_up, "still tried after give_up_after"
    assert store.released == []


def test_later_releases_still_go_out_after_one_was_given_up():
    store = UnreachableFor(failures=3)
    releases = DeferredReleases(store, retry_every=0.01, give_up_after=timedelta(seconds=0))

    releases.add("record-given-up", "token-1")  # fails once and is given up at once (give_up_after 0)
    eventually(lambda: _at_least(len(store.tries), 1), timeout=5)
    for n in range(3):
        releases.add(f"record-{n}", f"token-{n}")

    eventually(lambda: _equal(len(store.released), 1), timeout=5)
    assert store.released[0][0].startswith("record-")


def _equal(actual, expected) -> None:
    assert actual == expected, actual


def _at_least(actual: int, least: int) -> None:
    assert actual >= least, actual
