"""Slow widgets (bar, pie, table) re-read their data on a timer; line and stat widgets go live."""

from __future__ import annotations

from typing import Any

from dash import ALL, MATCH, Dash, Input, Output, State, ctx, html, no_update

from dashboard.boards import service as boards
from dashboard.boards.variables import interpolate_dashboard
from dashboard.boards.view import read_search
from dashboard.clock import now_ms
from dashboard.query.values import QueryError
from dashboard.runtime import Runtime
from layouts import ids
from layouts.grid import render_widget, widget_head
from layouts.widgets import bar, lazy, line, pie, stat, table

FIGURES = {"bar": bar.figure, "pie": pie.figure}


def shown_widgets(
    rt: Runtime,
    config: dict[str, Any] | None,
    search: str | None,
    wanted: list[dict[str, str]],
    keys: dict[str, list[str]] | None = None,
) -> list[tuple[dict[str, Any] | None, list[Any]]]:
    """Each wanted widget as the page shows it (the URL's range, filter and drill) with its
    frames, read now; ``keys`` pins a widget to those series, in that order."""
    dash_id = str((config or {}).get("dashboard", ""))
    dash = boards.find_dashboard(store=rt.dashboards, dashboard_id=dash_id) or {"widgets": []}
    # a bad filter shows everything: the page says so; the refresh draws what the page drew
    query = read_search(search)
    now = now_ms()
    picked, _ = boards.pick_variables(reader=rt, dashboard=dash, wanted=query.variables, now=now)
    widgets = {w["id"]: w for w in interpolate_dashboard(dash, picked)["widgets"]}
    known, units = boards.visible_series(reader=rt, label_filter=query.label_filter)  # once
    out: list[tuple[dict[str, Any] | None, list[Any]]] = []
    for gid in wanted:
        widget = widgets.get(gid["widget"])
        if widget is None:
            out.append((None, []))
            continue
        widget = boards.shown_widget(
            reader=rt, widget=widget, live=query.live, drill=query.drill, known=known
        )
        widget = boards.with_unit_format(widget, units, known)
        pinned = (keys or {}).get(gid["widget"])
        if pinned is not None:
            by_text = {str(k): k for k in known}
            subset = [by_text[t] for t in pinned if t in by_text]
        try:
            frames = boards.widget_frames(
                reader=rt,
                widget=widget,
                dashboard_range=query.rng,
                now=now,
                known=subset if pinned is not None else known,
                label_filter=query.label_filter,
            )
        except QueryError:  # over a query limit now: keep what the page shows
            frames = []
        out.append((widget, frames))
    return out


def deferred_chart(
    rt: Runtime,
    config: dict[str, Any] | None,
    search: str | None,
    widget_id: str,
    card: bool = False,
) -> Any:
    """The content of a slot that came into view (see layouts/lazy.py), read now: a chart, or
    with ``card`` the whole card's head and body.

    A line chart shows the series the live feed already draws into it, in trace order, so its
    live points (held meanwhile) extend the right traces.
    """
    traced = lazy.traced_keys(config, ids.graph(widget_id))
    pinned = {widget_id: traced} if traced is not None else None
    [(widget, frames)] = shown_widgets(rt, config, search, [{"widget": widget_id}], pinned)
    if widget is None:
        return html.P("This widget is no longer on the dashboard.", className="widget-error")
    if widget["kind"] == "stat" and not card:  # a tile's sparkline
        return stat.spark(widget, frames[0] if frames else None)
    rng = read_search(search).rng
    now = now_ms()
    # as the page draws a tile: with its previous period
    keys = [f.key for f in frames]
    delta = (
        boards.stat_delta(reader=rt, widget=widget, dashboard_range=rng, now=now, known=keys)
        if widget["kind"] == "stat"
        else None
    )
    body, _targets = render_widget(
        widget, frames, line.window_of(rng, now), delta, defer_spark=False
    )
    return [widget_head(widget), body] if card else body


def register(app: Dash, rt: Runtime) -> None:
    """Register the widget callbacks on ``app``."""

    @app.callback(
        Output({"type": ids.SLOW_GRAPH, "widget": ALL}, "figure"),
        Input(ids.WIDGETS_REFRESH, "n_intervals"),
        State({"type": ids.SLOW_GRAPH, "widget": ALL}, "id"),
        State(ids.LIVE_CONFIG, "data"),
        State(ids.PAGE_URL, "search"),
        prevent_initial_call=True,
    )
    def refresh(
        _n: int, graph_ids: list[dict[str, str]], config: dict[str, Any], search: str | None
    ) -> list[Any]:
        """New figures for the bar and pie widgets."""
        return [
            FIGURES[w["kind"]](w, frames) if w is not None and w["kind"] in FIGURES else no_update
            for w, frames in shown_widgets(rt, config, search, graph_ids)
        ]

    @app.callback(
        Output({"type": ids.LAZY_SLOT, "widget": MATCH}, "children"),
        Input({"type": ids.LAZY_SLOT, "widget": MATCH}, "n_clicks"),
        State({"type": ids.LAZY_SLOT, "widget": MATCH}, "className"),
        State(ids.LIVE_CONFIG, "data"),
        State(ids.PAGE_URL, "search"),
        prevent_initial_call=True,
    )
    def draw_deferred(
        _n: int, class_name: str | None, config: dict[str, Any], search: str | None
    ) -> Any:
        """What is below the first screen (a chart, or a whole card), asked for by
        assets/live.js as it scrolls near."""
        card = "widget-lazy-card" in (class_name or "").split()
        return deferred_chart(rt, config, search, str(ctx.triggered_id["widget"]), card)

    @app.callback(
        Output({"type": ids.SLOW_TABLE, "widget": ALL}, "children"),
        Input(ids.WIDGETS_REFRESH, "n_intervals"),
        State({"type": ids.SLOW_TABLE, "widget": ALL}, "id"),
        State(ids.LIVE_CONFIG, "data"),
        State(ids.PAGE_URL, "search"),
        prevent_initial_call=True,
    )
    def refresh_tables(
        _n: int, table_ids: list[dict[str, str]], config: dict[str, Any], search: str | None
    ) -> list[Any]:
        """New rows for the table widgets (min, max and avg move as the range does)."""
        return [
            table.rows(w, frames) if w is not None and w["kind"] == "table" else no_update
            for w, frames in shown_widgets(rt, config, search, table_ids)
        ]
