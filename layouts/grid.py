"""The widget grid: each widget's card on the 12-column grid, drawn from what was read for it
(``dashboard.boards.view.BoardView``), and the live feed's config for the page."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from dash import html

from dashboard.boards.view import BoardView, WidgetView, filter_text
from layouts import ids
from layouts.editing import drag_handle, edit_bar, resize_handle
from layouts.widgets import bar, lazy, line, pie, stat, status, table

Targets = dict[str, list[dict[str, Any]]]


def _labels_text(labels: dict[str, str]) -> str:
    """``{k="v"}`` for a series key's text form (empty without labels)."""
    if not labels:
        return ""
    return "{" + ",".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}"


def widget_head(widget: dict[str, Any], editable: bool = False) -> html.Div:
    """A card's head: its title and CSV link (and, when editable, the drag handle)."""
    rng = widget.get("range") or {"from": "now-24h", "to": "now"}
    query = urlencode(
        [
            ("query", s["expr"])
            if "expr" in s
            else ("series", f"{s['name']}{_labels_text(s.get('labels') or {})}")
            for s in widget["series"]
        ]
        + [("start", rng["from"]), ("end", rng["to"]), ("step", widget.get("step", "auto"))]
    )
    return html.Div(
        [
            *([drag_handle(widget)] if editable else []),
            html.H3(widget["title"], className="widget-title"),
            html.A(
                "View",
                # assets/keys.js opens it alone (``panel=ID``, the page's other parameters kept);
                # `v` on a focused widget does the same, Escape comes back
                href=f"?panel={widget['id']}",
                className="widget-menu panel-link",
                title="Open alone at full size (v)",
                **{"data-panel": widget["id"], "aria-label": f"View {widget['title']} alone"},
            ),
            html.A(
                "CSV",
                href=f"/api/v1/export.csv?{query}",
                download="",
                className="widget-menu",
                **{"aria-label": f"Download {widget['title']} as CSV"},
            ),
        ],
        className="widget-head",
    )


def widget_card(widget: dict[str, Any], body: Any, editable: bool = False) -> html.Section:
    """A widget's card, placed on the 12-column grid by its layout; a card slot (see
    layouts/widgets/lazy.py) as ``body`` is its whole content."""
    lay = widget["layout"]
    style = {
        "gridColumn": f"{lay['x'] + 1} / span {lay['w']}",
        "gridRow": f"{lay['y'] + 1} / span {lay['h']}",
    }
    children: list[Any]
    if isinstance(body, html.Div) and "widget-lazy-card" in (getattr(body, "className", "") or ""):
        children = [body]
    elif editable:
        children = [widget_head(widget, True), edit_bar(widget), body, resize_handle(widget)]
    else:
        children = [widget_head(widget), body]
    return html.Section(
        children,
        id=ids.widget(widget["id"]),
        className=f"widget widget-{widget['kind']}",
        style=style,
        **{"aria-label": widget["title"], **{f"data-{k}": str(v) for k, v in lay.items()}},
    )


def render_widget(
    widget: dict[str, Any],
    frames: list[Any],
    window_ms: int,
    delta: dict[str, str] | None = None,
    defer_spark: bool = True,
) -> tuple[Any, Targets]:
    """A widget's body and its live targets, by kind (``delta``: a stat's previous period; a
    stat tile below the first screen gets its sparkline when it scrolls near, unless not
    ``defer_spark``)."""
    kind = widget["kind"]
    if kind == "line":
        return line.render(widget, frames, window_ms)
    if kind == "stat":
        later = lazy.slot(widget) if defer_spark and lazy.spark_deferred(widget) else None
        return stat.render(widget, frames, delta, later)
    if kind == "table":
        return table.render(widget, frames)
    if kind == "status":
        return status.render(widget, frames)
    if kind == "bar":
        return bar.render(widget, frames), {}
    if kind == "pie":
        return pie.render(widget, frames), {}
    return html.P(f"Unknown widget kind {kind!r}", className="widget-error"), {}


def widget_body(
    view: WidgetView, window_ms: int, editable: bool, label_filter: dict[str, str]
) -> tuple[Any, Targets]:
    """A card's body and its live targets: the widget drawn, or a slot that is drawn when it
    scrolls near (below the first screen: the chart only in edit mode, else the whole card)."""
    shown = view.widget
    if view.filtered_out:
        message = f"No data for filter {filter_text(label_filter)}"
        return html.P(message, className="widget-empty", role="status"), {}
    if view.error:
        return html.P(view.error, className="widget-error", role="alert"), {}
    if view.deferred:  # its series only, for its live targets
        body: Any = lazy.slot(shown)
        targets = line.targets(shown, view.keys, window_ms) if shown["kind"] == "line" else {}
    else:
        body, targets = render_widget(shown, view.frames, window_ms, view.delta)
    if lazy.far(shown) and not editable:  # its live targets as drawn; the rest when it comes near
        body = lazy.card_slot(shown)
    return body, targets


def filtered_catchers(
    catchers: list[dict[str, Any]], label_filter: dict[str, str]
) -> list[dict[str, Any]]:
    """The live catch-alls of a widget narrowed by the page's label filter: each selector also
    asks for the filter's labels (one that asks for another value of a label picks nothing)."""
    out = []
    for catcher in catchers:
        selectors = []
        for sel in catcher["selectors"]:
            labels = sel.get("labels") or {}
            if any(labels.get(k, v) != v for k, v in label_filter.items()):
                continue
            selectors.append({**sel, "labels": {**labels, **label_filter}})
        if selectors:
            out.append({**catcher, "selectors": selectors})
    return out


def grid(board: BoardView, editable: bool = False) -> tuple[list[Any], dict[str, Any]]:
    """The widget cards of a board, and the live feed's config (no live targets when fixed)."""
    window = line.window_of(board.rng, board.now)
    cards = []
    targets: Targets = {}
    catchers: list[dict[str, Any]] = []
    for view in board.widgets:
        body, widget_targets = widget_body(view, window, editable, board.label_filter)
        if board.label_filter and "*" in widget_targets:  # later series: those the filter keeps
            widget_targets["*"] = filtered_catchers(widget_targets["*"], board.label_filter)
        cards.append(widget_card(view.widget, body, editable))
        for key, items in widget_targets.items():
            if key == "*":
                catchers.extend(items)
            else:
                targets.setdefault(key, []).extend(items)
    config = {
        "dashboard": board.dashboard_id,
        "cursor": board.cursor,
        "targets": targets if board.live else {},
        "catchers": catchers if board.live else [],
        "live": board.live,
        "vars": board.variables,  # the variables' values: the live feed writes them in too
    }
    return cards, config


def owned_by(item: dict[str, Any], widget_id: str) -> bool:
    """Whether a live target (or catch-all) of the page's config draws into that widget."""
    target = str(item.get("graph") or item.get("id") or (item.get("add") or {}).get("graph", ""))
    own = {ids.graph(widget_id), ids.value(widget_id), ids.spark(widget_id), ids.delta(widget_id)}
    if target in own:
        return True
    prefix = ids.widget(widget_id) + "-"
    rest = target[len(prefix) :] if target.startswith(prefix) else ""
    kind, _, index = rest.partition("-")
    return kind in ("status", "last") and index.isdigit()
