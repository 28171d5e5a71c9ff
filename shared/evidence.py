"""佐证材料 (evidence files): what a case's step may carry, decided by the bytes (magic numbers), never the name."""
from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from dataclasses import asdict, dataclass
from typing import Protocol

import filetype

from shared.errors import InvalidInput

MAX_FILE_BYTES = 20 * 1024 * 1024  # 20 MiB per file
MAX_FILES_PER_STEP = 20
MAX_NAME_LENGTH = 255
THUMBNAIL_PX = 240  # the long side of a thumbnail
SHA256 = re.compile(r"^[0-9a-f]{64}$")

IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp", "image/bmp", "image/tiff",
                         "image/heic"})
PDF = "application/pdf"
OLE_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")  # compound file: .doc/.xls/.ppt and WPS .wps/.et/.dps
OLE_TYPES = frozenset({"application/msword", "application/vnd.ms-excel", "application/vnd.ms-powerpoint"})
OLE_GENERIC = "application/x-ole-storage"  # a compound file filetype cannot tell apart (WPS .wps/.et/.dps)
# OOXML: the folder a ZIP's members show says which Office document it is
OOXML_FOLDERS = {
    "word/": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xl/": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "ppt/": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}
OFD = "application/ofd"  # GB/T 33190 版式文档: a ZIP with OFD.xml at its root


@dataclass(frozen=True)
class EvidenceFile:  # 佐证材料文件
    sha256: str
    size: int
    type: str  # MIME type decided from the content
    name: str  # the name the step gave it (shown and offered on download, never trusted for the type)

    def to_dict(self) -> dict:
        return asdict(self)


class EvidenceRefused(InvalidInput):
    """A file that cannot be 佐证材料: empty, too large, or not an accepted kind."""

    code = "evidence_refused"

    def __init__(self, name: str, reason_en: str, reason_zh: str):
        super().__init__(f"file {name!r} refused: {reason_en}", f"文件“{name}”不能作为佐证材料：{reason_zh}",
                         field="file", file=name, reason=reason_en)
        self.name = name


def sniff(content: bytes, name: str) -> str:
    """The MIME type of an accepted evidence file, from its content; raises EvidenceRefused otherwise."""
    check_size(len(content), name)
    if content.startswith(OLE_MAGIC):
        guessed = filetype.guess_mime(content)
        return guessed if guessed in OLE_TYPES else OLE_GENERIC
    if content.startswith(b"PK\x03\x04"):
        return _zip_document(content, name)
    guessed = filetype.guess_mime(content)
    if guessed in IMAGE_TYPES or guessed == PDF:
        return guessed
    raise EvidenceRefused(name, f"not an accepted kind of file (found {guessed or 'unknown content'}); accepted: "
                                "images, PDF, Word/Excel/PowerPoint/WPS documents, OFD",
                          f"文件类型不在允许范围内（检测为 {guessed or '未知内容'}）；"
                          "允许图片、PDF、Word/Excel/PowerPoint/WPS 文档、OFD")


def check_size(size: int, name: str) -> None:
    """Refuse an empty file or one over MAX_FILE_BYTES (before reading it all, when the size is known)."""
    if size == 0:
        raise EvidenceRefused(name, "the file is empty", "文件为空")
    if size > MAX_FILE_BYTES:
        raise EvidenceRefused(name, f"{size} bytes is over the limit of {MAX_FILE_BYTES} bytes (20 MB)",
                              f"文件大小 {size} 字节，超过 20 MB 的上限")


def check_count(count: int) -> None:
    """At most MAX_FILES_PER_STEP files per step (and per upload)."""
    if count > MAX_FILES_PER_STEP:
        raise InvalidInput(f"at most {MAX_FILES_PER_STEP} files per step ({count} given)",
                           f"每个步骤最多 {MAX_FILES_PER_STEP} 个文件（提交了 {count} 个）", field="files")


def _zip_document(content: bytes, name: str) -> str:
    """An OOXML or OFD document; a plain ZIP (any archive could hide anything) is refused."""
    try:
        members = zipfile.ZipFile(io.BytesIO(content)).namelist()
    except (zipfile.BadZipFile, ValueError, OSError):  # ValueError/OSError: a truncated or inconsistent archive
        raise EvidenceRefused(name, "a damaged ZIP container", "压缩容器已损坏") from None
    for folder, mime in OOXML_FOLDERS.items():
        if "[Content_Types].xml" in members and any(member.startswith(folder) for member in members):
            return mime
    if "OFD.xml" in members:
        return OFD
    raise EvidenceRefused(name, "a plain ZIP archive is not accepted (only Office and OFD documents)",
                          "不接受普通压缩包（仅接受 Office 文档和 OFD）")


def is_image(mime: str) -> bool:
    return mime in IMAGE_TYPES


class EvidenceCatalogue(Protocol):  # what handlers need of the store: a stored file's size and type
    def reference(self, sha256: str) -> dict | None:
        """The stored file's document ({size, type, …}), now kept for good as a step names it; None: not stored."""


def clean_name(name: str) -> str:
    """The name shown and offered on download: no folders, no control characters, at most MAX_NAME_LENGTH."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    kept = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C").strip()
    return kept[:MAX_NAME_LENGTH] or "file"


def thumbnail_png(content: bytes) -> bytes | None:
    """A PNG at most THUMBNAIL_PX on the long side, EXIF orientation applied; None when not an image Pillow reads."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(content)) as image:
            shown = ImageOps.exif_transpose(image)
            shown.thumbnail((THUMBNAIL_PX, THUMBNAIL_PX))
            if shown.mode not in ("RGB", "RGBA", "L", "LA", "P"):
                shown = shown.convert("RGBA")
            out = io.BytesIO()
            shown.save(out, format="PNG")
            return out.getvalue()
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None
