"""Events of the followups service; those other services read are contracts in shared.contracts."""
from shared.contracts import RectificationOpened
from shared.events import EventRegistry

REGISTRY = EventRegistry(RectificationOpened)

__all__ = ["RectificationOpened", "REGISTRY"]
