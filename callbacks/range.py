"""The time range: presets, custom from/to, bar drill-down and chart zoom, all via the URL."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from dash import ALL, ClientsideFunction, Dash, Input, Output, State, ctx, html, no_update

from dashboard.auth import role_at_least
from dashboard.auth.guard import current_user
from dashboard.export_csv import iso
from dashboard.runtime import Runtime, now_ms
from dashboard.timerange import PRESETS, dashboard_from_search, from_search, resolve_range
from dashboard.view import filter_text, parse_drill, parse_filter
from layouts import ids, navigation
from layouts.shell import grid


def describe(rng: dict[str, Any], live: bool, now: int) -> str:
    """The range in words for the status line."""
    if live:
        preset = str(rng["from"]).removeprefix("now-")
        return f"{PRESETS.get(preset, preset)}, live"
    start, end = resolve_range(rng, now)
    return f"{iso(start)} to {iso(end)} (fixed)"


def view_options(search: str | None) -> tuple[dict[str, str], Any, str]:
    """The URL's label filter (empty when it is bad), its drill-down, and a message for the
    filter's status line (what it does, or what is wrong with it)."""
    query = parse_qs((search or "").lstrip("?"))
    drill = parse_drill((query.get("drill") or [""])[0])
    try:
        label_filter = parse_filter((query.get("filter") or [""])[0])
    except ValueError as exc:
        return {}, drill, f"{exc}; showing everything"
    note = f"Only series with {filter_text(label_filter)}" if label_filter else ""
    return label_filter, drill, note


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
        Output(ids.WIDGETS_GRID, "children"),
        Output(ids.LIVE_CONFIG, "data"),
        Output(ids.RANGE_TEXT, "children"),
        Output(ids.RANGE_LIVE, "hidden"),
        Output(ids.HEADER_TITLE, "children"),
        Output(ids.DASHBOARD_SELECT, "value"),
        Output(ids.BREADCRUMB, "children"),
        Output(ids.FILTER_STATUS, "children"),
        Output(ids.FILTER_INPUT, "value"),
        Output(ids.RANGE_SELECT, "value"),
        Input(ids.PAGE_URL, "search"),
    )
    def render(search: str | None) -> tuple[Any, ...]:
        """Render the URL's dashboard over the URL's range, narrowed by its filter and drill
        (the layout drew the default)."""
        if not search and ctx.triggered_id is None:
            return (no_update,) * 10
        rng, live = from_search(search)
        wanted = dashboard_from_search(search)
        dash = rt.dashboard(wanted)
        label_filter, drill, note = view_options(search)
        query = parse_qs((search or "").lstrip("?"))
        typed = (query.get("filter") or [""])[0]
        # the range box shows the URL's preset (a fixed span keeps the box as it was)
        preset = (query.get("range") or [""])[0]
        shown_preset = preset if live and preset in PRESETS else no_update
        if dash is None:
            missing = html.P(f"There is no dashboard {wanted!r}.", className="widget-error")
            text = describe(rng, live, now_ms())
            return (
                [missing],
                no_update,
                text,
                live,
                "Unknown",
                no_update,
                [],
                note,
                typed,
                shown_preset,
            )
        user = current_user()
        editor = user is not None and role_at_least(user.role, "editor")
        cards, config = grid(rt, dash, rng, live, editor, label_filter, drill)
        crumbs = navigation.crumb_list(navigation.crumbs_for(search, dash))
        text = describe(rng, live, now_ms())
        return (
            cards,
            config,
            text,
            live,
            dash["title"],
            dash["id"],
            crumbs,
            note,
            typed,
            shown_preset,
        )
