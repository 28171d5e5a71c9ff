"""The directory (单位与人员名录): units in their hierarchy, people with their roles, and sign-in lockout.

Plain Python: the handlers load these aggregates, decide and save; nothing here touches HTTP, Kafka or a database.
"""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from shared.aggregate import Aggregate
from shared.auth import Role
from shared.contracts import (
    PasswordChanged,
    PersonDetailsChanged,
    PersonDisabled,
    PersonEnabled,
    PersonMoved,
    PersonRegistered,
    PersonRolesChanged,
    UnitChanged,
    UnitMerged,
    UnitMoved,
    UnitRegistered,
)
from shared.errors import IllegalTransition, InvalidInput
from shared.vocabulary import UnitKind
from services.directory.domain.events import SignedInAfterFailures, SignInFailed, SignInLocked


UNIT_ROLES = Role.UNIT_BOUND  # roles that act for one unit: a person holding one must belong to a unit
_ID_NAMESPACE = uuid.UUID("6f1c2a4e-6b8e-4f57-9d0c-2b1d7f3e9a10")


def unit_id_for(name: str) -> str:
    """A unit's stream id follows from its name (names never change), so registering a name twice meets one stream."""
    return f"unit-{uuid.uuid5(_ID_NAMESPACE, 'unit:' + name)}"


def person_id_for(username: str) -> str:
    return f"person-{uuid.uuid5(_ID_NAMESPACE, 'person:' + username.lower())}"


class Unit(Aggregate):  # 单位
    stream_type = "unit"

    def __init__(self, stream_id: str):
        super().__init__(stream_id)
        self.name: str | None = None
        self.kind: str | None = None
        self.short_name: str | None = None
        self.parent: str | None = None
        self.region_code: str | None = None
        self.merged_into: str | None = None

    @property
    def active(self) -> bool:
        return self.exists and self.merged_into is None

    def register(self, name: str, kind: str, short_name: str | None, parent: "Unit | None",
                 region_code: str | None) -> None:
        if self.exists:
            raise IllegalTransition(f"unit {name} is registered already", f"单位“{name}”已登记", state="registered")
        _check_kind(kind)
        if parent is not None:
            _check_parent_usable(parent)
        self._record(UnitRegistered(unit_id=self.id, name=name, kind=kind, short_name=short_name,
                                    parent=parent.name if parent else None, region_code=region_code))

    def change(self, kind: str, short_name: str | None, region_code: str | None) -> None:
        self._require_active("修改")
        _check_kind(kind)
        if (kind, short_name, region_code) == (self.kind, self.short_name, self.region_code):
            return  # nothing changed: no event
        self._record(UnitChanged(unit_id=self.id, name=self.name, kind=kind, short_name=short_name,
                                 region_code=region_code))

    def move(self, parent: "Unit | None", ancestors_of_parent: list[str]) -> None:
        """Put the unit under ``parent`` (None: a top unit). ``ancestors_of_parent``: the parent's chain upwards,
        so a unit is never put under itself or one of its own descendants."""
        self._require_active("调整隶属关系")
        new_parent = parent.name if parent else None
        if parent is not None:
            _check_parent_usable(parent)
            if parent.name == self.name or self.name in ancestors_of_parent:
                raise InvalidInput(f"{parent.name} is {self.name} itself or under it",
                                   f"不能将“{self.name}”调整到其自身或其下级单位“{parent.name}”之下", field="parent")
        if new_parent == self.parent:
            return
        self._record(UnitMoved(unit_id=self.id, name=self.name, parent=new_parent, previous_parent=self.parent))

    def merge_into(self, survivor: "Unit") -> None:
        """撤并: the unit stops taking new work; its history stays readable under its own name."""
        self._require_active("撤并")
        if survivor.name == self.name:
            raise InvalidInput("a unit cannot be merged into itself", "单位不能并入其自身", field="merged_into")
        _check_parent_usable(survivor, field="merged_into")
        self._record(UnitMerged(unit_id=self.id, name=self.name, merged_into=survivor.name))

    def _require_active(self, what_zh: str) -> None:
        if self.merged_into is not None:
            raise IllegalTransition(f"unit {self.name} was merged into {self.merged_into}",
                                    f"“{self.name}”已并入“{self.merged_into}”，不能{what_zh}", state="merged")

    def apply(self, event) -> None:
        if isinstance(event, UnitRegistered):
            self.name, self.kind, self.short_name = event.name, event.kind, event.short_name
            self.parent, self.region_code = event.parent, event.region_code
        elif isinstance(event, UnitChanged):
            self.kind, self.short_name, self.region_code = event.kind, event.short_name, event.region_code
        elif isinstance(event, UnitMoved):
            self.parent = event.parent
        elif isinstance(event, UnitMerged):
            self.merged_into = event.merged_into


def _check_kind(kind: str) -> None:
    if kind not in UnitKind.ALL:
        raise InvalidInput(f"unknown unit kind {kind!r}; expected one of {', '.join(UnitKind.ALL)}",
                           f"单位类别无效：{kind}", field="kind")


def _check_parent_usable(unit: Unit, field: str = "parent") -> None:
    if not unit.exists:
        raise InvalidInput(f"unit {unit.name or unit.id} is not registered", "上级单位未登记", field=field)
    if unit.merged_into is not None:
        raise InvalidInput(f"unit {unit.name} was merged into {unit.merged_into}",
                           f"“{unit.name}”已并入“{unit.merged_into}”", field=field)


# -- people ------------------------------------------------------------------------------------------

def check_roles(roles: list[str], unit: str | None) -> list[str]:
    unknown = [r for r in roles if r not in Role.ALL]
    if unknown or not roles:
        raise InvalidInput(f"roles must be one or more of {', '.join(Role.ALL)}", "角色无效或为空", field="roles")
    if unit is None and (needing := [r for r in roles if r in UNIT_ROLES]):
        raise InvalidInput(f"{', '.join(needing)} act for a unit: name the person's unit",
                           "该角色须属于某个单位，请填写所属单位", field="unit")
    return list(dict.fromkeys(roles))  # no duplicates, first one first (the default role at sign-in)


class Person(Aggregate):  # 人员（账号）
    stream_type = "person"

    def __init__(self, stream_id: str):
        super().__init__(stream_id)
        self.username: str | None = None
        self.name: str | None = None
        self.unit: str | None = None
        self.roles: list[str] = []
        self.mobile: str | None = None
        self.email: str | None = None
        self.active = True
        self.epoch = 0

    def register(self, username: str, name: str, unit: "Unit | None", roles: list[str], mobile: str | None,
                 email: str | None) -> None:
        if self.exists:
            raise IllegalTransition(f"username {username} is taken", f"用户名“{username}”已被使用", state="registered")
        if unit is not None:
            _check_parent_usable(unit, field="unit")
        roles = check_roles(roles, unit.name if unit else None)
        self._record(PersonRegistered(person_id=self.id, username=username, name=name, unit=unit.name if unit else None,
                                      roles=roles, mobile=mobile, email=email, epoch=1))

    def change_details(self, name: str, mobile: str | None, email: str | None) -> None:
        if (name, mobile, email) != (self.name, self.mobile, self.email):
            self._record(PersonDetailsChanged(person_id=self.id, username=self.username, name=name, mobile=mobile,
                                              email=email))

    def move(self, unit: "Unit | None") -> None:
        if unit is not None:
            _check_parent_usable(unit, field="unit")
        new_unit = unit.name if unit else None
        check_roles(self.roles, new_unit)
        if new_unit != self.unit:
            self._record(PersonMoved(person_id=self.id, username=self.username, unit=new_unit, epoch=self.epoch + 1))

    def set_roles(self, roles: list[str]) -> None:
        roles = check_roles(roles, self.unit)
        if roles != self.roles:
            self._record(PersonRolesChanged(person_id=self.id, username=self.username, roles=roles,
                                            epoch=self.epoch + 1))

    def disable(self, reason: str) -> None:
        if not self.active:
            raise IllegalTransition(f"{self.username} is disabled already", "该账号已停用", state="disabled")
        self._record(PersonDisabled(person_id=self.id, username=self.username, reason=reason, epoch=self.epoch + 1))

    def enable(self) -> None:
        if self.active:
            raise IllegalTransition(f"{self.username} is active", "该账号未停用", state="active")
        self._record(PersonEnabled(person_id=self.id, username=self.username, epoch=self.epoch + 1))

    def password_changed(self, reset: bool) -> None:
        """Every session signed in before this ends (its token carries an older epoch)."""
        self._record(PasswordChanged(person_id=self.id, username=self.username, reset=reset, epoch=self.epoch + 1))

    def apply(self, event) -> None:
        if isinstance(event, PersonRegistered):
            self.username, self.name, self.unit, self.roles = event.username, event.name, event.unit, list(event.roles)
            self.mobile, self.email, self.epoch = event.mobile, event.email, event.epoch
        elif isinstance(event, PersonDetailsChanged):
            self.name, self.mobile, self.email = event.name, event.mobile, event.email
        elif isinstance(event, PersonMoved):
            self.unit, self.epoch = event.unit, event.epoch
        elif isinstance(event, PersonRolesChanged):
            self.roles, self.epoch = list(event.roles), event.epoch
        elif isinstance(event, PersonDisabled):
            self.active, self.epoch = False, event.epoch
        elif isinstance(event, PersonEnabled):
            self.active, self.epoch = True, event.epoch
        elif isinstance(event, PasswordChanged):
            self.epoch = event.epoch


# -- sign-in lockout -----------------------------------------------------------------------------------

class SignInGuard(Aggregate):  # 登录失败计数（按账号、按来源地址各一条流）
    """Repeated failures lock the subject (an account, or a client address) for a while.

    Failures count within ``window`` since the last success; ``limit`` of them lock for ``lock_for``.
    A subject has one stream per ``PERIOD`` (an hour), continued from the one before (``carry_over``): a guard
    needs only the last quarter hour, and one stream for all time would grow with every failure an attacker
    makes, every sign-in reading all of it.
    """

    stream_type = "sign-in"
    ACCOUNT_LIMIT = 5
    ADDRESS_LIMIT = 20
    WINDOW = timedelta(minutes=15)
    LOCK_FOR = timedelta(minutes=15)
    PERIOD = timedelta(hours=1)  # not shorter than WINDOW or LOCK_FOR: this period and the last hold all that counts

    def __init__(self, stream_id: str):
        super().__init__(stream_id)
        self.failures: list[datetime] = []
        self.locked_until: datetime | None = None
        self.restarted = False  # this period's stream started the count afresh (a success, or a lock)

    @classmethod
    def stream_for(cls, subject: str, at: datetime) -> str:
        """The stream of ``subject``'s guard for the period holding ``at``."""
        period = int(at.timestamp() // cls.PERIOD.total_seconds())
        return f"sign-in-{uuid.uuid5(_ID_NAMESPACE, f'sign-in:{subject.lower()}:{period}')}"

    def carry_over(self, earlier: "SignInGuard") -> None:
        """Continue from the previous period's guard: its failures count on unless this period started the count
        afresh, and its lock holds."""
        if not self.restarted:
            self.failures = earlier.failures + self.failures
        if earlier.locked_until is not None and (self.locked_until is None or earlier.locked_until > self.locked_until):
            self.locked_until = earlier.locked_until

    def locked(self, now: datetime) -> datetime | None:
        """Until when the subject is locked, or None."""
        return self.locked_until if self.locked_until is not None and now < self.locked_until else None

    def record_failure(self, subject: str, address: str, now: datetime, limit: int) -> None:
        self._record(SignInFailed(subject=subject, address=address, at=now.isoformat()))
        recent = [at for at in self.failures if now - at < self.WINDOW]
        if len(recent) >= limit and self.locked(now) is None:
            self._record(SignInLocked(subject=subject, until=(now + self.LOCK_FOR).isoformat(), failures=len(recent)))

    def record_success(self, subject: str, address: str, now: datetime) -> None:
        if self.failures:  # only a success after failures is worth an event: it starts the count afresh
            self._record(SignedInAfterFailures(subject=subject, address=address, at=now.isoformat()))

    def apply(self, event) -> None:
        if isinstance(event, SignInFailed):
            self.failures.append(datetime.fromisoformat(event.at))
        elif isinstance(event, SignInLocked):
            self.locked_until = datetime.fromisoformat(event.until)
            self.failures, self.restarted = [], True
        elif isinstance(event, SignedInAfterFailures):
            self.failures, self.restarted = [], True
