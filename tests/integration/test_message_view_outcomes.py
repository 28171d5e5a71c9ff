"""The message rows on the real MongoDB-protocol server as the dispatcher leaves them: a claim is appended without
touching its row, its outcome then updates the row once for both, and the claim arriving later from the topic (or
any event again) changes nothing."""
from __future__ import annotations

import threading
from collections import Counter
from dataclasses import replace
from datetime import datetime, timezone

from shared.bus import CommandContext
from shared.clock import FixedClock
from shared.envelope import Actor
from services.messages.adapters.channels import MESSAGE_ID_HEADER
from services.messages.adapters.read_models import PROJECTION, MessageView, waiting
from services.messages.bootstrap import bootstrap as bootstrap_messages
from services.messages.domain import commands as c
from services.messages.domain.model import Draft, Outcome, Status, message_id_for

NOW = datetime(2026, 11, 2, 2, 0, tzinfo=timezone.utc)
WORKER = CommandContext.fresh(Actor.system("messages-dispatcher"))


def test_an_outcome_updates_the_row_for_its_claim_too_and_the_claim_replayed_changes_nothing(settings):
    context, ids = _queued_reminders(settings, "case", 2)
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


def test_a_pass_reads_a_batch_of_a_long_queue_not_all_of_it(settings, monkeypatch):
    """1,000 queued: the dispatcher's pass reads BATCH rows of them (and, being due, sends those), the next pass
    the next ones; reading the whole queue on every pass made a wave of n reminders cost n²/BATCH row reads."""
    from services.messages import dispatcher as dispatching
    from services.messages.adapters import read_models

    context = bootstrap_messages(replace(settings, quiet_hours="off"), clock=FixedClock(NOW), channels={})
    queued = [Draft(message_id_for("reminder", f"wave-{n}", "zhao", "email", "x"), "reminder", "email", "zhao", "赵伟",
                    "巴州区教育局", "zhao@example.cn", "【催办】", "催办", f"/cases/wave-{n}", "notice-1", f"wave-{n}", "x")
              for n in range(1000)]
    for draft in queued:
        context.bus.handle(c.QueueMessage(draft), WORKER)
    rows_read = []
    decode = read_models._sendable
    monkeypatch.setattr(read_models, "_sendable", lambda document: rows_read.append(document["_id"]) or decode(document))
    dispatcher = dispatching.Dispatcher(context, {}, FixedClock(NOW), "http://portal")

    due = dispatcher.due(NOW)

    assert len(due) == dispatching.BATCH
    assert len(rows_read) == dispatching.BATCH
    assert {row.id for row in due} <= {draft.message_id for draft in queued}


def test_rows_not_yet_due_are_passed_over_until_enough_due_ones_are_found(settings):
    later = NOW.replace(hour=NOW.hour + 6)
    context = bootstrap_messages(replace(settings, quiet_hours="off"), clock=FixedClock(NOW), channels={})
    for n in range(30):  # deferred first (sent at `later`), then ones due now
        context.bus.handle(c.QueueMessage(Draft(
            message_id_for("reminder", f"deferred-{n}", "li", "email", "x"), "reminder", "email", "li", "李娜",
            "恩阳区教育局", "li@example.cn", "【催办】", "催办", f"/cases/deferred-{n}", "notice-2", f"deferred-{n}", "x",
            later.isoformat() if n < 20 else None)), WORKER)

    found = waiting(Status.QUEUED, lambda row: row.state.due is None or row.state.due <= NOW, at_most=5)

    assert len(found) == 5 and all(row.state.due is None for row in found)


def test_a_pass_goes_on_past_one_batch_and_sends_each_message_once(settings, tmp_path):
    """2 × BATCH + 10 due: one pass reads a batch, and reads the next while the last chunks are being sent, passing
    over the messages it took (their rows still say queued until their outcomes are recorded): every message is
    claimed once and arrives once, by the real SMTP server."""
    from services.messages import dispatcher as dispatching
    from services.messages.adapters.channels import EmailChannel
    from tests.sinks import SmtpSink

    count = 2 * dispatching.BATCH + 10
    context = bootstrap_messages(replace(settings, quiet_hours="off"), clock=FixedClock(NOW), channels={})
    ids = [message_id_for("reminder", f"long-{n}", "zhao", "email", "x") for n in range(count)]
    for n, message_id in enumerate(ids):
        context.bus.handle(c.QueueMessage(Draft(message_id, "reminder", "email", "zhao", "赵伟", "巴州区教育局",
                                                f"zhao{n}@example.cn", "【催办】", "催办", f"/cases/long-{n}", "notice-4",
                                                f"long-{n}", "x")), WORKER)
    with SmtpSink(tmp_path) as sink:
        channel = EmailChannel("127.0.0.1", sink.port, "duban@office.example.cn")
        dispatcher = dispatching.Dispatcher(context, {"email": channel}, FixedClock(NOW), "http://portal")

        assert dispatcher.run_once() == count
        mails = sink.wait_for(count, timeout=60)

    assert sorted(mail.message[MESSAGE_ID_HEADER] for mail in mails) == sorted(ids)
    attempts = Counter(event.stream_id for event in context.store.read_all() if event.type == "DeliveryAttempted")
    assert {message_id: attempts[message_id] for message_id in ids} == {message_id: 1 for message_id in ids}
    assert {row.status for row in MessageView.objects(id__in=ids)} == {Status.SENT}
    assert dispatcher.run_once() == 0


def test_a_claim_from_the_topic_racing_its_outcome_is_mended_when_the_topic_brings_the_outcome(settings):
    """On FerretDB 1.24 a row's version guard is not atomic: the claim arriving from the topic while its outcome is
    projected can overwrite the outcome (both updates pass their guard). The outcome's own arrival from the topic,
    after the claim's, must set the row right: every row ends sent, whatever the races did."""
    context, ids = _queued_reminders(settings, "race", 40)
    rows = {row.id: row for row in waiting(Status.QUEUED)}
    claimed = context.bus.handle(c.ClaimDeliveries(tuple(rows[i].state for i in ids)), WORKER)
    context.bus.handle(c.RecordOutcomes(tuple(Outcome(claimed[i], answer="250 OK") for i in ids)), WORKER)
    events = {(e.stream_id, e.type): e for e in context.store.read_all()}
    # Back to where both were still to be projected: queued, at the version of MessageQueued.
    MessageView._get_collection().update_many({"_id": {"$in": ids}}, {"$set": {"status": Status.QUEUED, "version": 1}})

    def race(message_id: str) -> None:  # the claim from the topic, the outcome right after its append
        start = threading.Barrier(2)
        paths = [threading.Thread(target=lambda kind=kind: (start.wait(), PROJECTION(events[(message_id, kind)])))
                 for kind in ("DeliveryAttempted", "MessageSent")]
        for path in paths:
            path.start()
        for path in paths:
            path.join()

    for message_id in ids:
        race(message_id)
    for message_id in ids:  # the topic goes on: each outcome after its claim
        PROJECTION(events[(message_id, "MessageSent")])
    assert Counter((row.status, row.version) for row in MessageView.objects(id__in=ids)) == {(Status.SENT, 3): len(ids)}


def _queued_reminders(settings, cases: str, count: int):
    """A messages service (its clock at NOW) with ``count`` 催办 e-mails to 赵伟 queued; their message ids."""
    context = bootstrap_messages(replace(settings, quiet_hours="off"), clock=FixedClock(NOW), channels={})
    ids = [message_id_for("reminder", f"{cases}-{n}", "zhao", "email", "x") for n in range(count)]
    for n, message_id in enumerate(ids):
        context.bus.handle(c.QueueMessage(Draft(message_id, "reminder", "email", "zhao", "赵伟", "巴州区教育局",
                                                "zhao@example.cn", "【催办】", "催办", f"/cases/{cases}-{n}", "notice-1",
                                                f"{cases}-{n}", "x")), WORKER)
    return context, ids
