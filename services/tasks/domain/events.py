"""Events of the tasks service; those other services read are contracts in shared.contracts."""
from shared.contracts import PlanRecorded, TaskCreated
from shared.events import EventRegistry

REGISTRY = EventRegistry(PlanRecorded, TaskCreated)

__all__ = ["PlanRecorded", "TaskCreated", "REGISTRY"]
