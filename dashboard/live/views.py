"""``/api/v1/live``: what arrived after a cursor for every series of a dashboard (the HTTP twin
of the ``/live`` Socket.IO namespace, for catch-up and polling)."""

from __future__ import annotations

from flask import Blueprint, request
from flask.typing import ResponseReturnValue

from dashboard.api.errors import error
from dashboard.auth.limits import api_limit, user_key
from dashboard.boards import models as boards
from dashboard.boards import service as boards_service
from dashboard.boards.variables import free_values, interpolate_dashboard
from dashboard.extensions import current_runtime, limiter

bp = Blueprint("live", __name__, url_prefix="/api/v1")
limiter.limit(api_limit, key_func=user_key)(bp)


@bp.get("/live")
def live_since() -> ResponseReturnValue:
    """What arrived after ``since`` for every series of a dashboard (catch-up and polling)."""
    rt = current_runtime()
    try:
        dash = boards_service.get_dashboard(
            store=rt.dashboards, dashboard_id=request.args.get("dashboard", boards.DEFAULT_ID)
        )
    except boards_service.DashboardNotFound:
        return error(404, "unknown dashboard", request.args.get("dashboard"))
    since = request.args.get("since")
    if not since:
        return error(400, "bad parameter", "since: required")
    # the variables' default values (the socket's ``since`` carries the page's own)
    picked = free_values(None, dash.get("variables") or [])
    return rt.hub.since(since, boards.selectors(interpolate_dashboard(dash, picked)))
