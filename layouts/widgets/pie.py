"""Pie widget: the share of each series (for example requests by route) over a range."""

from __future__ import annotations

from typing import Any

from dashboard.boards.figures import pie_figure
from dashboard.metrics.frame import SeriesFrame
from layouts.widgets.slow import slow_graph

figure = pie_figure  # the figure (in dashboard/boards/figures.py), by its old name


def render(widget: dict[str, Any], frames: list[SeriesFrame]) -> Any:
    """The chart, refreshed by the slow refresh callback."""
    return slow_graph(widget, pie_figure(widget, frames))
