"""Snapshots of the portal's model with the topic positions it covers, so that a restart replays only the tail.

One file per snapshot, written to a temporary name and renamed into place (a crash leaves the previous ones
intact)::

    MAGIC | header length (8 bytes) | header (JSON) | model state (pickle) | HMAC-SHA256 of all before it (32 bytes)

The header names the format, a fingerprint of the model's code, the topic prefix, for each partition the next
offset to read and the last record applied (its offset and the sha256 of its bytes, so a topic recreated since
is noticed), the events applied and the model's digest.

Pickle, because it restores the exact object graph, the query indexes (which the digest does not cover) sharing
their records with ``cases`` and ``notices``, and loads several times faster than rebuilding from JSON would.
It is never trusted blindly: the HMAC (keyed from the token secret, which anyone able to forge it could use to
forge sign-ins anyway) is checked before a byte is unpickled, the unpickler refuses every class but the model's
own and a few plain types, and the restored model must have the digest the header records. A file that fails
any check is logged and skipped; with none left the portal replays the topics from the beginning.
"""
from __future__ import annotations

import hashlib
import hmac
import io
import json
import logging
import os
import pickle
import struct
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from shared.config import Settings
from services.portal.domain import model as model_module
from services.portal.domain.model import PortalModel

log = logging.getLogger(__name__)

FORMAT = 1  # bump when the file layout changes; a change of the model's code is caught by its fingerprint
MAGIC = b"duban-portal-snapshot\n"
SUFFIX = ".snapshot"
KEEP = 2  # the newest is tried first; the one before is the fallback should it be unreadable
_LENGTH = struct.Struct(">Q")
_MAC_SIZE = hashlib.sha256().digest_size


class SnapshotRejected(Exception):
    """A snapshot that must not be trusted; the message says why."""


@dataclass(frozen=True)
class PartitionMark:
    """Where the model stands in one partition: the next offset to read and the last record applied."""

    position: int
    last_offset: int | None = None  # None: nothing read from this partition yet
    last_sha256: str | None = None


@dataclass
class Snapshot:
    model: PortalModel
    marks: dict[tuple[str, int], PartitionMark]  # (topic, partition) -> mark
    digest: str
    path: Path | None = None


def model_fingerprint() -> str:
    """sha256 of the model's source: a snapshot taken by other code than this one is never restored."""
    return hashlib.sha256(Path(model_module.__file__).read_bytes()).hexdigest()


def _mac_key(settings: Settings) -> bytes:
    return hashlib.sha256(f"portal-snapshot:{settings.jwt_secret}".encode()).digest()


class _Signing:
    """A file the pickler writes through, MACing every byte on the way."""

    def __init__(self, file, mac):
        self.file, self.mac = file, mac

    def write(self, data) -> int:
        self.mac.update(data)
        return self.file.write(data)


def write_snapshot(directory: str | Path, model: PortalModel, marks: dict[tuple[str, int], PartitionMark],
                   settings: Settings) -> Path:
    """Write ``model`` and the positions it covers as the newest snapshot; older ones beyond KEEP are removed."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written_at = datetime.now(timezone.utc)
    header = json.dumps({
        "format": FORMAT, "model": model_fingerprint(), "topic_prefix": settings.topic_prefix,
        "partitions": [[topic, partition, mark.position, mark.last_offset, mark.last_sha256]
                       for (topic, partition), mark in sorted(marks.items())],
        "events_applied": model.events_applied, "digest": model.digest(),
        "written_at": written_at.isoformat(timespec="microseconds"),
    }).encode("utf-8")
    final = directory / f"portal-{written_at:%Y%m%dT%H%M%S%fZ}{SUFFIX}"
    temporary = directory / f".{final.name}.{os.getpid()}.tmp"
    mac = hmac.new(_mac_key(settings), digestmod="sha256")
    try:
        with open(temporary, "wb") as file:
            signing = _Signing(file, mac)
            signing.write(MAGIC + _LENGTH.pack(len(header)) + header)
            pickle.Pickler(signing, protocol=pickle.HIGHEST_PROTOCOL).dump(model)
            file.write(mac.digest())
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, final)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    _fsync_directory(directory)
    for old in snapshot_files(directory)[KEEP:]:
        old.unlink(missing_ok=True)
    return final


def _fsync_directory(directory: Path) -> None:
    """Make the rename itself durable (on systems that allow opening a directory)."""
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def snapshot_files(directory: str | Path) -> list[Path]:
    """The snapshots in ``directory``, newest first (their names start with the UTC time they were written)."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    return sorted((path for path in directory.glob(f"portal-*{SUFFIX}") if path.is_file()), reverse=True)


# Everything a pickled model is made of; the unpickler refuses any other global (and so any other code).
_MODEL_CLASSES = ("PortalModel", "NoticeRecord", "CaseRecord", "TaskRecord", "PlanRecord", "TimelineEntry",
                  "StreamCheck", "RangeSum", "ScopeIndex", "_CaseEntry", "_NoticeEntry")
_ALLOWED = {(model_module.__name__, name) for name in _MODEL_CLASSES} | {
    ("collections", "Counter"), ("datetime", "datetime"), ("datetime", "timezone"), ("datetime", "timedelta")}


class _ModelUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        if (module, name) not in _ALLOWED:
            raise SnapshotRejected(f"the snapshot refers to {module}.{name}, which a portal model never holds")
        return super().find_class(module, name)


def read_snapshot(path: str | Path, settings: Settings) -> Snapshot:
    """The snapshot in ``path``, checked through; SnapshotRejected says why it cannot be trusted."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise SnapshotRejected(f"unreadable: {error}") from error
    view = memoryview(raw)
    start = len(MAGIC) + _LENGTH.size
    if not raw.startswith(MAGIC) or len(raw) < start + _MAC_SIZE:
        raise SnapshotRejected("not a portal snapshot (or truncated)")
    (header_length,) = _LENGTH.unpack_from(raw, len(MAGIC))
    if start + header_length + _MAC_SIZE > len(raw):
        raise SnapshotRejected("truncated header")
    try:
        header = json.loads(bytes(view[start:start + header_length]))
        version = header["format"]
    except (ValueError, TypeError, KeyError) as error:
        raise SnapshotRejected(f"unreadable header: {error}") from error
    if version != FORMAT:
        raise SnapshotRejected(f"format {version!r}, this portal reads format {FORMAT}")
    expected = hmac.new(_mac_key(settings), view[:-_MAC_SIZE], digestmod="sha256").digest()
    if not hmac.compare_digest(expected, bytes(view[-_MAC_SIZE:])):
        raise SnapshotRejected("HMAC mismatch: written with another secret, truncated or altered")
    if header.get("model") != model_fingerprint():
        raise SnapshotRejected("written by a different version of the portal's model")
    if header.get("topic_prefix") != settings.topic_prefix:
        raise SnapshotRejected(f"taken from the topics {header.get('topic_prefix')!r}.*, "
                               f"this portal reads {settings.topic_prefix!r}.*")
    try:
        marks = {(topic, int(partition)): PartitionMark(int(position), last_offset, last_sha256)
                 for topic, partition, position, last_offset, last_sha256 in header["partitions"]}
        model = _ModelUnpickler(io.BytesIO(view[start + header_length:-_MAC_SIZE])).load()
    except SnapshotRejected:
        raise
    except Exception as error:  # noqa: BLE001 - whatever is wrong with the file, it is not restored
        raise SnapshotRejected(f"unreadable model: {type(error).__name__}: {error}") from error
    if type(model) is not PortalModel:
        raise SnapshotRejected(f"holds a {type(model).__name__}, not a PortalModel")
    digest = model.digest()
    if digest != header.get("digest") or model.events_applied != header.get("events_applied"):
        raise SnapshotRejected("the restored model's digest differs from the one recorded")
    return Snapshot(model=model, marks=marks, digest=digest, path=path)


def load_newest(directory: str | Path, settings: Settings) -> Snapshot | None:
    """The newest snapshot in ``directory`` that passes every check, or None; each one skipped is logged."""
    for path in snapshot_files(directory):
        started = time.perf_counter()
        try:
            snapshot = read_snapshot(path, settings)
        except SnapshotRejected as rejected:
            log.warning("portal snapshot ignored", extra={"path": str(path), "reason": str(rejected)})
            continue
        log.info("portal snapshot read", extra={"path": str(path), "events": snapshot.model.events_applied,
                                                "seconds": round(time.perf_counter() - started, 2)})
        return snapshot
    return None


def remove_leftovers(directory: str | Path) -> None:
    """Temporary files of writes that a crash interrupted (never renamed, never read)."""
    directory = Path(directory)
    if directory.is_dir():
        for path in directory.glob(f".portal-*{SUFFIX}.*.tmp"):
            path.unlink(missing_ok=True)
