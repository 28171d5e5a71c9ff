"""MongoDB connections: one mongoengine alias per service, each on the service's own database."""
from __future__ import annotations

import mongoengine
from pymongo.database import Database

from shared.config import Settings

# alias -> (url, database) it is connected to; a process normally has one entry per service, but
# tests bootstrap the same service against fresh databases many times.
_connected: dict[str, tuple[str, str]] = {}


def connect_service_database(settings: Settings, service: str) -> Database:
    """Register the alias ``service`` on the service's database; read models use ``db_alias=service``."""
    target = (settings.mongo_url, settings.database(service))
    if _connected.get(service) != target:
        if service in _connected:
            mongoengine.disconnect(alias=service)  # also forgets documents' cached collections
        mongoengine.connect(db=target[1], alias=service, host=target[0], uuidRepresentation="standard", tz_aware=True,
                            serverSelectionTimeoutMS=5000)
        _connected[service] = target
    return mongoengine.get_db(alias=service)
