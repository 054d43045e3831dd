"""Stat (KPI) widget: the latest value, coloured by thresholds, over a one-hour sparkline."""

from __future__ import annotations

from typing import Any

from dash import dcc, html

from dashboard.boards.exprs import live_entries
from dashboard.boards.figures import SPARK_CONFIG, spark_figure
from dashboard.boards.thresholds import level_class, level_title, live_steps, scale_note
from dashboard.boards.units import format_number, resolved
from dashboard.metrics.frame import SeriesFrame
from dashboard.metrics.steps import HOUR
from layouts import ids


def format_value(value: float | None, fmt: dict[str, Any]) -> str:
    """The number as the tile shows it (``assets/live.js`` formats the same way)."""
    return format_number(value, fmt)


def value_class(value: float | None, thresholds: list[dict[str, Any]]) -> str:
    """``stat-value``, plus the level of the threshold step the value reaches (``level-ok``
    below the first, ``level-warn`` for amber…) and ``stat-breach`` for a red one
    (``assets/live.js`` ``valueClass`` gives the same)."""
    level = level_class(value, thresholds)
    if not level:
        return "stat-value"
    return f"stat-value {level} stat-breach" if level == "level-bad" else f"stat-value {level}"


def live_text(
    element_id: str, name: str, fmt: dict[str, Any], thresholds: list[dict[str, Any]]
) -> dict[str, Any]:
    """The live target of a number (a tile's, a table cell's): assets/live.js writes each new
    value with the resolved format, and its class and title from the steps."""
    target: dict[str, Any] = {"type": "text", "id": element_id, "format": resolved(fmt)}
    if thresholds:
        target.update(
            steps=live_steps(thresholds, fmt), scale=scale_note(thresholds, fmt), name=name
        )
    return target


def delta_line(widget: dict[str, Any], delta: dict[str, str] | None) -> Any:
    """``▲ 12.3% vs previous 24 h`` under the number, its colour and label saying up or down."""
    if not delta or not delta["text"]:
        return None
    return html.Div(
        delta["text"],
        id=ids.delta(widget["id"]),
        className=f"stat-delta stat-delta-{delta['direction']}",
        title=delta["label"],
        role="note",
        **{"aria-label": delta["label"]},
    )


def threshold_note(thresholds: list[dict[str, Any]], fmt: dict[str, Any]) -> str:
    """What the value's colours mean (``green below 2.00%, amber from 2.00%, red from
    5.00%``), for the tile's title (hover) and its accessible description."""
    return scale_note(thresholds, fmt)


def spark(widget: dict[str, Any], frame: SeriesFrame | None) -> dcc.Graph:
    """The tile's sparkline."""
    return dcc.Graph(
        id=ids.spark(widget["id"]),
        figure=spark_figure(frame),
        config=SPARK_CONFIG,
        className="stat-spark",
    )


def render(
    widget: dict[str, Any],
    frames: list[SeriesFrame],
    delta: dict[str, str] | None = None,
    spark_slot: Any = None,
) -> tuple[Any, dict[str, list[dict[str, Any]]]]:
    """The tile and its live targets (the number and the sparkline), with the change against
    the previous period when it is known; ``spark_slot`` stands in for the sparkline."""
    frame = frames[0] if frames else None
    last = float(frame.value[-1]) if frame is not None and len(frame) else None
    fmt = widget.get("format", {})
    thresholds = widget.get("thresholds", [])
    vid, sid = ids.value(widget["id"]), ids.spark(widget["id"])
    body = html.Div(
        [
            html.Div(
                format_value(last, fmt),
                id=vid,
                className=value_class(last, thresholds),
                title=level_title(widget["title"], last, thresholds, fmt),
                **{"aria-live": "off"},
            ),
            delta_line(widget, delta),
            spark(widget, frame) if spark_slot is None else spark_slot,
        ],
        className="stat-body",
    )
    targets: dict[str, list[dict[str, Any]]] = {}
    live = [
        live_text(vid, widget["title"], fmt, thresholds),
        {"type": "trace", "graph": sid, "trace": 0, "window": HOUR},
    ]
    if frame is not None:
        targets[str(frame.key)] = live
    else:  # no data yet: the first series of the widget to send a point takes the tile
        targets["*"] = [
            {"selectors": live_entries(widget["series"]), "once": True, "targets": live}
        ]
    return body, targets
