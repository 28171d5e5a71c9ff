"""The dashboard (工作台): headline figures of a period, traffic lights, open and overdue by unit."""
from __future__ import annotations

from flask import Blueprint

from services.portal.domain.queries import dashboard
from services.portal.entrypoints.common import period_from_args, portal, render, viewer

blp = Blueprint("dashboard", __name__)

# A full-width bar means "at least this many": one open matter in one unit is a short bar, not the whole track.
BAR_SCALE_FLOOR = 10


def bar_scale(values: list[int]) -> int:
    """The count a full-width bar stands for: the largest value, and never less than BAR_SCALE_FLOOR."""
    return max([*values, BAR_SCALE_FLOOR])


@blp.get("/")
def index():
    period = period_from_args()
    context = portal()
    with context.lock:
        figures = dashboard(context.model, viewer(), period, context.light_rule())
    chart_max = bar_scale([row["open"] for row in figures["by_unit"]])
    return render("dashboard.html", figures=figures, period=period, chart_max=chart_max)
