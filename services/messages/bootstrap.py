"""Wiring of the messages service, shared by its web app, its worker and the tests."""
from __future__ import annotations

from datetime import time

from shared.clock import Clock
from shared.config import Settings
from shared.eventstore.base import EventStore
from shared.policy import PolicyBook
from shared.service import ServiceContext, Timer, bootstrap_service
from services.messages.adapters.channels import Channel, build_channels, load_channel_config
from services.messages.adapters.read_models import PROJECTION, SERVICE, TRACKED
from services.messages.dispatcher import Dispatcher
from services.messages.domain.events import REGISTRY
from services.messages.domain.rules import RuleBook, load_rules
from services.messages.handlers import HANDLERS
from services.messages.notifier import Notifier, QuietHours

ROBOT_CHANNELS = ("wecom", "dingtalk")


def quiet_hours(setting: str) -> QuietHours:
    """``"22:00-07:30"`` (Beijing time); an empty setting or ``"off"`` means none."""
    if setting.strip().lower() in ("", "off", "none"):
        return QuietHours(time(0, 0), time(0, 0))
    start, end = (time.fromisoformat(part.strip()) for part in setting.split("-", 1))
    return QuietHours(start, end)


def bootstrap(settings: Settings | None = None, store: EventStore | None = None, clock: Clock | None = None,
              policies: PolicyBook | None = None, channels: dict[str, Channel] | None = None,
              rules: RuleBook | None = None) -> ServiceContext:
    settings = settings or Settings()
    config = load_channel_config(settings.messages_config)
    channels = build_channels(config) if channels is None else channels
    context = bootstrap_service(SERVICE, settings, REGISTRY, HANDLERS, projection=PROJECTION, store=store, clock=clock,
                                policies=policies)
    if context.database is None:
        return context
    for document in TRACKED:
        document.ensure_indexes()
    robots = {unit: kind for kind in ROBOT_CHANNELS for unit in (config.get(kind) or {})}
    available = {name for name in channels if name not in ROBOT_CHANNELS}
    clock = context.dependencies["clock"]
    notifier = Notifier(context, rules or load_rules(settings.message_rules), available, robots,
                        quiet_hours(settings.quiet_hours), clock, context.dependencies["policies"])
    dispatcher = Dispatcher(context, channels, clock, settings.portal_url)
    context.reactions["notices"] = notifier.on_notices_event
    context.reactions["followups"] = notifier.on_followups_event
    context.timers["message-watch"] = Timer(notifier.watch, settings.deadline_watch_seconds)
    context.timers["message-digest"] = Timer(notifier.digest, settings.digest_seconds)
    context.timers["message-dispatch"] = Timer(dispatcher.run_once, settings.dispatch_seconds)
    return context
