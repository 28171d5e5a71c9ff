"""The dashboard (工作台): headline figures of a period, traffic lights, open and overdue by unit."""
from __future__ import annotations

from flask import Blueprint

from services.portal.domain.queries import dashboard
from services.portal.entrypoints.common import period_from_args, portal, render, viewer

blp = Blueprint("dashboard", __name__)


@blp.get("/")
def index():
    period = period_from_args()
    context = portal()
    with context.lock:
        figures = dashboard(context.model, viewer(), period, context.light_rule())
    chart_max = max([row["open"] for row in figures["by_unit"]] + [1])
    return render("dashboard.html", figures=figures, period=period, chart_max=chart_max)
