"""佐证材料 storage: content-addressed in the followups database, every read a primary-key lookup.

``evidence_files``  ``_id = sha256``: size, type, chunk count, first name, stored_at (present = content complete),
                    ``referenced`` (False from the upload until a step names the file) and ``uploaded_at`` (the
                    latest upload of those bytes).
``evidence_chunks`` ``_id = "<sha256>:<n:05d>"``: the bytes, CHUNK_BYTES each.
``evidence_thumbnails`` ``_id = sha256``: the PNG thumbnail, made once.

Files are uploaded before the step that names them; a form abandoned after its upload leaves files no step names.
``sweep_unreferenced`` deletes those after some days (the followups worker runs it). A step marks its files
referenced before its event is appended, so a file an event names is never swept; files stored before the mark
existed carry no ``referenced`` field and are kept.

Not GridFS: its chunk query is on files_id + n, which FerretDB 1.24 cannot serve from an index. Chunks are written
first and the file document last (one document write per fact, no transactions): a crash in between leaves chunks
that the next upload of the same bytes overwrites with the same content.
"""
from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Iterable, Iterator

from bson import Binary
from pymongo.database import Database

from shared.envelope import EventEnvelope, utc_now
from shared.mongo import stored_utc
from shared.evidence import EvidenceFile, thumbnail_png

CHUNK_BYTES = 255 * 1024


def chunk_id(sha256: str, n: int) -> str:
    return f"{sha256}:{n:05d}"


class EvidenceStore:  # 佐证材料库
    def __init__(self, database: Database):
        self.files = database["evidence_files"]
        self.chunks = database["evidence_chunks"]
        self.thumbnails = database["evidence_thumbnails"]

    def store(self, content: bytes, described: EvidenceFile) -> bool:
        """Keep ``content`` (already checked and described); False when the same bytes were stored before."""
        if self.files.find_one({"_id": described.sha256}, {"_id": 1}) is not None:
            # uploaded again (another form, or the same one retried): the sweep's days start afresh
            self.files.update_one({"_id": described.sha256, "referenced": False}, {"$set": {"uploaded_at": utc_now()}})
            return False
        count = 0
        for count, start in enumerate(range(0, len(content), CHUNK_BYTES), start=1):
            self.chunks.replace_one({"_id": chunk_id(described.sha256, count - 1)},
                                    {"data": Binary(content[start:start + CHUNK_BYTES])}, upsert=True)
        # last: a file document means every chunk is there ($setOnInsert: a concurrent twin changes nothing)
        now = utc_now()
        self.files.update_one({"_id": described.sha256}, {"$setOnInsert": {
            "size": described.size, "type": described.type, "chunks": count, "name": described.name,
            "stored_at": now, "uploaded_at": now, "referenced": False}}, upsert=True)
        return True

    def reference(self, sha256: str) -> dict | None:
        """The file document of stored content, marked as named by a step (the sweep keeps it); None when not
        stored (or swept)."""
        return self.files.find_one_and_update({"_id": sha256}, {"$set": {"referenced": True}})

    def sweep_unreferenced(self, older_than: datetime) -> list[str]:
        """Delete the files no step has named whose latest upload is before ``older_than``; their sha256s.

        The file document goes first and only while still unreferenced (a step naming it meanwhile keeps it), then
        its chunks and thumbnail: a file half-swept is a file not stored, which an upload of the same bytes
        stores again."""
        swept = []
        # no index: an hourly look at one small document per distinct file
        for file in self.files.find({"referenced": False}, {"uploaded_at": 1, "stored_at": 1, "chunks": 1}):
            uploaded = file.get("uploaded_at") or file.get("stored_at")
            if uploaded is None or stored_utc(uploaded) >= older_than:
                continue
            if self.files.delete_one({"_id": file["_id"], "referenced": False}).deleted_count != 1:
                continue  # named by a step since it was read
            for n in range(int(file.get("chunks") or 0)):
                self.chunks.delete_one({"_id": chunk_id(file["_id"], n)})
            self.thumbnails.delete_one({"_id": file["_id"]})
            swept.append(file["_id"])
        return swept

    def describe(self, sha256: str) -> dict | None:
        """The file document ({size, type, chunks, name, stored_at}) of stored content, or None."""
        return self.files.find_one({"_id": sha256})

    def chunks_of(self, sha256: str) -> Iterator[bytes] | None:
        """The stored bytes chunk by chunk (None when not stored); a chunk gone missing ends it with KeyError."""
        found = self.describe(sha256)
        if found is None:
            return None
        return self._read(sha256, found["chunks"])

    def _read(self, sha256: str, count: int) -> Iterator[bytes]:
        for n in range(count):
            chunk = self.chunks.find_one({"_id": chunk_id(sha256, n)})
            if chunk is None:
                raise KeyError(chunk_id(sha256, n))
            yield bytes(chunk["data"])

    def open(self, sha256: str) -> bytes | None:
        """The stored bytes; None when the file or one of its chunks is missing."""
        chunks = self.chunks_of(sha256)
        try:
            return None if chunks is None else b"".join(chunks)
        except KeyError:
            return None

    def rehash(self, sha256: str) -> str | None:
        """The SHA-256 of the bytes as stored now; None when the file or one of its chunks is missing."""
        content = self.open(sha256)
        return None if content is None else hashlib.sha256(content).hexdigest()

    def thumbnail(self, sha256: str) -> bytes | None:
        """The cached PNG thumbnail, made on first request; None for content Pillow cannot read as an image."""
        cached = self.thumbnails.find_one({"_id": sha256})
        if cached is not None:
            return bytes(cached["png"])
        content = self.open(sha256)
        made = thumbnail_png(content) if content is not None else None
        if made is not None:
            self.thumbnails.replace_one({"_id": sha256}, {"png": Binary(made)}, upsert=True)
        return made


def damaged_files(events: Iterable[EventEnvelope], store: EvidenceStore) -> list[dict]:
    """Every file the events reference whose stored bytes no longer hash to its address (or are gone), once each:
    [{sha256, name, stream_id, event_id, problem}] (`duban verify followups`)."""
    found, seen = [], set()
    for event in events:
        for file in event.data.get("files") or ():
            sha256 = file.get("sha256")
            if sha256 in seen:
                continue
            seen.add(sha256)
            now = store.rehash(sha256)
            if now != sha256:
                found.append({"sha256": sha256, "name": file.get("name"), "stream_id": event.stream_id,
                              "event_id": event.event_id, "problem": "missing" if now is None else "content changed",
                              "problem_zh": "文件缺失" if now is None else "文件内容已被改动"})
    return found
