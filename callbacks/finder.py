"""Finding dashboards: the list follows its search box, tag and starred filters (and the URL,
so a dashboard just created or imported shows); a star or home toggle changes the signed-in
user's own choice and only its buttons (focus stays where it is); "Copy link"."""

from __future__ import annotations

from typing import Any

from dash import ALL, MATCH, ClientsideFunction, Dash, Input, Output, State, ctx, no_update

from dashboard.auth.guard import current_user
from dashboard.boards import prefs
from dashboard.boards.service import DashboardNotFound
from dashboard.runtime import Runtime
from layouts import ids
from layouts.finder import TAG_CHIP, finder_items, tag_options


def _username() -> str | None:
    """The signed-in user's name (None outside a session)."""
    user = current_user()
    return str(user.username) if user is not None else None


def register(app: Dash, rt: Runtime) -> None:
    """Register the finder's callbacks and "Copy link" on ``app``."""
    app.clientside_callback(
        ClientsideFunction("range", "copyLink"),
        Output(ids.COPY_LINK_STATUS, "children"),
        Output(ids.COPY_LINK_STATUS, "title"),
        Input(ids.COPY_LINK, "n_clicks"),
        State({"type": ids.VARS_SELECT, "name": ALL}, "value"),
        State({"type": ids.VARS_SELECT, "name": ALL}, "id"),
        State(ids.DASHBOARD_SELECT, "value"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        "function (clicks, pressed) { return pressed === 'true' ? 'false' : 'true'; }",
        Output(ids.FINDER_STARRED, "aria-pressed"),
        Input(ids.FINDER_STARRED, "n_clicks"),
        State(ids.FINDER_STARRED, "aria-pressed"),
        prevent_initial_call=True,
    )

    @app.callback(
        Output(ids.FINDER_LIST, "children"),
        Output(ids.FINDER_TAG, "options"),
        Output(ids.FINDER_STATUS, "children"),
        Input(ids.FINDER_SEARCH, "value"),
        Input(ids.FINDER_TAG, "value"),
        Input(ids.FINDER_STARRED, "aria-pressed"),
        Input(ids.PAGE_URL, "search"),
        prevent_initial_call=True,
    )
    def refresh(search: str | None, tag: str | None, starred: str | None, _url: Any):
        """The dashboards the filters let through, and every tag in use."""
        username = _username()
        if username is None:
            return no_update, no_update, no_update
        listing = prefs.list_for(
            store=rt.dashboards,
            username=username,
            search=(search or "")[:200],
            tag=tag or "",
            starred_only=starred == "true",
        )
        found = len(listing["dashboards"])
        note = f"{found} dashboard{'' if found == 1 else 's'}"
        return finder_items(listing["dashboards"]), tag_options(listing["tags"]), note

    @app.callback(
        Output(ids.FINDER_TAG, "value"),
        Input({"type": TAG_CHIP, "tag": ALL, "dashboard": ALL}, "n_clicks"),
        prevent_initial_call=True,
    )
    def pick_tag(_clicks: list[int | None]) -> Any:
        """A tag chip pressed: the tag filter set to its tag (the list follows)."""
        trigger = ctx.triggered_id
        clicked = bool(ctx.triggered and ctx.triggered[0].get("value"))  # not a redrawn list
        if not isinstance(trigger, dict) or not clicked:
            return no_update
        return str(trigger["tag"])

    @app.callback(
        Output({"type": ids.FINDER_STAR, "dashboard": MATCH}, "children"),
        Output({"type": ids.FINDER_STAR, "dashboard": MATCH}, "aria-pressed"),
        Output({"type": ids.FINDER_STAR, "dashboard": MATCH}, "className"),
        Output({"type": ids.FINDER_STAR, "dashboard": MATCH}, "title"),
        Input({"type": ids.FINDER_STAR, "dashboard": MATCH}, "n_clicks"),
        State({"type": ids.FINDER_STAR, "dashboard": MATCH}, "aria-pressed"),
        prevent_initial_call=True,
    )
    def toggle_star(clicks: int | None, pressed: str | None):
        """Star or unstar the dashboard for the signed-in user (any role)."""
        username = _username()
        if not clicks or username is None or not isinstance(ctx.triggered_id, dict):
            return (no_update,) * 4
        starred = pressed != "true"
        try:
            prefs.set_star(
                store=rt.dashboards,
                username=username,
                dashboard_id=str(ctx.triggered_id["dashboard"]),
                starred=starred,
            )
        except DashboardNotFound:
            return (no_update,) * 4
        if starred:
            return "★", "true", "finder-star on", "Unstar"
        return "☆", "false", "finder-star", "Star"

    @app.callback(
        Output({"type": ids.FINDER_HOME, "dashboard": ALL}, "aria-pressed"),
        Output({"type": ids.FINDER_HOME, "dashboard": ALL}, "className"),
        Input({"type": ids.FINDER_HOME, "dashboard": ALL}, "n_clicks"),
        State({"type": ids.FINDER_HOME, "dashboard": ALL}, "aria-pressed"),
        prevent_initial_call=True,
    )
    def toggle_home(clicks: list[int | None], pressed: list[str | None]):
        """Make the dashboard the signed-in user's home (again: back to the default one)."""
        username = _username()
        trigger = ctx.triggered_id
        clicked = bool(ctx.triggered and ctx.triggered[0].get("value"))  # not a redrawn list
        if username is None or not isinstance(trigger, dict) or not clicked:
            return [no_update] * len(clicks), [no_update] * len(clicks)
        wanted = str(trigger["dashboard"])
        boards = [str(o["id"]["dashboard"]) for o in ctx.outputs_list[0]]
        was_home = pressed[boards.index(wanted)] == "true"
        try:
            prefs.set_home(
                store=rt.dashboards, username=username, dashboard_id=None if was_home else wanted
            )
        except DashboardNotFound:
            return [no_update] * len(clicks), [no_update] * len(clicks)
        home = None if was_home else wanted
        return (
            ["true" if b == home else "false" for b in boards],
            ["finder-home on" if b == home else "finder-home" for b in boards],
        )
