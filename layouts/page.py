"""The whole page, drawn for the URL it is opened at: a bookmarked dashboard, range, filter or
drill comes with the first response instead of after the default dashboard.

The page is drawn from ``PageData``, gathered for each page load by ``callbacks/page.py``;
nothing here reads a store, the request or the signed-in user.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dash import dcc, html, no_update

from dashboard.boards.view import BoardView, PageQuery
from dashboard.export.csv import iso
from dashboard.metrics.timerange import PRESETS, resolve_range
from layouts import alerts as alerts_panel
from layouts import ids, navigation
from layouts.editing import edit_panel
from layouts.grid import grid
from layouts.header import header, range_bar, variables_bar

SLOW_REFRESH_MS = 30_000
POLL_MS = 2_000

# What a view of the URL sets, in the order view_values answers (the range callback's outputs).
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
    (ids.VARS_BAR, "children"),
]


@dataclass
class PageData:
    """Everything the page shows when it loads (``view``: the values of the URL's own view, one
    for each of ``VIEW_OUTPUTS``, when the URL asks for one; ``board`` otherwise)."""

    dashboard: dict[str, Any]
    cursor: str
    user: Any = None  # the signed-in user (``username``, ``role``), None without one
    editor: bool = False
    boards: list[dict[str, Any]] = field(default_factory=list)  # every dashboard's id, title
    metric_names: list[str] = field(default_factory=list)
    firing: int = 0
    alert_events: list[dict[str, Any]] = field(default_factory=list)
    alert_rules: list[dict[str, Any]] = field(default_factory=list)
    board: BoardView | None = None
    view: tuple[Any, ...] | None = None
    variables: list[dict[str, Any]] = field(default_factory=list)  # the variables' dropdowns
    finder: dict[str, Any] | None = None  # the user's list of dashboards (boards.prefs.list_for)


def describe(rng: dict[str, Any], live: bool, now: int) -> str:
    """The range in words for the status line."""
    if live:
        preset = str(rng["from"]).removeprefix("now-")
        return f"{PRESETS.get(preset, preset)}, live"
    start, end = resolve_range(rng, now)
    return f"{iso(start)} to {iso(end)} (fixed)"


def _shown_preset(query: PageQuery) -> Any:
    """The range box shows the URL's preset (a fixed span keeps the box as it was)."""
    return query.preset if query.live and query.preset in PRESETS else no_update


def missing_view(query: PageQuery, now: int) -> tuple[Any, ...]:
    """The view of a URL whose dashboard does not exist: a message in the grid's place."""
    missing = html.P(f"There is no dashboard {query.dashboard_id!r}.", className="widget-error")
    text = describe(query.rng, query.live, now)
    return (
        [missing],
        no_update,
        text,
        query.live,
        "Unknown",
        no_update,
        [],
        query.filter_note,
        query.typed_filter,
        _shown_preset(query),
        no_update,
        [],
    )


def view_values(
    query: PageQuery,
    dashboard: dict[str, Any],
    board: BoardView,
    editable: bool,
    variables: list[dict[str, Any]] | None = None,
) -> tuple[Any, ...]:
    """The URL's dashboard over the URL's range, narrowed by its filter and drill, with the edit
    controls when ``editable`` and a dropdown for each of its ``variables``: one value for each
    of ``VIEW_OUTPUTS``."""
    cards, config = grid(board, editable)
    config["search"] = query.search  # the range callback skips a first call for this same view
    crumbs = navigation.crumb_list(navigation.crumbs_for(query.search, dashboard))
    return (
        cards,
        config,
        describe(query.rng, query.live, board.now),
        query.live,
        dashboard["title"],
        dashboard["id"],
        crumbs,
        query.filter_note,
        query.typed_filter,
        _shown_preset(query),
        editable,
        variables_bar(variables),
    )


def _first_grid(data: PageData) -> tuple[list[Any], dict[str, Any]]:
    """The grid the page starts with: the dashboard's own (edit mode off), or, when the URL asks
    for a view, none yet (the view fills it in) and a feed that starts at ``cursor``."""
    if data.view is not None or data.board is None:
        config = {"dashboard": data.dashboard["id"], "cursor": data.cursor}
        config.update(targets={}, catchers=[], live=True, search="")
        return [], config
    cards, config = grid(data.board)
    config["search"] = ""
    return cards, config


def _stores(config: dict[str, Any]) -> list[Any]:
    """The page's client-side state and timers."""
    return [
        dcc.Store(id=ids.ALERTS_REFRESH),
        dcc.Store(id=ids.LIVE_CONFIG, data=config),
        dcc.Store(id=ids.LIVE_CURSOR, data=config["cursor"]),
        dcc.Store(id=ids.LIVE_POLL_DATA),
        dcc.Store(id=ids.LIVE_SINK),
        dcc.Store(id=ids.EDIT_DRAWN, data=False),  # whether the grid has its edit controls
        dcc.Interval(id=ids.LIVE_POLL, interval=POLL_MS, disabled=True),
        dcc.Interval(id=ids.WIDGETS_REFRESH, interval=SLOW_REFRESH_MS),
    ]


def serve_layout(data: PageData) -> html.Div:
    """The whole page for a dashboard, with history read now and the cursor it starts from;
    with a view of the URL, that view instead."""
    dashboard = data.dashboard
    cards, config = _first_grid(data)
    layout = html.Div(
        [
            dcc.Location(id=ids.PAGE_URL, refresh=False),
            header(dashboard, data.user, data.firing),
            # shown by assets/live.js while the node's bus or database is unreachable
            html.Div(id=ids.LIVE_BANNER, className="live-banner", hidden=True),
            range_bar(data.boards, dashboard["id"], data.finder),
            html.Div(
                variables_bar(data.variables),
                id=ids.VARS_BAR,
                className="vars-bar",
                **{"aria-label": "Dashboard variables"},
            ),
            navigation.breadcrumb(navigation.crumbs_for("", dashboard)),
            edit_panel(data.metric_names, data.editor, dashboard["id"]),
            html.Main(cards, id=ids.WIDGETS_GRID, className="grid"),
            alerts_panel.panel(data.alert_events, data.alert_rules, data.editor),
            html.Div(id=ids.ALERTS_TOASTS, className="toasts", **{"aria-live": "polite"}),
            html.Div(
                id=ids.ALERTS_ANNOUNCE,
                className="sr-only",
                role="status",
                **{"aria-live": "assertive"},
            ),
            *_stores(config),
        ],
        className="app",
    )
    if data.view is not None:
        set_view(layout, data.view)
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
