"""Portal pages: plans (filled in by its author; registered in entrypoints/api.py)."""
from __future__ import annotations

from flask import Blueprint

blp = Blueprint("plans", __name__)
