"""What text duban accepts from people, and what it writes into files that cannot hold every character.

Text fields take any Unicode text with tabs and line breaks, but no other control character: C0 (U+0000–U+001F
less tab, line feed, carriage return), DEL (U+007F) and C1 (U+0080–U+009F). They print as nothing or as boxes,
and an .xlsx (XML 1.0) cannot hold the C0 ones at all. The web layer refuses them in every body, query and
path (shared/web.py). Events stored before that check may still carry them, so every spreadsheet export
also passes its cells through ``for_spreadsheet``.
"""
from __future__ import annotations

import re
from typing import Any, Iterator

ALLOWED_CONTROLS = "\t\n\r"
# Regular-expression source, written with \xNN and \uNNNN escapes only: the same characters to Python's re,
# to ECMA 262 (what JSON Schema's ``pattern`` means) and to the Rust regex engines schemathesis validates with.
_REFUSED = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
# What ``str.strip()`` removes beyond ASCII (all of it whitespace to ``str.isspace``), C0/C1 aside.
_UNICODE_SPACES = r"\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
CONTROL_CHARACTERS = re.compile(f"[{_REFUSED}]")
# The same rules as JSON Schema patterns, for the OpenAPI documents (shared/openapi.py):
# - any text a field may hold (a body's strings, query and path parameters);
TEXT_PATTERN = f"^[^{_REFUSED}]*$"
# - text that must say something (a reason, a summary …: the domain refuses it blank, ``not text.strip()``):
#   blanks a field may hold, one character that is neither blank nor a control, then any text.
FILLED_TEXT_PATTERN = (f"^[\\t\\n\\r {_UNICODE_SPACES}]*[^\\x00-\\x20\\x7f-\\x9f{_UNICODE_SPACES}]"
                       f"[^{_REFUSED}]*$")
# What an .xlsx cannot hold: what openpyxl refuses (its ILLEGAL_CHARACTERS_RE: C0 but tab, line feed, carriage
# return), the two non-characters XML 1.0 leaves out, and lone surrogates (no UTF-8 at all). Spelled out here so
# the web processes need not import openpyxl; tests/unit/shared/test_text_and_errors.py holds it to openpyxl's.
NOT_IN_SPREADSHEETS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def control_character(text: str) -> str | None:
    """The first control character in ``text`` that no text field may hold, or None."""
    found = CONTROL_CHARACTERS.search(text)
    return found.group() if found else None


def find_control_character(value: Any, path: tuple = ()) -> tuple[tuple, str] | None:
    """Where the first refused control character sits in a JSON value: (path of keys and indexes, character).

    Object keys are checked too (the path then ends at the key itself).
    """
    for where, text in _strings(value, path):
        character = control_character(text)
        if character is not None:
            return where, character
    return None


def _strings(value: Any, path: tuple) -> Iterator[tuple[tuple, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str):
                yield path + (key,), key
            yield from _strings(item, path + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, path + (index,))


def dotted(path: tuple) -> str:
    """``("problems", 0, "description")`` → ``problems.0.description`` (how the APIs name nested fields)."""
    return ".".join(str(part) for part in path)


def describe(character: str) -> str:
    return f"U+{ord(character):04X}"


def for_spreadsheet(value: Any) -> Any:
    """``value`` as a spreadsheet cell can hold it: characters XML 1.0 (and so .xlsx) cannot carry are dropped.

    Anything that is not text is returned unchanged.
    """
    if isinstance(value, str):
        return NOT_IN_SPREADSHEETS.sub("", value)
    return value
