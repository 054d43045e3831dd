"""What is below the first screen starts as an empty slot; ``assets/live.js`` asks the server for
its content (the ``draw_deferred`` callback) when the slot comes near the viewport, so the page
reads, sends and draws what is in view only.

Outside edit mode a widget placed there is a card slot: its card holds the slot alone (two Dash
components instead of about six), and the slot gets the card's head and body. Dash's renderer
spends time on every component of the page as it draws it, so a hundred-widget dashboard's
first screen no longer waits for the components of the cards below it. In edit mode (toolbars,
drag and drop) the cards are whole and only their charts wait: a chart slot."""

from __future__ import annotations

import json
from typing import Any

from dash import html

from layouts import ids

# Grid rows (70 px and a gap each) from the top that a 1000-px window shows, plus the 200 px
# within which assets/live.js asks for a slot's chart: charts placed there draw with the page
# (asking for them at once would only cost a round trip), the others when they scroll near.
LAZY_FROM_ROW = 10

# Widget kinds whose body is a chart (a dcc.Graph) and so can wait for a scroll.
CHART_KINDS = frozenset({"line", "bar", "pie"})


def far(widget: dict[str, Any]) -> bool:
    """Whether a widget is placed below the first screen."""
    return bool(widget["layout"]["y"] >= LAZY_FROM_ROW)


def card_slot(widget: dict[str, Any]) -> html.Div:
    """The stand-in for the whole content of a card below the first screen (its head and body;
    the stylesheet shows the title and "Loading…" meanwhile)."""
    chart = widget["kind"] in CHART_KINDS or widget["kind"] == "stat"
    return html.Div(
        None,
        id=slot_id(widget["id"]),
        className="widget-lazy widget-lazy-card",
        n_clicks=0,
        **{
            "data-graph-id": graph_id(widget),
            "data-chart": "1" if chart else "0",
            "data-title": widget["title"],
        },
    )


def deferred(widget: dict[str, Any]) -> bool:
    """Whether a widget is a chart placed below the first screen."""
    return widget["kind"] in CHART_KINDS and far(widget)


def spark_deferred(widget: dict[str, Any]) -> bool:
    """Whether a widget is a stat tile below the first screen: its number comes with the page,
    its sparkline (a chart of its own) when it scrolls near."""
    return widget["kind"] == "stat" and far(widget)


def slot_id(widget_id: str) -> dict[str, str]:
    """The id of a widget's slot (its chart, once drawn, keeps its own id)."""
    return {"type": ids.LAZY_SLOT, "widget": widget_id}


def graph_id(widget: dict[str, Any]) -> str:
    """The DOM id the widget's chart will have: live points for it are held until it is drawn."""
    if widget["kind"] == "line":
        return ids.graph(widget["id"])
    if widget["kind"] == "stat":
        return ids.spark(widget["id"])
    if widget["kind"] in CHART_KINDS:
        return _dom_id({"type": ids.SLOW_GRAPH, "widget": widget["id"]})
    return ids.widget(widget["id"]) + "-body"  # no chart: a name for the slot's bookkeeping


def _dom_id(component_id: dict[str, str]) -> str:
    """A dict id as Dash writes it into the page (keys sorted, no spaces)."""
    return json.dumps(component_id, sort_keys=True, separators=(",", ":"))


def slot(widget: dict[str, Any]) -> html.Div:
    """The stand-in for a chart below the first screen (nothing of its data is sent yet)."""
    spark = widget["kind"] == "stat"
    return html.Div(
        None if spark else html.Span("Loading…", className="widget-loading"),
        id=slot_id(widget["id"]),
        className="stat-spark widget-lazy" if spark else "widget-graph widget-lazy",
        n_clicks=0,
        **{"data-graph-id": graph_id(widget), "data-chart": "1"},
    )


def traced_keys(config: dict[str, Any] | None, graph: str) -> list[str] | None:
    """The series the live feed draws into ``graph``, in trace order (None when it has none).

    A chart drawn late shows these, in this order, so each live point goes to its own trace
    and a series that appeared meanwhile is added by its first point, once.
    """
    found: dict[int, str] = {}
    for key, targets in ((config or {}).get("targets") or {}).items():
        for t in targets:
            if t.get("type") == "trace" and t.get("graph") == graph:
                found[int(t["trace"])] = key
    if not found:
        return None
    return [found[i] for i in sorted(found)]
