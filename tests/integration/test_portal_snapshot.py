"""A portal restarted from its snapshot plus the topics' tail equals a rebuild; a snapshot it cannot trust is replayed over."""
from __future__ import annotations

import logging
from dataclasses import replace

import pytest

from services.portal.adapters.feed import rebuild_from_topics
from services.portal.adapters.snapshot import PartitionMark, read_snapshot, snapshot_files, write_snapshot
from services.portal.context import bootstrap as bootstrap_portal
from services.portal.domain.model import PortalModel
from tests.bench.portal_history import generate_history, publish_history
from tests.helpers import eventually

HEAD = 2000  # events published before the first portal stops; the rest is the tail the second one reads


@pytest.fixture(scope="module")
def history():
    return generate_history(3000)


@pytest.fixture
def snapshot_settings(settings, tmp_path):
    return replace(settings, portal_snapshot_dir=str(tmp_path / "snapshots"), portal_snapshot_events=1_000_000,
                   portal_snapshot_seconds=3600)


def publish(history, settings, events) -> None:
    publish_history(replace(history, events=events), settings, processes=1)


def started_and_caught_up(settings, events: int):
    portal = bootstrap_portal(settings)

    def caught_up():
        assert portal.feed.caught_up.is_set() and portal.model.events_applied == events

    eventually(caught_up, timeout=60)
    return portal


def test_a_restart_reads_only_the_tail_and_ends_where_a_rebuild_does(snapshot_settings, history):
    publish(history, snapshot_settings, history.events[:HEAD])
    first = started_and_caught_up(snapshot_settings, HEAD)
    assert first.feed.restored_from is None
    first.stop()  # a clean stop writes the snapshot
    [path] = snapshot_files(snapshot_settings.portal_snapshot_dir)

    publish(history, snapshot_settings, history.events[HEAD:])
    second = started_and_caught_up(snapshot_settings, len(history.events))
    try:
        assert second.feed.restored_from == path
        with second.lock:
            live = second.model.digest()
    finally:
        second.stop()
    assert live == rebuild_from_topics(snapshot_settings).digest()
    # what the second portal followed is kept for the next start
    assert snapshot_files(snapshot_settings.portal_snapshot_dir)[0] != path


def test_a_corrupted_snapshot_is_logged_and_the_topics_are_replayed_from_the_beginning(snapshot_settings, history, caplog):
    publish(history, snapshot_settings, history.events)
    first = started_and_caught_up(snapshot_settings, len(history.events))
    first.stop()
    for path in snapshot_files(snapshot_settings.portal_snapshot_dir):
        raw = bytearray(path.read_bytes())
        raw[len(raw) // 2] ^= 0xFF
        path.write_bytes(bytes(raw))

    with caplog.at_level(logging.WARNING):
        second = started_and_caught_up(snapshot_settings, len(history.events))
    second.stop()
    assert second.feed.restored_from is None
    assert "portal snapshot ignored" in [record.getMessage() for record in caplog.records]
    assert second.model.digest() == rebuild_from_topics(snapshot_settings).digest()


@pytest.mark.parametrize("case", ["beyond the end", "another record at the offset", "a partition that does not exist"])
def test_a_snapshot_the_topics_no_longer_hold_is_ignored(snapshot_settings, history, case, caplog):
    """A topic recreated since (shorter, or as long with other records) or repartitioned: the snapshot is not used."""
    publish(history, snapshot_settings, history.events[:HEAD])
    first = started_and_caught_up(snapshot_settings, HEAD)
    first.stop()
    [path] = snapshot_files(snapshot_settings.portal_snapshot_dir)
    header_marks = dict(read_snapshot(path, snapshot_settings).marks)
    (topic, number), mark = next((key, mark) for key, mark in header_marks.items() if mark.last_offset)
    if case == "beyond the end":
        header_marks[(topic, number)] = PartitionMark(mark.position + 1000, mark.last_offset + 1000, mark.last_sha256)
    elif case == "another record at the offset":
        header_marks[(topic, number)] = replace(mark, last_sha256="0" * 64)
    else:
        header_marks[(topic, 7)] = PartitionMark(0)
    stale = PortalModel()  # a model that is not the topics' (were it restored, the digests would differ)
    path.unlink()
    write_snapshot(snapshot_settings.portal_snapshot_dir, stale, header_marks, snapshot_settings)

    with caplog.at_level(logging.WARNING):
        second = started_and_caught_up(snapshot_settings, HEAD)
    second.stop()
    assert second.feed.restored_from is None
    assert any(r.getMessage().startswith("portal snapshot ignored: the topics") for r in caplog.records)
    assert second.model.digest() == rebuild_from_topics(snapshot_settings).digest()

