"""The chart of a widget that the slow refresh callback redraws (bar and pie: no live feed)."""

from __future__ import annotations

from typing import Any

from dash import dcc

from dashboard.boards.figures import GRAPH_CONFIG
from layouts import ids


def slow_graph(widget: dict[str, Any], figure: dict[str, Any]) -> dcc.Graph:
    """The widget's chart, with the id the slow refresh callback writes its figure to."""
    return dcc.Graph(
        id={"type": ids.SLOW_GRAPH, "widget": widget["id"]},
        figure=figure,
        config=GRAPH_CONFIG,
        className="widget-graph",
    )
