"""Pie widget: the share of each series (for example requests by route) over a range."""

from __future__ import annotations

from typing import Any

import numpy as np
from dash import dcc

from dashboard.boards.figures import COLORS, GRAPH_CONFIG, series_label
from dashboard.boards.view import slice_label, varying_labels
from dashboard.metrics.frame import SeriesFrame
from layouts import ids


def totals(frames: list[SeriesFrame]) -> list[float]:
    """The mean of each series over its buckets (weighted by the points in each)."""
    out = []
    for f in frames:
        if f.sum is not None and f.count is not None and f.count.sum() > 0:
            out.append(float(f.sum.sum() / f.count.sum()))
        else:
            out.append(float(np.mean(f.value)) if len(f) else 0.0)
    return out


def figure(widget: dict[str, Any], frames: list[SeriesFrame]) -> dict[str, Any]:
    """One slice per series; each slice carries the label a click drills into."""
    varying = varying_labels([f.key.label_dict for f in frames])
    return {
        "data": [
            {
                "type": "pie",
                "labels": [series_label(f) for f in frames],
                "values": totals(frames),
                "hole": 0.45,
                "marker": {"colors": COLORS[: len(frames)]},
                "sort": False,
                "customdata": [slice_label(f.key.label_dict, varying) for f in frames],
                "textinfo": "percent",
                "hovertemplate": "%{label}: %{value:,.1f}<extra></extra>",
            }
        ],
        "layout": {
            "margin": {"l": 8, "r": 8, "t": 8, "b": 8},
            "paper_bgcolor": "rgba(0,0,0,0)",
            "showlegend": True,
            "legend": {"orientation": "v", "x": 1, "y": 0.5},
            "font": {"family": "system-ui, sans-serif", "size": 12, "color": "#374151"},
            "uirevision": "keep",
            "autosize": True,
        },
    }


def render(widget: dict[str, Any], frames: list[SeriesFrame]) -> Any:
    """The chart, refreshed by the slow refresh callback."""
    return dcc.Graph(
        id={"type": ids.SLOW_GRAPH, "widget": widget["id"]},
        figure=figure(widget, frames),
        config=GRAPH_CONFIG,
        className="widget-graph",
    )
