"""The portal's model keeps the 佐证材料 (evidence files) each step of a case attached, with who and when.

The steps are test_portal_model's, made by the services' own buses; the files are added to the events' data as
the followups service records them (``files: [{sha256, size, type, name}]``), the chain sealed again so that every
event checks out.
"""
from __future__ import annotations

from dataclasses import replace

import pytest

from shared.config import Settings
from shared.envelope import GENESIS_HASH
from services.portal.adapters import snapshot
from services.portal.domain.model import PortalModel
from tests.unit.portal_model.test_portal_model import world  # noqa: F401 - the steps, made by the services' buses

BAZHOU_HANDLER = "h-巴州区教育局"  # as test_portal_model's world names its actors
PHOTO = {"sha256": "a" * 64, "size": 2048, "type": "image/png", "name": "整改前.png"}
AFTER = {"sha256": "b" * 64, "size": 4096, "type": "image/png", "name": "整改后.png"}
REPORT = {"sha256": "c" * 64, "size": 90_000, "type": "application/pdf", "name": "复查记录.pdf"}


def with_files(events: list, files_by_version: dict[int, list[dict]], case_id: str = "n1:P1") -> list:
    """The cases' events, those of ``case_id`` at the given versions carrying files (its others none), its stream
    sealed again on the new chain."""
    sealed, previous = [], GENESIS_HASH
    for event in events:
        if event.stream_id == case_id:
            data = {k: v for k, v in event.data.items() if k != "files"}
            if event.version in files_by_version:
                data["files"] = files_by_version[event.version]
            event = replace(event, data=data, prev_hash=previous).sealed()
            previous = event.hash
        sealed.append(event)
    return sealed


@pytest.fixture
def events(world):  # noqa: F811
    """test_portal_model's world: P1 (巴州) reported twice, re-inspected and closed; its second report (version 5)
    attaches two photos, the 复查 that passed it (version 6) a PDF."""
    _, notice_store, case_store = world
    return list(notice_store.read_all()), with_files(list(case_store.read_all()), {5: [PHOTO, AFTER], 6: [REPORT]})


def built(events) -> PortalModel:
    notice_events, case_events = events
    model = PortalModel()
    for event in notice_events:
        model.apply("notices", event)
    for event in case_events:
        model.apply("followups", event)
    return model


class TestTheModelKeepsEachStepsFiles:
    def test_each_file_is_kept_with_its_step_who_attached_it_and_when(self, events):
        model = built(events)
        files = model.cases["n1:P1"].files
        assert [(f["name"], f["step"], f["by"], f["unit"]) for f in files] == [
            ("整改前.png", "RectificationReported", BAZHOU_HANDLER, "巴州区教育局"),
            ("整改后.png", "RectificationReported", BAZHOU_HANDLER, "巴州区教育局"),
            ("复查记录.pdf", "ReinspectionPassed", "liu", "巴中市教育督导室")]
        reported = next(e for e in events[1] if e.version == 5)
        assert (files[0]["sha256"], files[0]["size"], files[0]["type"]) == ("a" * 64, 2048, "image/png")
        assert files[0]["at"] == reported.recorded_at and files[0]["event_id"] == reported.event_id

    def test_the_chain_still_checks_out_and_the_step_is_on_the_timeline_with_its_files(self, events):
        model = built(events)
        assert model.streams["n1:P1"].ok
        first, second = [e for e in model.timelines["n1"] if e.type == "RectificationReported"]
        assert "files" not in first.data and [f["name"] for f in second.data["files"]] == ["整改前.png", "整改后.png"]

    def test_a_redelivered_step_does_not_attach_its_files_twice(self, events):
        model = built(events)
        before = model.digest()
        assert not any(model.apply("followups", e) for e in events[1])
        assert len(model.cases["n1:P1"].files) == 3 and model.digest() == before

    def test_the_files_are_part_of_the_digest_a_rebuild_is_compared_with(self, events):
        without = built((events[0], with_files(events[1], {})))
        assert without.cases["n1:P1"].files == [] and without.digest() != built(events).digest()

    def test_malformed_file_entries_are_left_out(self, events):
        odd = with_files(events[1], {5: [PHOTO, "not a file", {"name": "no hash"}]})
        assert [f["name"] for f in built((events[0], odd)).cases["n1:P1"].files] == ["整改前.png"]


class TestASnapshotOfTheModel:
    def test_keeps_the_files(self, events, tmp_path):
        model, settings = built(events), Settings(topic_prefix="snap", jwt_secret="the-portal-secret")
        path = snapshot.write_snapshot(tmp_path, model, {("snap.followups", 0): snapshot.PartitionMark(5)}, settings)
        restored = snapshot.read_snapshot(path, settings).model
        assert restored.cases["n1:P1"].files == model.cases["n1:P1"].files and restored.digest() == model.digest()

    def test_taken_by_the_model_before_files_is_not_trusted(self, events, tmp_path, monkeypatch):
        settings = Settings(topic_prefix="snap", jwt_secret="the-portal-secret")
        monkeypatch.setattr(snapshot, "model_fingerprint", lambda: "the model's code before files were kept")
        path = snapshot.write_snapshot(tmp_path, built(events), {}, settings)
        monkeypatch.undo()
        with pytest.raises(snapshot.SnapshotRejected, match="different version"):
            snapshot.read_snapshot(path, settings)
