"""Prometheus metrics shared by every process (multiprocess-safe under gunicorn when configured)."""
from __future__ import annotations

import os

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest, REGISTRY

HTTP_REQUESTS = Counter("duban_http_requests_total", "HTTP requests", ["service", "method", "endpoint", "status"])
HTTP_LATENCY = Histogram("duban_http_request_seconds", "HTTP request latency", ["service", "endpoint"])
EVENTS_APPENDED = Counter("duban_events_appended_total", "Events appended to the store", ["service", "type"])
EVENTS_PUBLISHED = Counter("duban_events_published_total", "Events published by the outbox relay", ["topic"])
EVENTS_CONSUMED = Counter("duban_events_consumed_total", "Events handled by consumers", ["group", "outcome"])


def render() -> tuple[bytes, str]:
    """The exposition text; aggregates all gunicorn workers when PROMETHEUS_MULTIPROC_DIR is set."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
