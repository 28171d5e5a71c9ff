"""Idempotency-Key: a retried POST gets the first answer back and appends nothing (DESIGN).

One document per (caller, method, path, key) in the service's own ``idempotency_keys`` collection, keyed
``user\\x1fmethod\\x1fpath\\x1fkey``. Every read and write names that ``_id`` and nothing else: FerretDB's
SQLite backend serves a filter from its primary key only when the filter is exactly ``{"_id": <str>}``;
``{"_id": x, "token": t}`` is already a full scan of the collection.

The first request inserts a *pending* record (the primary key picks one winner among concurrent
requests), runs, then stores its answer (*done*) or, after a 5xx, deletes the record so the client may
retry. A later request with the key gets the stored answer (same key, other request: mismatch), or
"in progress" while the first one is still running.
"""
from __future__ import annotations

import hashlib
import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from enum import Enum

from pymongo.collection import Collection
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

log = logging.getLogger(__name__)

COLLECTION = "idempotency_keys"
HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 200
STALE_AFTER = timedelta(seconds=60)
# Response headers that are part of the answer (the rest, e.g. X-Correlation-ID, belong to each exchange).
REPLAYED_RESPONSE_HEADERS = ("Location", "X-Pagination", "ETag", "Content-Disposition")
SEPARATOR = "\x1f"


class Decision(Enum):
    PROCEED = "proceed"  # the key is ours: run the request, then finish() or abandon()
    REPLAY = "replay"  # answered before: send the stored response
    MISMATCH = "mismatch"  # the key was used for another request
    IN_PROGRESS = "in_progress"  # another request with the key is running


@dataclass(frozen=True)
class StoredResponse:
    status: int
    body: bytes
    content_type: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    decision: Decision
    token: str | None = None  # with PROCEED: names this attempt to finish()/abandon()
    response: StoredResponse | None = None  # with REPLAY


def valid_key(key: str) -> bool:
    """1 to 200 printable ASCII characters (so never the separator of the record id)."""
    return 0 < len(key) <= MAX_KEY_LENGTH and all(" " <= c <= "~" for c in key)


def record_id(user_id: str, method: str, path: str, key: str) -> str:
    return SEPARATOR.join((user_id, method.upper(), path, key))


def fingerprint(method: str, path: str, query_string: bytes, body: bytes) -> str:
    """sha256 over the parts, each length-prefixed so no two different requests share a digest input."""
    digest = hashlib.sha256()
    for part in (method.upper().encode(), path.encode("utf-8"), query_string, body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


class IdempotencyStore:
    def __init__(self, database: Database, stale_after: timedelta = STALE_AFTER, collection: str = COLLECTION):
        self.collection: Collection = database[collection]
        self.stale_after = stale_after

    def begin(self, record_id: str, fingerprint: str, now: datetime) -> Outcome:
        for _ in range(3):  # only loops when the record vanished (abandoned) between our insert and our read
            token = uuid.uuid4().hex
            try:
                self.collection.insert_one(_pending(record_id, fingerprint, token, now))
                return Outcome(Decision.PROCEED, token=token)
            except DuplicateKeyError:
                pass
            existing = self.collection.find_one({"_id": record_id})
            if existing is None:
                continue
            if existing.get("fingerprint") != fingerprint:
                return Outcome(Decision.MISMATCH)
            if existing.get("state") == "done":
                return Outcome(Decision.REPLAY, response=_stored_response(existing))
            if now - _aware(existing["created_at"]) < self.stale_after:
                return Outcome(Decision.IN_PROGRESS)
            # A process that died mid-request (killed, OOM, deploy) never finishes or abandons its record:
            # without taking stale records over, its key would answer "in progress" forever.
            token = self._take_over(existing, fingerprint, now)
            return Outcome(Decision.PROCEED, token=token) if token else Outcome(Decision.IN_PROGRESS)
        return Outcome(Decision.IN_PROGRESS)

    def finish(self, record_id: str, token: str, response: StoredResponse, now: datetime) -> bool:
        """Store the answer for replay; False if the record is no longer this attempt's (taken over)."""
        if not self._still_ours(record_id, token):
            log.warning("idempotency record %r was taken over while its request ran; the answer is not stored",
                        _key_of(record_id))
            return False
        self.collection.update_one({"_id": record_id}, {"$set": {
            "state": "done", "status": response.status, "body": response.body, "content_type": response.content_type,
            "headers": dict(response.headers), "finished_at": now,
        }})
        return True

    def abandon(self, record_id: str, token: str) -> bool:
        """Forget the attempt (a 5xx or an answer not worth replaying): the client may retry with the key."""
        if not self._still_ours(record_id, token):
            return False  # taken over meanwhile: the record is the new attempt's
        self.collection.delete_one({"_id": record_id})
        return True

    def _take_over(self, stale: dict, fingerprint: str, now: datetime) -> str | None:
        """Claim a stale pending record; of any number of concurrent takers exactly one gets a token.

        Not ``replace_one(stale, new)``: FerretDB evaluates such a filter in Go and then updates by ``_id``
        alone, so concurrent takers all "match" and all win (seen here: up to 8 winners of 8). The claim is
        an insert under a primary key naming the stale attempt, the one write FerretDB (and MongoDB) lets
        only one caller win. Claims stay (tiny, one per takeover) so a late taker cannot claim again.
        """
        generation = stale.get("token") or _aware(stale["created_at"]).isoformat()
        claim = {"_id": SEPARATOR.join((stale["_id"], "takeover", generation)), "kind": "takeover", "created_at": now}
        try:
            self.collection.insert_one(claim)
        except DuplicateKeyError:
            return None
        if not self._still_ours(stale["_id"], stale.get("token")):
            return None  # its first owner finished or abandoned it after all while we looked
        token = uuid.uuid4().hex
        self.collection.replace_one({"_id": stale["_id"]}, _pending(stale["_id"], fingerprint, token, now))
        log.warning("idempotency key %r: took over a pending record from %s (its request never finished)",
                    _key_of(stale["_id"]), stale.get("created_at"))
        return token

    def _still_ours(self, record_id: str, token: str | None) -> bool:
        # Read, then write by _id alone: a compound filter would scan the collection on FerretDB. The gap
        # matters only to an attempt that ran past stale_after and was taken over meanwhile.
        current = self.collection.find_one({"_id": record_id}, {"token": 1, "state": 1})
        return current is not None and current.get("state") == "pending" and current.get("token") == token


def _pending(record_id: str, fingerprint: str, token: str, now: datetime) -> dict:
    return {"_id": record_id, "state": "pending", "fingerprint": fingerprint, "token": token, "created_at": now,
            "status": None, "body": None, "content_type": None, "headers": {}, "finished_at": None}


def _stored_response(document: dict) -> StoredResponse:
    return StoredResponse(status=document["status"], body=bytes(document["body"]), content_type=document.get("content_type"),
                          headers=dict(document.get("headers") or {}))


def _key_of(record_id: str) -> str:
    return record_id.rsplit(SEPARATOR, 1)[-1]


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)
