"""Charts below the first screen start as an empty slot that carries the chart; ``assets/live.js``
puts the chart in when the slot comes near the viewport, so the page draws what is in view only."""

from __future__ import annotations

import json
from typing import Any

from dash import dcc, html
from plotly.io.json import to_json_plotly

from layouts import ids

# Grid rows (70 px and a gap each) from the top that most screens show at once: charts placed
# there draw with the page, the others when they scroll in.
LAZY_FROM_ROW = 8


def slot_id(widget: dict[str, Any]) -> str:
    """The id of a widget's slot (its chart, once drawn, keeps its own id)."""
    return ids.widget(widget["id"]) + "-lazy"


def dom_id(component_id: Any) -> str:
    """A component id as Dash writes it into the page (a dict's keys sorted, no spaces)."""
    if isinstance(component_id, dict):
        return json.dumps(component_id, sort_keys=True, separators=(",", ":"))
    return str(component_id)


def defer(widget: dict[str, Any], body: Any) -> Any:
    """A chart placed below the first screen as a slot holding it; other bodies unchanged."""
    if not isinstance(body, dcc.Graph) or widget["layout"]["y"] < LAZY_FROM_ROW:
        return body
    return html.Div(
        html.Span("Loading…", className="widget-loading"),
        id=slot_id(widget),
        className="widget-graph widget-lazy",
        **{"data-graph": to_json_plotly(body), "data-graph-id": dom_id(body.id)},
    )
