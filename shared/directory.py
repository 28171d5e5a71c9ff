"""Every service's own copy of the directory (units and people), kept from the directory's topic.

The directory service owns units and people (services/directory). Like the recorded holiday calendars
(shared/calendars.py), each service keeps what it needs of them in its own database — ``directory_units`` (name,
parent, kind, standing) and ``directory_people`` (username, unit, roles, contacts, epoch, standing) — and reads
them from there: the hierarchy for read scopes, unit names for checking a notice's units, and each person's epoch
and standing for refusing a token issued before their roles, unit or password changed or their account was disabled.
Rows are keyed by the unit's name and the person's username and carry the stream version they reflect, so a
redelivered or older event changes nothing.
"""
from __future__ import annotations

import difflib
import logging
import threading
import time
from dataclasses import dataclass
from typing import Mapping

from pymongo.database import Database
from pymongo.errors import DuplicateKeyError, PyMongoError

from shared.envelope import Actor, EventEnvelope
from shared.errors import Unauthorized
from shared.scope import UnitTree

log = logging.getLogger(__name__)

OWNER = "directory"
UNITS = "directory_units"
PEOPLE = "directory_people"
REFRESH_SECONDS = 5.0  # how stale a process's copy may be: a disabled account is refused within this (plus Kafka)

_UNIT_FIELDS = {
    "UnitRegistered": ("name", "kind", "short_name", "parent", "region_code"),
    "UnitChanged": ("kind", "short_name", "region_code"),
    "UnitMoved": ("parent",),
    "UnitMerged": ("merged_into",),
}
_PERSON_FIELDS = {
    "PersonRegistered": ("username", "name", "unit", "roles", "mobile", "email", "epoch"),
    "PersonDetailsChanged": ("name", "mobile", "email"),
    "PersonMoved": ("unit", "epoch"),
    "PersonRolesChanged": ("roles", "epoch"),
    "PersonDisabled": ("epoch",),
    "PersonEnabled": ("epoch",),
    "PasswordChanged": ("epoch",),
}


def directory_change(event_type: str, data: Mapping) -> tuple[str, str, dict] | None:
    """What a directory event says: ``("unit", name, fields)`` or ``("person", username, fields)``; None for others
    (sign-in failures concern nobody else)."""
    if event_type in _UNIT_FIELDS:
        changes = {f: data.get(f) for f in _UNIT_FIELDS[event_type]}
        if event_type in ("UnitRegistered", "UnitMerged"):
            changes["active"] = event_type == "UnitRegistered"
        return "unit", data["name"], changes
    if event_type in _PERSON_FIELDS:
        changes = {f: data.get(f) for f in _PERSON_FIELDS[event_type]}
        if event_type in ("PersonRegistered", "PersonDisabled", "PersonEnabled"):
            changes["active"] = event_type != "PersonDisabled"
        return "person", data["username"], changes
    return None


def keep_directory(database: Database, event: EventEnvelope) -> None:
    """Keep what a directory event says about a unit or a person (idempotent, in stream order)."""
    change = directory_change(event.type, event.data)
    if change is None:
        return
    kind, key, changes = change
    try:
        database[UNITS if kind == "unit" else PEOPLE].update_one(
            {"_id": key, "version": {"$lt": event.version}}, {"$set": {**changes, "version": event.version}}, upsert=True)
    except DuplicateKeyError:
        pass  # this version or a later one is kept already


@dataclass(frozen=True)
class Account:
    """What a service knows of a person from the directory."""

    username: str
    epoch: int
    active: bool
    unit: str | None = None
    roles: tuple[str, ...] = ()
    name: str | None = None
    mobile: str | None = None
    email: str | None = None

    @classmethod
    def from_row(cls, username: str, row: Mapping) -> "Account":
        return cls(username, int(row.get("epoch") or 1), bool(row.get("active", True)), row.get("unit"),
                   tuple(row.get("roles") or ()), row.get("name"), row.get("mobile"), row.get("email"))


def refuse_stale_token(account: Account | None, user_id: str, epoch: int | None) -> None:
    """Refuse the token of a disabled account, or one issued before the person's unit, roles or password changed.

    A token naming nobody the directory knows was minted by whoever holds the secret (``duban token`` for a
    script or a service account) and stands on its signature alone. A token newer than the copy (its epoch ahead of
    the account's: signed in after an enabling the copy has not learnt yet) is accepted: the directory issued it to
    an active account, and only a later change, which this copy cannot know of either, could end it.
    """
    if account is None or (epoch is not None and epoch > account.epoch):
        return
    if not account.active:
        raise Unauthorized(f"account {user_id} is disabled", "该账号已停用")
    if epoch is None or epoch < account.epoch:
        raise Unauthorized("this sign-in ended: the account's roles, unit or password changed since",
                           "登录已失效（账号的角色、单位或密码已变更），请重新登录")


class DirectoryCopy:
    """A process's view of its service's copy of the directory, re-read at most every ``every`` seconds."""

    def __init__(self, database: Database, every: float = REFRESH_SECONDS):
        self.database = database
        self.every = every
        self._lock = threading.Lock()
        self._loaded_at: float | None = None
        self._units: dict[str, dict] = {}
        self._accounts: dict[str, Account] = {}
        self._tree = UnitTree()

    def _fresh(self) -> None:
        now = time.monotonic()
        if self._loaded_at is not None and now - self._loaded_at < self.every:
            return
        with self._lock:
            if self._loaded_at is not None and now - self._loaded_at < self.every:
                return
            try:
                units = {row["_id"]: row for row in self.database[UNITS].find({})}
                accounts = {row["_id"]: Account.from_row(row["_id"], row) for row in self.database[PEOPLE].find({})}
            except PyMongoError as error:  # keep serving the last copy; the next request tries again
                log.warning("the directory copy was not refreshed", extra={"error": str(error)})
                self._loaded_at = now
                return
            if units != self._units:
                self._tree = UnitTree({name: row.get("parent") for name, row in units.items()})
            self._units, self._accounts, self._loaded_at = units, accounts, now

    def refresh(self) -> None:
        self._loaded_at = None
        self._fresh()

    # -- units --------------------------------------------------------------------------------------

    def unit_parents(self) -> dict[str, str | None]:
        """Each registered unit's parent (None for a top unit); empty until the directory registers any."""
        self._fresh()
        return {name: row.get("parent") for name, row in self._units.items()}

    def unit_tree(self) -> UnitTree:
        """The hierarchy as this service last read it (one object per change, so its lookups stay cached)."""
        self._fresh()
        return self._tree

    def unit_names(self) -> set[str]:
        self._fresh()
        return set(self._units)

    def unknown_units(self, names) -> dict[str, list[str]]:
        """The names that are not registered units, each with the closest registered names.

        While the directory holds no unit at all (a new installation, or a test of another service), every name
        is accepted: a system that checks names must first be told them.
        """
        registered = self.unit_names()
        if not registered:
            return {}
        return {name: difflib.get_close_matches(name, registered, n=3, cutoff=0.5)
                for name in dict.fromkeys(names) if name not in registered}

    def resolve_unit(self, name: str) -> str:
        """The registered unit a document means by ``name`` (a plan's "省教育厅" for "安徽省教育厅"): the unit of that
        name, else the one unit with that short name, else the one unit whose full name ends with it; else ``name``."""
        self._fresh()
        if name in self._units:
            return name
        for matches in ([n for n, row in self._units.items() if row.get("short_name") == name],
                        [n for n in self._units if n.endswith(name)]):
            if len(matches) == 1:
                return matches[0]
        return name

    def merged_units(self, names) -> dict[str, str]:
        """Units among ``names`` that were merged into another (撤并): name → the surviving unit."""
        self._fresh()
        return {n: self._units[n]["merged_into"] for n in names if self._units.get(n, {}).get("merged_into")}

    # -- people -------------------------------------------------------------------------------------

    def account(self, username: str) -> Account | None:
        self._fresh()
        return self._accounts.get(username)

    def accounts(self) -> list[Account]:
        self._fresh()
        return list(self._accounts.values())

    def check_token(self, actor: Actor, epoch: int | None) -> None:
        refuse_stale_token(self.account(actor.user_id), actor.user_id, epoch)
