"""A chart's legend as a table (pure): a row per series with its colour, name and its last,
min, max and mean over the widget's range, formatted as the widget formats numbers.

A widget's ``legend`` is ``{"mode": "list" | "table" | "hidden"}``: ``list`` (the default) is
Plotly's own legend when there are two series or more, ``table`` this table under the chart
(also for one series), ``hidden`` no legend. ``layouts/widgets/line.py`` draws the table and
``assets/legend.js`` sorts it and isolates a series by its row, by the rules below.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from dashboard.boards.figures import COLORS, legend_mode, series_label, widget_format
from dashboard.boards.units import format_number
from dashboard.metrics.frame import SeriesFrame
from dashboard.metrics.summary import frame_summary

# the value columns, by key and heading (the name column sorts too: "name")
COLUMNS = (("last", "Last"), ("min", "Min"), ("max", "Max"), ("mean", "Mean"))
DEFAULT_FORMAT = {"decimals": 2}  # as the table widget: a number without a format keeps 2


@dataclass(frozen=True)
class LegendRow:
    """One series of the chart: its trace's index, name and colour, its values by column
    (None without data) and their texts, and the time of its last point (ms, None without)."""

    index: int
    name: str
    color: str
    values: dict[str, float | None]
    texts: dict[str, str]
    last_ts: int | None


def shows_table(widget: dict[str, Any] | None) -> bool:
    """Whether the widget's chart has this table under it (its legend's mode is ``table``)."""
    return legend_mode(widget) == "table"


def legend_format(widget: dict[str, Any] | None) -> dict[str, Any]:
    """The number format of the legend's cells: the widget's, else two decimals."""
    return widget_format(widget) or dict(DEFAULT_FORMAT)


def _finite(value: float | None) -> float | None:
    """``value`` when it is a finite number, else None."""
    return value if value is not None and math.isfinite(value) else None


def legend_rows(widget: dict[str, Any], frames: list[SeriesFrame]) -> list[LegendRow]:
    """A row per frame, in trace order (the chart's colours, its series names as written)."""
    fmt = legend_format(widget)
    out = []
    for i, frame in enumerate(frames):
        summary = frame_summary(frame)
        values = {
            "last": _finite(summary["last"]),
            "min": _finite(summary["min"]),
            "max": _finite(summary["max"]),
            "mean": _finite(summary["avg"]),
        }
        out.append(
            LegendRow(
                index=i,
                # the chart's label is escaped for Plotly's markup; a table shows text as is
                name=html.unescape(series_label(frame, widget)),
                color=COLORS[i % len(COLORS)],
                values=values,
                texts={key: format_number(value, fmt) for key, value in values.items()},
                last_ts=int(frame.ts[-1]) if len(frame) else None,
            )
        )
    return out


def next_sort(current: tuple[str, bool] | None, clicked: str) -> tuple[str, bool]:
    """The sort after a click on column ``clicked``, as ``(column, descending)``: a new number
    column sorts largest first, the name column A to Z; a second click reverses."""
    if current is not None and current[0] == clicked:
        return clicked, not current[1]
    return clicked, clicked != "name"


def sort_rows(rows: Sequence[LegendRow], column: str, descending: bool) -> list[LegendRow]:
    """The rows sorted by ``column`` (``name`` or a value column); a row without a value comes
    last either way, and equal rows keep their trace order."""
    by_trace = sorted(rows, key=lambda r: r.index)
    if column == "name":  # a stable sort: reversed, equal names still keep their trace order
        return sorted(by_trace, key=lambda r: r.name.casefold(), reverse=descending)
    present = [r for r in rows if r.values.get(column) is not None]
    missing = [r for r in rows if r.values.get(column) is None]
    sign = -1.0 if descending else 1.0
    ordered = sorted(present, key=lambda r: (sign * float(r.values[column] or 0.0), r.index))
    return ordered + sorted(missing, key=lambda r: r.index)
