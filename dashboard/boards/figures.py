"""Plotly figures as plain dicts (pure): fast to build, no validation pass, no dash or plotly.

The one figure layer under both consumers: the page's widgets (``layouts/widgets``) wrap these
in ``dcc.Graph`` cards, the PDF report (``dashboard/export``) renders them to PNG.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from dashboard.boards.annotations import mark_shapes
from dashboard.boards.exprs import EXPR_PREFIX, expr_name, legend_of, widget_exprs
from dashboard.boards.models import LEGEND_MODES
from dashboard.boards.thresholds import line_color
from dashboard.boards.units import axis_format, hover_value, plotly_text
from dashboard.boards.view import slice_label, varying_labels
from dashboard.metrics.frame import SeriesFrame

COLORS = ["#3b82f6", "#f59e0b", "#10b981", "#ef4444", "#8b5cf6", "#06b6d4", "#ec4899", "#84cc16"]
GRAPH_CONFIG = {
    "displayModeBar": "hover",  # the mode bar only over the chart the pointer is on
    "displaylogo": False,
    "responsive": True,
    "modeBarButtonsToRemove": ["lasso2d", "select2d", "autoScale2d"],
    "toImageButtonOptions": {"format": "png", "scale": 2},
}
SPARK_CONFIG = {"staticPlot": True, "responsive": True}
TICK_CHAR_PX = 7  # the width of a tick text's character at the charts' 12 px font


def series_label(frame: SeriesFrame, widget: dict[str, Any] | None = None) -> str:
    """A short legend label, safe from Plotly's markup: an expression's legend template, else
    the label values, else the metric name (or the expression, for an expression's series)."""
    shown = legend_of(widget, frame.key) if widget is not None else None
    if shown:
        return plotly_text(shown)
    labels = frame.key.label_dict
    if labels:
        return plotly_text(", ".join(labels.values()))
    if widget is not None and frame.key.name.startswith(EXPR_PREFIX):
        found = [e for e in widget_exprs(widget) if expr_name(e) == frame.key.name]
        return plotly_text(found[0] if found else frame.key.name)
    return plotly_text(frame.key.name)


def legend_mode(widget: dict[str, Any] | None) -> str:
    """The widget's legend mode: ``list``, ``table`` or ``hidden`` (``list`` when absent or
    not one of those)."""
    legend = (widget or {}).get("legend")
    mode = legend.get("mode") if isinstance(legend, dict) else None
    return mode if mode in LEGEND_MODES else "list"


def shows_plotly_legend(widget: dict[str, Any] | None, series: int) -> bool:
    """Whether the chart shows Plotly's own legend: in ``list`` mode, for two series or more
    (``table`` draws a table under the chart instead, ``hidden`` none)."""
    return legend_mode(widget) == "list" and series > 1


def base_layout(**overrides: Any) -> dict[str, Any]:
    """The layout every chart starts from: tight margins, a date x axis, kept UI state."""
    layout: dict[str, Any] = {
        "margin": {"l": 48, "r": 20, "t": 8, "b": 32},
        # "allow": Plotly's default hides labels past the div, measuring every label's box on
        # each redraw (a forced layout: a third of a live update's time); the margins hold them.
        # Axis types given: Plotly otherwise guesses each from the data on every draw (whether
        # a thousand numbers look like dates)
        "xaxis": {
            "type": "date",
            "showgrid": False,
            "nticks": 7,
            "tickangle": 0,
            "ticklabeloverflow": "allow",
            # the crosshair: a line across at the hovered time (assets/charts.js shows the same
            # time on every time chart of the board)
            "showspikes": True,
            "spikemode": "across",
            "spikesnap": "cursor",
            "spikethickness": 1,
            "spikedash": "dot",
            "spikecolor": "#9ca3af",
        },
        "yaxis": {
            "type": "linear",
            "gridcolor": "#e5e7eb",
            "zeroline": False,
            "ticklabeloverflow": "allow",
        },
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "hovermode": "x unified",
        "uirevision": "keep",
        "font": {"family": "system-ui, sans-serif", "size": 12, "color": "#374151"},
        "showlegend": False,
        "autosize": True,
    }
    layout.update(overrides)
    return layout


def line_trace(
    frame: SeriesFrame, index: int, widget: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A line trace of one series."""
    return {
        "type": "scatter",
        "mode": "lines",
        "name": series_label(frame, widget),
        "x": frame.ts.tolist(),
        "y": frame.value.tolist(),
        "line": {"width": 1.5, "color": COLORS[index % len(COLORS)]},
        "hovertemplate": f"{hover_value(widget_format(widget))}<extra>%{{fullData.name}}</extra>",
    }


def threshold_shapes(thresholds: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Dashed horizontal lines at each threshold."""
    return [
        {
            "type": "line",
            "xref": "paper",
            "x0": 0,
            "x1": 1,
            "y0": t["value"],
            "y1": t["value"],
            "line": {"color": line_color(t.get("color")), "width": 1, "dash": "dash"},
        }
        for t in thresholds
    ]


def widget_format(widget: dict[str, Any] | None) -> dict[str, Any]:
    """The widget's number format (its ``format``, else the one its series' unit gave it)."""
    return dict((widget or {}).get("format") or {})


def with_axis_format(layout: dict[str, Any], widget: dict[str, Any]) -> dict[str, Any]:
    """The layout with the y axis formatted by the widget's unit (15%, $1,200/h, 3.4M), its
    left margin wide enough for the tick texts' prefix and suffix (``1.5k req/s``): the margin
    is fixed, not measured by Plotly at each draw."""
    axis = axis_format(widget_format(widget))
    layout["yaxis"] = {**layout["yaxis"], **axis}
    extra = len(axis.get("tickprefix", "")) + len(axis.get("ticksuffix", ""))
    if extra > 1 and "margin" in layout:
        margin = layout["margin"]
        layout["margin"] = {**margin, "l": margin["l"] + TICK_CHAR_PX * (extra - 1)}
    return layout


def line_figure(widget: dict[str, Any], frames: list[SeriesFrame]) -> dict[str, Any]:
    """A line chart: one trace per series, with threshold lines, its axis in its unit."""
    return {
        "data": [line_trace(f, i, widget) for i, f in enumerate(frames)],
        "layout": with_axis_format(
            base_layout(
                shapes=threshold_shapes(widget.get("thresholds", []))
                + mark_shapes(widget.get("marks", [])),
                showlegend=shows_plotly_legend(widget, len(frames)),
                legend={"orientation": "h", "y": -0.15},
            ),
            widget,
        ),
    }


def bar_figure(widget: dict[str, Any], frames: list[SeriesFrame]) -> dict[str, Any]:
    """Grouped bars, one trace per series, at the widget's aggregation."""
    how = widget.get("aggregation", "avg")
    data = [
        {
            "type": "bar",
            "name": series_label(f, widget),
            "x": f.ts.tolist(),
            "y": f.aggregate(how).tolist(),
            "marker": {"color": COLORS[i % len(COLORS)]},
            # each bar's bucket width, so a click can open that bucket (drill-down)
            "customdata": [f.step.width_ms] * len(f),
            "hovertemplate": f"{hover_value(widget_format(widget))}<extra>%{{x|%H:%M}}</extra>",
        }
        for i, f in enumerate(frames)
    ]
    layout = base_layout(
        bargap=0.15,
        hovermode="closest",
        showlegend=shows_plotly_legend(widget, len(frames)),
        legend={"orientation": "h", "y": -0.15},
    )
    return {"data": data, "layout": with_axis_format(layout, widget)}


def pie_totals(frames: list[SeriesFrame]) -> list[float]:
    """The mean of each series over its buckets (weighted by the points in each)."""
    out = []
    for f in frames:
        if f.sum is not None and f.count is not None and f.count.sum() > 0:
            out.append(float(f.sum.sum() / f.count.sum()))
        else:
            out.append(float(np.mean(f.value)) if len(f) else 0.0)
    return out


def pie_figure(widget: dict[str, Any], frames: list[SeriesFrame]) -> dict[str, Any]:
    """One slice per series; each slice carries the label a click drills into."""
    varying = varying_labels([f.key.label_dict for f in frames])
    return {
        "data": [
            {
                "type": "pie",
                "labels": [series_label(f, widget) for f in frames],
                "values": pie_totals(frames),
                "hole": 0.45,
                "marker": {"colors": COLORS[: len(frames)]},
                "sort": False,
                "customdata": [slice_label(f.key.label_dict, varying) for f in frames],
                "textinfo": "percent",
                "hovertemplate": (
                    f"%{{label}}: {hover_value(widget_format(widget), 'value')}<extra></extra>"
                ),
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


def spark_figure(frame: SeriesFrame | None) -> dict[str, Any]:
    """A stat tile's sparkline: a bare area line of the last hour."""
    x = frame.ts.tolist() if frame is not None else []
    y = frame.value.tolist() if frame is not None else []
    return {
        "data": [
            {
                "type": "scatter",
                "mode": "lines",
                "x": x,
                "y": y,
                "line": {"width": 1.5, "color": COLORS[0]},
                "fill": "tozeroy",
                "fillcolor": "rgba(59,130,246,0.12)",
                "hoverinfo": "skip",
            }
        ],
        "layout": {
            "margin": {"l": 0, "r": 0, "t": 0, "b": 0},
            "xaxis": {"visible": False, "type": "date"},
            "yaxis": {"visible": False, "type": "linear"},
            "paper_bgcolor": "rgba(0,0,0,0)",
            "plot_bgcolor": "rgba(0,0,0,0)",
            "showlegend": False,
            "autosize": True,
        },
    }


# The chart of each widget kind that draws its series over the range (stat tiles draw a
# sparkline of their first series, status and table widgets no chart).
CHARTS: dict[str, Callable[[dict[str, Any], list[SeriesFrame]], dict[str, Any]]] = {
    "line": line_figure,
    "bar": bar_figure,
    "pie": pie_figure,
}


def static_chart(widget: dict[str, Any], frames: list[SeriesFrame]) -> dict[str, Any] | None:
    """The chart a widget shows as an image: its kind's, a tile's sparkline, or None (a table).
    An image has no table under it: a table legend's chart keeps Plotly's legend there (the
    PDF report prints each series' numbers in its own table)."""
    chart = CHARTS.get(widget["kind"])
    if chart is not None:
        if legend_mode(widget) == "table":
            widget = {**widget, "legend": {"mode": "list"}}
        return chart(widget, frames)
    if widget["kind"] == "stat" and frames:
        return spark_figure(frames[0])
    return None
