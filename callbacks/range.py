"""The time range: presets, custom from/to, bar drill-down and chart zoom, all via the URL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from dash import ALL, ClientsideFunction, Dash, Input, Output, State, ctx, html, no_update

from dashboard import dashboards
from dashboard.auth import role_at_least
from dashboard.auth.guard import current_user
from dashboard.export_csv import iso
from dashboard.queries import widget_frames
from dashboard.runtime import Runtime, now_ms
from dashboard.timerange import PRESETS, dashboard_from_search, from_search, resolve_range
from layouts import ids, line
from layouts.shell import grid


def plotly_time(value: Any) -> int | None:
    """Unix ms from a Plotly date-axis value (``"2026-11-28 10:00:00.5"`` in UTC) or ms."""
    if isinstance(value, int | float):
        return int(value)
    try:
        text = str(value).replace(" ", "T")
        return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)
    except ValueError:
        return None


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

    for widget in dashboards.default_dashboard()["widgets"]:
        if widget["kind"] == "line":
            _zoom_callback(app, rt, widget)


def _zoom_callback(app: Dash, rt: Runtime, widget: dict[str, Any]) -> None:
    """A zoom (drag) on this chart reads its range again at the finer resolution it needs."""
    gid = ids.graph(widget["id"])

    @app.callback(
        Output(gid, "figure"),
        Input(gid, "relayoutData"),
        State(ids.PAGE_URL, "search"),
        prevent_initial_call=True,
    )
    def zoom(relayout: dict[str, Any] | None, search: str | None) -> Any:
        """The chart over the zoomed range, downsampled to its width again."""
        if not relayout:
            return no_update
        rng, live = from_search(search)
        now = now_ms()
        shown = widget if live else {k: v for k, v in widget.items() if k != "range"}
        if relayout.get("xaxis.autorange"):
            return line.figure(shown, widget_frames(rt, shown, rng, now))
        start = plotly_time(relayout.get("xaxis.range[0]"))
        end = plotly_time(relayout.get("xaxis.range[1]"))
        if start is None or end is None or start >= end:
            return no_update
        frames = widget_frames(
            rt, {k: v for k, v in widget.items() if k != "range"}, {"from": start, "to": end}, now
        )
        figure = line.figure(shown, frames)
        figure["layout"]["xaxis"] = {
            **figure["layout"]["xaxis"],
            "range": [start, end],
            "autorange": False,
        }
        return figure
