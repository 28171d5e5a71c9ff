"""Portal snapshots: written atomically, read back to the same model, and never trusted when anything is off."""
from __future__ import annotations

import hashlib
import hmac
import io
import json
import logging
import pickle
from dataclasses import asdict, replace
from datetime import date

import pytest

from shared.config import Settings
from shared.policy import load_policy_book
from services.portal.adapters import snapshot as snapshots
from services.portal.adapters.snapshot import (FORMAT, MAGIC, PartitionMark, SnapshotRejected, load_newest, read_snapshot,
                                               remove_leftovers, snapshot_files, write_snapshot)
from services.portal.domain.model import PortalModel
from services.portal.domain.queries import CaseFilter, LightRule, Period, Viewer, dashboard, ledger, status_table
from tests.bench.portal_history import generate_history

SETTINGS = Settings(topic_prefix="snap", jwt_secret="the-portal-secret")
MARKS = {("snap.tasks", 0): PartitionMark(12, 11, "a" * 64), ("snap.notices", 0): PartitionMark(0)}
UNIT = "巴州区教育局"


@pytest.fixture(scope="module")
def history():
    """A few thousand events of the benchmark's synthetic history: every event type, valid hash chains."""
    return generate_history(3000)


def built(events) -> PortalModel:
    model = PortalModel()
    for service, envelope in events:
        model.apply(service, envelope)
    return model


@pytest.fixture(scope="module")
def model(history) -> PortalModel:
    return built(history.events)


def answers(model: PortalModel) -> list:
    """What the pages would show: dashboards, status tables and the ledger, for everyone and for one unit."""
    rule = LightRule(date(2025, 12, 31), load_policy_book(None))
    result = []
    for viewer in (Viewer("a", "auditor"), Viewer("h", "unit_handler", UNIT)):
        for period in (Period(), Period(date(2025, 1, 1), date(2025, 12, 31))):
            result.append(dashboard(model, viewer, period, rule))
            result += [status_table(model, viewer, period, by, rule) for by in ("unit", "department", "task")]
        result.append([(case.id, light) for case, light in ledger(model, viewer, CaseFilter(), rule)])
    return result


def parts(path) -> tuple[dict, bytes]:
    """The header and the pickled model of a snapshot file."""
    raw = path.read_bytes()
    start = len(MAGIC) + 8
    length = int.from_bytes(raw[len(MAGIC):start], "big")
    return json.loads(raw[start:start + length]), raw[start + length:-32]


def rewrite(path, header: dict, payload: bytes, secret: str = SETTINGS.jwt_secret) -> None:
    """Write a snapshot file by hand, signed with ``secret`` (what someone holding it could do)."""
    body = json.dumps(header).encode()
    signed = MAGIC + len(body).to_bytes(8, "big") + body + payload
    key = hashlib.sha256(f"portal-snapshot:{secret}".encode()).digest()
    path.write_bytes(signed + hmac.new(key, signed, "sha256").digest())


class TestASnapshotRestoresTheModel:
    def test_it_reads_back_with_the_same_digest_positions_and_answers(self, tmp_path, model):
        path = write_snapshot(tmp_path, model, MARKS, SETTINGS)
        snapshot = read_snapshot(path, SETTINGS)
        assert snapshot.digest == model.digest() and snapshot.model.events_applied == model.events_applied
        assert snapshot.marks == MARKS
        assert answers(snapshot.model) == answers(model)

    def test_the_restored_model_goes_on_exactly_like_the_one_that_was_saved(self, tmp_path, history):
        head, tail = history.events[:2000], history.events[2000:]
        original = built(head)
        snapshot = read_snapshot(write_snapshot(tmp_path, original, MARKS, SETTINGS), SETTINGS)
        answers(original)  # the running sums are rebuilt on demand on one side, not on the other
        for service, envelope in tail:
            original.apply(service, envelope)
            snapshot.model.apply(service, envelope)
        assert snapshot.model.digest() == original.digest() == built(history.events).digest()
        assert answers(snapshot.model) == answers(original)

    def test_adopting_it_changes_the_model_everyone_holds(self, tmp_path, model):
        held = PortalModel()
        held.adopt(read_snapshot(write_snapshot(tmp_path, model, MARKS, SETTINGS), SETTINGS).model)
        assert held.digest() == model.digest() and answers(held) == answers(model)

    def test_the_digest_is_the_one_dataclasses_asdict_always_gave(self, model):
        state = {name: {k: asdict(v) for k, v in sorted(getattr(model, name).items())}
                 for name in ("notices", "cases", "tasks", "plans", "streams")}
        state["timelines"] = {k: sorted(e.event_id for e in v) for k, v in sorted(model.timelines.items())}
        state["units"], state["people"] = dict(sorted(model.units.items())), dict(sorted(model.people.items()))
        state["messages"] = dict(sorted(model.messages.items()))
        canonical = json.dumps(state, sort_keys=True, ensure_ascii=False, default=str, separators=(",", ":"))
        assert model.digest() == hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class TestSnapshotFiles:
    def test_the_newest_two_are_kept_and_the_newest_is_read(self, tmp_path, history):
        models = [built(history.events[:n]) for n in (500, 1000, 1500)]
        paths = [write_snapshot(tmp_path, m, MARKS, SETTINGS) for m in models]
        assert snapshot_files(tmp_path) == [paths[2], paths[1]]
        assert load_newest(tmp_path, SETTINGS).model.events_applied == models[2].events_applied

    def test_an_empty_or_missing_directory_has_none(self, tmp_path):
        assert load_newest(tmp_path, SETTINGS) is None and load_newest(tmp_path / "absent", SETTINGS) is None

    def test_a_write_interrupted_by_a_crash_leaves_no_snapshot_and_its_leftover_is_removed(self, tmp_path, model,
                                                                                           monkeypatch):
        def crash(*_args, **_kwargs):
            raise OSError("disk full")

        monkeypatch.setattr(snapshots.os, "replace", crash)
        with pytest.raises(OSError):
            write_snapshot(tmp_path, model, MARKS, SETTINGS)
        assert list(tmp_path.iterdir()) == []  # the temporary file went with the failure
        leftover = tmp_path / ".portal-20250101T000000000000Z.snapshot.123.tmp"
        leftover.write_bytes(b"half a snapshot")
        assert snapshot_files(tmp_path) == []
        remove_leftovers(tmp_path)
        assert not leftover.exists()


class TestAnUntrustworthySnapshotIsIgnored:
    @pytest.fixture
    def path(self, tmp_path, model):
        return write_snapshot(tmp_path, model, MARKS, SETTINGS)

    def rejected(self, path, settings=SETTINGS) -> str:
        with pytest.raises(SnapshotRejected) as raised:
            read_snapshot(path, settings)
        return str(raised.value)

    def test_a_truncated_file(self, path):
        path.write_bytes(path.read_bytes()[:-1000])
        assert "HMAC" in self.rejected(path)
        path.write_bytes(path.read_bytes()[:30])
        assert "truncated" in self.rejected(path)

    def test_a_flipped_byte(self, path):
        raw = bytearray(path.read_bytes())
        raw[len(raw) // 2] ^= 0x01
        path.write_bytes(bytes(raw))
        assert "HMAC" in self.rejected(path)

    def test_another_file_altogether(self, path):
        path.write_bytes(b"PK\x03\x04 not a snapshot at all")
        assert "not a portal snapshot" in self.rejected(path)

    def test_one_written_with_another_secret(self, path):
        assert "HMAC" in self.rejected(path, replace(SETTINGS, jwt_secret="another-secret"))

    def test_a_tampered_payload_is_never_unpickled(self, path):
        header, _ = parts(path)
        rewrite(path, header, pickle.dumps(_Exploit()), secret="a-guessed-secret")
        assert "HMAC" in self.rejected(path) and UNPICKLED == []

    def test_even_a_signed_payload_may_only_name_the_models_classes(self, path):
        header, _ = parts(path)
        rewrite(path, header, pickle.dumps(_Exploit()))
        assert "never holds" in self.rejected(path) and UNPICKLED == []

    def test_an_older_format(self, path):
        header, payload = parts(path)
        rewrite(path, {**header, "format": FORMAT - 1}, payload)
        assert f"format {FORMAT - 1}" in self.rejected(path)

    def test_one_taken_by_another_version_of_the_model(self, path, monkeypatch):
        monkeypatch.setattr(snapshots, "model_fingerprint", lambda: "0" * 64)
        assert "different version" in self.rejected(path)

    def test_one_taken_from_other_topics(self, path):
        assert "'snap'" in self.rejected(path, replace(SETTINGS, topic_prefix="other"))

    def test_a_digest_that_does_not_match_the_restored_model(self, path):
        header, payload = parts(path)
        rewrite(path, {**header, "digest": "f" * 64}, payload)
        assert "digest" in self.rejected(path)

    def test_something_else_than_a_model(self, path):
        header, _ = parts(path)
        rewrite(path, header, pickle.dumps({"notices": {}}))
        assert "not a PortalModel" in self.rejected(path)

    def test_a_bad_newest_one_is_logged_and_the_one_before_is_used(self, tmp_path, history, caplog):
        good = write_snapshot(tmp_path, built(history.events[:1000]), MARKS, SETTINGS)
        bad = write_snapshot(tmp_path, built(history.events), MARKS, SETTINGS)
        bad.write_bytes(bad.read_bytes()[:-1])
        with caplog.at_level(logging.WARNING):
            snapshot = load_newest(tmp_path, SETTINGS)
        assert snapshot.path == good
        assert [r.reason for r in caplog.records if r.getMessage() == "portal snapshot ignored"] == [
            "HMAC mismatch: written with another secret, truncated or altered"]

    def test_with_none_left_there_is_none(self, path):
        path.write_bytes(path.read_bytes()[:-1])
        assert load_newest(path.parent, SETTINGS) is None


UNPICKLED: list[str] = []


class _Exploit:
    """A pickle that runs code when loaded."""

    def __reduce__(self):
        return (_run_code, ("unpickled!",))


def _run_code(text):  # what a malicious pickle would do, harmlessly
    UNPICKLED.append(text)


def test_the_whitelist_covers_a_model_with_every_kind_of_record(model):
    """A model with every event type pickles to nothing but the classes the unpickler accepts."""
    loaded = snapshots._ModelUnpickler(io.BytesIO(pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL))).load()
    assert loaded.digest() == model.digest()
