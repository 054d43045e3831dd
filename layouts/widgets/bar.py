"""Bar widget: one bar per bucket of a rollup step (revenue per hour)."""

from __future__ import annotations

from typing import Any

from dashboard.boards.figures import bar_figure
from dashboard.metrics.frame import SeriesFrame
from layouts.widgets.line import with_legend
from layouts.widgets.slow import slow_graph

figure = bar_figure  # the figure (in dashboard/boards/figures.py), by its old name


def render(widget: dict[str, Any], frames: list[SeriesFrame]) -> Any:
    """The chart, refreshed by the slow refresh callback (over its legend table, in that legend
    mode: its rows follow the series of each refreshed figure, assets/legend.js)."""
    return with_legend(widget, frames, slow_graph(widget, bar_figure(widget, frames)), live=False)
