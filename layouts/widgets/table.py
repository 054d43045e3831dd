"""Table widget: one row a series with its last value, min, max and average over the range."""

from __future__ import annotations

from typing import Any

from dash import html

from dashboard.boards.thresholds import level_title
from dashboard.boards.view import slice_label, varying_labels
from dashboard.metrics.frame import SeriesFrame
from dashboard.metrics.summary import frame_summary
from layouts import ids
from layouts.widgets.stat import format_value, live_text, value_class

COLUMNS = (("last", "Last"), ("min", "Min"), ("max", "Max"), ("avg", "Avg"))
DEFAULT_FORMAT = {"decimals": 2}
COLORED = ("last", "min", "max", "avg")  # the cells the thresholds colour (not a sum)


def series_name(frame: SeriesFrame) -> str:
    """The metric name with its labels, as a row header reads it."""
    labels = frame.key.label_dict
    inner = ", ".join(f"{k}={v}" for k, v in sorted(labels.items()))
    return f"{frame.key.name} {{{inner}}}" if labels else frame.key.name


def row_head(widget: dict[str, Any], frame: SeriesFrame, varying: list[str]) -> Any:
    """A row's series name; a link that drills into the row (by mouse or by keyboard, Enter:
    assets/keys.js puts ``drill=WIDGET:label=value`` in the URL) when rows differ by a label."""
    name = series_name(frame)
    drill = slice_label(frame.key.label_dict, varying) if len(varying) else ""
    if not drill or len(frame.key.label_dict) == 0:
        return name
    return html.A(
        name,
        href="#",
        className="table-drill",
        title=f"Open {drill}",
        **{"data-drill": f"{widget['id']}:{drill}"},
    )


def columns(widget: dict[str, Any]) -> list[tuple[str, str]]:
    """The value columns: last, min, max, avg, and sum when the widget aggregates by sum."""
    cols = list(COLUMNS)
    if widget.get("aggregation") == "sum":
        cols.append(("sum", "Sum"))
    return cols


def header_cell(key: str, text: str, aggregation: str) -> html.Th:
    """A column header; the widget's aggregation is marked, for the eye and for a reader."""
    if key != aggregation:
        return html.Th(text, scope="col")
    return html.Th(
        [text, html.Span(" (aggregation)", className="sr-only")],
        scope="col",
        className="table-agg",
        title="The widget's aggregation",
    )


def rows(widget: dict[str, Any], frames: list[SeriesFrame]) -> list[Any]:
    """The table's caption, head and body (what the slow refresh replaces)."""
    fmt = widget.get("format") or DEFAULT_FORMAT
    thresholds = widget.get("thresholds", [])
    how = widget.get("aggregation", "avg")
    cols = columns(widget)
    varying = varying_labels([f.key.label_dict for f in frames])
    body = []
    for i, frame in enumerate(frames):
        summary = frame_summary(frame)
        cells = [html.Th(row_head(widget, frame, varying), scope="row", className="table-series")]
        for key, label in cols:
            value = summary[key]
            steps = thresholds if key in COLORED else []
            # the live feed rewrites the last value's span with each new point
            live = {"id": ids.table_last(widget["id"], i)} if key == "last" else {}
            content = html.Span(
                format_value(value, fmt),
                className=value_class(value, steps),
                title=level_title(f"{series_name(frame)}, {label}", value, steps, fmt),
                **live,
            )
            cells.append(html.Td(content, className="table-agg" if key == how else None))
        body.append(html.Tr(cells))
    return [
        html.Caption(f"{widget['title']}: each series over the range"),
        html.Thead(
            html.Tr([html.Th("Series", scope="col")] + [header_cell(k, t, how) for k, t in cols])
        ),
        html.Tbody(body),
    ]


def render(
    widget: dict[str, Any], frames: list[SeriesFrame]
) -> tuple[Any, dict[str, list[dict[str, Any]]]]:
    """The table and its live targets (each row's last value)."""
    fmt = widget.get("format") or DEFAULT_FORMAT
    thresholds = widget.get("thresholds", [])
    table = html.Table(
        rows(widget, frames),
        id={"type": ids.SLOW_TABLE, "widget": widget["id"]},
        className="widget-table",
    )
    targets = {
        str(f.key): [
            live_text(ids.table_last(widget["id"], i), f"{series_name(f)}, Last", fmt, thresholds)
        ]
        for i, f in enumerate(frames)
    }
    if not frames:
        return html.P("No series match yet.", className="widget-empty"), {}
    return html.Div(table, className="table-body"), targets
