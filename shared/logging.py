"""Structured JSON logs; every line carries the service name and the current correlation id."""
from __future__ import annotations

import contextlib
import contextvars
import logging
import sys
import uuid

from pythonjsonlogger.json import JsonFormatter

_correlation_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("correlation_id", default=None)


def current_correlation_id() -> str | None:
    return _correlation_id.get()


def new_correlation_id() -> str:
    return str(uuid.uuid4())


@contextlib.contextmanager
def correlation_scope(correlation_id: str | None):
    token = _correlation_id.set(correlation_id)
    try:
        yield correlation_id
    finally:
        _correlation_id.reset(token)


class _ContextFilter(logging.Filter):
    def __init__(self, service: str):
        super().__init__()
        self.service = service

    def filter(self, record: logging.LogRecord) -> bool:
        record.service = self.service
        record.correlation_id = _correlation_id.get()
        return True


def configure_logging(service: str, level: str = "INFO") -> None:
    """Send JSON lines to stderr; safe to call more than once."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(
        "%(asctime)s %(levelname)s %(name)s %(message)s %(service)s %(correlation_id)s",
        rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
    ))
    handler.addFilter(_ContextFilter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("kafka").setLevel(logging.WARNING)
