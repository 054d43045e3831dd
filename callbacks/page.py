"""What the page shows, gathered for the layout and the callbacks that draw views: the signed-in
user, the dashboards, the URL's view read through the boards service, the alerts."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import has_request_context, request

from dashboard import auth
from dashboard.alerts import service as alerts
from dashboard.auth.guard import current_user
from dashboard.boards import prefs
from dashboard.boards import service as boards
from dashboard.boards.models import DEFAULT_ID, default_dashboard
from dashboard.boards.variables import Picked
from dashboard.boards.view import BoardView, panel_board, read_search
from dashboard.clock import now_ms
from dashboard.metrics.service import known_keys
from dashboard.metrics.steps import DAY
from dashboard.metrics.timerange import from_search, resolve_range
from dashboard.runtime import Runtime
from layouts import page
from layouts.grid import grid
from layouts.widgets import lazy


def page_search() -> str:
    """The query of the page that asks for its layout (Dash fetches the layout without it; the
    Referer, sent in full to the same origin, has it), or "" outside a request."""
    if not has_request_context() or not request.referrer:
        return ""
    query = urlsplit(request.referrer).query
    return f"?{query}" if query else ""


def read_board(
    rt: Runtime,
    dashboard: dict[str, Any],
    rng: dict[str, Any],
    live: bool,
    label_filter: dict[str, str] | None = None,
    drill: tuple[str, dict[str, str]] | None = None,
    picked: dict[str, Picked] | None = None,
) -> BoardView:
    """A dashboard's widgets read now for a page (charts below the first screen wait), written
    with the ``picked`` values of its variables (their defaults without them)."""
    cursor = rt.hub.cursor  # read before the history, so the live feed overlaps, never gaps
    now = now_ms()
    start, _ = resolve_range(rng, now)
    # the alerts that fired in the range, marked on the charts of their series
    events = alerts.recent_events(store=rt.alerts.store, limit=1000, since_ts=max(0, start - DAY))
    return boards.read_board(
        reader=rt,
        dashboard=dashboard,
        rng=rng,
        live=live,
        now=now,
        cursor=cursor,
        deferred=lazy.deferred,
        label_filter=label_filter,
        drill=drill,
        alert_events=events,
        picked=picked,
    )


def page_variables(
    rt: Runtime, dashboard: dict[str, Any], search: str | None
) -> tuple[dict[str, Picked], list[dict[str, Any]]]:
    """The values of a dashboard's variables for a page URL (its ``var-NAME`` values where they
    are options) and their dropdowns."""
    wanted = read_search(search).variables
    return boards.pick_variables(reader=rt, dashboard=dashboard, wanted=wanted, now=now_ms())


def render_view(rt: Runtime, search: str | None, user: Any, editing: bool = False) -> tuple:
    """The URL's dashboard over the URL's range, narrowed by its filter and drill, with the edit
    controls when ``editing`` (and the user may edit): one value for each of
    ``layouts.page.VIEW_OUTPUTS`` (``no_update`` where it stays as it is)."""
    query = read_search(search)
    dash = boards.find_dashboard(store=rt.dashboards, dashboard_id=query.dashboard_id)
    if dash is None:
        return page.missing_view(query, now_ms())
    # the edit controls come with the grid in edit mode only: a hundred widgets' toolbars would
    # otherwise be most of the page's components
    editable = editing and auth.can_edit(user)
    picked, variables = page_variables(rt, dash, search)
    if query.panel:  # one widget alone, at full size (no editing there)
        dash, editable = panel_board(dash, query.panel), False
    board = read_board(rt, dash, query.rng, query.live, query.label_filter, query.drill, picked)
    return page.view_values(query, dash, board, editable, variables)


def drawn_grid(
    rt: Runtime, saved: dict[str, Any], search: str | None
) -> tuple[list[Any], dict[str, Any]]:
    """The grid drawn again, with its edit controls, from a dashboard just saved."""
    rng, live = from_search(search)
    picked, _ = page_variables(rt, saved, search)
    return grid(read_board(rt, saved, rng, live, picked=picked), editable=True)


def page_data(rt: Runtime) -> page.PageData:
    """What the page shows for the request that asks for its layout: the view its URL asks for
    (the default dashboard without one)."""
    user = current_user()
    search = page_search()
    store = rt.dashboards
    dashboard = boards.find_dashboard(store=store, dashboard_id=DEFAULT_ID) or default_dashboard()
    cursor = rt.hub.cursor
    alert_store = rt.alerts.store
    now = now_ms()
    picked, variables = page_variables(rt, dashboard, search)
    return page.PageData(
        dashboard=dashboard,
        cursor=cursor,
        user=user,
        editor=auth.can_edit(user),
        boards=boards.list_dashboards(store=store),
        metric_names=sorted({k.name for k in known_keys(reader=rt)}),
        firing=len(alerts.firing(store=alert_store)),
        alert_events=alerts.recent_events(store=alert_store, limit=20),
        alert_rules=alerts.rules_with_snooze(store=alert_store, now_ms=now),
        board=None
        if search
        else read_board(rt, dashboard, dashboard["range"], True, picked=picked),
        view=render_view(rt, search, user) if search else None,
        variables=variables,
        finder=prefs.list_for(store=store, username=user.username) if user is not None else None,
    )
