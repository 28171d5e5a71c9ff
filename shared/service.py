"""What every service is made of, wired once by ``bootstrap_service`` for web, worker and tests."""
from __future__ import annotations

import functools
import logging
from datetime import timedelta
from dataclasses import dataclass, field
from typing import Any, Callable

from pymongo.database import Database

from shared import calendars
from shared import directory as directory_copy
from shared.bus import Handler, MessageBus, UnitOfWork
from shared.clock import Clock, SystemClock
from shared.config import Settings
from shared.envelope import utc_now
from shared.consumer import EventHandler
from shared.events import EventRegistry
from shared.eventstore.base import EventStore
from shared.eventstore.mongo import MongoEventStore
from shared.idempotency import IdempotencyStore
from shared.mongo import connect_service_database
from shared.policy import PolicyBook, load_policy_book
from shared.query_plans import check_lookups_are_indexed
from shared.read_models import Projection, settle_list_counts
from shared.scope import UnitTree, empty_tree

log = logging.getLogger(__name__)


@dataclass
class ServiceContext:
    name: str
    settings: Settings
    store: EventStore
    registry: EventRegistry
    bus: MessageBus
    database: Database | None = None
    projection: Projection | None = None
    # topic name (e.g. "notices") -> function handling one event from that topic
    reactions: dict[str, EventHandler] = field(default_factory=dict)
    # name -> periodic job the worker runs (e.g. the deadline watcher), with its interval in seconds
    timers: dict[str, "Timer"] = field(default_factory=dict)
    # loads the holiday arrangements offices have recorded into shared.deadlines (None: nothing connected)
    calendar: calendars.CalendarRefresh | None = None
    # what handlers may ask for by keyword (clock, policies, ...)
    dependencies: dict[str, Any] = field(default_factory=dict)
    # the directory's units as they stand now (shared/scope.py): who reads what follows it
    unit_tree: Callable[[], UnitTree] = empty_tree
    # this service's copy of the directory's units and people (None: nothing connected)
    directory: directory_copy.DirectoryCopy | None = None

    def rebuild_read_models(self) -> int:
        """Drop and replay this service's read models from its event store."""
        return self.projection.rebuild(self.store) if self.projection else 0

    @property
    def own_topic(self) -> str:
        return self.settings.topic(self.name)


@dataclass(frozen=True)
class Timer:
    """A periodic job of the worker: ``run()`` is called every ``interval`` seconds."""

    run: Callable[[], Any]
    interval: float


IDEMPOTENCY_EXPIRY_INTERVAL = 3600.0  # seconds; records live for days, so an hour late costs nothing
# A list's count is made good this long after a process died between inserting a row and counting it; a live
# writer counts within milliseconds of its insert (shared/paging.py, ListBounds).
LIST_SETTLE_INTERVAL = 10.0
LIST_SETTLE_QUIET = timedelta(seconds=10)


def _idempotency_expiry(database: Database, settings: Settings) -> Timer:
    keys = IdempotencyStore(database, ttl=timedelta(days=settings.idempotency_ttl_days))
    return Timer(lambda: keys.purge_expired(utc_now()), IDEMPOTENCY_EXPIRY_INTERVAL)


def _follow_recorded_calendars(context: ServiceContext, database: Database) -> None:
    """Count on the holiday arrangements offices have recorded: load them now and every minute; a service other
    than their owner keeps its copy from the owner's topic."""
    refresh = context.calendar = calendars.CalendarRefresh(database)
    refresh(force=True)
    context.timers["calendar-refresh"] = Timer(lambda: refresh(force=True), calendars.REFRESH_SECONDS)
    if context.name != calendars.OWNER:
        if calendars.OWNER in context.reactions:
            raise RuntimeError(f"{context.name} reacts to the {calendars.OWNER} topic already: compose the handlers")
        context.reactions[calendars.OWNER] = lambda envelope: calendars.keep_arrangement(database, envelope)


def _follow_directory(context: ServiceContext, database: Database) -> None:
    """Keep a copy of the directory's units and people from its topic (the directory from its own events too)."""
    keep = functools.partial(directory_copy.keep_directory, database)
    earlier = context.reactions.get(directory_copy.OWNER)
    context.reactions[directory_copy.OWNER] = keep if earlier is None else _both(earlier, keep)


def _both(first: EventHandler, second: EventHandler) -> EventHandler:
    def handle(envelope):
        first(envelope)
        second(envelope)

    return handle


def bootstrap_service(
    name: str,
    settings: Settings | None,
    registry: EventRegistry,
    handlers: dict[type, Handler],
    projection: Projection | None = None,
    store: EventStore | None = None,
    reactions: Callable[["ServiceContext"], dict[str, EventHandler]] | None = None,
    timers: Callable[["ServiceContext"], dict[str, Timer]] | None = None,
    clock: Clock | None = None,
    policies: PolicyBook | None = None,
    extra_dependencies: Callable[[Database | None], dict[str, Any]] | None = None,
    unit_tree: Callable[[], UnitTree] | None = None,
) -> ServiceContext:
    """Connect to the service's own database and wire the bus.

    With ``store`` given (unit tests of handlers) nothing connects anywhere and no read model is
    projected: read models live in MongoDB and are tested against the real server. ``extra_dependencies`` gives
    the service's own handler dependencies, made from its database (None in those unit tests).
    """
    settings = settings or Settings()
    database = None
    if store is None:
        database = connect_service_database(settings, name)
        store = MongoEventStore(database)
        store.ensure_indexes()
        for document in projection.documents if projection else ():
            document.ensure_indexes()
        check_lookups_are_indexed(database, settings.index_check)
        if projection is not None and (unlisted := projection.unlisted()):
            log.warning("read models built by an earlier version are missing from the lists until rebuilt: "
                        f"run `duban rebuild {name}`", extra={"collections": unlisted})
    else:
        projection = None
    # Every handler may ask for the clock (injectable: tests never sleep) and the offices' policies.
    # ``directory``: this service's copy of the directory's units and people (None without a database).
    directory = directory_copy.DirectoryCopy(database) if database is not None else None
    dependencies = {"clock": clock or SystemClock(), "policies": policies or load_policy_book(settings.policy_file),
                    "directory": directory, **(extra_dependencies(database) if extra_dependencies else {})}
    bus = MessageBus(lambda: UnitOfWork(name, store, registry, projection), handlers, dependencies)
    context = ServiceContext(name=name, settings=settings, store=store, registry=registry, bus=bus,
                             database=database, projection=projection, dependencies=dependencies, directory=directory)
    if unit_tree is not None:  # who reads what (shared/scope.py): given, or the directory's as kept here
        context.unit_tree = unit_tree
    elif directory is not None:
        context.unit_tree = directory.unit_tree
    if reactions is not None:
        context.reactions = reactions(context)
    if timers is not None:
        context.timers = timers(context)
    if database is not None:
        context.timers["idempotency-expiry"] = _idempotency_expiry(database, settings)
        _follow_recorded_calendars(context, database)
    if projection is not None and database is not None:
        documents = projection.documents
        context.timers["list-settle"] = Timer(lambda: settle_list_counts(documents, LIST_SETTLE_QUIET),
                                              LIST_SETTLE_INTERVAL)
    if projection is not None:
        # Read models are written right after each append (read-your-writes) and again from the service's
        # own topic: a process that died between the two writes cannot leave a row missing for good.
        context.reactions[name] = projection
    if database is not None:
        _follow_directory(context, database)
    return context
