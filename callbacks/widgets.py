"""Slow widgets (bar, pie) re-read their data on a timer; line and stat widgets go live."""

from __future__ import annotations

from typing import Any

from dash import ALL, Dash, Input, Output, State

from dashboard.queries import widget_frames
from dashboard.runtime import Runtime, now_ms
from layouts import bar, ids, pie

FIGURES = {"bar": bar.figure, "pie": pie.figure}


def register(app: Dash, rt: Runtime) -> None:
    """Register the widget callbacks on ``app``."""

    @app.callback(
        Output({"type": ids.SLOW_GRAPH, "widget": ALL}, "figure"),
        Input(ids.WIDGETS_REFRESH, "n_intervals"),
        State({"type": ids.SLOW_GRAPH, "widget": ALL}, "id"),
        State(ids.LIVE_CONFIG, "data"),
        prevent_initial_call=True,
    )
    def refresh(_n: int, graph_ids: list[dict[str, str]], config: dict[str, Any]) -> list[Any]:
        """New figures for the bar and pie widgets."""
        dash = rt.dashboard(str((config or {}).get("dashboard", "")))
        widgets = {w["id"]: w for w in (dash or {}).get("widgets", [])}
        now = now_ms()
        out = []
        known = [i.key for i in rt.series_list()]  # listed once for every widget
        for gid in graph_ids:
            widget = widgets[gid["widget"]]
            frames = widget_frames(rt, widget, dash["range"], now, known)  # type: ignore[index]
            out.append(FIGURES[widget["kind"]](widget, frames))
        return out
