from dataclasses import replace

import pytest

from shared.eventstore.memory import InMemoryEventStore
from tests.eventstore_contract import EventStoreContract


class TestInMemoryEventStore(EventStoreContract):
    @pytest.fixture
    def store(self):
        return InMemoryEventStore()

    def tamper(self, store, event_id, field, value):
        for stream_id, events in store._streams.items():
            store._streams[stream_id] = [replace(e, **{field: value}) if e.event_id == event_id else e for e in events]
