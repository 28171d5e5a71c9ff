"""MongoDB connections: one mongoengine alias per service, each on the service's own database.

Every client is bounded: it looks for a reachable server for ``mongo_server_selection_timeout_ms`` and opens a
connection within ``mongo_connect_timeout_ms``. A server that stops answering (paused, overloaded, cut off)
therefore surfaces as an error that ``database_unavailable`` recognises, which the web layer answers with 503
and ``Retry-After`` (shared/web.py), never as a hang.

Web processes (``serve_requests``) give each operation one budget, ``mongo_operation_timeout_ms`` (pymongo's
``timeoutMS``: server selection, connection checkout, round trips and a retried read all inside it), so a
request gets its 503 within about that long (8 s): bounding only the round trip let the steps add up (20 s seen).
Workers, the CLI and tests bound each round trip by ``mongo_batch_socket_timeout_ms`` instead: a rebuild's
cursor makes many round trips and must not be cut short as a whole.
"""
from __future__ import annotations

from datetime import datetime, timezone

import mongoengine
from pymongo.database import Database
from pymongo.errors import ConnectionFailure, PyMongoError

from shared.config import Settings

# alias -> (url, database, client options) it is connected with; a process normally has one entry per
# service, but tests bootstrap the same service against fresh databases many times.
_connected: dict[str, tuple] = {}
_serving_requests = False


def serve_requests() -> None:
    """This process answers people (a web app): bound each operation by ``mongo_operation_timeout_ms``.

    Called by the web app factory before it connects; connections made earlier are remade on their next
    ``connect_service_database``.
    """
    global _serving_requests
    _serving_requests = True


def client_options(settings: Settings) -> dict:
    """The MongoClient timeouts of this process (see the module docstring)."""
    bounds = ({"timeoutMS": settings.mongo_operation_timeout_ms} if _serving_requests
              else {"socketTimeoutMS": settings.mongo_batch_socket_timeout_ms})
    return {"serverSelectionTimeoutMS": settings.mongo_server_selection_timeout_ms,
            "connectTimeoutMS": settings.mongo_connect_timeout_ms, **bounds}


def connect_service_database(settings: Settings, service: str) -> Database:
    """Register the alias ``service`` on the service's database; read models use ``db_alias=service``."""
    options = client_options(settings)
    target = (settings.mongo_url, settings.database(service), tuple(sorted(options.items())))
    if _connected.get(service) != target:
        if service in _connected:
            mongoengine.disconnect(alias=service)  # also forgets documents' cached collections
        mongoengine.connect(db=target[1], alias=service, host=target[0], uuidRepresentation="standard", tz_aware=True,
                            **options)
        _connected[service] = target
    return mongoengine.get_db(alias=service)


def database_unavailable(error: BaseException | None) -> bool:
    """Whether ``error`` (or what it was raised from) says the database could not be reached or did not answer
    in time: no server found, a connection refused, reset or timed out, a server-side time limit
    (ExecutionTimeout, WTimeoutError), the primary gone. mongoengine re-raises some of these as its own
    errors (OperationError) while handling them, so the chain of causes is followed too.

    Not included: mongoengine's own ``ConnectionFailure`` (an alias never connected: a bug, not an outage)
    and refusals such as a duplicate key.
    """
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, ConnectionFailure) or (isinstance(error, PyMongoError) and error.timeout):
            return True
        error = error.__cause__ or error.__context__
    return False


def stored_utc(moment: datetime) -> datetime:
    """A stored time as an aware UTC datetime: they come back naive from a client not set to tz_aware."""
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment
