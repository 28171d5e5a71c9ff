"""Who is signing in: the directory service decides (password, lockout, standing); local accounts only stand in
where there is no directory account — the demo accounts of development mode, or a legacy accounts file.

The portal passes the person's own address to the directory (X-Forwarded-For; the directory trusts it from the
portal's address only), so its per-address lockout counts people, not the portal.
"""
from __future__ import annotations

import json

from shared.config import Settings
from services.api_client import HttpAnswer, ServiceUnreachable, http_call, service_url
from services.portal.adapters.users import UserDirectory

SIGN_IN_TIMEOUT = 10.0


class SignInRefused(Exception):
    """The sign-in failed: ``status`` 401 (wrong name or password), 403 (disabled), 429 (locked) or 503."""

    def __init__(self, status: int, message_zh: str, retry_after: str | None = None):
        super().__init__(message_zh)
        self.status, self.message_zh, self.retry_after = status, message_zh, retry_after


WRONG = "用户名或密码不正确"


def authenticate(settings: Settings, users: UserDirectory, username: str, password: str, address: str) -> dict:
    """The claims of the session to open (sub, role, unit, name and, from the directory, epoch); else SignInRefused."""
    if settings.directory_url:
        try:
            return _from_directory(settings.directory_url, username, password, address)
        except ServiceUnreachable:
            local = users.authenticate(username, password)
            if local is None:
                raise SignInRefused(503, "名录服务暂时不可用，请稍后再试") from None
            return _claims_of(local)
        except SignInRefused as refused:
            if refused.status != 401:
                raise
    local = users.authenticate(username, password)
    if local is None:
        raise SignInRefused(401, WRONG)
    return _claims_of(local)


def _claims_of(account) -> dict:
    return {"sub": account.username, "role": account.role, "unit": account.unit, "name": account.name}


def _from_directory(url: str, username: str, password: str, address: str) -> dict:
    answer: HttpAnswer = http_call("POST", service_url(url, "/sessions"), timeout=SIGN_IN_TIMEOUT,
                                   body=json.dumps({"username": username, "password": password}).encode("utf-8"),
                                   headers={"X-Forwarded-For": address})
    try:
        body = answer.json()
    except ValueError:
        body = {}
    if answer.status == 201:
        person = body["person"]
        return {"sub": person["username"], "role": body["role"], "unit": person.get("unit"), "name": person.get("name"),
                "epoch": person.get("epoch")}
    if answer.status in (401, 403, 429):
        message = body.get("message_zh") if isinstance(body, dict) else None
        raise SignInRefused(answer.status, message or WRONG, answer.header("Retry-After"))
    raise ServiceUnreachable(url, f"the directory answered {answer.status}")
