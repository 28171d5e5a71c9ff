"""The message rows on the real MongoDB-protocol server as the dispatcher leaves them: a claim is appended without
touching its row, its outcome then updates the row once for both, and the claim arriving later from the topic (or
any event again) changes nothing."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone

from shared.bus import CommandContext
from shared.clock import FixedClock
from shared.envelope import Actor
from services.messages.adapters.read_models import PROJECTION, MessageView, waiting
from services.messages.bootstrap import bootstrap as bootstrap_messages
from services.messages.domain import commands as c
from services.messages.domain.model import Draft, Outcome, Status, message_id_for

NOW = datetime(2026, 11, 2, 2, 0, tzinfo=timezone.utc)
WORKER = CommandContext.fresh(Actor.system("messages-dispatcher"))


def test_an_outcome_updates_the_row_for_its_claim_too_and_the_claim_replayed_changes_nothing(settings):
    context = bootstrap_messages(replace(settings, quiet_hours="off"), clock=FixedClock(NOW), channels={})
    ids = [message_id_for("reminder", f"case-{n}", "zhao", "email", "x") for n in range(2)]
    for n, message_id in enumerate(ids):
        context.bus.handle(c.QueueMessage(Draft(message_id, "reminder", "email", "zhao", "赵伟", "巴州区教育局",
                                                "zhao@example.cn", "【催办】", "催办", f"/cases/case-{n}", "notice-1",
                                                f"case-{n}", "x")), WORKER)
    rows = {row.id: row for row in waiting(Status.QUEUED)}
    assert set(ids) <= set(rows) and rows[ids[0]].state.version == 1 and rows[ids[0]].state.attempts_before_requeue == 0

    claimed = context.bus.handle(c.ClaimDeliveries(tuple(rows[i].state for i in ids)), WORKER)
    assert [MessageView.objects.get(id=i).status for i in ids] == [Status.QUEUED] * 2  # the claims left to their outcomes
    assert context.bus.handle(c.RecordOutcomes((Outcome(claimed[ids[0]], answer="250 OK queued as A1"),
                                                Outcome(claimed[ids[1]], error="421 busy", retryable=True))), WORKER) == 2
    sent, retrying = (MessageView.objects.get(id=i) for i in ids)
    assert (sent.status, sent.version, sent.attempts, sent.answer, sent.lease_until) == (
        Status.SENT, 3, 1, "250 OK queued as A1", None)
    assert (retrying.status, retrying.version, retrying.attempts, retrying.last_error) == (Status.RETRYING, 3, 1, "421 busy")

    for event in context.store.read_all():  # as the service's own topic hands them over later: nothing moves back
        PROJECTION(event)
    again = MessageView.objects.get(id=ids[0])
    assert (again.status, again.version, again.answer) == (Status.SENT, 3, "250 OK queued as A1")
    assert MessageView.objects.get(id=ids[1]).status == Status.RETRYING
