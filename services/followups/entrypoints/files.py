"""佐证材料 files of a case over HTTP: upload (checked by content, stored by hash), download and thumbnail.

An upload writes no event: the step that references the files (plan, progress, completion, re-inspection,
extension) records their hashes, and only a file a step of the case references can be read through the case.
"""
from __future__ import annotations

import hashlib
import os
from typing import Callable
from urllib.parse import quote

from flask import Response, request
from flask_smorest import Blueprint
from flask_smorest.fields import Upload
from marshmallow import Schema, fields

from shared.auth import Role
from shared.errors import NotFound
from shared.evidence import (MAX_FILE_BYTES, MAX_FILES_PER_STEP, SHA256, EvidenceFile, check_count, check_size,
                             clean_name, sniff)
from shared.web import allow, current_context
from services.followups.adapters.evidence_store import EvidenceStore
from services.followups.adapters.read_models import CaseView
from services.followups.entrypoints.schemas import UploadedFilesSchema

# Twenty files of 20 MB and their multipart framing: the app's 16 MB limit is for JSON bodies.
MAX_UPLOAD_BYTES = MAX_FILES_PER_STEP * (MAX_FILE_BYTES + 64 * 1024)
UPLOADERS = (Role.UNIT_HANDLER, Role.INSPECTOR, Role.OFFICE_STAFF)  # and who reads the case: its scope
UPLOAD_ENDPOINT = "cases.upload_case_files"


class UploadSchema(Schema):  # multipart/form-data: one or more parts named "file"
    file = fields.List(Upload(), required=True, metadata={
        "description": f"佐证材料: up to {MAX_FILES_PER_STEP} files of up to 20 MB each; images, PDF, OFD, Word/Excel/"
                       "PowerPoint and WPS documents, judged by their content"})


BINARY = {"schema": {"type": "string", "format": "binary"}}


def add_file_routes(blp: Blueprint, readable_case: Callable[[str], CaseView]) -> None:
    """Register the file routes on the cases blueprint; ``readable_case`` is GET /cases/<id>'s 404/403 rule."""

    @blp.before_app_request
    def _allow_large_upload() -> None:
        # before the app's own hooks read the body (an Idempotency-Key fingerprints multipart parts)
        if request.endpoint == UPLOAD_ENDPOINT:
            request.max_content_length = MAX_UPLOAD_BYTES

    @blp.route("/<case_id>/files", methods=["POST"], endpoint="upload_case_files")
    @allow(*UPLOADERS)
    @blp.arguments(UploadSchema, location="files")
    @blp.response(201, UploadedFilesSchema)
    def upload(parts, case_id):
        """Upload 佐证材料 for a step of the case: every part is checked before any is stored (422 names the file)."""
        readable_case(case_id)
        uploads = parts["file"]
        check_count(len(uploads))
        described = [_checked(part) for part in uploads]  # all of them first: a bad one stores nothing
        store = _store()
        for part, file in zip(uploads, described, strict=True):
            part.stream.seek(0)
            store.store(part.stream.read(), file)
        return {"files": [file.to_dict() for file in described]}

    @blp.route("/<case_id>/files/<sha256>", methods=["GET"], endpoint="download_case_file")
    @blp.doc(responses={200: {"description": "the file's bytes, as an attachment", "content": {"*/*": BINARY}}})
    def download(case_id, sha256):
        """One 佐证材料 file a step of the case attached, with the type decided at upload, as an attachment."""
        attached = _attached(readable_case(case_id), sha256)
        content = _store().open(sha256) if attached else None
        if content is None or hashlib.sha256(content).hexdigest() != sha256:  # damaged: `duban verify` names it
            raise NotFound(f"file {sha256} is not stored intact", f"佐证材料 {sha256} 未完整保存")
        return _bytes(content, attached["type"], {
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(attached['name'], safe='')}"})

    @blp.route("/<case_id>/files/<sha256>/thumbnail", methods=["GET"], endpoint="case_file_thumbnail")
    @blp.doc(responses={200: {"description": "PNG, at most 240 px on its long side", "content": {"image/png": BINARY}}})
    def thumbnail(case_id, sha256):
        """A small PNG of an image file a step of the case attached; 404 for other kinds."""
        attached = _attached(readable_case(case_id), sha256)
        png = _store().thumbnail(sha256) if attached else None
        if png is None:
            raise NotFound(f"file {sha256} of case {case_id} has no thumbnail (not an image)",
                           "该佐证材料不是图片，没有缩略图")
        return _bytes(png, "image/png", {"Cache-Control": "private, max-age=86400"})


def _store() -> EvidenceStore:
    return current_context().dependencies["evidence"]


def _checked(part) -> EvidenceFile:
    name = clean_name(part.filename)
    part.stream.seek(0, os.SEEK_END)
    check_size(part.stream.tell(), name)  # before reading an oversized file into memory
    part.stream.seek(0)
    content = part.stream.read()
    return EvidenceFile(sha256=hashlib.sha256(content).hexdigest(), size=len(content), type=sniff(content, name),
                        name=name)


def _attached(case: CaseView, sha256: str) -> dict:
    """The case's entry for ``sha256`` (the name its step gave it); 404 if no step of the case references it."""
    found = next((f for f in case.files or () if SHA256.match(sha256) and f.get("sha256") == sha256), None)
    if found is None:
        raise NotFound(f"case {case.id} has no file {sha256}", f"整改事项 {case.id} 没有该佐证材料")
    return found


def _bytes(content: bytes, mime: str, headers: dict) -> Response:
    response = Response(content, mimetype=mime)
    response.headers.update({"X-Content-Type-Options": "nosniff", **headers})
    return response

