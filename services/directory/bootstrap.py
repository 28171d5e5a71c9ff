"""Wiring of the directory service, shared by its web app, its worker and the tests."""
from __future__ import annotations

from shared.clock import Clock
from shared.config import Settings
from shared.eventstore.base import EventStore
from shared.service import ServiceContext, bootstrap_service
from services.directory.adapters.credentials import Credentials, MemoryCredentials, MongoCredentials
from services.directory.adapters.read_models import PROJECTION, SERVICE
from services.directory.domain.events import REGISTRY
from services.directory.handlers import HANDLERS


def bootstrap(settings: Settings | None = None, store: EventStore | None = None, clock: Clock | None = None,
              credentials: Credentials | None = None) -> ServiceContext:
    def dependencies(database) -> dict:
        kept = credentials or (MongoCredentials(database) if database is not None else MemoryCredentials())
        return {"credentials": kept}

    return bootstrap_service(SERVICE, settings, REGISTRY, HANDLERS, projection=PROJECTION, store=store, clock=clock,
                             extra_dependencies=dependencies)
