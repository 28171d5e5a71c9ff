"""Who may read what: the unit hierarchy and the one rule every service's API and the portal apply (plain Python).

The rule, by role (an actor is a role and a unit):

- ``unit_handler``, ``department_liaison``: their own unit only;
- ``unit_leader``: their unit and every unit under it;
- ``office_staff``, ``inspector``, ``auditor``: their unit's subtree, or everything when their unit is a root of the
  tree (a city office, or any unit while the directory has registered nothing yet) or when they have no unit;
- ``admin``: everything;
- a role that needs a unit but has none, or a role not named here: nothing.

An item is visible when any of its units is (the definitions below are the only ones): a case by its responsible
unit; a notice by its target units (督办对象) — not by its 抄送 units, which receive it for information outside
the system, nor by its problems' 责任单位, who see their own cases but not the other units' problems of the notice;
a task by its lead and partner units.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping

# Role names as shared/auth.Role spells them (kept as text here: this module imports nothing of the project).
OWN_UNIT_ROLES = ("unit_handler", "department_liaison")
SUBTREE_ROLES = ("unit_leader",)
OFFICE_ROLES = ("office_staff", "inspector", "auditor")
EVERYTHING_ROLES = ("admin",)


class UnitTree:
    """Units by name with their parent's name; a unit the tree does not know, or one without a parent, is a root."""

    def __init__(self, parents: Mapping[str, str | None] | None = None):
        self._parents = dict(parents or {})
        self._children: dict[str, list[str]] = {}
        for unit, parent in self._parents.items():
            if parent is not None and parent != unit:
                self._children.setdefault(parent, []).append(unit)
        self._below: dict[str, frozenset[str]] = {}

    def __len__(self) -> int:
        return len(self._parents)

    def __repr__(self) -> str:
        return f"UnitTree({len(self._parents)} units)"

    def parent(self, unit: str) -> str | None:
        return self._parents.get(unit)

    def is_root(self, unit: str) -> bool:
        return self._parents.get(unit) is None

    def children(self, unit: str) -> tuple[str, ...]:
        return tuple(self._children.get(unit, ()))

    def descendants(self, unit: str) -> frozenset[str]:
        """Every unit under ``unit`` (not itself); safe against a cycle a wrong move may have made."""
        found = self._below.get(unit)
        if found is None:
            seen: set[str] = set()
            stack = list(self._children.get(unit, ()))
            while stack:
                child = stack.pop()
                if child not in seen and child != unit:
                    seen.add(child)
                    stack.extend(self._children.get(child, ()))
            found = self._below[unit] = frozenset(seen)
        return found

    def subtree(self, unit: str) -> frozenset[str]:
        """``unit`` and every unit under it."""
        return self.descendants(unit) | {unit}


EMPTY_TREE = UnitTree()


def empty_tree() -> UnitTree:
    """The tree provider of a service or portal the directory does not feed (yet): every unit a root."""
    return EMPTY_TREE


@dataclass(frozen=True)
class Scope:
    """The units whose items an actor may read; ``units`` None means every unit (and items of no unit)."""

    units: frozenset[str] | None

    @property
    def everything(self) -> bool:
        return self.units is None

    def sees(self, *units: str | None) -> bool:
        """Whether an item of ``units`` is visible: any one of them is in scope."""
        if self.units is None:
            return True
        return any(unit in self.units for unit in units if unit is not None)

    # -- the item definitions: what makes a case, a notice, a task visible ---------------------------------------

    def sees_case(self, responsible_unit: str | None) -> bool:
        return self.sees(*case_units(responsible_unit))

    def sees_notice(self, target_units: Iterable[str]) -> bool:
        return self.sees(*notice_units(target_units))

    def sees_task(self, lead_unit: str | None, partner_units: Iterable[str] | None) -> bool:
        return self.sees(*task_units(lead_unit, partner_units))


EVERYTHING = Scope(None)
NOTHING = Scope(frozenset())


def case_units(responsible_unit: str | None) -> tuple[str, ...]:
    """The units a case is visible by: its responsible unit."""
    return (responsible_unit,) if responsible_unit else ()


def notice_units(target_units: Iterable[str]) -> tuple[str, ...]:
    """The units a notice is visible by: its target units (not 抄送, not its problems' 责任单位)."""
    return tuple(target_units or ())


def task_units(lead_unit: str | None, partner_units: Iterable[str] | None) -> tuple[str, ...]:
    """The units a task is visible by: its lead unit and its partner units."""
    return tuple(unit for unit in (lead_unit, *(partner_units or ())) if unit)


def read_scope(role: str, unit: str | None, tree: UnitTree = EMPTY_TREE) -> Scope:
    """What an actor of ``role`` in ``unit`` may read, in ``tree``."""
    if role in EVERYTHING_ROLES:
        return EVERYTHING
    if role in OFFICE_ROLES:
        if unit is None or tree.is_root(unit):
            return EVERYTHING
        return Scope(tree.subtree(unit))
    if unit is None:
        return NOTHING
    if role in OWN_UNIT_ROLES:
        return Scope(frozenset((unit,)))
    if role in SUBTREE_ROLES:
        return Scope(tree.subtree(unit))
    return NOTHING
