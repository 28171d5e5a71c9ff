"""The portal's accounts: user, password hash, role and unit (from YAML, or the demo accounts in development mode)."""
from __future__ import annotations

import functools
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import yaml
from werkzeug.security import check_password_hash, generate_password_hash

from shared.auth import Role
from shared.errors import InvalidInput

HASH_METHOD = "scrypt"  # new hashes; pbkdf2 hashes made before still verify

DEMO_PASSWORD = "duban-demo"
DEMO_OFFICE = "巴中市人民政府教育督导委员会办公室"
# The demo year's people (services/demo.py): the office, an inspector, an auditor, a handler per district
# education bureau, two member departments' liaisons.
DEMO_ACCOUNTS = [
    ("office", "王科长", Role.OFFICE_STAFF, DEMO_OFFICE),
    ("inspector", "刘督学", Role.INSPECTOR, DEMO_OFFICE),
    ("auditor", "陈审计", Role.AUDITOR, None),
    ("bazhou", "巴州区经办人", Role.UNIT_HANDLER, "巴州区教育局"),
    ("enyang", "恩阳区经办人", Role.UNIT_HANDLER, "恩阳区教育局"),
    ("tongjiang", "通江县经办人", Role.UNIT_HANDLER, "通江县教育局"),
    ("nanjiang", "南江县经办人", Role.UNIT_HANDLER, "南江县教育局"),
    ("pingchang", "平昌县经办人", Role.UNIT_HANDLER, "平昌县教育局"),
    ("finance", "财政局联络员", Role.DEPARTMENT_LIAISON, "巴中市财政局"),
    ("hr", "人社局联络员", Role.DEPARTMENT_LIAISON, "巴中市人力资源和社会保障局"),
]


@dataclass(frozen=True)
class Account:
    username: str
    name: str
    role: str
    unit: str | None
    password_hash: str


def hash_password(password: str) -> str:
    """The hash to keep for a new password (the ``password_hash`` of the accounts file)."""
    return generate_password_hash(password, method=HASH_METHOD)


class UserDirectory:
    def __init__(self, accounts: list[Account]):
        self.accounts = {a.username: a for a in accounts}
        # An unknown name is checked against a hash made like most of the accounts' own, so that it takes as long
        # as a wrong password: how long the answer takes must not tell which names exist.
        methods = Counter(_hash_method(a.password_hash) for a in accounts)
        self._dummy_method = methods.most_common(1)[0][0] if methods else HASH_METHOD

    def authenticate(self, username: str, password: str) -> Account | None:
        account = self.accounts.get(username)
        if account is None:
            check_password_hash(_dummy_hash(self._dummy_method), password)
            return None
        return account if check_password_hash(account.password_hash, password) else None

    @classmethod
    def demo(cls) -> "UserDirectory":
        return cls([Account(u, n, r, unit, _demo_password_hash()) for u, n, r, unit in DEMO_ACCOUNTS])

    @classmethod
    def from_file(cls, path: str) -> "UserDirectory":
        """YAML: ``users: [{username, name, role, unit, password_hash}]`` (hashes from werkzeug's generate_password_hash)."""
        try:
            data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
            accounts = [Account(u["username"], u.get("name") or u["username"], u["role"], u.get("unit"), u["password_hash"])
                        for u in data.get("users", [])]
        except (OSError, yaml.YAMLError, KeyError, TypeError) as error:
            raise InvalidInput(f"portal users file {path} is unreadable: {error}", f"门户账号文件 {path} 无法读取") from error
        unknown = [a.username for a in accounts if a.role not in Role.ALL]
        if unknown:
            raise InvalidInput(f"unknown roles for {unknown}", "账号文件中有未知角色", field="role")
        unitless = [a.username for a in accounts if a.role in Role.UNIT_BOUND and not a.unit]
        if unitless:
            raise InvalidInput(f"accounts of a unit's role without their unit: {unitless}", "账号文件中有账号缺少所属单位",
                               field="unit")
        return cls(accounts)


def _hash_method(password_hash: str) -> str:
    """The method and parameters of a werkzeug hash ("scrypt:32768:8:1", "pbkdf2:sha256:600000")."""
    return password_hash.split("$", 1)[0]


@functools.cache
def _dummy_hash(method: str) -> str:
    try:
        return generate_password_hash("no account has this password", method=method)
    except ValueError:  # a method werkzeug no longer makes: still as slow as checking a new hash
        return generate_password_hash("no account has this password", method=HASH_METHOD)


@functools.cache
def _demo_password_hash() -> str:
    """Hashing is deliberately slow; the demo accounts' shared hash is made once per process."""
    return hash_password(DEMO_PASSWORD)


def load_directory(path: str | None, dev_mode: bool = False) -> UserDirectory:
    """The accounts of ``path``; without one, the demo accounts (whose password is published) in development mode
    only, else none: people then sign in with their directory accounts alone."""
    if path:
        return UserDirectory.from_file(path)
    return UserDirectory.demo() if dev_mode else UserDirectory([])
