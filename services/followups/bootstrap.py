"""Wiring of the followups service, shared by its web app, its worker and the tests."""
from __future__ import annotations

from typing import Callable

from pymongo.database import Database

from shared.clock import Clock
from shared.config import Settings
from shared.eventstore.base import EventStore
from shared.policy import PolicyBook
from shared.scope import UnitTree
from shared.service import ServiceContext, bootstrap_service
from services.followups.adapters.evidence_store import EvidenceStore
from services.followups.adapters.read_models import PROJECTION, SERVICE
from services.followups.domain.events import REGISTRY
from services.followups.handlers import HANDLERS
from services.followups.reactions import reactions, timers


def bootstrap(settings: Settings | None = None, store: EventStore | None = None, clock: Clock | None = None,
              policies: PolicyBook | None = None, unit_tree: Callable[[], UnitTree] | None = None) -> ServiceContext:
    """``unit_tree``: the directory's units as they stand now (who reads what, shared/scope.py)."""
    return bootstrap_service(SERVICE, settings, REGISTRY, HANDLERS, projection=PROJECTION, store=store,
                             reactions=reactions, timers=timers, clock=clock, policies=policies, unit_tree=unit_tree,
                             extra_dependencies=_evidence)


def _evidence(database: Database | None) -> dict:
    """The 佐证材料 store the steps look their files up in (none without a database: handlers' unit tests)."""
    return {"evidence": EvidenceStore(database) if database is not None else None}
