"""Wiring of the tasks service, shared by its web app, its worker and the tests."""
from __future__ import annotations

from shared.clock import Clock
from shared.config import Settings
from shared.eventstore.base import EventStore
from shared.policy import PolicyBook
from shared.service import ServiceContext, bootstrap_service
from services.tasks.adapters.read_models import PROJECTION, SERVICE
from services.tasks.domain.events import REGISTRY
from services.tasks.handlers import HANDLERS
from services.tasks.reactions import reactions


def bootstrap(settings: Settings | None = None, store: EventStore | None = None, clock: Clock | None = None,
              policies: PolicyBook | None = None) -> ServiceContext:
    return bootstrap_service(SERVICE, settings, REGISTRY, HANDLERS, projection=PROJECTION, store=store,
                             reactions=reactions, clock=clock, policies=policies)
