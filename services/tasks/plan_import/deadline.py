"""A time budget for one parse, checked in the parser's loops."""
from __future__ import annotations

import time
from typing import Callable

from .errors import PlanParseTimeout


class ParseDeadline:
    """Raises PlanParseTimeout from ``check()`` once ``seconds`` have passed since it was made.

    A web request must not hold its worker for minutes whatever the document, and a thread cannot be
    stopped from outside: the parser itself calls ``check()`` between lines, paragraphs and items.
    ``seconds`` None or <= 0 means no limit (the CLI); ``clock`` is injectable so tests never wait.
    """

    def __init__(self, seconds: float | None, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds if seconds is not None and seconds > 0 else None
        self._clock = clock
        self._expires = None if self.seconds is None else clock() + self.seconds

    def check(self) -> None:
        if self._expires is not None and self._clock() >= self._expires:
            raise PlanParseTimeout(self.seconds)


NO_DEADLINE = ParseDeadline(None)
