"""Line widget: several series over the dashboard's range, extended live."""

from __future__ import annotations

from typing import Any

from dash import dcc

from dashboard.boards.exprs import live_entries
from dashboard.boards.figures import GRAPH_CONFIG, line_figure
from dashboard.metrics.frame import SeriesFrame
from dashboard.metrics.timerange import resolve_range
from layouts import ids

figure = line_figure  # the figure (in dashboard/boards/figures.py), by its old name


def render(
    widget: dict[str, Any], frames: list[SeriesFrame], window_ms: int
) -> tuple[Any, dict[str, list[dict[str, Any]]]]:
    """The chart and its live targets (each series extends its trace)."""
    gid = ids.graph(widget["id"])
    graph = dcc.Graph(
        id=gid, figure=line_figure(widget, frames), config=GRAPH_CONFIG, className="widget-graph"
    )
    return graph, targets(widget, [f.key for f in frames], window_ms)


def targets(widget: dict[str, Any], keys: list[Any], window_ms: int) -> dict[str, Any]:
    """The live targets of a chart of ``keys``: each series extends its own trace."""
    gid = ids.graph(widget["id"])
    found: dict[str, Any] = {
        str(k): [{"type": "trace", "graph": gid, "trace": i, "window": window_ms}]
        for i, k in enumerate(keys)
    }
    # a series that appears later gets a trace of its own when its first point arrives
    legends = {
        live["name"]: entry["legend"]
        for entry, live in zip(widget["series"], live_entries(widget["series"]), strict=True)
        if entry.get("legend")
    }
    add = {"graph": gid, "window": window_ms, **({"legends": legends} if legends else {})}
    found["*"] = [{"selectors": live_entries(widget["series"]), "add": add}]
    return found


def window_of(rng: dict[str, Any], now: int) -> int:
    """The width of a range in ms (the live tail keeps that much)."""
    start, end = resolve_range(rng, now)
    return end - start
