"""The page: header with the connection state, the widget grid, and the live plumbing."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from dash import dcc, html

from dashboard.boards.view import delta_view, filter_text, labels_match
from dashboard.clock import now_ms
from dashboard.metrics.service import period_values, view_widget, widget_frames, widget_keys
from dashboard.metrics.timerange import DEFAULT_PRESET, PRESETS
from dashboard.runtime import Runtime
from layouts import ids, navigation
from layouts.editing import drag_handle, edit_bar, resize_handle
from layouts.widgets import bar, lazy, line, pie, stat, status, table

SLOW_REFRESH_MS = 30_000
POLL_MS = 2_000


def header(dashboard: dict[str, Any], user: Any = None, firing: int = 0) -> html.Header:
    """Title, connection state, a retry button (shown when the live feed gave up), the user."""
    who = (
        [
            html.Span(f"{user.username} ({user.role})", id=ids.HEADER_USER, className="user"),
            html.Button("Sign out", id=ids.HEADER_LOGOUT, className="logout", type="button"),
        ]
        if user is not None
        else []
    )
    return html.Header(
        [
            html.H1("Dashboard", className="brand"),
            html.H2(dashboard["title"], id=ids.HEADER_TITLE, className="dashboard-title"),
            html.Div(
                [
                    html.Span(
                        "Connecting…",
                        id=ids.LIVE_STATE,
                        className="live-state connecting",
                        role="status",
                        **{"aria-live": "polite"},
                    ),
                    html.Button(
                        "Retry",
                        id=ids.LIVE_RETRY,
                        className="live-retry",
                        hidden=True,
                        type="button",
                    ),
                    html.Button(
                        "Pause",
                        id=ids.LIVE_PAUSE,
                        className="live-pause",
                        type="button",
                        title="Pause live updates (what arrives meanwhile is kept)",
                        **{"aria-pressed": "false"},
                    ),
                ],
                className="live-box",
            ),
            html.Div(
                [
                    html.A(
                        [
                            "Alerts ",
                            html.Span(
                                str(firing),
                                id=ids.ALERTS_BADGE,
                                className="badge",
                                hidden=firing == 0,
                            ),
                        ],
                        href="#alerts-panel",
                        className="alerts-link",
                        **{"aria-label": "Alerts firing"},
                    ),
                    html.A(
                        "CSV",
                        href="/api/v1/export.csv?dashboard=default&start=now-24h&end=now",
                        download="",
                        className="header-link",
                        **{"aria-label": "Download the dashboard's data as CSV"},
                    ),
                    html.Button(
                        "PDF report",
                        id=ids.EXPORT_PDF,
                        className="live-pause",
                        type="button",
                        title="A PDF report of the last 24 h",
                    ),
                    html.Button(
                        "Dark theme",
                        id=ids.THEME_TOGGLE,
                        className="live-pause",
                        type="button",
                        **{"aria-pressed": "false"},
                    ),
                    html.Button(
                        "Sound: off",
                        id=ids.ALERTS_SOUND,
                        className="live-pause",
                        type="button",
                        title="Alert sound: off, critical only, or all",
                        **{"aria-pressed": "false"},
                    ),
                ],
                className="alerts-box",
            ),
            html.Div(who, className="user-box"),
        ],
        className="header",
    )


def _labels_text(labels: dict[str, str]) -> str:
    """``{k="v"}`` for a series key's text form (empty without labels)."""
    if not labels:
        return ""
    return "{" + ",".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}"


def range_bar(boards: list[dict[str, Any]] | None = None, current: str = "default") -> html.Nav:
    """The dashboard, and the time range: presets that follow now, a custom from/to, live."""
    return html.Nav(
        [
            html.Label("Dashboard", htmlFor=ids.DASHBOARD_SELECT, className="range-label"),
            dcc.Dropdown(
                id=ids.DASHBOARD_SELECT,
                options=[{"label": b["title"], "value": b["id"]} for b in boards or []],
                value=current,
                clearable=False,
                className="range-select",
            ),
            html.Label("Time range", htmlFor=ids.RANGE_SELECT, className="range-label"),
            dcc.Dropdown(
                id=ids.RANGE_SELECT,
                options=[{"label": text, "value": key} for key, text in PRESETS.items()],
                value=DEFAULT_PRESET,
                clearable=False,
                searchable=False,
                className="range-select",
            ),
            html.Label("From", htmlFor=ids.RANGE_FROM, className="range-label"),
            dcc.Input(id=ids.RANGE_FROM, type="datetime-local", className="range-input"),
            html.Label("To", htmlFor=ids.RANGE_TO, className="range-label"),
            dcc.Input(id=ids.RANGE_TO, type="datetime-local", className="range-input"),
            html.Button("Apply", id=ids.RANGE_APPLY, type="button", className="small-button"),
            html.Span(
                "Live: follows now", id=ids.RANGE_TEXT, className="range-text", role="status"
            ),
            html.Button(
                "Back to live",
                id=ids.RANGE_LIVE,
                type="button",
                hidden=True,
                className="small-button",
            ),
            *navigation.filter_controls(),
        ],
        className="range-bar",
        **{"aria-label": "Time range"},
    )


def widget_head(widget: dict[str, Any], editable: bool = False) -> html.Div:
    """A card's head: its title and CSV link (and, when editable, the drag handle)."""
    rng = widget.get("range") or {"from": "now-24h", "to": "now"}
    query = urlencode(
        [("series", f"{s['name']}{_labels_text(s.get('labels') or {})}") for s in widget["series"]]
        + [("start", rng["from"]), ("end", rng["to"]), ("step", widget.get("step", "auto"))]
    )
    return html.Div(
        [
            *([drag_handle(widget)] if editable else []),
            html.H3(widget["title"], className="widget-title"),
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
    layouts/lazy.py) as ``body`` is its whole content."""
    lay = widget["layout"]
    style = {
        "gridColumn": f"{lay['x'] + 1} / span {lay['w']}",
        "gridRow": f"{lay['y'] + 1} / span {lay['h']}",
    }
    if isinstance(body, html.Div) and "widget-lazy-card" in (body.className or ""):
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


def stat_delta(
    rt: Runtime, widget: dict[str, Any], rng: dict[str, Any], now: int, known: list[Any]
) -> dict[str, str]:
    """A stat tile's change against the previous period of the same length."""
    current, previous, period = period_values(rt, widget, rng, now, known)
    return delta_view(current, previous, period)


def render_widget(
    widget: dict[str, Any],
    frames: list[Any],
    window_ms: int,
    delta: dict[str, str] | None = None,
    defer_spark: bool = True,
) -> tuple[Any, dict[str, list[dict[str, Any]]]]:
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


def grid(
    rt: Runtime,
    dashboard: dict[str, Any],
    rng: dict[str, Any],
    live_mode: bool,
    editable: bool = False,
    label_filter: dict[str, str] | None = None,
    drill: tuple[str, dict[str, str]] | None = None,
) -> tuple[list[Any], dict[str, Any]]:
    """The widget cards for a range, and the live feed's config (no live targets when fixed).

    ``label_filter`` keeps only series with those labels; ``drill`` opens a pie's slice.
    """
    cursor = rt.hub.cursor  # read before the history, so the live feed overlaps, never gaps
    now = now_ms()
    window = line.window_of(rng, now)
    cards = []
    targets: dict[str, list[dict[str, Any]]] = {}
    catchers: list[dict[str, Any]] = []
    known = [i.key for i in rt.series_list()]  # listed once for every widget
    if label_filter:
        known = [k for k in known if labels_match(k.label_dict, label_filter)]
    for widget in dashboard["widgets"]:
        # a widget's own relative range holds in live mode; a fixed range applies to all
        shown = widget if live_mode else {k: v for k, v in widget.items() if k != "range"}
        shown = view_widget(rt, shown, drill, known)
        # below the first screen, a chart is read and drawn when it scrolls near (its series
        # only, for its live targets); outside edit mode, the whole card then
        whole = lazy.far(shown) and not editable
        later = lazy.deferred(shown)
        keys = widget_keys(rt, shown, known) if later else []
        frames = [] if later else widget_frames(rt, shown, rng, now, known)
        if label_filter and not (keys or frames):
            body: Any = html.P(
                f"No data for filter {filter_text(label_filter)}",
                className="widget-empty",
                role="status",
            )
            widget_targets: dict[str, list[dict[str, Any]]] = {}
        else:
            delta = stat_delta(rt, shown, rng, now, known) if shown["kind"] == "stat" else None
            if later:
                body = lazy.slot(shown)
                widget_targets = (
                    line.targets(shown, keys, window) if shown["kind"] == "line" else {}
                )
            else:
                body, widget_targets = render_widget(shown, frames, window, delta)
            if whole:  # its live targets as drawn above; its head and body when it comes near
                body = lazy.card_slot(shown)
        if label_filter:  # a series that turns up later may not match the filter
            widget_targets.pop("*", None)
        cards.append(widget_card(shown, body, editable))
        for key, items in widget_targets.items():
            if key == "*":
                catchers.extend(items)
            else:
                targets.setdefault(key, []).extend(items)
    config = {
        "dashboard": dashboard["id"],
        "cursor": cursor,
        "targets": targets if live_mode else {},
        "catchers": catchers if live_mode else [],
        "live": live_mode,
    }
    return cards, config
