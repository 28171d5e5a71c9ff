"""The event envelope every duban event travels in, and its hash chain.

``hash = sha256(prev_hash + canonical JSON of the event)``; the canonical form leaves out the
hash itself and the outbox flag, and renders times at millisecond precision because that is all
BSON keeps: a hash computed before storing must still match after reading back.
"""
from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, replace
from datetime import date, datetime, timezone
from typing import Any, Mapping

GENESIS_HASH = "0" * 64


@dataclass(frozen=True)
class Actor:
    """Who caused an event: a person with a role in a unit, or a system process."""

    user_id: str
    role: str
    unit: str | None = None
    name: str | None = None

    @classmethod
    def system(cls, process: str) -> "Actor":
        return cls(user_id=f"system:{process}", role="system", unit=None, name=process)

    def to_dict(self) -> dict[str, Any]:
        return {"user_id": self.user_id, "role": self.role, "unit": self.unit, "name": self.name}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Actor":
        return cls(user_id=data["user_id"], role=data["role"], unit=data.get("unit"), name=data.get("name"))


@dataclass(frozen=True)
class NewEvent:
    """An event a domain object decided on, before the store gives it a place in a stream."""

    type: str
    data: Mapping[str, Any]
    schema_version: int = 1
    occurred_at: datetime | None = None


@dataclass(frozen=True)
class EventEnvelope:
    """A stored, immutable event (DESIGN §3)."""

    event_id: str
    stream_id: str
    stream_type: str
    version: int
    type: str
    schema_version: int
    data: Mapping[str, Any]
    actor: Actor
    occurred_at: datetime
    recorded_at: datetime
    correlation_id: str
    causation_id: str | None
    prev_hash: str
    hash: str = ""

    def canonical_json(self) -> str:
        body = self.to_dict()
        body.pop("hash")
        return _dumps_canonical(body)  # to_dict is JSON-ready already: no second walk

    def compute_hash(self) -> str:
        return hashlib.sha256((self.prev_hash + self.canonical_json()).encode("utf-8")).hexdigest()

    def sealed(self) -> "EventEnvelope":
        """The same event with its hash filled in."""
        return replace(self, hash=self.compute_hash())

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: the wire form on Kafka and the source of the canonical hash."""
        return {
            "event_id": self.event_id,
            "stream_id": self.stream_id,
            "stream_type": self.stream_type,
            "version": self.version,
            "type": self.type,
            "schema_version": self.schema_version,
            "data": to_jsonable(self.data),
            "actor": self.actor.to_dict(),
            "occurred_at": format_time(self.occurred_at),
            "recorded_at": format_time(self.recorded_at),
            "correlation_id": self.correlation_id,
            "causation_id": self.causation_id,
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }

    @classmethod
    def from_dict(cls, body: Mapping[str, Any]) -> "EventEnvelope":
        return cls(
            event_id=body["event_id"],
            stream_id=body["stream_id"],
            stream_type=body["stream_type"],
            version=int(body["version"]),
            type=body["type"],
            schema_version=int(body.get("schema_version", 1)),
            data=body.get("data") or {},
            actor=Actor.from_dict(body["actor"]),
            occurred_at=parse_time(body["occurred_at"]),
            recorded_at=parse_time(body["recorded_at"]),
            correlation_id=body["correlation_id"],
            causation_id=body.get("causation_id"),
            prev_hash=body["prev_hash"],
            hash=body.get("hash", ""),
        )

    def to_json_bytes(self) -> bytes:
        return json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    @classmethod
    def from_json_bytes(cls, raw: bytes) -> "EventEnvelope":
        return cls.from_dict(json.loads(raw.decode("utf-8")))


def new_event_id() -> str:
    return str(uuid.uuid4())


def utc_now() -> datetime:
    """Now in UTC, truncated to what BSON stores (milliseconds)."""
    return truncate_to_millis(datetime.now(timezone.utc))


def truncate_to_millis(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    moment = moment.astimezone(timezone.utc)
    return moment.replace(microsecond=(moment.microsecond // 1000) * 1000)


def format_time(moment: datetime) -> str:
    moment = truncate_to_millis(moment)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_time(text: str | datetime) -> datetime:
    if isinstance(text, datetime):
        return truncate_to_millis(text)
    return truncate_to_millis(datetime.fromisoformat(text.replace("Z", "+00:00")))


_PLAIN = (str, int, float, bool, type(None))


def to_jsonable(value: Any) -> Any:
    """Dates become ISO strings so event data survives JSON, BSON and hashing unchanged."""
    if type(value) in _PLAIN:  # the common case first: an isinstance check against typing.Mapping is slow
        return value
    if type(value) is dict:
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return format_time(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def canonical_json(body: Any) -> str:
    return _dumps_canonical(to_jsonable(body))


def _dumps_canonical(jsonable: Any) -> str:
    return json.dumps(jsonable, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
