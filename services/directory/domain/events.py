"""Events of the directory service; those other services read (units and people) are contracts in shared.contracts."""
from __future__ import annotations

from dataclasses import dataclass

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
from shared.events import DomainEvent, EventRegistry


@dataclass(frozen=True)
class SignInFailed(DomainEvent):  # 登录失败（密码错误）
    subject: str  # the account's username, or the client address
    address: str
    at: str  # ISO time (UTC)


@dataclass(frozen=True)
class SignInLocked(DomainEvent):  # 登录已锁定（连续失败）
    subject: str
    until: str  # ISO time (UTC)
    failures: int


@dataclass(frozen=True)
class SignedInAfterFailures(DomainEvent):  # 失败后登录成功（失败计数清零）
    subject: str
    address: str
    at: str


REGISTRY = EventRegistry(UnitRegistered, UnitChanged, UnitMoved, UnitMerged, PersonRegistered, PersonDetailsChanged,
                         PersonMoved, PersonRolesChanged, PersonDisabled, PersonEnabled, PasswordChanged, SignInFailed,
                         SignInLocked, SignedInAfterFailures)
