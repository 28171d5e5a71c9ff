"""Identity: signed tokens (PyJWT) naming user, role and unit; every event records that actor."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import jwt

from shared.envelope import Actor
from shared.errors import Forbidden, Unauthorized

ALGORITHM = "HS256"


class Role:
    """The roles of DESIGN §4; scope follows the unit hierarchy."""

    OFFICE_STAFF = "office_staff"  # 督导办工作人员: issue notices, escalate
    INSPECTOR = "inspector"  # 督学: re-inspect, close
    UNIT_HANDLER = "unit_handler"  # 责任单位经办人: sign, plan, report for its own unit
    DEPARTMENT_LIAISON = "department_liaison"  # 成员单位联络员: read its department's items
    AUDITOR = "auditor"  # 审计: read everything, verify chains, export
    ADMIN = "admin"

    ALL = (OFFICE_STAFF, INSPECTOR, UNIT_HANDLER, DEPARTMENT_LIAISON, AUDITOR, ADMIN)


def issue_token(secret: str, user_id: str, role: str, unit: str | None = None, name: str | None = None,
                ttl: timedelta = timedelta(hours=12)) -> str:
    if role not in Role.ALL:
        raise ValueError(f"unknown role {role!r}; expected one of {', '.join(Role.ALL)}")
    now = datetime.now(timezone.utc)
    claims = {"sub": user_id, "role": role, "unit": unit, "name": name, "iat": now, "exp": now + ttl}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def actor_from_token(secret: str, token: str) -> Actor:
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], options={"require": ["sub", "role", "exp"]})
    except jwt.ExpiredSignatureError as error:
        raise Unauthorized("token expired", "登录已过期，请重新登录") from error
    except jwt.InvalidTokenError as error:
        raise Unauthorized(f"invalid token: {error}", "身份令牌无效") from error
    if claims["role"] not in Role.ALL:
        raise Unauthorized("token names an unknown role", "身份令牌中的角色无效")
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


READ_SCOPED_ROLES = (Role.UNIT_HANDLER, Role.DEPARTMENT_LIAISON)


def read_scope(actor: Actor) -> str | None:
    """The one unit whose items this actor may read, or None for roles that read everything."""
    return actor.unit if actor.role in READ_SCOPED_ROLES else None


def require_read_scope(actor: Actor, *units: str | None) -> None:
    """Refuse reading an item none of whose units is the actor's own (unit handlers, department liaisons)."""
    scope = read_scope(actor)
    if scope is not None and scope not in units:
        raise Forbidden(f"{actor.role} of {actor.unit} may only read its own unit's items",
                        f"只能查看本单位（{actor.unit}）的事项")
