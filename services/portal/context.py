"""What every portal request works with, wired once per process by ``bootstrap``."""
from __future__ import annotations

import atexit
import threading
from dataclasses import dataclass, field
from typing import Callable

from shared.clock import Clock, SystemClock
from shared.config import Settings
from shared.policy import PolicyBook, load_policy_book
from shared.scope import UnitTree, empty_tree
from services.api_client import ApiClient
from services.portal.adapters.feed import TopicFeed
from services.portal.adapters.users import UserDirectory, load_directory
from services.portal.domain.model import PortalModel
from services.portal.domain.queries import LightRule

SERVICE = "portal"
GRACEFUL_SECONDS = 10  # deploy/gunicorn.conf.py's graceful_timeout: after it, gunicorn kills the worker


@dataclass
class PortalContext:
    settings: Settings
    model: PortalModel
    users: UserDirectory
    policies: PolicyBook
    clock: Clock
    lock: threading.RLock = field(default_factory=threading.RLock)
    feed: TopicFeed | None = None
    feed_stop: threading.Event | None = None
    # the directory's units as they stand now: what a viewer sees follows it (shared/scope.py)
    unit_tree: Callable[[], UnitTree] = empty_tree

    def light_rule(self) -> LightRule:
        return LightRule(self.clock.today(), self.policies)

    def service(self, name: str, token: str) -> ApiClient:
        """The HTTP API of ``name`` (tasks, notices, followups, directory, messages), called as the signed-in person."""
        url = {"tasks": self.settings.tasks_url, "notices": self.settings.notices_url,
               "followups": self.settings.followups_url, "directory": self.settings.directory_url,
               "messages": self.settings.messages_url}[name]
        return ApiClient(url, token)

    def stop(self, timeout: float = 60) -> None:
        """Stop following the topics and wait for the feed's last snapshot (at exit, and in tests)."""
        if self.feed_stop is not None:
            self.feed_stop.set()
        if self.feed is not None:
            self.feed.join(timeout)

    @property
    def ready(self) -> bool:
        return self.feed is None or self.feed.caught_up.is_set()


def bootstrap(settings: Settings | None = None, clock: Clock | None = None, users: UserDirectory | None = None,
              start_feed: bool = True, unit_tree: Callable[[], UnitTree] | None = None) -> PortalContext:
    """``unit_tree``: the directory's units as they stand now (what each viewer sees, shared/scope.py)."""
    settings = settings or Settings()
    users = users or load_directory(settings.portal_users_file, settings.dev_mode)  # demo accounts: dev mode only
    context = PortalContext(settings=settings, model=PortalModel(), users=users,
                            policies=load_policy_book(settings.policy_file), clock=clock or SystemClock(),
                            unit_tree=unit_tree or empty_tree)
    if unit_tree is None:  # the directory's hierarchy, as the portal's own model learnt it from the topic
        context.unit_tree = context.model.unit_tree
    if start_feed:
        context.feed = TopicFeed(settings, context.model, context.lock, snapshot_dir=settings.portal_snapshot_dir)
        context.feed_stop = context.feed.start()
        if settings.portal_snapshot_dir:
            # gunicorn's worker leaves through sys.exit on SIGTERM, which runs this: the last snapshot spares the
            # next start its tail (a kill instead just means a longer tail from the previous snapshot)
            atexit.register(context.stop, timeout=max(1.0, GRACEFUL_SECONDS - 1))
    return context
