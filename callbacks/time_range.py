"""The time range: presets, custom from/to, bar drill-down and chart zoom, all via the URL."""

from __future__ import annotations

from typing import Any

from dash import ALL, ClientsideFunction, Dash, Input, Output, State, no_update

from callbacks.page import render_view
from dashboard.auth.guard import current_user
from dashboard.runtime import Runtime
from layouts import ids
from layouts.page import VIEW_OUTPUTS


def register(app: Dash, rt: Runtime) -> None:
    """Register the range callbacks on ``app``."""
    url = Output(ids.PAGE_URL, "search", allow_duplicate=True)
    app.clientside_callback(
        ClientsideFunction("range", "preset"),
        url,
        Input(ids.RANGE_SELECT, "value"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        ClientsideFunction("range", "custom"),
        url,
        Input(ids.RANGE_APPLY, "n_clicks"),
        State(ids.RANGE_FROM, "value"),
        State(ids.RANGE_TO, "value"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        ClientsideFunction("range", "live"),
        url,
        Input(ids.RANGE_LIVE, "n_clicks"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        ClientsideFunction("range", "filter"),
        url,
        Input(ids.FILTER_APPLY, "n_clicks"),
        Input(ids.FILTER_INPUT, "n_submit"),
        State(ids.FILTER_INPUT, "value"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        ClientsideFunction("range", "dashboard"),
        url,
        Input(ids.DASHBOARD_SELECT, "value"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        ClientsideFunction("range", "drill"),
        url,
        Input({"type": ids.SLOW_GRAPH, "widget": ALL}, "clickData"),
        prevent_initial_call=True,
    )

    @app.callback(
        *[Output(cid, prop) for cid, prop in VIEW_OUTPUTS],
        Input(ids.PAGE_URL, "search"),
        State(ids.LIVE_CONFIG, "data"),
        State(ids.EDIT_TOGGLE, "aria-pressed"),
    )
    def render(
        search: str | None, config: dict[str, Any] | None, editing: str | None
    ) -> tuple[Any, ...]:
        """Render the URL's dashboard over the URL's range, narrowed by its filter and drill,
        unless the page shows that view already (the layout drew it, or nothing changed)."""
        if (config or {}).get("search", "") == (search or ""):
            return (no_update,) * len(VIEW_OUTPUTS)
        return render_view(rt, search, current_user(), editing == "true")
