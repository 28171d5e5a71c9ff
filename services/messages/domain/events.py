"""Events of the messages service: all of them are contracts (the portal shows inboxes and deliveries)."""
from __future__ import annotations

from shared.contracts import (
    DeliveryAttempted,
    DeliveryFailed,
    MessageDeadLettered,
    MessageQueued,
    MessageRead,
    MessageRequeued,
    MessageSent,
)
from shared.events import EventRegistry

REGISTRY = EventRegistry(MessageQueued, DeliveryAttempted, MessageSent, DeliveryFailed, MessageDeadLettered,
                         MessageRequeued, MessageRead)
