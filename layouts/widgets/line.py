"""Line widget: several series over the dashboard's range, extended live."""

from __future__ import annotations

import json
from typing import Any

from dash import dcc, html

from dashboard.boards.exprs import live_entries
from dashboard.boards.figures import GRAPH_CONFIG, line_figure
from dashboard.boards.legend import (
    COLUMNS,
    LegendRow,
    legend_format,
    legend_rows,
    shows_table,
)
from dashboard.boards.units import resolved
from dashboard.metrics.frame import SeriesFrame
from dashboard.metrics.timerange import resolve_range
from layouts import ids

figure = line_figure  # the figure (in dashboard/boards/figures.py), by its old name


def render(
    widget: dict[str, Any], frames: list[SeriesFrame], window_ms: int
) -> tuple[Any, dict[str, list[dict[str, Any]]]]:
    """The chart (over its legend table, in that legend mode) and its live targets (each
    series extends its trace)."""
    gid = ids.graph(widget["id"])
    graph = dcc.Graph(
        id=gid, figure=line_figure(widget, frames), config=GRAPH_CONFIG, className="widget-graph"
    )
    return with_legend(widget, frames, graph, live=True), targets(
        widget, [f.key for f in frames], window_ms
    )


def with_legend(widget: dict[str, Any], frames: list[SeriesFrame], graph: Any, live: bool) -> Any:
    """The chart alone, or (legend mode ``table``) the chart over its legend table; ``live``:
    assets/legend.js moves the Last column with the points the live feed draws."""
    if not shows_table(widget):
        return graph
    return html.Div([graph, legend_table(widget, frames, live)], className="legend-host")


def legend_table(widget: dict[str, Any], frames: list[SeriesFrame], live: bool) -> html.Div:
    """A table of the chart's series (colour, name, last, min, max, mean over the range): a
    header's button sorts by its column, a row's click shows its series alone (assets/legend.js)."""
    rows = legend_rows(widget, frames)  # in trace order, until a header's click sorts them
    head = [sort_header("name", "Series")] + [sort_header(k, t) for k, t in COLUMNS]
    table = html.Table(
        [
            html.Caption(f"{widget['title']}: legend", className="sr-only"),
            html.Thead(html.Tr(head)),
            html.Tbody([legend_row(r) for r in rows]),
        ],
        className="legend-table",
        # resolved, as the live feed's tiles get theirs: assets/live.js formats with it
        **{
            "data-format": json.dumps(resolved(legend_format(widget))),
            "data-live": "1" if live else "0",
        },
    )
    return html.Div(table, className="legend-table-wrap")


def sort_header(key: str, text: str) -> html.Th:
    """A column's header: a button that sorts by the column (``aria-sort`` says how it is)."""
    return html.Th(
        html.Button(text, type="button", className="legend-sort", **{"data-sort": key}),
        scope="col",
        className="legend-col-name" if key == "name" else None,
        **{"aria-sort": "none"},
    )


def legend_row(row: LegendRow) -> html.Tr:
    """A series' row: its colour and name (a button: shows the series alone), then its values
    (each cell keeps its number, for sorting)."""
    cells: list[Any] = [
        html.Th(
            [
                html.Span(
                    className="legend-swatch",
                    style={"backgroundColor": row.color},
                    **{"aria-hidden": "true"},
                ),
                html.Button(
                    row.name,
                    type="button",
                    className="legend-series",
                    title="Show this series alone (again: all; shift-click: show or hide it)",
                ),
            ],
            scope="row",
            className="legend-name",
        )
    ]
    for key, _ in COLUMNS:
        value = row.values[key]
        cells.append(
            html.Td(
                row.texts[key],
                **{"data-col": key, "data-value": "" if value is None else repr(value)},
            )
        )
    return html.Tr(
        cells,
        className="legend-row",
        **{
            "data-trace": str(row.index),
            "data-last-x": "" if row.last_ts is None else str(row.last_ts),
        },
    )


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
