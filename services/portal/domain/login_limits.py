"""Sign-in attempts limited per account and per client address, so that passwords cannot be guessed at speed."""
from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Callable

FAILURE = "failure"  # one wrong user name or password
LOCKOUT = "lockout"  # an account or an address refused from now on, for ``lockout_seconds``


@dataclass(frozen=True)
class SignInAttemptEvent:
    """What the hook is told: a failed attempt, or a lockout (``subject`` is "account" or "address")."""

    kind: str
    subject: str
    value: str
    at: float  # the limiter's clock (seconds since the epoch by default)
    locked_until: float | None = None


class LoginLimiter:
    """After ``per_account`` failures for one account, or ``per_address`` from one address, within ``window_seconds``,
    every attempt for that account (or from that address) is refused for ``lockout_seconds``.

    Kept in the portal's memory for now; ``on_event`` hears every failure and lockout (to record them later as events
    of a directory service). A success clears the account's failures, not the address's: one address trying many
    accounts stays counted.
    """

    def __init__(self, per_account: int = 5, per_address: int = 20, window_seconds: float = 15 * 60,
                 lockout_seconds: float = 15 * 60, clock: Callable[[], float] = time.time,
                 on_event: Callable[[SignInAttemptEvent], None] | None = None, max_tracked: int = 100_000):
        self.limits = {"account": per_account, "address": per_address}
        self.window, self.lockout = window_seconds, lockout_seconds
        self.clock, self.on_event, self.max_tracked = clock, on_event, max_tracked
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._locked_until: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()

    def retry_after(self, account: str, address: str | None) -> float | None:
        """Seconds until an attempt for ``account`` from ``address`` is allowed again, or None if it is now."""
        now = self.clock()
        with self._lock:
            waits = [until - now for key in self._keys(account, address)
                     if (until := self._locked_until.get(key)) is not None and until > now]
        return max(waits) if waits else None

    def failed(self, account: str, address: str | None) -> None:
        now = self.clock()
        events = []
        with self._lock:
            if len(self._failures) >= self.max_tracked:
                self._forget_stale(now)
            for key in self._keys(account, address):
                events.append(SignInAttemptEvent(FAILURE, key[0], key[1], now))
                failures = self._failures.setdefault(key, deque())
                failures.append(now)
                while failures and failures[0] <= now - self.window:
                    failures.popleft()
                if len(failures) >= self.limits[key[0]] and self._locked_until.get(key, 0) <= now:
                    self._locked_until[key] = now + self.lockout
                    failures.clear()
                    events.append(SignInAttemptEvent(LOCKOUT, key[0], key[1], now, now + self.lockout))
        for event in events:  # outside the lock: a slow hook holds up no other sign-in
            if self.on_event is not None:
                self.on_event(event)

    def succeeded(self, account: str, address: str | None) -> None:
        with self._lock:
            self._failures.pop(("account", _account_key(account)), None)

    @staticmethod
    def _keys(account: str, address: str | None) -> list[tuple[str, str]]:
        keys = [("account", _account_key(account))]
        if address:
            keys.append(("address", address))
        return keys

    def _forget_stale(self, now: float) -> None:
        """Bound the memory a stream of made-up user names could take: forget what no longer counts."""
        for key in [k for k, times in self._failures.items() if not times or times[-1] <= now - self.window]:
            del self._failures[key]
        for key in [k for k, until in self._locked_until.items() if until <= now]:
            del self._locked_until[key]


def _account_key(account: str) -> str:
    # "Office" and " office" are counted as "office": changing the case of a name must not reset its count
    return account.strip().casefold()
