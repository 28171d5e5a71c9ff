"""The directory's rules, on the aggregates directly: hierarchy, 撤并, roles, passwords and sign-in lockout."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from shared.accounts import check_password_policy
from shared.errors import IllegalTransition, InvalidInput
from services.directory.domain.model import (
    Person,
    SignInGuard,
    Unit,
    person_id_for,
    unit_id_for,
)


def unit(name: str, kind: str = "bureau", parent: Unit | None = None) -> Unit:
    registered = Unit(unit_id_for(name))
    registered.register(name, kind, None, parent, None)
    registered.version, registered.pending = 1, []
    return registered


class TestUnits:
    def test_a_name_always_gives_the_same_stream_so_it_is_registered_once(self):
        assert unit_id_for("巴州区教育局") == unit_id_for("巴州区教育局") != unit_id_for("恩阳区教育局")
        with pytest.raises(IllegalTransition):
            unit("巴州区教育局").register("巴州区教育局", "bureau", None, None, None)

    def test_a_unit_is_registered_under_a_registered_active_parent(self):
        city = unit("巴中市教育局")
        school = unit("巴州区第一小学", "school", city)
        assert school.parent == "巴中市教育局"
        with pytest.raises(InvalidInput) as refused:
            Unit(unit_id_for("x")).register("x", "school", None, Unit(unit_id_for("未登记")), None)
        assert refused.value.details["field"] == "parent"

    def test_unknown_kinds_are_refused(self):
        with pytest.raises(InvalidInput):
            Unit(unit_id_for("x")).register("x", "castle", None, None, None)

    def test_a_unit_moves_but_never_under_itself_or_its_descendants(self):
        city, district = unit("巴中市教育局"), unit("巴州区教育局")
        school = unit("巴州区第一小学", "school", district)
        school.move(city, [])
        assert [type(e).__name__ for e in school.pending] == ["UnitMoved"] and school.parent == "巴中市教育局"
        with pytest.raises(InvalidInput):
            district.move(school, ["巴州区教育局"])  # the school's ancestors include the district itself
        with pytest.raises(InvalidInput):
            district.move(district, [])

    def test_moving_to_the_same_parent_records_nothing(self):
        district = unit("巴州区教育局", parent=unit("巴中市教育局"))
        district.move(unit("巴中市教育局"), [])
        assert district.pending == []

    def test_a_merged_unit_takes_no_more_changes_and_no_children(self):
        old, survivor = unit("巴州区第二小学", "school"), unit("巴州区第一小学", "school")
        old.merge_into(survivor)
        assert old.merged_into == "巴州区第一小学" and not old.active
        with pytest.raises(IllegalTransition):
            old.change("school", "二小", None)
        with pytest.raises(InvalidInput):
            Unit(unit_id_for("新学校")).register("新学校", "school", None, old, None)
        with pytest.raises(InvalidInput):
            survivor.merge_into(survivor)


def person(roles=("unit_handler",), unit_name: str = "巴州区教育局") -> Person:
    registered = Person(person_id_for("zhao"))
    registered.register("zhao", "赵伟", unit(unit_name), list(roles), None, None)
    registered.version, registered.pending = 1, []
    return registered


class TestPeople:
    def test_a_unit_role_needs_a_unit(self):
        with pytest.raises(InvalidInput) as refused:
            Person(person_id_for("li")).register("li", "李娜", None, ["unit_handler"], None, None)
        assert refused.value.details["field"] == "unit"
        office = Person(person_id_for("wang"))
        office.register("wang", "王科长", None, ["auditor"], None, None)
        assert office.epoch == 1

    def test_unknown_or_no_roles_are_refused(self):
        with pytest.raises(InvalidInput):
            person(roles=("king",))
        with pytest.raises(InvalidInput):
            person(roles=())

    def test_every_change_of_roles_unit_standing_or_password_moves_the_epoch_on(self):
        someone = person()
        someone.set_roles(["unit_leader", "unit_handler"])
        someone.move(unit("恩阳区教育局"))
        someone.password_changed(reset=True)
        someone.disable("调离")
        someone.enable()
        assert [e.epoch for e in someone.pending] == [2, 3, 4, 5, 6] and someone.epoch == 6

    def test_details_do_not_end_sessions_and_unchanged_details_record_nothing(self):
        someone = person()
        someone.change_details("赵伟", None, None)
        assert someone.pending == []
        someone.change_details("赵伟", "13812341234", None)
        assert someone.epoch == 1 and someone.mobile == "13812341234"

    def test_disabling_twice_or_enabling_an_active_account_is_refused(self):
        someone = person()
        with pytest.raises(IllegalTransition):
            someone.enable()
        someone.disable("离职")
        with pytest.raises(IllegalTransition):
            someone.disable("离职")


class TestPasswordPolicy:
    @pytest.mark.parametrize("password", ["short1", "onlyletterslong", "1234567890123", "Zhao-2026-x"])
    def test_weak_passwords_and_ones_holding_the_username_are_refused(self, password):
        with pytest.raises(InvalidInput):
            check_password_policy(password, "zhao")

    def test_ten_characters_of_two_kinds_pass(self):
        check_password_policy("duban-demo", "office")
        check_password_policy("Bazhong2026", "zhao")


class TestSignInGuard:
    NOW = datetime(2026, 12, 4, 2, 0, tzinfo=timezone.utc)

    def test_the_fifth_failure_within_fifteen_minutes_locks_for_fifteen_minutes(self):
        guard = SignInGuard(SignInGuard.stream_for("account:zhao", self.NOW))
        for minute in range(5):
            guard.record_failure("zhao", "10.0.0.1", self.NOW + timedelta(minutes=minute), SignInGuard.ACCOUNT_LIMIT)
        assert [type(e).__name__ for e in guard.pending].count("SignInLocked") == 1
        assert guard.locked(self.NOW + timedelta(minutes=10)) == self.NOW + timedelta(minutes=19)
        assert guard.locked(self.NOW + timedelta(minutes=19)) is None

    def test_failures_spread_beyond_the_window_do_not_lock(self):
        guard = SignInGuard(SignInGuard.stream_for("account:zhao", self.NOW))
        for n in range(8):
            guard.record_failure("zhao", "10.0.0.1", self.NOW + timedelta(minutes=4 * n), SignInGuard.ACCOUNT_LIMIT)
        assert guard.locked(self.NOW + timedelta(minutes=29)) is None

    def _hour_after(self, earlier: SignInGuard) -> SignInGuard:
        """The guard of the next period, read fresh and continued from ``earlier``."""
        guard = SignInGuard(SignInGuard.stream_for("account:zhao", self.NOW + SignInGuard.PERIOD))
        guard.carry_over(earlier)
        return guard

    def test_failures_on_both_sides_of_the_hour_count_together(self):
        earlier = SignInGuard(SignInGuard.stream_for("account:zhao", self.NOW))
        for minute in (50, 52, 55):
            earlier.record_failure("zhao", "10.0.0.1", self.NOW + timedelta(minutes=minute), SignInGuard.ACCOUNT_LIMIT)
        guard = self._hour_after(earlier)
        assert guard.id != earlier.id
        for minute in (61, 62):
            guard.record_failure("zhao", "10.0.0.1", self.NOW + timedelta(minutes=minute), SignInGuard.ACCOUNT_LIMIT)
        assert guard.locked(self.NOW + timedelta(minutes=63)) == self.NOW + timedelta(minutes=77)
        assert [type(e).__name__ for e in guard.pending] == ["SignInFailed", "SignInFailed", "SignInLocked"]

    def test_a_lock_taken_last_hour_holds_into_this_one(self):
        earlier = SignInGuard(SignInGuard.stream_for("account:zhao", self.NOW))
        for minute in range(55, 60):
            earlier.record_failure("zhao", "10.0.0.1", self.NOW + timedelta(minutes=minute), SignInGuard.ACCOUNT_LIMIT)
        guard = self._hour_after(earlier)
        assert guard.locked(self.NOW + timedelta(minutes=65)) == self.NOW + timedelta(minutes=74)
        assert guard.locked(self.NOW + timedelta(minutes=74)) is None

    def test_a_success_this_hour_forgets_last_hours_failures(self):
        earlier = SignInGuard(SignInGuard.stream_for("account:zhao", self.NOW))
        for minute in range(55, 59):
            earlier.record_failure("zhao", "10.0.0.1", self.NOW + timedelta(minutes=minute), SignInGuard.ACCOUNT_LIMIT)
        guard = self._hour_after(earlier)
        guard.record_success("zhao", "10.0.0.1", self.NOW + timedelta(minutes=61))
        reread = SignInGuard.rehydrate(guard.id, guard.pending)
        reread.carry_over(earlier)
        reread.record_failure("zhao", "10.0.0.1", self.NOW + timedelta(minutes=62), SignInGuard.ACCOUNT_LIMIT)
        assert reread.failures == [self.NOW + timedelta(minutes=62)]
        assert reread.locked(self.NOW + timedelta(minutes=62)) is None

    def test_a_period_holds_all_that_counts(self):
        assert SignInGuard.PERIOD >= max(SignInGuard.WINDOW, SignInGuard.LOCK_FOR)

    def test_a_success_starts_the_count_afresh_and_is_recorded_only_after_failures(self):
        guard = SignInGuard(SignInGuard.stream_for("account:zhao", self.NOW))
        guard.record_success("zhao", "10.0.0.1", self.NOW)
        assert guard.pending == []
        for minute in range(4):
            guard.record_failure("zhao", "10.0.0.1", self.NOW + timedelta(minutes=minute), SignInGuard.ACCOUNT_LIMIT)
        guard.record_success("zhao", "10.0.0.1", self.NOW + timedelta(minutes=5))
        guard.record_failure("zhao", "10.0.0.1", self.NOW + timedelta(minutes=6), SignInGuard.ACCOUNT_LIMIT)
        assert guard.locked(self.NOW + timedelta(minutes=6)) is None
