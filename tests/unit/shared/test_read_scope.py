"""The one rule of who reads what (shared/scope.py), on a small tree: a city office, a parent bureau, two siblings."""
from __future__ import annotations

import pytest

from shared.auth import Role
from shared.scope import (EMPTY_TREE, EVERYTHING_ROLES, OFFICE_ROLES, OWN_UNIT_ROLES, SUBTREE_ROLES, UnitTree,
                          read_scope)

CITY_OFFICE, PARENT, BAZHOU, ENYANG = "巴中市教育督导室", "巴中市教育局", "巴州区教育局", "恩阳区教育局"
BAZHOU_SCHOOL, DISTRICT_OFFICE = "巴州中学", "巴州区教育督导室"
TREE = UnitTree({CITY_OFFICE: None, PARENT: None, BAZHOU: PARENT, ENYANG: PARENT, BAZHOU_SCHOOL: BAZHOU,
                 DISTRICT_OFFICE: BAZHOU})


class TestUnitTree:
    def test_descendants_are_every_unit_below_and_unknown_units_are_roots(self):
        assert TREE.descendants(PARENT) == {BAZHOU, ENYANG, BAZHOU_SCHOOL, DISTRICT_OFFICE}
        assert TREE.descendants(ENYANG) == frozenset()
        assert TREE.subtree(BAZHOU) == {BAZHOU, BAZHOU_SCHOOL, DISTRICT_OFFICE}
        assert TREE.is_root(PARENT) and TREE.is_root("通江县教育局") and not TREE.is_root(BAZHOU)
        assert TREE.children(PARENT) == (BAZHOU, ENYANG) and TREE.parent(BAZHOU) == PARENT

    def test_a_cycle_made_by_a_wrong_move_does_not_loop(self):
        tree = UnitTree({"甲": "乙", "乙": "甲"})
        assert tree.descendants("甲") == {"乙"} and tree.subtree("甲") == {"甲", "乙"}


class TestTheRule:
    def test_the_roles_named_are_the_roles_that_exist(self):
        assert set(OWN_UNIT_ROLES + SUBTREE_ROLES + OFFICE_ROLES + EVERYTHING_ROLES) == set(Role.ALL)

    @pytest.mark.parametrize("role", OWN_UNIT_ROLES)
    def test_a_handler_or_liaison_sees_its_own_unit_only(self, role):
        scope = read_scope(role, BAZHOU, TREE)
        assert scope.units == {BAZHOU}
        assert scope.sees_case(BAZHOU) and not scope.sees_case(ENYANG) and not scope.sees_case(BAZHOU_SCHOOL)
        assert read_scope(role, PARENT, TREE).units == {PARENT}  # not the units under it either

    def test_a_leader_sees_its_unit_and_every_unit_under_it_but_not_its_siblings_or_parent(self):
        scope = read_scope(Role.UNIT_LEADER, BAZHOU, TREE)
        assert scope.units == {BAZHOU, BAZHOU_SCHOOL, DISTRICT_OFFICE}
        assert not scope.sees_case(ENYANG) and not scope.sees_case(PARENT)
        assert read_scope(Role.UNIT_LEADER, PARENT, TREE).units == {PARENT, BAZHOU, ENYANG, BAZHOU_SCHOOL, DISTRICT_OFFICE}

    @pytest.mark.parametrize("role", OFFICE_ROLES)
    def test_an_office_at_a_sub_level_sees_the_units_under_its_level(self, role):
        scope = read_scope(role, BAZHOU, TREE)  # e.g. an inspector of the district
        assert scope.units == {BAZHOU, BAZHOU_SCHOOL, DISTRICT_OFFICE}
        assert read_scope(role, DISTRICT_OFFICE, TREE).units == {DISTRICT_OFFICE}

    @pytest.mark.parametrize("role", OFFICE_ROLES)
    def test_an_office_at_the_top_or_without_a_unit_sees_everything(self, role):
        assert read_scope(role, CITY_OFFICE, TREE).everything
        assert read_scope(role, "未登记的单位", TREE).everything  # unknown: a root
        assert read_scope(role, None, TREE).everything

    def test_an_admin_sees_everything(self):
        assert read_scope(Role.ADMIN, BAZHOU, TREE).everything and read_scope(Role.ADMIN, None, TREE).everything

    @pytest.mark.parametrize("role", OWN_UNIT_ROLES + SUBTREE_ROLES + ("system", "nobody"))
    def test_a_role_that_needs_a_unit_but_has_none_or_an_unknown_role_sees_nothing(self, role):
        scope = read_scope(role, None, TREE)
        assert not scope.everything and not scope.sees(BAZHOU, ENYANG, PARENT, None)
        assert read_scope("nobody", BAZHOU, TREE).units == frozenset()


class TestAnEmptyTree:
    """Before the directory has registered anything: offices see everything, as they always did."""

    @pytest.mark.parametrize("role", OFFICE_ROLES)
    def test_offices_see_everything(self, role):
        assert read_scope(role, BAZHOU, EMPTY_TREE).everything

    @pytest.mark.parametrize("role", OWN_UNIT_ROLES + SUBTREE_ROLES)
    def test_a_units_people_see_their_own_unit(self, role):
        assert read_scope(role, BAZHOU, EMPTY_TREE).units == {BAZHOU}


class TestItems:
    """An item is visible when any of its units is."""

    def test_a_notice_by_its_target_units_and_a_task_by_its_lead_and_partner_units(self):
        scope = read_scope(Role.UNIT_HANDLER, BAZHOU, TREE)
        assert scope.sees_notice([ENYANG, BAZHOU]) and not scope.sees_notice([ENYANG]) and not scope.sees_notice([])
        assert scope.sees_task(ENYANG, [BAZHOU]) and scope.sees_task(BAZHOU, None)
        assert not scope.sees_task(ENYANG, []) and not scope.sees_task(None, None)

    def test_everything_includes_items_of_no_unit(self):
        scope = read_scope(Role.AUDITOR, None, TREE)
        assert scope.sees_task(None, None) and scope.sees_case(None)
