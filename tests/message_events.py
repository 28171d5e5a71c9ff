"""Real message events for the portal's tests: the messages service's own bus on an in-memory store, driven as its
notifier, dispatcher and a person's inbox would drive it (no servers, no channels)."""
from __future__ import annotations

from shared.bus import CommandContext
from shared.clock import FixedClock
from shared.envelope import Actor
from shared.eventstore.memory import InMemoryEventStore
from services.messages.bootstrap import bootstrap as bootstrap_messages
from services.messages.domain import commands as c
from services.messages.domain.model import Draft, message_id_for

SYSTEM = Actor.system("messages")


class Messages:
    """Queue a message, then let it be sent, fail, be read or sent again; ``events()`` is its topic's history."""

    def __init__(self, clock: FixedClock):
        self.clock = clock
        self.context = bootstrap_messages(store=InMemoryEventStore(), clock=clock, channels={})

    def _handle(self, command, actor: Actor = SYSTEM):
        return self.context.bus.handle(command, CommandContext.fresh(actor))

    def queue(self, channel: str, recipient: str | None, name: str, unit: str, subject: str, *, address: str | None = None,
              notice_id: str | None = None, case_id: str | None = None, rule: str = "reminder", body: str = "",
              link: str | None = None, occurrence: str = "1") -> str:
        item = case_id or notice_id or "item"
        message_id = message_id_for(rule, item, recipient or f"group:{unit}", channel, occurrence)
        if link is None:
            link = f"/cases/{case_id}" if case_id else f"/notices/{notice_id}" if notice_id else None
        self._handle(c.QueueMessage(Draft(message_id, rule, channel, recipient, name, unit, address, subject,
                                          body or subject, link, notice_id, case_id, occurrence)))
        return message_id

    def send(self, message_id: str, answer: str = "HTTP 200 OK") -> None:
        attempt = self._handle(c.ClaimDelivery(message_id))
        self._handle(c.RecordSent(message_id, attempt, answer))

    def fail(self, message_id: str, error: str, retryable: bool = True) -> None:
        attempt = self._handle(c.ClaimDelivery(message_id))
        self._handle(c.RecordFailure(message_id, attempt, error, retryable))

    def requeue(self, message_id: str, reason: str, actor: Actor) -> None:
        self._handle(c.RequeueMessage(message_id, reason), actor)

    def read(self, message_id: str, reader: Actor) -> None:
        self._handle(c.MarkRead(message_id), reader)

    def events(self) -> list:
        return list(self.context.store.read_all())
