"""Bar widget: one bar per bucket of a rollup step (revenue per hour)."""

from __future__ import annotations

from typing import Any

from dash import dcc

from dashboard.boards.figures import COLORS, GRAPH_CONFIG, base_layout, series_label
from dashboard.metrics.frame import SeriesFrame
from layouts import ids


def figure(widget: dict[str, Any], frames: list[SeriesFrame]) -> dict[str, Any]:
    """Grouped bars, one trace per series, at the widget's aggregation."""
    how = widget.get("aggregation", "avg")
    data = [
        {
            "type": "bar",
            "name": series_label(f),
            "x": f.ts.tolist(),
            "y": f.aggregate(how).tolist(),
            "marker": {"color": COLORS[i % len(COLORS)]},
            # each bar's bucket width, so a click can open that bucket (drill-down)
            "customdata": [f.step.width_ms] * len(f),
            "hovertemplate": "%{y:,.2f}<extra>%{x|%H:%M}</extra>",
        }
        for i, f in enumerate(frames)
    ]
    return {"data": data, "layout": base_layout(bargap=0.15, hovermode="closest")}


def render(widget: dict[str, Any], frames: list[SeriesFrame]) -> Any:
    """The chart, refreshed by the slow refresh callback."""
    return dcc.Graph(
        id={"type": ids.SLOW_GRAPH, "widget": widget["id"]},
        figure=figure(widget, frames),
        config=GRAPH_CONFIG,
        className="widget-graph",
    )
