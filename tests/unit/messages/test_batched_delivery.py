"""Claims and outcomes many at a time (the dispatcher's path): decided from the rows' states, checked by the store,
and decided again from the stream where a row was behind — on the in-memory recorder, which keeps the event-store
contract the MongoDB one keeps (tests/eventstore_contract.py)."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone

from shared.bus import CommandContext
from shared.clock import FixedClock
from shared.envelope import Actor
from shared.eventstore.memory import InMemoryEventStore
from services.messages.bootstrap import bootstrap as bootstrap_messages
from services.messages.domain import commands as c
from services.messages.domain.model import MAX_ATTEMPTS, DeliveryState, Draft, Message, Outcome, Status, message_id_for

WORKER = Actor.system("messages-dispatcher")
NOW = datetime(2026, 11, 2, 2, 0, tzinfo=timezone.utc)


def draft(n: int) -> Draft:
    return Draft(message_id_for("reminder", f"case-{n}", "zhao", "email", "x"), "reminder", "email", "zhao", "赵伟",
                 "巴州区教育局", "zhao@example.cn", "【催办】", "催办", f"/cases/case-{n}", "notice-1", f"case-{n}", "x")


class Service:
    def __init__(self):
        self.clock = FixedClock(NOW)
        self.context = bootstrap_messages(store=InMemoryEventStore(), clock=self.clock, channels={})

    def handle(self, command):
        return self.context.bus.handle(command, CommandContext.fresh(WORKER))

    def queued(self, count: int) -> list[DeliveryState]:
        drafts = [draft(n) for n in range(count)]
        for d in drafts:
            self.handle(c.QueueMessage(d))
        return [self.state(d.message_id) for d in drafts]

    def state(self, message_id: str) -> DeliveryState:
        """What the message's row would say: its state as of its stream."""
        events = [self.context.bus.uow_factory().registry.decode(e.type, e.schema_version, e.data)
                  for e in self.context.store.read_stream(message_id)]
        return Message.rehydrate(message_id, events).state()

    def types(self, message_id: str) -> list[str]:
        return [e.type for e in self.context.store.read_stream(message_id)]


def test_a_group_is_claimed_in_one_go_and_each_claim_is_an_event():
    service = Service()
    states = service.queued(3)
    claimed = service.handle(c.ClaimDeliveries(tuple(states)))
    assert sorted(claimed) == sorted(s.message_id for s in states)
    assert all(state.status == Status.SENDING and state.attempts == 1 and state.version == 2 for state in claimed.values())
    assert all(service.types(s.message_id) == ["MessageQueued", "DeliveryAttempted"] for s in states)


def test_a_message_claimed_meanwhile_by_another_worker_is_not_claimed_again():
    service = Service()
    [first, second] = service.queued(2)
    assert service.handle(c.ClaimDelivery(first.message_id)) == 1  # another worker, after the rows were read
    claimed = service.handle(c.ClaimDeliveries((first, second)))
    assert list(claimed) == [second.message_id]
    assert service.types(first.message_id) == ["MessageQueued", "DeliveryAttempted"]  # one claim, not two


def test_a_row_behind_its_stream_is_decided_again_from_the_stream():
    service = Service()
    [message] = service.queued(1)
    attempt = service.handle(c.ClaimDelivery(message.message_id))
    service.handle(c.RecordFailure(message.message_id, attempt, "421 try later", retryable=True))
    service.clock.advance(minutes=5)  # past its retry time
    claimed = service.handle(c.ClaimDeliveries((message,)))  # the row still says: queued, version 1
    assert claimed[message.message_id].attempts == 2 and claimed[message.message_id].version == 4


def test_a_requeued_message_is_read_from_its_stream_so_its_retry_budget_starts_afresh():
    service = Service()
    [message] = service.queued(1)
    attempt = service.handle(c.ClaimDelivery(message.message_id))
    service.handle(c.RecordFailure(message.message_id, attempt, "550 no such mailbox", retryable=False))
    service.handle(c.RequeueMessage(message.message_id, "邮箱已更正"))
    row = replace(service.state(message.message_id), attempts_before_requeue=None)  # what the row knows after a requeue
    claimed = service.handle(c.ClaimDeliveries((row,)))[message.message_id]
    assert claimed.attempts == 2 and claimed.attempts_before_requeue == 1
    assert service.handle(c.RecordOutcomes((Outcome(claimed, error="421 busy", retryable=True),))) == 1
    assert service.state(message.message_id).status == Status.RETRYING  # not the dead-letter list: a fresh budget


def test_outcomes_are_recorded_together_sent_and_failed_alike():
    service = Service()
    states = service.queued(3)
    claimed = service.handle(c.ClaimDeliveries(tuple(states)))
    [a, b, d] = (claimed[s.message_id] for s in states)
    recorded = service.handle(c.RecordOutcomes((Outcome(a, answer="250 OK queued"), Outcome(b, error="421", retryable=True),
                                                Outcome(d, error="550 no such user", retryable=False))))
    assert recorded == 3
    assert [service.state(s.message_id).status for s in states] == [Status.SENT, Status.RETRYING, Status.DEAD]
    assert service.types(d.message_id)[-2:] == ["DeliveryFailed", "MessageDeadLettered"]


def test_an_outcome_whose_claim_was_taken_over_is_not_recorded():
    service = Service()
    [message] = service.queued(1)
    mine = service.handle(c.ClaimDeliveries((message,)))[message.message_id]
    service.clock.advance(minutes=2)  # the lease ran out: another worker takes it over
    assert service.handle(c.ClaimDelivery(message.message_id)) == 2
    assert service.handle(c.RecordOutcomes((Outcome(mine, answer="250 OK"),))) == 0
    assert service.state(message.message_id).status == Status.SENDING  # the other worker's claim stands


def test_a_retry_budget_ends_in_the_dead_letter_list_on_this_path_too():
    service = Service()
    [state] = service.queued(1)
    for _ in range(MAX_ATTEMPTS):
        claimed = service.handle(c.ClaimDeliveries((state,)))[state.message_id]
        service.handle(c.RecordOutcomes((Outcome(claimed, error="421 busy", retryable=True),)))
        state = service.state(state.message_id)
        service.clock.advance(hours=2)
    assert state.status == Status.DEAD and state.attempts == MAX_ATTEMPTS
