"""Wiring of the notices service, shared by its web app, its worker and the tests."""
from __future__ import annotations

from shared.clock import Clock
from shared.config import Settings
from shared.eventstore.base import EventStore
from shared.policy import PolicyBook
from shared.service import ServiceContext, bootstrap_service
from services.notices.adapters.read_models import PROJECTION, SERVICE
from services.notices.domain.events import REGISTRY
from services.notices.handlers import HANDLERS
from services.notices.reactions import reactions, timers


def bootstrap(settings: Settings | None = None, store: EventStore | None = None, clock: Clock | None = None,
              policies: PolicyBook | None = None) -> ServiceContext:
    return bootstrap_service(SERVICE, settings, REGISTRY, HANDLERS, projection=PROJECTION, store=store,
                             reactions=reactions, timers=timers, clock=clock, policies=policies)
