"""佐证材料 files through the followups API on the real MongoDB-protocol server: upload, attach to a step, list,
download, thumbnail, refusals, scope, de-duplication and `duban verify` finding a file changed behind its back."""
from __future__ import annotations

import hashlib
import io
import json
from datetime import date, datetime, timedelta, timezone

import pytest
from click.testing import CliRunner
from docx import Document
from PIL import Image

from shared import mongo
from shared.auth import Role, issue_token
from shared.bus import CommandContext
from shared.clock import FixedClock
from shared.envelope import Actor
from shared.eventstore.mongo import MongoEventStore
from shared.web import create_service_app
from services.cli import main as duban
from services.followups.adapters.evidence_store import CHUNK_BYTES, chunk_id
from services.followups.bootstrap import bootstrap as bootstrap_followups
from services.followups.reactions import sweep_unreferenced_evidence
from services.followups.domain.commands import OpenRectification
from services.followups.entrypoints.api import blp as followups_api

OFFICE, BAZHOU, ENYANG = "巴中市教育督导室", "巴州区教育局", "恩阳区教育局"
CASE = "files-n1:P1"
PNG_TYPE = "image/png"


def png(colour: str, size=(800, 600)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "PNG", compress_level=0)  # uncompressed: more than one chunk
    return buffer.getvalue()


def docx(text: str) -> bytes:
    document = Document()
    document.add_paragraph(text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture
def world(settings):
    """One open case of 巴州区 in followups (as its notice's reaction opens it), served by its Flask app."""
    mongo.serve_requests()  # as the web app factory does before it connects: `duban verify` then shares the client
    followups = bootstrap_followups(settings, clock=FixedClock(date(2026, 12, 4)))
    followups.bus.handle(OpenRectification(CASE, "files-n1", "P1", "消防通道堵塞", BAZHOU, "2026-12-31",
                                           {"issuer_unit": OFFICE, "issued_on": "2026-12-01"}),
                         CommandContext.fresh(Actor.system("test")))
    client = create_service_app(lambda: followups, "followups", [followups_api]).test_client()

    def as_(user: str, role: str, unit: str, name: str) -> dict:
        return {"Authorization": f"Bearer {issue_token(settings.jwt_secret, user, role, unit, name)}"}

    return settings, followups, client, as_


def upload(client, headers, *files: tuple[bytes, str]):
    return client.post(f"/cases/{CASE}/files", headers=headers, content_type="multipart/form-data",
                       data={"file": [(io.BytesIO(content), name) for content, name in files]})


def stored_count(followups) -> tuple[int, int]:
    database = followups.database
    return (database["evidence_files"].count_documents({}), database["evidence_chunks"].count_documents({}))


def test_a_report_with_three_files_lists_serves_and_verifies_them(world):
    settings, followups, client, as_ = world
    zhao = as_("zhao", Role.UNIT_HANDLER, BAZHOU, "赵伟")
    assert client.post(f"/cases/{CASE}/plan", json={"plan": "清理通道"}, headers=zhao).status_code == 200
    photo, report = png("green"), docx("整改报告：通道已清理")
    answer = upload(client, zhao, (photo, "整改后.png"), (PDF, "验收单.pdf"), (report, "整改报告.docx"))
    assert answer.status_code == 201, answer.get_json()
    uploaded = answer.get_json()["files"]
    assert [f["type"] for f in uploaded] == [
        PNG_TYPE, "application/pdf", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"]
    assert uploaded[0]["sha256"] == hashlib.sha256(photo).hexdigest() and uploaded[0]["size"] == len(photo)

    refs = [{"sha256": f["sha256"], "name": f["name"]} for f in uploaded]
    answer = client.post(f"/cases/{CASE}/completion", headers=zhao,
                         json={"summary": "通道已清理", "evidence": ["现场照片"], "files": refs})
    assert answer.status_code == 200, answer.get_json()

    inspector = as_("liu", Role.INSPECTOR, OFFICE, "刘督学")
    case = client.get(f"/cases/{CASE}", headers=inspector).get_json()
    assert [(f["name"], f["step"], f["attached_by"]["name"]) for f in case["files"]] == [
        ("整改后.png", "RectificationReported", "赵伟"), ("验收单.pdf", "RectificationReported", "赵伟"),
        ("整改报告.docx", "RectificationReported", "赵伟")]
    [event] = [e for e in followups.store.read_stream(CASE) if e.type == "RectificationReported"]
    assert [f["sha256"] for f in event.data["files"]] == [f["sha256"] for f in uploaded]  # sealed by the chain

    for content, file in zip((photo, PDF, report), uploaded, strict=True):
        download = client.get(f"/cases/{CASE}/files/{file['sha256']}", headers=inspector)
        assert download.status_code == 200 and download.data == content
        assert download.mimetype == file["type"]
        assert download.headers["X-Content-Type-Options"] == "nosniff"
        assert download.headers["Content-Disposition"].startswith("attachment; filename*=UTF-8''")
    thumbnail = client.get(f"/cases/{CASE}/files/{uploaded[0]['sha256']}/thumbnail", headers=inspector)
    assert thumbnail.status_code == 200 and thumbnail.mimetype == PNG_TYPE
    assert Image.open(io.BytesIO(thumbnail.data)).size == (240, 180)
    assert followups.database["evidence_thumbnails"].count_documents({"_id": uploaded[0]["sha256"]}) == 1
    assert client.get(f"/cases/{CASE}/files/{uploaded[1]['sha256']}/thumbnail", headers=inspector).status_code == 404

    env = {"MONGO_URL": settings.mongo_url, "DUBAN_DB_PREFIX": settings.db_prefix,
           "DUBAN_TOPIC_PREFIX": settings.topic_prefix, "DUBAN_INDEX_CHECK": "warn"}
    clean = CliRunner().invoke(duban, ["verify", "followups"], env=env)
    assert clean.exit_code == 0, clean.output
    # One chunk of the photo overwritten behind the system's back: verify names that file, and only that one.
    assert len(photo) > CHUNK_BYTES
    followups.database["evidence_chunks"].update_one({"_id": chunk_id(uploaded[0]["sha256"], 1)},
                                                     {"$set": {"data": b"tampered"}})
    broken = CliRunner().invoke(duban, ["verify", "followups"], env=env)
    assert broken.exit_code == 1
    damaged = json.loads(broken.output)["damaged_files"]
    assert [(d["sha256"], d["name"], d["problem"]) for d in damaged] == [
        (uploaded[0]["sha256"], "整改后.png", "content changed")]
    assert client.get(f"/cases/{CASE}/files/{uploaded[0]['sha256']}", headers=inspector).status_code == 404
    # a chunk gone altogether: named as missing, and the download is a 404, not an error
    followups.database["evidence_chunks"].delete_one({"_id": chunk_id(uploaded[2]["sha256"], 0)})
    broken = CliRunner().invoke(duban, ["verify", "followups"], env=env)
    assert [(d["name"], d["problem"]) for d in json.loads(broken.output)["damaged_files"]] == [
        ("整改后.png", "content changed"), ("整改报告.docx", "missing")]
    assert client.get(f"/cases/{CASE}/files/{uploaded[2]['sha256']}", headers=inspector).status_code == 404


def test_verify_reads_the_history_once_for_the_chain_and_the_files(world, monkeypatch):
    settings, followups, client, as_ = world
    zhao = as_("zhao", Role.UNIT_HANDLER, BAZHOU, "赵伟")
    [file] = upload(client, zhao, (PDF, "方案.pdf")).get_json()["files"]
    assert client.post(f"/cases/{CASE}/plan", headers=zhao, json={
        "plan": "清理通道", "files": [{"sha256": file["sha256"], "name": file["name"]}]}).status_code == 200
    reads = []
    read_all = MongoEventStore.read_all
    monkeypatch.setattr(MongoEventStore, "read_all", lambda store, *a, **k: reads.append(1) or read_all(store, *a, **k))
    followups.database["evidence_chunks"].delete_one({"_id": chunk_id(file["sha256"], 0)})

    env = {"MONGO_URL": settings.mongo_url, "DUBAN_DB_PREFIX": settings.db_prefix,
           "DUBAN_TOPIC_PREFIX": settings.topic_prefix, "DUBAN_INDEX_CHECK": "warn"}
    broken = CliRunner().invoke(duban, ["verify", "followups"], env=env)

    assert broken.exit_code == 1
    report = json.loads(broken.output)
    assert report["ok"] and report["events_checked"] == 2
    assert [(d["name"], d["problem"]) for d in report["damaged_files"]] == [("方案.pdf", "missing")]
    assert reads == [1]


def test_an_oversized_file_and_a_renamed_program_are_refused_by_name_and_nothing_is_stored(world):
    _, followups, client, as_ = world
    zhao = as_("zhao", Role.UNIT_HANDLER, BAZHOU, "赵伟")
    large = b"%PDF-1.4\n" + b"0" * (25 * 1024 * 1024)
    answer = upload(client, zhao, (png("red"), "现场.png"), (large, "扫描件.pdf"))
    assert answer.status_code == 422 and answer.get_json()["details"]["file"] == "扫描件.pdf"
    program = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200
    answer = upload(client, zhao, (png("red"), "现场.png"), (program, "照片.jpg"))
    body = answer.get_json()
    assert answer.status_code == 422 and body["details"]["file"] == "照片.jpg" and "照片.jpg" in body["message_zh"]
    assert upload(client, zhao, (b"", "空.png")).status_code == 422
    too_many = upload(client, zhao, *((PDF + str(n).encode(), f"{n}.pdf") for n in range(21)))
    assert too_many.status_code == 422 and too_many.get_json()["details"]["field"] == "files"
    assert stored_count(followups) == (0, 0)


def test_a_step_cannot_attach_a_file_that_was_never_uploaded(world):
    _, followups, client, as_ = world
    zhao = as_("zhao", Role.UNIT_HANDLER, BAZHOU, "赵伟")
    answer = client.post(f"/cases/{CASE}/plan", headers=zhao,
                         json={"plan": "清理通道", "files": [{"sha256": "a" * 64, "name": "方案.pdf"}]})
    assert answer.status_code == 422 and answer.get_json()["details"]["field"] == "files"
    assert [e.type for e in followups.store.read_stream(CASE)] == ["RectificationOpened"]


def test_another_units_handler_can_neither_upload_to_nor_read_the_files_of_a_case(world):
    _, followups, client, as_ = world
    zhao = as_("zhao", Role.UNIT_HANDLER, BAZHOU, "赵伟")
    sun = as_("sun", Role.UNIT_HANDLER, ENYANG, "孙经办")
    assert upload(client, sun, (PDF, "方案.pdf")).status_code == 403
    assert stored_count(followups) == (0, 0)
    [file] = upload(client, zhao, (PDF, "方案.pdf")).get_json()["files"]
    attach = {"plan": "清理通道", "files": [{"sha256": file["sha256"], "name": file["name"]}]}
    assert client.post(f"/cases/{CASE}/plan", headers=zhao, json=attach).status_code == 200
    assert client.get(f"/cases/{CASE}/files/{file['sha256']}", headers=zhao).status_code == 200
    assert client.get(f"/cases/{CASE}/files/{file['sha256']}", headers=sun).status_code == 403
    # a hash the case does not reference is not served through it, whoever stored it
    assert client.get(f"/cases/{CASE}/files/{'b' * 64}", headers=zhao).status_code == 404


def test_the_same_bytes_uploaded_twice_are_stored_once(world):
    _, followups, client, as_ = world
    zhao = as_("zhao", Role.UNIT_HANDLER, BAZHOU, "赵伟")
    photo = png("blue")
    first = upload(client, zhao, (photo, "一.png")).get_json()["files"]
    after_first = stored_count(followups)
    second = upload(client, zhao, (photo, "二.png"), (photo, "三.png")).get_json()["files"]
    assert {f["sha256"] for f in first + second} == {hashlib.sha256(photo).hexdigest()}
    assert stored_count(followups) == after_first == (1, -(-len(photo) // CHUNK_BYTES))


def test_files_no_step_named_are_swept_after_their_days_and_named_ones_never(world):
    """An abandoned form leaves its uploads behind: the followups worker's sweep deletes them (file, chunks,
    thumbnail) once no upload of them is more recent than the settings' days; a file a step names stays, and so
    does a file stored before files were marked."""

    settings, followups, client, as_ = world
    zhao = as_("zhao", Role.UNIT_HANDLER, BAZHOU, "赵伟")
    kept, abandoned = png("green"), png("red")
    [named] = upload(client, zhao, (kept, "整改后.png")).get_json()["files"]
    [left] = upload(client, zhao, (abandoned, "草稿.png")).get_json()["files"]
    assert client.post(f"/cases/{CASE}/plan", headers=zhao, json={
        "plan": "清理通道", "files": [{"sha256": named["sha256"], "name": named["name"]}]}).status_code == 200
    files = followups.database["evidence_files"]
    files.insert_one({"_id": "c" * 64, "size": 1, "type": "application/pdf", "chunks": 0, "name": "旧.pdf",
                      "stored_at": datetime(2026, 1, 1, tzinfo=timezone.utc)})  # stored before the mark existed
    followups.database["evidence_thumbnails"].insert_one({"_id": left["sha256"], "png": b"thumbnail"})
    days = settings.evidence_unreferenced_days

    assert sweep_unreferenced_evidence(followups, FixedClock(date(2026, 12, 4))) == []  # too recent
    later = FixedClock(datetime.now(timezone.utc) + timedelta(days=days, minutes=1))
    assert sweep_unreferenced_evidence(followups, later) == [left["sha256"]]

    assert files.find_one({"_id": left["sha256"]}) is None
    assert followups.database["evidence_chunks"].count_documents({"_id": chunk_id(left["sha256"], 0)}) == 0
    assert followups.database["evidence_thumbnails"].find_one({"_id": left["sha256"]}) is None
    assert files.find_one({"_id": named["sha256"]}) is not None and files.find_one({"_id": "c" * 64}) is not None
    assert client.get(f"/cases/{CASE}/files/{named['sha256']}", headers=zhao).data == kept
    # a step naming the swept file now is refused: upload it again
    answer = client.post(f"/cases/{CASE}/progress", headers=zhao, json={
        "summary": "进展", "files": [{"sha256": left["sha256"], "name": left["name"]}]})
    assert answer.status_code == 422 and answer.get_json()["details"]["sha256"] == left["sha256"]
    assert upload(client, zhao, (abandoned, "草稿.png")).status_code == 201
    assert files.find_one({"_id": left["sha256"]})["referenced"] is False


def test_uploading_the_same_bytes_again_starts_their_days_afresh(world):
    _, followups, client, as_ = world
    zhao = as_("zhao", Role.UNIT_HANDLER, BAZHOU, "赵伟")
    [file] = upload(client, zhao, (PDF, "方案.pdf")).get_json()["files"]
    files = followups.database["evidence_files"]
    long_ago = datetime(2026, 1, 1, tzinfo=timezone.utc)
    files.update_one({"_id": file["sha256"]}, {"$set": {"uploaded_at": long_ago}})
    upload(client, zhao, (PDF, "方案.pdf"))
    store = followups.dependencies["evidence"]
    assert store.sweep_unreferenced(datetime.now(timezone.utc) - timedelta(days=1)) == []
    assert files.find_one({"_id": file["sha256"]}) is not None
