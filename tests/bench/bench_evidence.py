"""佐证材料 files: upload and download MB/s through the followups API (its Flask test client: checks, hashing,
multipart parsing, the chunked store) against raw pymongo writing and reading the same bytes as the same chunk
documents to the same server in the same run.

    python tests/bench/bench_evidence.py [--files 40] [--megabytes 2]
"""
from __future__ import annotations

import argparse
import hashlib
import io
import os
import time

from bson import Binary
from common import bench_settings, bench_stack, table

from shared.auth import Role, issue_token
from shared.bus import CommandContext
from shared.envelope import Actor
from shared.envelope import utc_now
from shared.web import create_service_app
from services.followups.adapters.evidence_store import CHUNK_BYTES, chunk_id
from services.followups.bootstrap import bootstrap as bootstrap_followups
from services.followups.domain.commands import OpenRectification
from services.followups.entrypoints.api import blp as followups_api

UNIT, CASE = "巴州区教育局", "bench-n1:P1"


def samples(count: int, size: int) -> list[bytes]:
    """Distinct PDFs (a PDF header, then random bytes: nothing de-duplicates)."""
    return [b"%PDF-1.7\n" + os.urandom(size - 9) for _ in range(count)]


def through_api(context, contents: list[bytes]) -> tuple[float, float]:
    client = create_service_app(lambda: context, "followups", [followups_api]).test_client()
    token = issue_token(context.settings.jwt_secret, "zhao", Role.UNIT_HANDLER, UNIT, "赵伟")
    headers = {"Authorization": f"Bearer {token}"}
    started = time.perf_counter()
    refs = []
    for n, content in enumerate(contents):
        answer = client.post(f"/cases/{CASE}/files", headers=headers, content_type="multipart/form-data",
                             data={"file": [(io.BytesIO(content), f"扫描件{n}.pdf")]})
        assert answer.status_code == 201, answer.get_json()
        refs.extend({"sha256": f["sha256"], "name": f["name"]} for f in answer.get_json()["files"])
    upload_seconds = time.perf_counter() - started
    for start in range(0, len(refs), 20):  # a step attaches at most 20: the downloads need a step referencing them
        answer = client.post(f"/cases/{CASE}/plan", headers=headers, json={"plan": "整改方案", "files": refs[start:start + 20]})
        assert answer.status_code == 200, answer.get_json()
    started = time.perf_counter()
    for ref, content in zip(refs, contents, strict=True):
        answer = client.get(f"/cases/{CASE}/files/{ref['sha256']}", headers=headers)
        assert answer.status_code == 200 and len(answer.data) == len(content)
    return upload_seconds, time.perf_counter() - started


def raw(database, contents: list[bytes]) -> tuple[float, float]:
    """The same documents the store writes (chunks by _id, then the file document), in collections of their own."""
    files, chunks = database["bench_raw_files"], database["bench_raw_chunks"]
    started = time.perf_counter()
    addresses = []
    for content in contents:
        sha256 = hashlib.sha256(content).hexdigest()
        count = 0
        for count, start in enumerate(range(0, len(content), CHUNK_BYTES), start=1):
            chunks.replace_one({"_id": chunk_id(sha256, count - 1)}, {"data": Binary(content[start:start + CHUNK_BYTES])},
                               upsert=True)
        files.insert_one({"_id": sha256, "size": len(content), "type": "application/pdf", "chunks": count,
                          "name": "x.pdf", "stored_at": utc_now()})
        addresses.append(sha256)
    upload_seconds = time.perf_counter() - started
    started = time.perf_counter()
    for sha256, content in zip(addresses, contents, strict=True):
        count = files.find_one({"_id": sha256})["chunks"]
        data = b"".join(bytes(chunks.find_one({"_id": chunk_id(sha256, n)})["data"]) for n in range(count))
        assert len(data) == len(content)
    return upload_seconds, time.perf_counter() - started


def run(stack, files: int, megabytes: float) -> None:
    settings = bench_settings(stack)
    context = bootstrap_followups(settings)
    context.bus.handle(OpenRectification(CASE, "bench-n1", "P1", "消防通道堵塞", UNIT, "2099-12-31"),
                       CommandContext.fresh(Actor.system("bench")))
    count = files
    contents = samples(count, int(megabytes * 1024 * 1024))
    total = sum(map(len, contents)) / (1024 * 1024)
    api_up, api_down = through_api(context, contents)
    raw_up, raw_down = raw(context.database, contents)
    rows = [["upload", f"{total / api_up:.1f}", f"{total / raw_up:.1f}", f"{raw_up / api_up:.2f}"],
            ["download", f"{total / api_down:.1f}", f"{total / raw_down:.1f}", f"{raw_down / api_down:.2f}"]]
    table(f"佐证材料: {count} files of {megabytes:g} MB ({total:.0f} MB), MB/s", ["", "followups API", "raw pymongo",
                                                                             "API / raw"], rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=40, help="how many files")
    parser.add_argument("--megabytes", type=float, default=2, help="the size of each file")
    with bench_stack() as stack:
        run(stack, **vars(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
