"""The portal's read models, fed live from the three real topics, equal a rebuild from scratch."""
from __future__ import annotations

from dataclasses import replace
from datetime import date

from shared.clock import FixedClock
from services.portal.adapters.feed import rebuild_from_topics
from services.portal.context import bootstrap as bootstrap_portal
from services.portal.domain.queries import Period, Viewer, dashboard, timeline, timeline_verification
from tests.helpers import eventually
from tests.integration.test_lifecycle import person_factory, three_services, walk_a_notice_from_issue_to_clearing


def test_the_live_portal_and_a_rebuild_from_the_topics_agree_on_every_read_model(settings):
    settings = replace(settings, deadline_watch_seconds=0.2)
    clock = FixedClock(date(2020, 9, 30))
    portal = bootstrap_portal(settings, clock=clock)  # starts following the topics before anything happens
    try:
        with three_services(settings, clock) as contexts:  # the workers publish until everything has arrived
            notice_id = walk_a_notice_from_issue_to_clearing(clock, contexts, person_factory(settings, contexts))
            stored = sum(context.store.count() for context in contexts.values())

            def everything_arrived():
                assert portal.model.events_applied == stored

            eventually(everything_arrived, timeout=30)
    finally:
        portal.stop()

    with portal.lock:
        live = portal.model.digest()
    rebuilt = rebuild_from_topics(settings)
    assert rebuilt.events_applied == stored and rebuilt.digest() == live

    assert list(portal.model.notices) == [notice_id]
    entries = timeline(portal.model, notice_id)
    types = [entry.type for entry in entries]
    # the tasks service may record the last matter's closure after notices cleared the notice, or before
    assert types[0] == "NoticeIssued" and types.count("NoticeCleared") == 1 and types.count("TaskMatterClosed") == 3
    assert all(result["ok"] for result in timeline_verification(portal.model, entries))
    figures = dashboard(portal.model, Viewer("a", "auditor"), Period(), portal.light_rule())
    assert (figures["notices_issued"], figures["matters"], figures["closed"], figures["completion_rate"]) == (1, 3, 3, 1.0)
