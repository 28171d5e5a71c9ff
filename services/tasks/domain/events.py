"""Events of the tasks service; those other services read are contracts in shared.contracts."""
from shared.contracts import PlanImported, PlanRecorded, TaskCreated
from shared.events import EventRegistry

REGISTRY = EventRegistry(PlanRecorded, PlanImported, TaskCreated)

__all__ = ["PlanImported", "PlanRecorded", "TaskCreated", "REGISTRY"]
