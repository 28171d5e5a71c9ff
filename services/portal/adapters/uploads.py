"""Uploaded workbooks kept between their preview and the confirmation, by sha256, readable by this process's user
only (an import may hold initial passwords), and dropped once imported or after ``keep_seconds``."""
from __future__ import annotations

import hashlib
import os
import re
import tempfile
import time
from pathlib import Path

SHA256 = re.compile(r"^[0-9a-f]{64}$")


class UploadShelf:
    def __init__(self, name: str, keep_seconds: float):
        self.directory = Path(tempfile.gettempdir()) / name
        self.keep_seconds = keep_seconds

    def keep(self, data: bytes) -> str:
        """Keep ``data`` (removing what has outstayed); returns its sha256, the key the confirmation sends back."""
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        for old in self.directory.glob("*.xlsx"):
            if old.stat().st_mtime < time.time() - self.keep_seconds:
                old.unlink(missing_ok=True)
        digest = hashlib.sha256(data).hexdigest()
        descriptor = os.open(self.directory / f"{digest}.xlsx", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
        return digest

    def get(self, digest: str) -> bytes | None:
        """The upload kept under ``digest``, or None (an unknown or malformed key, or one already dropped)."""
        path = self.directory / f"{digest}.xlsx"
        return path.read_bytes() if SHA256.match(digest) and path.exists() else None

    def drop(self, digest: str) -> None:
        if SHA256.match(digest):
            (self.directory / f"{digest}.xlsx").unlink(missing_ok=True)
