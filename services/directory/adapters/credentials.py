"""Password hashes, kept apart from the events: an event says a password changed, never what it is.

Hashes are scrypt (werkzeug); hashes of an older method (the portal's pbkdf2 account files) still verify. The
collection holds one document per person, read and written by primary key only.
"""
from __future__ import annotations

import functools
from typing import Protocol

from pymongo.database import Database
from werkzeug.security import check_password_hash, generate_password_hash

COLLECTION = "credentials"


def hash_password(password: str) -> str:
    return generate_password_hash(password, method="scrypt")


@functools.cache
def _dummy_hash() -> str:
    return hash_password("no account has this password")


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Checks a hash in the same time whether or not there is one: an unknown account is not answered faster."""
    if stored_hash is None:
        check_password_hash(_dummy_hash(), password)
        return False
    return check_password_hash(stored_hash, password)


class Credentials(Protocol):
    def get(self, person_id: str) -> str | None: ...

    def put(self, person_id: str, password_hash: str) -> None: ...


class MongoCredentials:
    def __init__(self, database: Database):
        self.collection = database[COLLECTION]

    def get(self, person_id: str) -> str | None:
        row = self.collection.find_one({"_id": person_id}, {"hash": 1})
        return row["hash"] if row else None

    def put(self, person_id: str, password_hash: str) -> None:
        self.collection.replace_one({"_id": person_id}, {"_id": person_id, "hash": password_hash}, upsert=True)


class MemoryCredentials:
    """For handler unit tests (no database)."""

    def __init__(self):
        self.hashes: dict[str, str] = {}

    def get(self, person_id: str) -> str | None:
        return self.hashes.get(person_id)

    def put(self, person_id: str, password_hash: str) -> None:
        self.hashes[person_id] = password_hash
