from dataclasses import dataclass
from datetime import timedelta

import pytest

from shared.auth import Role, actor_from_header, actor_from_token, issue_token, require_role
from shared.envelope import Actor
from shared.errors import Forbidden, Unauthorized
from shared.events import DomainEvent, EventRegistry

SECRET = "a-test-secret-that-is-long-enough-for-hs256"


@dataclass(frozen=True)
class DeadlineSet(DomainEvent):
    SCHEMA_VERSION = 2
    case_id: str
    deadline: str
    calendar: str


class TestEventRegistry:
    def test_old_shapes_are_upcast_on_read(self):
        registry = EventRegistry(DeadlineSet)

        @registry.upcaster("DeadlineSet", from_version=1)
        def add_calendar(data: dict) -> dict:
            return {**data, "calendar": "calendar_days"}

        event = registry.decode("DeadlineSet", 1, {"case_id": "c1", "deadline": "2020-12-31"})
        assert event == DeadlineSet(case_id="c1", deadline="2020-12-31", calendar="calendar_days")

    def test_current_shapes_are_decoded_as_they_are(self):
        registry = EventRegistry(DeadlineSet)
        data = DeadlineSet("c1", "2020-12-31", "working_days").to_data()
        assert registry.decode("DeadlineSet", 2, data) == DeadlineSet("c1", "2020-12-31", "working_days")
        assert DeadlineSet("c1", "d", "w").to_new_event().schema_version == 2


class TestTokens:
    def test_a_token_names_user_role_and_unit(self):
        token = issue_token(SECRET, "li.si", Role.UNIT_HANDLER, "巴州区教育局", "李四")
        assert actor_from_header(SECRET, f"Bearer {token}") == Actor("li.si", Role.UNIT_HANDLER, "巴州区教育局", "李四")

    @pytest.mark.parametrize("header", [None, "", "Basic abc", "Bearer not.a.jwt"])
    def test_missing_or_malformed_tokens_are_refused(self, header):
        with pytest.raises(Unauthorized):
            actor_from_header(SECRET, header)

    def test_a_token_signed_with_another_secret_is_refused(self):
        with pytest.raises(Unauthorized):
            actor_from_token(SECRET, issue_token("another-secret-of-sufficient-length!!", "x", Role.AUDITOR))

    def test_an_expired_token_is_refused(self):
        with pytest.raises(Unauthorized, match="expired"):
            actor_from_token(SECRET, issue_token(SECRET, "x", Role.AUDITOR, ttl=timedelta(seconds=-1)))

    def test_unknown_roles_cannot_be_issued(self):
        with pytest.raises(ValueError):
            issue_token(SECRET, "x", "superuser")

    def test_roles_are_enforced_and_admin_may_do_anything(self):
        require_role(Actor("a", Role.OFFICE_STAFF), Role.OFFICE_STAFF)
        require_role(Actor("a", Role.ADMIN), Role.OFFICE_STAFF)
        with pytest.raises(Forbidden) as refused:
            require_role(Actor("a", Role.UNIT_HANDLER), Role.OFFICE_STAFF)
        assert refused.value.status == 403 and "无权" in refused.value.message_zh
