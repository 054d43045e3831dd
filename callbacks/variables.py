"""The dashboard's variables: a value picked in a dropdown goes into the URL (``var-NAME``) and
redraws only the widgets that use a variable whose values changed (any viewer may pick values;
only editors change the definitions, through the dashboard's JSON)."""

from __future__ import annotations

from typing import Any

from dash import ALL, Dash, Input, Output, State, no_update, set_props

from callbacks.page import page_variables, read_board
from dashboard.boards import service as boards
from dashboard.boards.variables import ALL as ALL_VALUES
from dashboard.boards.variables import changed, widget_references, wire_values
from dashboard.boards.view import panel_board, read_search, with_variables
from dashboard.runtime import Runtime
from layouts import ids
from layouts.grid import grid, owned_by


def picked_values(values: list[Any], controls: list[dict[str, str]]) -> dict[str, list[str]]:
    """Each dropdown's value as a list of strings, by variable name: All picked last replaces
    the values before it, a value picked after All replaces All (as Grafana's picker does)."""
    out: dict[str, list[str]] = {}
    for value, control in zip(values, controls, strict=True):
        items = [str(v) for v in (value if isinstance(value, list) else [value]) if v is not None]
        if ALL_VALUES in items:
            every = items[-1] == ALL_VALUES
            items = [ALL_VALUES] if every else [v for v in items if v != ALL_VALUES]
        out[str(control["name"])] = items
    return out


def dropdown_values(
    values: list[Any], picked: dict[str, list[str]], controls: list[dict[str, str]]
) -> list[Any]:
    """What each dropdown shows once All and values are sorted out (``no_update`` where that
    is what it shows already)."""
    out: list[Any] = []
    for value, control in zip(values, controls, strict=True):
        shown = picked[str(control["name"])]
        same = shown == value if isinstance(value, list) else shown == [value]
        out.append(no_update if same or not isinstance(value, list) else shown)
    return out


def redraw(
    rt: Runtime, search: str, new_search: str, config: dict[str, Any], editable: bool
) -> Any:
    """Draw anew the cards of the widgets that use a changed variable (each card's content is
    set on its own: the other cards, and their charts, stay as they are); the live config with
    their live targets replaced."""
    query = read_search(new_search)
    dash = boards.find_dashboard(store=rt.dashboards, dashboard_id=query.dashboard_id)
    if dash is None:
        return no_update
    old, _ = page_variables(rt, dash, search)
    new, _ = page_variables(rt, dash, new_search)
    names = changed(old, new)
    shown = panel_board(dash, query.panel) if query.panel else dash
    touched = [i for i, w in enumerate(shown["widgets"]) if widget_references(w) & names]
    config = {**(config or {}), "search": new_search}
    if not touched:
        return {**config, "vars": wire_values(new)}
    part = {**shown, "widgets": [shown["widgets"][i] for i in touched]}
    board = read_board(rt, part, query.rng, query.live, query.label_filter, query.drill, new)
    cards, fresh = grid(board, editable and not query.panel)
    for card, view in zip(cards, board.widgets, strict=True):
        set_props(card.id, {"children": card.children, "aria-label": view.widget["title"]})
    ids_touched = [shown["widgets"][i]["id"] for i in touched]
    targets: dict[str, list[dict[str, Any]]] = {}
    for key, items in (config.get("targets") or {}).items():
        kept = [t for t in items if not any(owned_by(t, w) for w in ids_touched)]
        if kept:
            targets[key] = kept
    for key, items in fresh["targets"].items():
        targets.setdefault(key, []).extend(items)
    catchers = [
        c for c in config.get("catchers") or [] if not any(owned_by(c, w) for w in ids_touched)
    ]
    config.update(
        targets=targets,
        catchers=catchers + fresh["catchers"],
        cursor=fresh["cursor"],  # read before the new history: the feed overlaps, never gaps
        vars=fresh["vars"],
    )
    return config


def register(app: Dash, rt: Runtime) -> None:
    """Register the variables' callback on ``app``."""

    @app.callback(
        Output(ids.PAGE_URL, "search", allow_duplicate=True),
        Output(ids.LIVE_CONFIG, "data", allow_duplicate=True),
        Output({"type": ids.VARS_SELECT, "name": ALL}, "value"),
        Input({"type": ids.VARS_SELECT, "name": ALL}, "value"),
        State({"type": ids.VARS_SELECT, "name": ALL}, "id"),
        State(ids.PAGE_URL, "search"),
        State(ids.LIVE_CONFIG, "data"),
        State(ids.EDIT_DRAWN, "data"),
        prevent_initial_call=True,
    )
    def pick(
        values: list[Any],
        controls: list[dict[str, str]],
        search: str | None,
        config: dict[str, Any] | None,
        editable: bool | None,
    ) -> tuple[Any, Any, list[Any]]:
        """Put the picked values in the URL and redraw the widgets that use them (the range
        callback then finds the URL's view drawn already and leaves the page as it is)."""
        if not controls:
            return no_update, no_update, []
        picked = picked_values(values, controls)
        shown = dropdown_values(values, picked, controls)
        new_search = with_variables(search, picked)
        if new_search == (search or ""):
            return no_update, no_update, shown
        new_config = redraw(rt, search or "", new_search, config or {}, bool(editable))
        return new_search, new_config, shown
