"""Identity: signed tokens (PyJWT) naming user, role and unit; every event records that actor."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import jwt

from shared.envelope import Actor
from shared.errors import Forbidden, Unauthorized
from shared.scope import EMPTY_TREE, Scope, UnitTree
from shared.scope import read_scope as scope_of

ALGORITHM = "HS256"


class Role:
    """The roles of DESIGN §4; scope follows the unit hierarchy."""

    OFFICE_STAFF = "office_staff"  # 督导办工作人员: issue notices, escalate
    INSPECTOR = "inspector"  # 督学: re-inspect, close
    UNIT_HANDLER = "unit_handler"  # 责任单位经办人: sign, plan, report for its own unit
    UNIT_LEADER = "unit_leader"  # 单位负责人: the head of a unit, answerable for its items
    DEPARTMENT_LIAISON = "department_liaison"  # 成员单位联络员: read its department's items
    AUDITOR = "auditor"  # 审计: read everything, verify chains, export
    ADMIN = "admin"

    ALL = (OFFICE_STAFF, INSPECTOR, UNIT_HANDLER, UNIT_LEADER, DEPARTMENT_LIAISON, AUDITOR, ADMIN)
    # roles that exist only as someone of a unit: a token of one without its unit is no identity at all
    UNIT_BOUND = (UNIT_HANDLER, UNIT_LEADER, DEPARTMENT_LIAISON)


def issue_token(secret: str, user_id: str, role: str, unit: str | None = None, name: str | None = None,
                ttl: timedelta = timedelta(hours=12), epoch: int | None = None, now: datetime | None = None,
                signed_in_at: datetime | None = None) -> str:
    """``epoch``: the directory's count of the person's changes of unit, roles, password and standing when
    the token was issued; a token older than the person's current epoch is refused (shared/directory.py).

    ``signed_in_at`` (claim ``auth_time``): when the person signed in, kept as a sliding session's token is re-issued.
    """
    if role not in Role.ALL:
        raise ValueError(f"unknown role {role!r}; expected one of {', '.join(Role.ALL)}")
    if role in Role.UNIT_BOUND and not unit:
        raise ValueError(f"role {role} needs a unit")
    now = now or datetime.now(timezone.utc)
    claims = {"sub": user_id, "role": role, "unit": unit, "name": name, "iat": now, "exp": now + ttl}
    if signed_in_at is not None:
        claims["auth_time"] = int(signed_in_at.timestamp())  # seconds since the epoch, like iat and exp
    if epoch is not None:
        claims["epoch"] = epoch
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def token_epoch(secret: str, token: str) -> int | None:
    """The epoch a (valid) token was issued at, or None for a token minted outside the directory (``duban token``)."""
    epoch = jwt.decode(token, secret, algorithms=[ALGORITHM]).get("epoch")
    return epoch if isinstance(epoch, int) else None


def token_claims(secret: str, token: str) -> dict:
    """The claims of a valid, unexpired token naming a known role (with its unit, for a unit's roles)."""
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], options={"require": ["sub", "role", "exp"]})
    except jwt.ExpiredSignatureError as error:
        raise Unauthorized("token expired", "登录已过期，请重新登录") from error
    except jwt.InvalidTokenError as error:
        raise Unauthorized(f"invalid token: {error}", "身份令牌无效") from error
    if claims["role"] not in Role.ALL:
        raise Unauthorized("token names an unknown role", "身份令牌中的角色无效")
    if claims["role"] in Role.UNIT_BOUND and not claims.get("unit"):
        # without a unit, checks that compare units would compare against None, and a reader's scope would be none
        raise Unauthorized(f"a {claims['role']} token names no unit", "身份令牌缺少所属单位")
    return claims


def actor_from_token(secret: str, token: str) -> Actor:
    claims = token_claims(secret, token)
    return Actor(user_id=claims["sub"], role=claims["role"], unit=claims.get("unit"), name=claims.get("name"))


def actor_from_header(secret: str, authorization: str | None) -> Actor:
    if not authorization or not authorization.startswith("Bearer "):
        raise Unauthorized("missing bearer token", "缺少身份令牌（Authorization: Bearer …）")
    return actor_from_token(secret, authorization.removeprefix("Bearer ").strip())


def require_role(actor: Actor, *roles: str) -> None:
    if actor.role != Role.ADMIN and actor.role not in roles:
        raise Forbidden(
            f"role {actor.role} may not do this (needs {' or '.join(roles)})",
            f"当前角色（{actor.role}）无权执行此操作",
        )


def require_own_unit(actor: Actor, *units: str | None, what_zh: str = "该事项") -> None:
    """A unit handler acts only for its own unit (one of ``units``); other roles are limited by role checks alone."""
    if actor.role == Role.UNIT_HANDLER and actor.unit not in units:
        owners = "、".join(u for u in units if u)
        raise Forbidden(f"unit handler of {actor.unit} may not act for {owners}",
                        f"经办人（{actor.unit}）只能办理本单位的事项，{what_zh}属于{owners}")


def read_scope(actor: Actor, tree: UnitTree = EMPTY_TREE) -> Scope:
    """The units whose items this actor may read, by the one rule of shared/scope.py (``tree``: the directory's)."""
    return scope_of(actor.role, actor.unit, tree)


def require_read_scope(actor: Actor, *units: str | None, tree: UnitTree = EMPTY_TREE) -> None:
    """Refuse reading an item none of whose ``units`` (shared/scope.py: case_units, notice_units, task_units) the
    actor may read."""
    if not read_scope(actor, tree).sees(*units):
        raise Forbidden(f"{actor.role} of {actor.unit} may not read items of {', '.join(u for u in units if u) or 'no unit'}",
                        f"只能查看本单位（{actor.unit or '未指定单位'}）及下属单位的事项")
