"""Plotly figures as plain dicts (fast to build, no validation pass), shared by widget kinds."""

from __future__ import annotations

from typing import Any

from dashboard.metrics.frame import SeriesFrame

COLORS = ["#3b82f6", "#f59e0b", "#10b981", "#ef4444", "#8b5cf6", "#06b6d4", "#ec4899", "#84cc16"]
GRAPH_CONFIG = {
    "displaylogo": False,
    "responsive": True,
    "modeBarButtonsToRemove": ["lasso2d", "select2d", "autoScale2d"],
    "toImageButtonOptions": {"format": "png", "scale": 2},
}
SPARK_CONFIG = {"staticPlot": True, "responsive": True}


def plotly_text(text: str) -> str:
    """Text that Plotly shows as written: it reads ``<b>``, ``<a href>`` and entities in names."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def series_label(frame: SeriesFrame) -> str:
    """A short legend label (label values, or the metric name), safe from Plotly's markup."""
    labels = frame.key.label_dict
    return plotly_text(", ".join(labels.values()) if labels else frame.key.name)


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


def line_trace(frame: SeriesFrame, index: int) -> dict[str, Any]:
    """A line trace of one series."""
    return {
        "type": "scatter",
        "mode": "lines",
        "name": series_label(frame),
        "x": frame.ts.tolist(),
        "y": frame.value.tolist(),
        "line": {"width": 1.5, "color": COLORS[index % len(COLORS)]},
        "hovertemplate": "%{y:,.4~f}<extra>%{fullData.name}</extra>",
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
            "line": {"color": t.get("color", "red"), "width": 1, "dash": "dash"},
        }
        for t in thresholds
    ]
