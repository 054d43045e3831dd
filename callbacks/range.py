"""The time range: presets, custom from/to, bar drill-down and chart zoom, all via the URL."""

from __future__ import annotations

from typing import Any

from dash import ALL, ClientsideFunction, Dash, Input, Output, State, ctx, html, no_update

from dashboard.auth import role_at_least
from dashboard.auth.guard import current_user
from dashboard.export_csv import iso
from dashboard.runtime import Runtime, now_ms
from dashboard.timerange import PRESETS, dashboard_from_search, from_search, resolve_range
from layouts import ids
from layouts.shell import grid


def describe(rng: dict[str, Any], live: bool, now: int) -> str:
    """The range in words for the status line."""
    if live:
        preset = str(rng["from"]).removeprefix("now-")
        return f"{PRESETS.get(preset, preset)}, live"
    start, end = resolve_range(rng, now)
    return f"{iso(start)} to {iso(end)} (fixed)"


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
        Output(ids.WIDGETS_GRID, "children"),
        Output(ids.LIVE_CONFIG, "data"),
        Output(ids.RANGE_TEXT, "children"),
        Output(ids.RANGE_LIVE, "hidden"),
        Output(ids.HEADER_TITLE, "children"),
        Output(ids.DASHBOARD_SELECT, "value"),
        Input(ids.PAGE_URL, "search"),
    )
    def render(search: str | None) -> tuple[Any, ...]:
        """Render the URL's dashboard over the URL's range (the layout drew the default)."""
        if not search and ctx.triggered_id is None:
            return (no_update,) * 6
        rng, live = from_search(search)
        wanted = dashboard_from_search(search)
        dash = rt.dashboard(wanted)
        if dash is None:
            missing = html.P(f"There is no dashboard {wanted!r}.", className="widget-error")
            return [missing], no_update, describe(rng, live, now_ms()), live, "Unknown", no_update
        user = current_user()
        editor = user is not None and role_at_least(user.role, "editor")
        cards, config = grid(rt, dash, rng, live, editor)
        return cards, config, describe(rng, live, now_ms()), live, dash["title"], dash["id"]
