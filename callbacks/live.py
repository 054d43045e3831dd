"""Live plumbing: hand the page's config to ``assets/live.js``; poll while updates are delayed."""

from __future__ import annotations

from typing import Any

from dash import Dash, Input, Output, State, no_update
from flask import current_app

from dashboard.boards import service as boards
from dashboard.boards.models import selectors
from dashboard.boards.variables import free_values, interpolate_dashboard
from dashboard.runtime import Runtime
from layouts import ids


def register(app: Dash, rt: Runtime) -> None:
    """Register the live callbacks on ``app``."""
    app.clientside_callback(
        "function (config) { if (config && window.dashLive) { window.dashLive.configure(config); }"
        " return window.dash_clientside.no_update; }",
        Output(ids.LIVE_SINK, "data"),
        Input(ids.LIVE_CONFIG, "data"),
    )
    app.clientside_callback(
        "function (data) { if (data && window.dashLive) { window.dashLive.receive(data, 'poll'); }"
        " return window.dash_clientside.no_update; }",
        Output(ids.LIVE_SINK, "data", allow_duplicate=True),
        Input(ids.LIVE_POLL_DATA, "data"),
        prevent_initial_call=True,
    )

    @app.callback(
        Output(ids.LIVE_POLL_DATA, "data"),
        Output(ids.LIVE_CURSOR, "data"),
        Input(ids.LIVE_POLL, "n_intervals"),
        State(ids.LIVE_CURSOR, "data"),
        State(ids.LIVE_CONFIG, "data"),
        prevent_initial_call=True,
    )
    def poll(_n: int, cursor: str | None, config: dict[str, Any] | None) -> tuple[Any, Any]:
        """What arrived after the cursor, for the dashboard on the page."""
        if not cursor or not config:
            return no_update, no_update
        dash_id = str(config.get("dashboard", ""))
        dash = boards.find_dashboard(store=rt.dashboards, dashboard_id=dash_id)
        if dash is None:
            return no_update, no_update
        picked = free_values(config.get("vars"), dash.get("variables") or [])
        result = rt.hub.since(cursor, selectors(interpolate_dashboard(dash, picked)))
        namespace = current_app.extensions.get("live_namespace")
        if namespace is not None:  # the page learns the node's state even without a socket
            result = {**result, "health": namespace.health.state.as_dict()}
        return result, result["cursor"]
