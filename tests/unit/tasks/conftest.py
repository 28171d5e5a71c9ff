"""Fixtures for the work-plan parser tests."""
from __future__ import annotations

import pytest
from plan_helpers import read_document

from services.tasks.plan_import import parse_plan


@pytest.fixture(scope="session")
def parsed():
    """parsed(name) → parse_plan of a sample document (cached per session)."""
    cache: dict[str, dict] = {}

    def get(name: str) -> dict:
        if name not in cache:
            cache[name] = parse_plan(read_document(name))
        return cache[name]

    return get
