"""Event stores: the contract, an in-memory recorder for unit tests, and the MongoDB recorder."""
from shared.eventstore.base import AppendRequest, EventStore, VerificationResult
from shared.eventstore.memory import InMemoryEventStore

__all__ = ["AppendRequest", "EventStore", "InMemoryEventStore", "VerificationResult"]
