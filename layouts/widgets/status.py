"""Status widget: up, degraded or down per service (1, 0.5, 0)."""

from __future__ import annotations

from typing import Any

from dash import html

from dashboard.metrics.frame import SeriesFrame
from layouts import ids


def state_of(value: float | None) -> tuple[str, str]:
    """``(text, css class)`` for a health value (``assets/live.js`` maps it the same way)."""
    if value is None:
        return "No data", "status-pill status-unknown"
    if value >= 1:
        return "Up", "status-pill status-up"
    if value >= 0.5:
        return "Degraded", "status-pill status-degraded"
    return "Down", "status-pill status-down"


def render(
    widget: dict[str, Any], frames: list[SeriesFrame]
) -> tuple[Any, dict[str, list[dict[str, Any]]]]:
    """A row per series with its current state, and the live targets that update it."""
    rows = []
    targets: dict[str, list[dict[str, Any]]] = {}
    for i, frame in enumerate(frames):
        label = ", ".join(frame.key.label_dict.values()) or frame.key.name
        last = float(frame.value[-1]) if len(frame) else None
        text, cls = state_of(last)
        pid = ids.status_item(widget["id"], i)
        rows.append(
            html.Li(
                [html.Span(label, className="status-name"), html.Span(text, id=pid, className=cls)],
                className="status-row",
            )
        )
        targets[str(frame.key)] = [{"type": "status", "id": pid}]
    return html.Ul(rows, className="status-list"), targets
