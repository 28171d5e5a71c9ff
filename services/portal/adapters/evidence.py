"""佐证材料 (evidence files) through the followups service, as the signed-in person: the portal uploads the files a
step's form carries (``POST /cases/<id>/files``, multipart) and passes on their downloads and thumbnails.

The upload is streamed part by part from the files werkzeug has spooled, so twenty files of 20 MB are never held in
memory at once.
"""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from typing import BinaryIO, Iterator
from urllib.parse import quote

from shared import evidence as shared_evidence
from services.api_client import ApiClient, HttpAnswer, decode_answer, http_call, service_url

CHUNK = 1 << 20
# The followups service's limits (it decides again, by content): files per step, bytes per file.
MAX_FILES, MAX_FILE_BYTES = shared_evidence.MAX_FILES_PER_STEP, shared_evidence.MAX_FILE_BYTES
# What the portal's answer keeps of the followups service's one with a file's bytes.
PASSED_HEADERS = ("Content-Type", "Content-Disposition", "X-Content-Type-Options")


@dataclass(frozen=True)
class ChosenFile:
    """One file a form carried: its name as the browser sent it, its declared type and its spooled bytes."""

    name: str
    content_type: str
    stream: BinaryIO

    @property
    def size(self) -> int:
        position = self.stream.tell()
        self.stream.seek(0, os.SEEK_END)
        size = self.stream.tell()
        self.stream.seek(position)
        return size


def is_image(file_type: object) -> bool:
    """Whether a stored file has a thumbnail: its MIME type as the followups service decided it by content (an
    event's data may hold anything there)."""
    return isinstance(file_type, str) and shared_evidence.is_image(file_type)


def _quoted(text: str) -> str:
    """A multipart header value: quotes, backslashes and line breaks cannot end or split the header."""
    return text.replace("\\", "\\\\").replace('"', "%22").replace("\r", " ").replace("\n", " ")


def _heads(boundary: bytes, files: list[ChosenFile]) -> list[bytes]:
    """Each file's part header (the name also as RFC 5987 UTF-8, for readers that prefer it)."""
    return [b"--" + boundary + b"\r\n" + (
        f'Content-Disposition: form-data; name="file"; filename="{_quoted(f.name)}"; '
        f"filename*=UTF-8''{quote(f.name)}\r\n"
        f"Content-Type: {f.content_type or 'application/octet-stream'}\r\n\r\n").encode("utf-8") for f in files]


def _stream(heads: list[bytes], files: list[ChosenFile], ending: bytes) -> Iterator[bytes]:
    for head, chosen in zip(heads, files, strict=True):
        yield head
        chosen.stream.seek(0)
        while chunk := chosen.stream.read(CHUNK):
            yield chunk
        yield b"\r\n"
    yield ending


def upload(followups: ApiClient, case_id: str, files: list[ChosenFile]) -> list[dict]:
    """Store ``files`` as the case's evidence; returns their refs ``[{sha256, name}]`` for the step's body.
    A refused file (the service's 422 names it and why) raises ServiceRefused, and nothing is stored."""
    boundary = secrets.token_hex(16).encode()
    heads = _heads(boundary, files)
    ending = b"--" + boundary + b"--\r\n"
    length = sum(len(h) + f.size + 2 for h, f in zip(heads, files, strict=True)) + len(ending)
    url = service_url(followups.base_url, f"/cases/{quote(case_id, safe='')}/files")
    answer = http_call("POST", url, token=followups.token, timeout=followups.timeout,
                       body=_stream(heads, files, ending),  # type: ignore[arg-type] - urllib sends an iterable as is
                       headers={"Content-Type": f"multipart/form-data; boundary={boundary.decode()}",
                                "Content-Length": str(length)})
    stored = decode_answer(answer).get("files") or []
    return [{"sha256": item["sha256"], "name": item.get("name") or chosen.name}
            for item, chosen in zip(stored, files, strict=False)]


def fetch(followups: ApiClient, case_id: str, sha256: str, thumbnail: bool = False) -> HttpAnswer:
    """A stored file's bytes (or its thumbnail) as the followups service answers them; a refusal (403, 404, …)
    raises ServiceRefused with the service's own words."""
    path = f"/cases/{quote(case_id, safe='')}/files/{sha256}" + ("/thumbnail" if thumbnail else "")
    url = service_url(followups.base_url, path)
    answer = http_call("GET", url, token=followups.token, timeout=followups.timeout, headers={"Accept": "*/*"})
    if not 200 <= answer.status < 300:
        decode_answer(answer)  # raises ServiceRefused with the service's own words
    return answer
