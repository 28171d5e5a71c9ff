"""Portal pages: cases (filled in by its author; registered in entrypoints/api.py)."""
from __future__ import annotations

from flask import Blueprint

blp = Blueprint("cases", __name__)
