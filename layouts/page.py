"""The whole page, drawn for the URL it is opened at: a bookmarked dashboard, range, filter or
drill comes with the first response instead of after the default dashboard."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from dash import dcc, html, no_update
from flask import has_request_context, request

from dashboard.auth import role_at_least
from dashboard.auth.guard import current_user
from dashboard.boards import models as dashboards
from dashboard.boards.view import filter_text, parse_drill, parse_filter
from dashboard.clock import now_ms
from dashboard.export.csv import iso
from dashboard.metrics.timerange import PRESETS, dashboard_from_search, from_search, resolve_range
from dashboard.runtime import Runtime
from layouts import alerts as alerts_panel
from layouts import ids, navigation
from layouts.editing import edit_panel
from layouts.shell import POLL_MS, SLOW_REFRESH_MS, grid, header, range_bar

# What a view of the URL sets, in the order render_view answers (the range callback's outputs).
VIEW_OUTPUTS: list[tuple[str, str]] = [
    (ids.WIDGETS_GRID, "children"),
    (ids.LIVE_CONFIG, "data"),
    (ids.RANGE_TEXT, "children"),
    (ids.RANGE_LIVE, "hidden"),
    (ids.HEADER_TITLE, "children"),
    (ids.DASHBOARD_SELECT, "value"),
    (ids.BREADCRUMB, "children"),
    (ids.FILTER_STATUS, "children"),
    (ids.FILTER_INPUT, "value"),
    (ids.RANGE_SELECT, "value"),
    (ids.EDIT_DRAWN, "data"),
]


def describe(rng: dict[str, Any], live: bool, now: int) -> str:
    """The range in words for the status line."""
    if live:
        preset = str(rng["from"]).removeprefix("now-")
        return f"{PRESETS.get(preset, preset)}, live"
    start, end = resolve_range(rng, now)
    return f"{iso(start)} to {iso(end)} (fixed)"


def view_options(search: str | None) -> tuple[dict[str, str], Any, str]:
    """The URL's label filter (empty when it is bad), its drill-down, and a message for the
    filter's status line (what it does, or what is wrong with it)."""
    query = parse_qs((search or "").lstrip("?"))
    drill = parse_drill((query.get("drill") or [""])[0])
    try:
        label_filter = parse_filter((query.get("filter") or [""])[0])
    except ValueError as exc:
        return {}, drill, f"{exc}; showing everything"
    note = f"Only series with {filter_text(label_filter)}" if label_filter else ""
    return label_filter, drill, note


def render_view(
    rt: Runtime, search: str | None, user: Any, editing: bool = False
) -> tuple[Any, ...]:
    """The URL's dashboard over the URL's range, narrowed by its filter and drill, with the edit
    controls when ``editing`` (and the user may edit): one value for each of ``VIEW_OUTPUTS``
    (``no_update`` where it stays as it is)."""
    rng, live = from_search(search)
    wanted = dashboard_from_search(search)
    dash = rt.dashboard(wanted)
    label_filter, drill, note = view_options(search)
    query = parse_qs((search or "").lstrip("?"))
    typed = (query.get("filter") or [""])[0]
    # the range box shows the URL's preset (a fixed span keeps the box as it was)
    preset = (query.get("range") or [""])[0]
    shown_preset = preset if live and preset in PRESETS else no_update
    text = describe(rng, live, now_ms())
    if dash is None:
        missing = html.P(f"There is no dashboard {wanted!r}.", className="widget-error")
        return (
            [missing],
            no_update,
            text,
            live,
            "Unknown",
            no_update,
            [],
            note,
            typed,
            shown_preset,
            no_update,
        )
    # the edit controls come with the grid in edit mode only: a hundred widgets' toolbars would
    # otherwise be most of the page's components
    editable = editing and user is not None and role_at_least(user.role, "editor")
    cards, config = grid(rt, dash, rng, live, editable, label_filter, drill)
    config["search"] = search or ""  # the range callback skips a first call for this same view
    crumbs = navigation.crumb_list(navigation.crumbs_for(search, dash))
    view = (cards, config, text, live, dash["title"], dash["id"], crumbs, note, typed)
    return (*view, shown_preset, editable)


def page(
    rt: Runtime, dashboard: dict[str, Any], user: Any = None, search: str | None = None
) -> html.Div:
    """The whole page for a dashboard, with history read now and the cursor it starts from;
    with a ``search``, the view that URL asks for instead."""
    alert_store = rt.alerts.store  # type: ignore[union-attr]
    editor = user is not None and role_at_least(user.role, "editor")
    if search:
        cards: list[Any] = []  # the view below fills them
        config: dict[str, Any] = {"dashboard": dashboard["id"], "cursor": rt.hub.cursor}
        config.update(targets={}, catchers=[], live=True, search="")
    else:
        cards, config = grid(rt, dashboard, dashboard["range"], True)  # edit mode is off
        config["search"] = ""
    layout = html.Div(
        [
            dcc.Location(id=ids.PAGE_URL, refresh=False),
            header(dashboard, user, len(alert_store.firing())),
            # shown by assets/live.js while the node's bus or database is unreachable
            html.Div(id=ids.LIVE_BANNER, className="live-banner", hidden=True),
            range_bar(rt.dashboards.list() if rt.dashboards else [], dashboard["id"]),
            navigation.breadcrumb(navigation.crumbs_for("", dashboard)),
            edit_panel(rt, editor, dashboard["id"]),
            html.Main(cards, id=ids.WIDGETS_GRID, className="grid"),
            alerts_panel.panel(
                alert_store.events(limit=20),
                [
                    {**r.to_json(), "snoozed_until": alert_store.snoozed_until(r.id)}
                    for r in alert_store.rules()
                ],
                editor,
            ),
            html.Div(id=ids.ALERTS_TOASTS, className="toasts", **{"aria-live": "polite"}),
            html.Div(
                id=ids.ALERTS_ANNOUNCE,
                className="sr-only",
                role="status",
                **{"aria-live": "assertive"},
            ),
            dcc.Store(id=ids.ALERTS_REFRESH),
            dcc.Store(id=ids.LIVE_CONFIG, data=config),
            dcc.Store(id=ids.LIVE_CURSOR, data=config["cursor"]),
            dcc.Store(id=ids.LIVE_POLL_DATA),
            dcc.Store(id=ids.LIVE_SINK),
            dcc.Store(id=ids.EDIT_DRAWN, data=False),  # whether the grid has its edit controls
            dcc.Interval(id=ids.LIVE_POLL, interval=POLL_MS, disabled=True),
            dcc.Interval(id=ids.WIDGETS_REFRESH, interval=SLOW_REFRESH_MS),
        ],
        className="app",
    )
    if search:
        set_view(layout, render_view(rt, search, user))
    return layout


def set_view(layout: html.Div, values: tuple[Any, ...]) -> None:
    """Put a view's values into the page, as the range callback would once it is loaded."""
    wanted = {out: value for out, value in zip(VIEW_OUTPUTS, values, strict=True)}
    config = wanted[(ids.LIVE_CONFIG, "data")]
    if isinstance(config, dict):  # the feed starts where the view's history ends
        wanted[(ids.LIVE_CURSOR, "data")] = config["cursor"]
    found = [
        (component, prop, value)
        for component in layout._traverse()
        for (cid, prop), value in wanted.items()
        if getattr(component, "id", None) == cid and value is not no_update
    ]
    for component, prop, value in found:
        setattr(component, prop, value)


def page_search() -> str:
    """The query of the page that asks for its layout (Dash fetches the layout without it; the
    Referer, sent in full to the same origin, has it), or "" outside a request."""
    if not has_request_context() or not request.referrer:
        return ""
    query = urlsplit(request.referrer).query
    return f"?{query}" if query else ""


def serve_layout(rt: Runtime) -> html.Div:
    """The layout Dash serves on each page load: the view the page's URL asks for (the default
    dashboard without one)."""
    dash = rt.dashboard(dashboards.DEFAULT_ID) or dashboards.default_dashboard()
    return page(rt, dash, current_user(), page_search())
