"""A start-up check that the store serves every indexed equality lookup from an index, on any engine.

Every hot query of duban is an equality filter on a field the code declares an index for (``_id``, an
event's ``stream_id``, the outbox's ``published``, a read model's list filters). Declaring the index is not
enough on FerretDB 1.24: it serves such a filter from an index only when the deploy step has added the
index its backend can use (deploy/ferretdb_indexes.py). So at start-up each service asks the server to
``explain`` an equality lookup on the leading field of every index of its database, and refuses to start
when one would scan the whole collection: a command would otherwise grow slower with the office's history.

The plan is read the way each engine reports it: MongoDB's ``winningPlan`` stages (COLLSCAN), FerretDB on
PostgreSQL (the backend's plan nodes: Seq Scan) and FerretDB on SQLite (SQLite's plan rows: SCAN).

A scan of a small collection is not a finding: once autovacuum has analysed a table of a few rows (the relay's
lease, a list's tallies), PostgreSQL rightly reads its single page instead of the index it has, and a worker
restarted then must not refuse to start (seen: a restarted worker refused, and nothing was published). The
planner turns to the index as the table grows, so a scan of a collection of ``SMALL_COLLECTION`` documents or
more still means a missing index.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Iterator

from pymongo.database import Database

log = logging.getLogger(__name__)

PROBE_VALUE = "duban-explain-probe"  # equality on any value takes the same path; no document matches it
SMALL_COLLECTION = 1_000  # documents: a backend may rightly read a collection smaller than this in one go


class UnindexedQueries(RuntimeError):
    """Lookups the store would answer by scanning a whole collection."""

    def __init__(self, database: str, scans: list["Lookup"]):
        listed = ", ".join(f"{database}.{lookup.collection} {{{lookup.field}: …}}" for lookup in scans)
        super().__init__(
            f"全表扫描，拒绝启动 / refusing to start: these lookups would scan whole collections: {listed}. "
            "On FerretDB/PostgreSQL the GIN trigger of deploy/postgres/ferretdb-gin-indexes.sql is missing from its "
            "database (the launcher installs it); on FerretDB/SQLite only _id lookups can use an index. "
            "DUBAN_INDEX_CHECK=warn starts anyway and logs them.")
        self.scans = scans


@dataclass(frozen=True)
class Lookup:
    """An equality lookup on one field of one collection."""

    collection: str
    field: str


def declared_lookups(database: Database) -> list[Lookup]:
    """``_id`` and the leading field of every index declared on every collection of the database."""
    lookups: set[Lookup] = set()
    for collection in database.list_collection_names():
        if collection.startswith("system."):
            continue
        for index in database[collection].list_indexes():
            lookups.add(Lookup(collection, next(iter(index["key"]))))
        lookups.add(Lookup(collection, "_id"))
    return sorted(lookups, key=lambda lookup: (lookup.collection, lookup.field))


def scans_whole_collection(explained: dict) -> bool:
    """Whether an ``explain`` answer (MongoDB, FerretDB/PostgreSQL or FerretDB/SQLite) reads every document."""
    planner = explained.get("queryPlanner") or {}
    if "winningPlan" in planner:  # MongoDB
        return any(stage.get("stage") == "COLLSCAN" for stage in _nodes(planner["winningPlan"], "inputStage", "inputStages"))
    plan = planner.get("Plan")
    if isinstance(plan, dict):  # FerretDB on PostgreSQL: the backend's EXPLAIN (FORMAT JSON)
        return any(node.get("Node Type") == "Seq Scan" for node in _nodes(plan, "Plans"))
    if isinstance(plan, list):  # FerretDB on SQLite: EXPLAIN QUERY PLAN rows, "… detail=SCAN <table>"
        return any(str(row).split("detail=", 1)[-1].startswith("SCAN") for row in plan)
    raise ValueError(f"unrecognised explain answer: {sorted(explained)}")


def _nodes(node: Any, *children: str) -> Iterator[dict]:
    if isinstance(node, list):
        for item in node:
            yield from _nodes(item, *children)
    elif isinstance(node, dict):
        yield node
        for key in children:
            yield from _nodes(node.get(key), *children)


def unindexed_lookups(database: Database) -> list[Lookup]:
    """The declared lookups the server would answer with a full scan of a collection that is not small."""
    small: dict[str, bool] = {}
    found = []
    for lookup in declared_lookups(database):
        if not scans_whole_collection(database.command("explain", {"find": lookup.collection,
                                                                   "filter": {lookup.field: PROBE_VALUE}})):
            continue
        if lookup.collection not in small:
            small[lookup.collection] = database[lookup.collection].count_documents(
                {}, limit=SMALL_COLLECTION) < SMALL_COLLECTION
        if not small[lookup.collection]:
            found.append(lookup)
    return found


def check_lookups_are_indexed(database: Database, mode: str) -> None:
    """Refuse (``enforce``), log (``warn``) or skip (``off``) when a declared lookup is a full scan."""
    if mode == "off":
        return
    scans = unindexed_lookups(database)
    if not scans:
        return
    error = UnindexedQueries(database.name, scans)
    if mode == "warn":
        log.warning(str(error))
        return
    raise error
