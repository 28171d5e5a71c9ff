"""Events of the notices service; those other services read are contracts in shared.contracts."""
from shared.contracts import NoticeIssued
from shared.events import EventRegistry

REGISTRY = EventRegistry(NoticeIssued)

__all__ = ["NoticeIssued", "REGISTRY"]
