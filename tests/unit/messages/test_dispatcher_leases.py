"""Behind a slow gateway, the dispatcher hands a message to its channel only while its claim has time left: the rest of
the share waits for the next pass, which claims it afresh, rather than being sent after its lease ran out (when
another worker may have claimed it and sent it too)."""
from __future__ import annotations

from datetime import timedelta

from services.messages.adapters.read_models import Sendable
from services.messages.dispatcher import SEND_MARGIN, Dispatcher
from services.messages.domain.model import LEASE, Status
from tests.unit.messages.test_batched_delivery import NOW, Service


class SlowGateway:
    """Accepts every message, each taking ``seconds`` of the service's clock."""

    name = "email"

    def __init__(self, clock, seconds: float):
        self.clock, self.seconds, self.sent = clock, seconds, []

    def send(self, message) -> str:
        self.clock.advance(seconds=self.seconds)
        self.sent.append(message.message_id)
        return "250 OK"


class ListedDispatcher(Dispatcher):
    """The dispatcher over rows as the read model would list them (its query is tested on the real server)."""

    def __init__(self, service: Service, channel, message_ids: list[str]):
        super().__init__(service.context, {"email": channel}, service.clock, "http://portal.example", senders=1, chunk=10)
        self.service, self.message_ids = service, message_ids

    def due(self, now, passed_over=frozenset()):
        rows = []
        for message_id in self.message_ids:
            if message_id in passed_over:
                continue
            state = self.service.state(message_id)
            waiting = state.status in (Status.QUEUED, Status.RETRYING) or (
                state.status == Status.SENDING and state.lease_until <= now)
            if waiting:
                rows.append(Sendable(message_id, "email", "赵伟", "巴州区教育局", "zhao@example.cn", "【催办】", "催办",
                                     None, (), NOW, state))
        return rows


def test_a_share_outlasting_its_claims_leaves_the_rest_to_the_next_pass_which_sends_each_once():
    assert LEASE - SEND_MARGIN == timedelta(seconds=40)  # the arithmetic below
    service = Service()
    message_ids = [state.message_id for state in service.queued(3)]
    gateway = SlowGateway(service.clock, seconds=30)
    dispatcher = ListedDispatcher(service, gateway, message_ids)

    assert dispatcher.run_once() == 2  # the third would start 60 s into a 60 s claim
    assert gateway.sent == message_ids[:2]
    assert service.types(message_ids[2]) == ["MessageQueued", "DeliveryAttempted"]

    assert dispatcher.run_once() == 1  # its lease has run out: claimed afresh, sent
    assert gateway.sent == message_ids
    assert service.types(message_ids[2]) == ["MessageQueued", "DeliveryAttempted", "DeliveryAttempted", "MessageSent"]
    assert [service.state(m).status for m in message_ids] == [Status.SENT] * 3
    assert dispatcher.run_once() == 0


def test_a_fast_gateway_sends_the_whole_share_on_its_claims():
    service = Service()
    message_ids = [state.message_id for state in service.queued(5)]
    gateway = SlowGateway(service.clock, seconds=1)

    assert ListedDispatcher(service, gateway, message_ids).run_once() == 5
    assert all(service.types(m) == ["MessageQueued", "DeliveryAttempted", "MessageSent"] for m in message_ids)
