"""Command handlers of the directory service: load, decide, save."""
from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Callable

from shared.accounts import check_password_policy
from shared.auth import Role, require_role
from shared.bus import CommandContext, Handler, UnitOfWork, check_expected_version
from shared.clock import Clock
from shared.errors import ConcurrencyConflict, Forbidden, InvalidInput, TooManyAttempts, Unauthorized
from services.directory.adapters.credentials import Credentials, hash_password, verify_password
from services.directory.domain import commands as c
from services.directory.domain.model import (
    Person,
    SignInGuard,
    Unit,
    person_id_for,
    unit_id_for,
)

MAX_DEPTH = 20  # a hierarchy deeper than province → city → county → town → school is a data error


def _unit_named(uow: UnitOfWork, name: str | None, field: str) -> Unit | None:
    if name is None:
        return None
    unit = uow.get(Unit, unit_id_for(name))
    if not unit.exists:
        raise InvalidInput(f"unit {name} is not registered", f"单位“{name}”未在名录中登记", field=field)
    return unit


def _ancestors(uow: UnitOfWork, unit: Unit) -> list[str]:
    chain, parent = [], unit.parent
    while parent is not None and len(chain) < MAX_DEPTH:
        chain.append(parent)
        parent = uow.get(Unit, unit_id_for(parent)).parent
    return chain


def _load_unit(uow: UnitOfWork, unit_id: str, expected_version: int | None) -> Unit:
    unit = uow.load(Unit, unit_id, "unit", "单位")
    check_expected_version(unit, expected_version)
    return unit


def _load_person(uow: UnitOfWork, person_id: str, expected_version: int | None = None) -> Person:
    person = uow.load(Person, person_id, "person", "人员")
    check_expected_version(person, expected_version)
    return person


def register_unit(command: c.RegisterUnit, uow: UnitOfWork, context: CommandContext) -> str:
    unit = uow.get(Unit, unit_id_for(command.name))
    unit.register(command.name, command.kind, command.short_name, _unit_named(uow, command.parent, "parent"),
                  command.region_code)
    uow.save(unit, context)
    return unit.id


def change_unit(command: c.ChangeUnit, uow: UnitOfWork, context: CommandContext) -> str:
    unit = _load_unit(uow, command.unit_id, command.expected_version)
    unit.change(command.kind, command.short_name, command.region_code)
    uow.save(unit, context)
    return unit.id


def move_unit(command: c.MoveUnit, uow: UnitOfWork, context: CommandContext) -> str:
    unit = _load_unit(uow, command.unit_id, command.expected_version)
    parent = _unit_named(uow, command.parent, "parent")
    unit.move(parent, _ancestors(uow, parent) if parent else [])
    uow.save(unit, context)
    return unit.id


def merge_unit(command: c.MergeUnit, uow: UnitOfWork, context: CommandContext) -> str:
    unit = _load_unit(uow, command.unit_id, command.expected_version)
    unit.merge_into(_unit_named(uow, command.merged_into, "merged_into"))
    uow.save(unit, context)
    return unit.id


def register_person(command: c.RegisterPerson, uow: UnitOfWork, context: CommandContext,
                    credentials: Credentials) -> str:
    person = uow.get(Person, person_id_for(command.username))
    check_password_policy(command.password, command.username)
    person.register(command.username, command.name, _unit_named(uow, command.unit, "unit"), list(command.roles),
                    command.mobile, command.email)
    uow.save(person, context)
    # After the event: a crash in between leaves an account without a password (an administrator resets it),
    # never a password without its account.
    credentials.put(person.id, hash_password(command.password))
    return person.id


def change_person_details(command: c.ChangePersonDetails, uow: UnitOfWork, context: CommandContext) -> str:
    person = _load_person(uow, command.person_id, command.expected_version)
    person.change_details(command.name, command.mobile, command.email)
    uow.save(person, context)
    return person.id


def move_person(command: c.MovePerson, uow: UnitOfWork, context: CommandContext) -> str:
    person = _load_person(uow, command.person_id, command.expected_version)
    person.move(_unit_named(uow, command.unit, "unit"))
    uow.save(person, context)
    return person.id


def set_roles(command: c.SetRoles, uow: UnitOfWork, context: CommandContext) -> str:
    person = _load_person(uow, command.person_id, command.expected_version)
    person.set_roles(list(command.roles))
    uow.save(person, context)
    return person.id


def disable_person(command: c.DisablePerson, uow: UnitOfWork, context: CommandContext) -> str:
    person = _load_person(uow, command.person_id, command.expected_version)
    if person.username == context.actor.user_id:
        raise InvalidInput("an administrator cannot disable their own account", "不能停用本人账号", field="person_id")
    person.disable(command.reason)
    uow.save(person, context)
    return person.id


def enable_person(command: c.EnablePerson, uow: UnitOfWork, context: CommandContext) -> str:
    person = _load_person(uow, command.person_id, command.expected_version)
    person.enable()
    uow.save(person, context)
    return person.id


def change_password(command: c.ChangePassword, uow: UnitOfWork, context: CommandContext,
                    credentials: Credentials) -> str:
    person = _load_person(uow, command.person_id)
    if person.username != context.actor.user_id:
        raise Forbidden("only the person may change their own password", "只能修改本人的密码")
    if not verify_password(credentials.get(person.id), command.current_password):
        raise InvalidInput("the current password is wrong", "当前密码不正确", field="current_password")
    check_password_policy(command.new_password, person.username)
    person.password_changed(reset=False)
    uow.save(person, context)
    credentials.put(person.id, hash_password(command.new_password))
    return person.id


def reset_password(command: c.ResetPassword, uow: UnitOfWork, context: CommandContext,
                   credentials: Credentials) -> str:
    require_role(context.actor)  # administrators only
    person = _load_person(uow, command.person_id)
    check_password_policy(command.new_password, person.username)
    person.password_changed(reset=True)
    uow.save(person, context)
    credentials.put(person.id, hash_password(command.new_password))
    return person.id


GUARD_RETRIES = 20  # concurrent sign-ins from one address meet on its guard's stream; each retry is one cheap read


def _guard(uow: UnitOfWork, key: str, now: datetime, earlier: SignInGuard) -> SignInGuard:
    """A subject's guard for the period holding ``now``, continued from ``earlier`` (the period before)."""
    guard = uow.get(SignInGuard, SignInGuard.stream_for(key, now))
    guard.carry_over(earlier)
    return guard


def _count_on_guard(uow: UnitOfWork, context: CommandContext, guard: SignInGuard,
                    reread: Callable[[], SignInGuard], record: Callable[[SignInGuard], None]) -> None:
    """Record a failure or a success on a guard, re-reading only the guard when a concurrent sign-in wrote first.

    Retrying the whole command instead would check the password again (the slow part, on purpose) and count the
    other guard twice; a burst of failures from one address would then answer 409 after seconds.
    """
    for _ in range(GUARD_RETRIES):
        record(guard)
        try:
            uow.save(guard, context)
            return
        except ConcurrencyConflict:
            guard = reread()
    raise TooManyAttempts("too many sign-ins at once; try again later", "登录请求过于频繁，请稍后再试",
                          retry_after_seconds=1)


def sign_in(command: c.SignIn, uow: UnitOfWork, context: CommandContext, clock: Clock,
            credentials: Credentials) -> tuple[Person, str]:
    """The person and the role they act in, if the password is right and nothing is locked.

    Every failure counts against the account name and against the client's address (two streams), so neither
    guessing one account's password nor trying many accounts from one place goes on for long. Unknown and
    known accounts are answered alike, in the same time.
    """
    now = clock.now()
    guards = []  # (guard, how to read it again, subject, limit): per account and per client address
    for key, subject, limit in ((f"account:{command.username}", command.username, SignInGuard.ACCOUNT_LIMIT),
                                (f"address:{command.address}", command.address, SignInGuard.ADDRESS_LIMIT)):
        earlier = uow.get(SignInGuard, SignInGuard.stream_for(key, now - SignInGuard.PERIOD))
        reread = partial(_guard, uow, key, now, earlier)
        guards.append((reread(), reread, subject, limit))
    locked = [until for guard, _, _, _ in guards if (until := guard.locked(now)) is not None]
    if locked:
        seconds = int((max(locked) - now).total_seconds()) + 1
        raise TooManyAttempts("too many failed sign-ins; try again later",
                              f"登录失败次数过多，请 {seconds // 60 + 1} 分钟后再试", retry_after_seconds=seconds)
    person = uow.get(Person, person_id_for(command.username))
    stored = credentials.get(person.id) if person.exists else None
    if not verify_password(stored, command.password):
        for guard, reread, subject, limit in guards:
            _count_on_guard(uow, context, guard, reread,
                            lambda g, subject=subject, limit=limit: g.record_failure(subject, command.address, now,
                                                                                     limit))
        raise Unauthorized("wrong username or password", "用户名或密码不正确")
    for guard, reread, subject, _ in guards:
        _count_on_guard(uow, context, guard, reread,
                        lambda g, subject=subject: g.record_success(subject, command.address, now))
    if not person.active:
        raise Forbidden(f"account {person.username} is disabled", "该账号已停用，请联系管理员")
    role = command.role or person.roles[0]
    if role not in person.roles:
        raise Forbidden(f"{person.username} does not hold the role {role}", "您没有该角色")
    if role in Role.UNIT_BOUND and person.unit is None:
        raise Forbidden("this role acts for a unit, and the account has none", "该账号未设置所属单位，无法以此角色登录")
    return person, role


HANDLERS: dict[type, Handler] = {
    c.RegisterUnit: register_unit,
    c.ChangeUnit: change_unit,
    c.MoveUnit: move_unit,
    c.MergeUnit: merge_unit,
    c.RegisterPerson: register_person,
    c.ChangePersonDetails: change_person_details,
    c.MovePerson: move_person,
    c.SetRoles: set_roles,
    c.DisablePerson: disable_person,
    c.EnablePerson: enable_person,
    c.ChangePassword: change_password,
    c.ResetPassword: reset_password,
    c.SignIn: sign_in,
}
