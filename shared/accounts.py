"""What makes an account acceptable: sign-in names, mobile numbers and the minimum password policy.

The directory service decides with these (services/directory); the portal checks an import's rows with the same
rules before sending them, so the preview names every bad cell.
"""
from __future__ import annotations

import re

from shared.errors import InvalidInput

USERNAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._@-]{1,63}$"
MOBILE_PATTERN = r"^1[3-9]\d{9}$"  # a mainland mobile number, 11 digits
PASSWORD_MIN_LENGTH = 10


def check_password_policy(password: str, username: str) -> None:
    """At least 10 characters of two kinds (letters, digits, other), and not the username."""
    kinds = sum(bool(re.search(pattern, password)) for pattern in (r"[A-Za-z]", r"\d", r"[^A-Za-z\d]"))
    if len(password) < PASSWORD_MIN_LENGTH or kinds < 2:
        raise InvalidInput(f"a password needs at least {PASSWORD_MIN_LENGTH} characters of two kinds "
                           "(letters, digits, symbols)",
                           f"密码至少 {PASSWORD_MIN_LENGTH} 位，且含字母、数字、符号中的两类", field="password")
    if username.lower() in password.lower():
        raise InvalidInput("a password may not contain the username", "密码不能包含用户名", field="password")
