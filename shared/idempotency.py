"""Idempotency-Key: a retried POST gets the first answer back and appends nothing (DESIGN).

One document per (caller, method, path, key) in the service's own ``idempotency_keys`` collection, keyed
``user\\x1fmethod\\x1fpath\\x1fkey``. Every read and write names that ``_id`` and nothing else: FerretDB's
SQLite backend serves a filter from its primary key only when the filter is exactly ``{"_id": <str>}``;
``{"_id": x, "token": t}`` is already a full scan of the collection.

The first request inserts a *pending* record (the primary key picks one winner among concurrent
requests), runs, then stores its answer (*done*) or, after a 5xx, deletes the record so the client may
retry (after a 503 — the database unreachable — from a thread of its own, ``DeferredReleases``, once the
database answers again: a request thread would wait out one more operation timeout per try). A later request
with the key gets the stored answer (same key, other request: mismatch), or "in progress" while the first one
is still running.

A process can die (or lose the database) after its command stored events but before the answer was
stored: the record stays pending. Once stale it is taken over, and the events themselves settle it: every
attempt of one request carries the same ``request_id`` into the events it appends (shared/bus.py), so the
retry finds the first attempt's result and appends nothing. The same holds for a 5xx answered after the
events were stored (the key is released, and the retry carries the same ``request_id``).

Records expire ``ttl`` after they were last written (7 days unless configured): an expired record is taken
over like a stale one, and the worker's ``idempotency-expiry`` timer deletes them (FerretDB 1.x has no TTL
indexes, and one range delete an hour costs nothing next to a scan on every request).
"""
from __future__ import annotations

import hashlib
import logging
import os
import queue
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from enum import Enum

from pymongo.collection import Collection
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError, PyMongoError

log = logging.getLogger(__name__)

COLLECTION = "idempotency_keys"
HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 200
STALE_AFTER = timedelta(seconds=60)
DEFAULT_TTL = timedelta(days=7)
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
    request_id: str | None = None  # with PROCEED: the same for every attempt until the record expires
    response: StoredResponse | None = None  # with REPLAY


def valid_key(key: str) -> bool:
    """1 to 200 printable ASCII characters (so never the separator of the record id)."""
    return 0 < len(key) <= MAX_KEY_LENGTH and all(" " <= c <= "~" for c in key)


def record_id(user_id: str, method: str, path: str, key: str) -> str:
    return SEPARATOR.join((user_id, method.upper(), path, key))


def request_id(record_id: str, fingerprint: str, generation: str = "") -> str:
    """Names one request in the events it appends: the same for every attempt (same caller, key and content,
    even after a 5xx released the key), a new one only when an expired record's key is used again."""
    return hashlib.sha256(SEPARATOR.join((record_id, fingerprint, generation)).encode("utf-8")).hexdigest()[:32]


def fingerprint(method: str, path: str, query_string: bytes, body: bytes) -> str:
    """sha256 over the parts, each length-prefixed so no two different requests share a digest input."""
    digest = hashlib.sha256()
    for part in (method.upper().encode(), path.encode("utf-8"), query_string, body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


class IdempotencyStore:
    def __init__(self, database: Database, stale_after: timedelta = STALE_AFTER, collection: str = COLLECTION,
                 ttl: timedelta = DEFAULT_TTL):
        self.collection: Collection = database[collection]
        self.stale_after = stale_after
        self.ttl = ttl

    def begin(self, record_id: str, fingerprint: str, now: datetime) -> Outcome:
        for _ in range(3):  # only loops when the record vanished (abandoned) between our insert and our read
            pending = self._pending(record_id, fingerprint, now, request_id=request_id(record_id, fingerprint))
            try:
                self.collection.insert_one(pending)
                return _proceed(pending)
            except DuplicateKeyError:
                pass
            existing = self.collection.find_one({"_id": record_id})
            if existing is None:
                continue
            if self._expired(existing, now):  # forgotten: the key is free again, whatever it was used for
                renewed = request_id(record_id, fingerprint, now.isoformat())
                return self._take_over(existing, fingerprint, now, request_id=renewed)
            if existing.get("fingerprint") != fingerprint:
                return Outcome(Decision.MISMATCH)
            if existing.get("state") == "done":
                return Outcome(Decision.REPLAY, response=_stored_response(existing))
            if now - _aware(existing["created_at"]) < self.stale_after:
                return Outcome(Decision.IN_PROGRESS)
            # A process that died mid-request (killed, OOM, deploy) never finishes or abandons its record:
            # without taking stale records over, its key would answer "in progress" forever. The new attempt
            # keeps the request_id, so it finds the events the dead one may have stored.
            inherited = existing.get("request_id") or request_id(record_id, fingerprint)
            return self._take_over(existing, fingerprint, now, request_id=inherited)
        return Outcome(Decision.IN_PROGRESS)

    def finish(self, record_id: str, token: str, response: StoredResponse, now: datetime) -> bool:
        """Store the answer for replay; False if the record is no longer this attempt's (taken over)."""
        if not self._still_ours(record_id, token):
            log.warning("idempotency record %r was taken over while its request ran; the answer is not stored",
                        _key_of(record_id))
            return False
        self.collection.update_one({"_id": record_id}, {"$set": {
            "state": "done", "status": response.status, "body": response.body, "content_type": response.content_type,
            "headers": dict(response.headers), "finished_at": now, "expires_at": now + self.ttl,
        }})
        return True

    def purge_expired(self, now: datetime) -> int:
        """Delete records (and takeover claims) past their expiry; the worker's timer calls this hourly."""
        deleted = self.collection.delete_many({"expires_at": {"$lt": now}}).deleted_count
        # Records of versions before expiry existed carry no expires_at: they count from their creation.
        deleted += self.collection.delete_many({"expires_at": {"$exists": False},
                                                "created_at": {"$lt": now - self.ttl}}).deleted_count
        if deleted:
            log.info("expired idempotency records deleted", extra={"count": deleted})
        return deleted

    def _expired(self, record: dict, now: datetime) -> bool:
        expires_at = record.get("expires_at")
        expires_at = _aware(expires_at) if expires_at is not None else _aware(record["created_at"]) + self.ttl
        return now >= expires_at

    def _pending(self, record_id: str, fingerprint: str, now: datetime, request_id: str) -> dict:
        return {"_id": record_id, "state": "pending", "fingerprint": fingerprint, "token": uuid.uuid4().hex,
                "request_id": request_id, "created_at": now, "status": None, "body": None, "content_type": None,
                "headers": {}, "finished_at": None, "expires_at": now + self.ttl}

    def abandon(self, record_id: str, token: str) -> bool:
        """Forget the attempt (a 5xx or an answer not worth replaying): the client may retry with the key."""
        if not self._still_ours(record_id, token):
            return False  # taken over meanwhile: the record is the new attempt's
        self.collection.delete_one({"_id": record_id})
        return True

    def _take_over(self, stale: dict, fingerprint: str, now: datetime, request_id: str) -> Outcome:
        """Claim a stale pending (or an expired) record; of any number of concurrent takers exactly one wins.

        Not ``replace_one(stale, new)``: FerretDB evaluates such a filter in Go and then updates by ``_id``
        alone, so concurrent takers all "match" and all win (seen here: up to 8 winners of 8). The claim is
        an insert under a primary key naming the stale attempt, the one write FerretDB (and MongoDB) lets
        only one caller win. Claims stay (tiny, one per takeover, expiring like records) so a late taker
        cannot claim again.
        """
        generation = stale.get("token") or _aware(stale["created_at"]).isoformat()
        claim = {"_id": SEPARATOR.join((stale["_id"], "takeover", generation)), "kind": "takeover", "created_at": now,
                 "expires_at": now + self.ttl}
        try:
            self.collection.insert_one(claim)
        except DuplicateKeyError:
            return Outcome(Decision.IN_PROGRESS)
        current = self.collection.find_one({"_id": stale["_id"]}, {"token": 1, "state": 1})
        if current is None or (current.get("state"), current.get("token")) != (stale.get("state"), stale.get("token")):
            return Outcome(Decision.IN_PROGRESS)  # its owner finished or abandoned it after all while we looked
        pending = self._pending(stale["_id"], fingerprint, now, request_id)
        self.collection.replace_one({"_id": stale["_id"]}, pending)
        log.warning("idempotency key %r: took over a %s record from %s", _key_of(stale["_id"]),
                    "pending" if stale.get("state") == "pending" else "expired", stale.get("created_at"))
        return _proceed(pending)

    def _still_ours(self, record_id: str, token: str | None) -> bool:
        # Read, then write by _id alone: a compound filter would scan the collection on FerretDB. The gap
        # matters only to an attempt that ran past stale_after and was taken over meanwhile.
        current = self.collection.find_one({"_id": record_id}, {"token": 1, "state": 1})
        return current is not None and current.get("state") == "pending" and current.get("token") == token


class DeferredReleases:
    """Releases the keys of attempts answered 503 (the database unreachable), from one thread of the process.

    Releasing in the request thread, even after the answer went out, held the thread for one operation timeout
    per database call while the database did not answer; with clients retrying at once, requests then queued for
    a thread and a 503 came after 25 s instead of 8. Here a release that fails is tried again every
    ``retry_every`` until it succeeds, so a client's retry after the outage finds its key free within about a
    second, or until ``give_up_after`` (the record is stale by then, and a retry takes it over anyway)."""

    def __init__(self, store: IdempotencyStore, retry_every: float = 1.0, give_up_after: timedelta = STALE_AFTER):
        self.store, self.retry_every, self.give_up_after = store, retry_every, give_up_after.total_seconds()
        self._waiting: queue.SimpleQueue[tuple[str, str, float]] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid: int | None = None

    def add(self, record_id: str, token: str) -> None:
        self._waiting.put((record_id, token, time.monotonic()))
        with self._lock:  # started on first use, in the process that serves (a thread does not survive a fork)
            if self._thread is None or not self._thread.is_alive() or self._pid != os.getpid():
                self._pid = os.getpid()
                self._thread = threading.Thread(target=self._run, name="idempotency-releases", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            record_id, token, since = self._waiting.get()
            try:
                self.store.abandon(record_id, token)
            except PyMongoError as error:
                if time.monotonic() - since >= self.give_up_after:
                    log.warning("idempotency key %r not released; a retry takes it over once stale", _key_of(record_id),
                                extra={"error": str(error)})
                    continue
                time.sleep(self.retry_every)
                self._waiting.put((record_id, token, since))
            except Exception:  # noqa: BLE001 - this thread must outlive one bad release
                log.exception("could not release an Idempotency-Key")


def _proceed(pending: dict) -> Outcome:
    return Outcome(Decision.PROCEED, token=pending["token"], request_id=pending["request_id"])


def _stored_response(document: dict) -> StoredResponse:
    return StoredResponse(status=document["status"], body=bytes(document["body"]), content_type=document.get("content_type"),
                          headers=dict(document.get("headers") or {}))


def _key_of(record_id: str) -> str:
    return record_id.rsplit(SEPARATOR, 1)[-1]


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)
