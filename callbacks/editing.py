"""Editing a dashboard in the page: move, resize, duplicate, remove and add widgets (editors)."""

from __future__ import annotations

from typing import Any

from dash import ALL, Dash, Input, Output, State, ctx, no_update

from dashboard import auth
from dashboard.auth.guard import current_user
from dashboard.dashboards import edit_widget, new_widget, slug
from dashboard.model import ValidationError
from dashboard.runtime import Runtime
from dashboard.timerange import dashboard_from_search, from_search
from layouts import ids
from layouts.shell import grid

TOGGLE = """
function (clicks) {
    var on = (clicks || 0) % 2 === 1;
    return [!on, on ? "grid editing" : "grid", on ? "Done editing" : "Edit dashboard",
            on ? "true" : "false"];
}
"""


def register(app: Dash, rt: Runtime) -> None:
    """Register the editing callbacks on ``app``."""
    app.clientside_callback(
        TOGGLE,
        Output(ids.EDIT_FORM, "hidden"),
        Output(ids.WIDGETS_GRID, "className"),
        Output(ids.EDIT_TOGGLE, "children"),
        Output(ids.EDIT_TOGGLE, "aria-pressed"),
        Input(ids.EDIT_TOGGLE, "n_clicks"),
        prevent_initial_call=True,
    )

    @app.callback(
        Output(ids.WIDGETS_GRID, "children", allow_duplicate=True),
        Output(ids.LIVE_CONFIG, "data", allow_duplicate=True),
        Output(ids.EDIT_STATUS, "children"),
        Input({"type": ids.WIDGET_EDIT, "widget": ALL, "op": ALL}, "n_clicks"),
        Input(ids.ADD_SUBMIT, "n_clicks"),
        State(ids.ADD_KIND, "value"),
        State(ids.ADD_METRIC, "value"),
        State(ids.ADD_LABELS, "value"),
        State(ids.ADD_TITLE, "value"),
        State(ids.PAGE_URL, "search"),
        prevent_initial_call=True,
    )
    def edit(
        clicks: list[Any],
        add: Any,
        kind: str,
        metric: str | None,
        labels: str | None,
        title: str | None,
        search: str | None,
    ) -> tuple[Any, Any, str]:
        """Apply one edit to the saved dashboard and draw it again."""
        trigger = ctx.triggered_id
        if trigger is None or not (ctx.triggered and ctx.triggered[0]["value"]):
            return no_update, no_update, no_update
        user = current_user()
        if user is None or not auth.role_at_least(user.role, "editor"):
            return no_update, no_update, "Only editors and admins can change dashboards."
        store = rt.dashboards
        assert store is not None
        dash = store.get(dashboard_from_search(search))
        if dash is None:
            return no_update, no_update, "This dashboard no longer exists."
        try:
            if isinstance(trigger, dict):
                changed = edit_widget(dash, str(trigger["widget"]), str(trigger["op"]))
                note = f"{trigger['op'].capitalize()}: {trigger['widget']}"
            else:
                if not metric:
                    return no_update, no_update, "Pick a metric to add."
                pairs = {}
                for pair in filter(None, (labels or "").split(",")):
                    k, sep, v = pair.partition("=")
                    if not sep:
                        return no_update, no_update, "Labels: write k=v pairs, comma-separated."
                    pairs[k.strip()] = v.strip()
                changed = new_widget(
                    dash, kind=kind, title=(title or "").strip(), name=metric, labels=pairs
                )
                note = f"Added {changed['widgets'][-1]['title']}"
            saved = store.put(changed, owner=user.username)
        except (ValueError, ValidationError) as exc:
            return no_update, no_update, f"Not saved: {exc}"
        rng, live = from_search(search)
        cards, config = grid(rt, saved, rng, live, editable=True)
        return cards, config, note


def register_new(app: Dash, rt: Runtime) -> None:
    """A new, empty dashboard from a title (editors), opened at once."""

    @app.callback(
        Output(ids.PAGE_URL, "search", allow_duplicate=True),
        Output(ids.DASHBOARD_SELECT, "options"),
        Output(ids.EDIT_STATUS, "children", allow_duplicate=True),
        Input(ids.NEW_SUBMIT, "n_clicks"),
        State(ids.NEW_TITLE, "value"),
        prevent_initial_call=True,
    )
    def create(clicks: Any, title: str | None) -> tuple[Any, Any, str]:
        """Save an empty dashboard under a fresh id and go to it."""
        user = current_user()
        if not clicks or user is None or not auth.role_at_least(user.role, "editor"):
            return no_update, no_update, "Only editors and admins can create dashboards."
        title = (title or "").strip()
        if not title:
            return no_update, no_update, "Give the new dashboard a title."
        store = rt.dashboards
        assert store is not None
        base = slug(title)[:56]
        new_id, n = base, 2
        while store.get(new_id) is not None:
            new_id, n = f"{base}-{n}", n + 1
        try:
            store.put(
                {"id": new_id, "title": title, "schema_version": 1, "widgets": []},
                owner=user.username,
            )
        except ValidationError as exc:
            return no_update, no_update, f"Not created: {exc}"
        options = [{"label": b["title"], "value": b["id"]} for b in store.list()]
        return f"?dashboard={new_id}", options, f"Created {title}: add widgets to it."
