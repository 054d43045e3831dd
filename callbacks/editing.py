"""Editing a dashboard in the page (editors): move, resize (buttons or drag), duplicate,
remove, add and configure widgets; new dashboards; JSON export and import."""

from __future__ import annotations

import base64
import json
from typing import Any

from dash import ALL, Dash, Input, Output, State, ctx, no_update

from dashboard import auth
from dashboard.auth.guard import current_user
from dashboard.boards.models import (
    configure_widget,
    edit_widget,
    imported_dashboard,
    new_widget,
    place_widget,
    unique_id,
)
from dashboard.metrics.model import SeriesKey, ValidationError, parse_key
from dashboard.metrics.timerange import dashboard_from_search, from_search
from dashboard.runtime import Runtime
from layouts import ids
from layouts.editing import export_href, series_options
from layouts.page import VIEW_OUTPUTS, render_view
from layouts.shell import grid

REFUSED = "Only editors and admins can change dashboards."

TOGGLE = """
function (clicks) {
    var on = (clicks || 0) % 2 === 1;
    return [!on, on ? "grid editing" : "grid", on ? "Done editing" : "Edit dashboard",
            on ? "true" : "false", on ? window.dash_clientside.no_update : true];
}
"""

EXPORT_HREF = """
function (search) {
    var id = new URLSearchParams(search || "").get("dashboard") || "default";
    return "HREF".replace("ID", encodeURIComponent(id));
}
""".replace("HREF", export_href("ID"))

# the keyboard user who pressed a widget's Edit lands in its form
FOCUS_TITLE = """
function (widget) {
    if (widget) {
        setTimeout(function () { document.getElementById("edit-config-title").focus(); }, 0);
    }
    return window.dash_clientside.no_update;
}
"""

UPLOAD_NAME = """
function (filename) {
    return filename ? "File: " + filename : "Choose a JSON file…";
}
"""


def _editor() -> Any:
    """The signed-in user when they may edit, else None."""
    user = current_user()
    return user if user is not None and auth.role_at_least(user.role, "editor") else None


def register(app: Dash, rt: Runtime) -> None:
    """Register the editing callbacks on ``app``."""
    app.clientside_callback(
        TOGGLE,
        Output(ids.EDIT_FORM, "hidden"),
        Output(ids.WIDGETS_GRID, "className"),
        Output(ids.EDIT_TOGGLE, "children"),
        Output(ids.EDIT_TOGGLE, "aria-pressed"),
        Output(ids.CONFIG_FORM, "hidden", allow_duplicate=True),
        Input(ids.EDIT_TOGGLE, "n_clicks"),
        prevent_initial_call=True,
    )

    @app.callback(
        Output(ids.WIDGETS_GRID, "children", allow_duplicate=True),
        Output(ids.LIVE_CONFIG, "data", allow_duplicate=True),
        Output(ids.EDIT_DRAWN, "data", allow_duplicate=True),
        Input(ids.EDIT_TOGGLE, "n_clicks"),
        State(ids.EDIT_DRAWN, "data"),
        State(ids.PAGE_URL, "search"),
        prevent_initial_call=True,
    )
    def draw_controls(clicks: int | None, drawn: bool, search: str | None) -> tuple[Any, ...]:
        """The grid again with its edit controls, the first time edit mode is switched on (they
        stay, hidden, when it is switched off)."""
        user = _editor()
        if drawn or user is None or (clicks or 0) % 2 == 0:
            return no_update, no_update, no_update
        view = dict(zip(VIEW_OUTPUTS, render_view(rt, search, user, editing=True), strict=True))
        return (
            view[(ids.WIDGETS_GRID, "children")],
            view[(ids.LIVE_CONFIG, "data")],
            view[(ids.EDIT_DRAWN, "data")],
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
        user = _editor()
        if user is None:
            return no_update, no_update, REFUSED
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
        return _drawn(rt, saved, search, note)

    register_drop(app, rt)
    register_config(app, rt)


def _drawn(rt: Runtime, saved: dict[str, Any], search: str | None, note: str) -> tuple[Any, ...]:
    """The grid drawn again from a saved dashboard, its live config, and the status note."""
    rng, live = from_search(search)
    cards, config = grid(rt, saved, rng, live, editable=True)
    return cards, config, note


def register_drop(app: Dash, rt: Runtime) -> None:
    """A widget dropped on the grid (assets/grid.js sets the store): save its new place."""

    @app.callback(
        Output(ids.WIDGETS_GRID, "children", allow_duplicate=True),
        Output(ids.LIVE_CONFIG, "data", allow_duplicate=True),
        Output(ids.EDIT_STATUS, "children", allow_duplicate=True),
        Input(ids.EDIT_DROP, "data"),
        State(ids.PAGE_URL, "search"),
        prevent_initial_call=True,
    )
    def drop(data: Any, search: str | None) -> tuple[Any, ...]:
        """Place the widget at the dropped ``{widget, x, y, w, h}`` and draw the grid again."""
        if not isinstance(data, dict):
            return no_update, no_update, no_update
        user = _editor()
        if user is None:
            return no_update, no_update, REFUSED
        store = rt.dashboards
        assert store is not None
        dash = store.get(dashboard_from_search(search))
        if dash is None:
            return no_update, no_update, "This dashboard no longer exists."
        try:
            where = [int(data[k]) for k in ("x", "y", "w", "h")]
            changed = place_widget(dash, str(data.get("widget")), *where)
            saved = store.put(changed, owner=user.username)
        except (KeyError, TypeError, ValueError, ValidationError) as exc:
            return no_update, no_update, f"Not saved: {exc}"
        x, y, w, h = where
        return _drawn(rt, saved, search, f"Placed {data['widget']} at {x},{y} ({w}×{h})")


def register_config(app: Dash, rt: Runtime) -> None:
    """A widget's settings form: opened by its Edit button, saved (validated) by Save."""
    app.clientside_callback(
        FOCUS_TITLE,
        Output(ids.CONFIG_HEADING, "title"),
        Input(ids.CONFIG_WIDGET, "data"),
        prevent_initial_call=True,
    )

    @app.callback(
        Output(ids.CONFIG_FORM, "hidden"),
        Output(ids.CONFIG_WIDGET, "data"),
        Output(ids.CONFIG_HEADING, "children"),
        Output(ids.CONFIG_TITLE, "value"),
        Output(ids.CONFIG_KIND, "value"),
        Output(ids.CONFIG_AGGREGATION, "value"),
        Output(ids.CONFIG_STEP, "value"),
        Output(ids.CONFIG_SERIES, "options"),
        Output(ids.CONFIG_SERIES, "value"),
        Input({"type": ids.WIDGET_CONFIG, "widget": ALL}, "n_clicks"),
        Input(ids.CONFIG_CANCEL, "n_clicks"),
        State(ids.PAGE_URL, "search"),
        prevent_initial_call=True,
    )
    def open_form(clicks: list[Any], cancel: Any, search: str | None) -> tuple[Any, ...]:
        """Fill the form with the clicked widget's saved settings (or close it on Cancel)."""
        unchanged = (no_update,) * 9
        trigger = ctx.triggered_id
        if trigger is None or not (ctx.triggered and ctx.triggered[0]["value"]):
            return unchanged
        if trigger == ids.CONFIG_CANCEL:
            return (True, None, *unchanged[2:])
        dash = rt.dashboard(dashboard_from_search(search))
        if _editor() is None or dash is None or not isinstance(trigger, dict):
            return unchanged
        widget = next((w for w in dash["widgets"] if w["id"] == trigger["widget"]), None)
        if widget is None:
            return unchanged
        chosen = series_options(rt, widget["series"])
        picked = [str(o["value"]) for o in chosen if _selected(o["value"], widget["series"])]
        return (
            False,
            widget["id"],
            f"Edit widget: {widget['title']}",
            widget["title"],
            widget["kind"],
            widget.get("aggregation", "avg"),
            widget.get("step", "auto"),
            chosen,
            picked,
        )

    @app.callback(
        Output(ids.WIDGETS_GRID, "children", allow_duplicate=True),
        Output(ids.LIVE_CONFIG, "data", allow_duplicate=True),
        Output(ids.EDIT_STATUS, "children", allow_duplicate=True),
        Output(ids.CONFIG_FORM, "hidden", allow_duplicate=True),
        Input(ids.CONFIG_SAVE, "n_clicks"),
        State(ids.CONFIG_WIDGET, "data"),
        State(ids.CONFIG_TITLE, "value"),
        State(ids.CONFIG_KIND, "value"),
        State(ids.CONFIG_AGGREGATION, "value"),
        State(ids.CONFIG_STEP, "value"),
        State(ids.CONFIG_SERIES, "value"),
        State(ids.PAGE_URL, "search"),
        prevent_initial_call=True,
    )
    def save_config(
        clicks: Any,
        widget_id: str | None,
        title: str | None,
        kind: str | None,
        aggregation: str | None,
        step: str | None,
        series: list[str] | None,
        search: str | None,
    ) -> tuple[Any, ...]:
        """Save the form's settings for its widget, validated, and draw the grid again."""
        if not clicks:
            return (no_update,) * 4
        user = _editor()
        if user is None:
            return no_update, no_update, REFUSED, no_update
        store = rt.dashboards
        assert store is not None
        dash = store.get(dashboard_from_search(search))
        if dash is None or not widget_id:
            return no_update, no_update, "Pick a widget's Edit button first.", no_update
        try:
            keys = [parse_key(text) for text in series or []]
            changed = configure_widget(
                dash,
                widget_id,
                title=title or "",
                kind=str(kind),
                aggregation=str(aggregation),
                step=str(step),
                series=[{"name": k.name, "labels": k.label_dict} for k in keys],
            )
            saved = store.put(changed, owner=user.username)
        except (ValueError, ValidationError) as exc:
            return no_update, no_update, f"Not saved: {exc}", no_update
        return (*_drawn(rt, saved, search, f"Saved {title}"), True)


def _selected(value: str, series: list[dict[str, Any]]) -> bool:
    """True when a dropdown value is one of the widget's own series selectors."""
    return any(value == str(SeriesKey.of(s["name"], s.get("labels") or {})) for s in series)


def register_new(app: Dash, rt: Runtime) -> None:
    """A new, empty dashboard from a title (editors), opened at once."""

    @app.callback(
        Output(ids.PAGE_URL, "search", allow_duplicate=True),
        Output(ids.DASHBOARD_SELECT, "options", allow_duplicate=True),
        Output(ids.EDIT_STATUS, "children", allow_duplicate=True),
        Input(ids.NEW_SUBMIT, "n_clicks"),
        State(ids.NEW_TITLE, "value"),
        prevent_initial_call=True,
    )
    def create(clicks: Any, title: str | None) -> tuple[Any, Any, str]:
        """Save an empty dashboard under a fresh id and go to it."""
        user = _editor()
        if not clicks or user is None:
            return no_update, no_update, "Only editors and admins can create dashboards."
        title = (title or "").strip()
        if not title:
            return no_update, no_update, "Give the new dashboard a title."
        store = rt.dashboards
        assert store is not None
        new_id = unique_id(title, lambda i: store.get(i) is not None)
        try:
            store.put(
                {"id": new_id, "title": title, "schema_version": 1, "widgets": []},
                owner=user.username,
            )
        except ValidationError as exc:
            return no_update, no_update, f"Not created: {exc}"
        options = [{"label": b["title"], "value": b["id"]} for b in store.list()]
        return f"?dashboard={new_id}", options, f"Created {title}: add widgets to it."

    register_transfer(app, rt)


def register_transfer(app: Dash, rt: Runtime) -> None:
    """The Export JSON link follows the open dashboard; Import JSON saves a file as a new one."""
    app.clientside_callback(
        EXPORT_HREF, Output(ids.EXPORT_JSON, "href"), Input(ids.PAGE_URL, "search")
    )
    app.clientside_callback(
        UPLOAD_NAME,
        Output(ids.IMPORT_UPLOAD, "children"),
        Input(ids.IMPORT_UPLOAD, "filename"),
        prevent_initial_call=True,
    )

    @app.callback(
        Output(ids.PAGE_URL, "search", allow_duplicate=True),
        Output(ids.DASHBOARD_SELECT, "options", allow_duplicate=True),
        Output(ids.EDIT_STATUS, "children", allow_duplicate=True),
        Input(ids.IMPORT_SUBMIT, "n_clicks"),
        State(ids.IMPORT_UPLOAD, "contents"),
        State(ids.IMPORT_UPLOAD, "filename"),
        State(ids.IMPORT_TITLE, "value"),
        prevent_initial_call=True,
    )
    def import_json(
        clicks: Any, contents: str | None, filename: str | None, title: str | None
    ) -> tuple[Any, Any, str]:
        """Validate the uploaded file, save it under the new title and a fresh id, open it."""
        user = _editor()
        if not clicks or user is None:
            return no_update, no_update, "Only editors and admins can import dashboards."
        if not contents:
            return no_update, no_update, "Choose a JSON file to import."
        store = rt.dashboards
        assert store is not None
        try:
            raw = base64.b64decode(contents.partition(",")[2], validate=True)
            body = json.loads(raw.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            return no_update, no_update, f"Not imported: {filename or 'the file'} is not JSON."
        try:
            board = imported_dashboard(body, title, lambda i: store.get(i) is not None)
            saved = store.put(board, owner=user.username)
        except ValidationError as exc:
            return no_update, no_update, f"Not imported: {exc}"
        options = [{"label": b["title"], "value": b["id"]} for b in store.list()]
        return f"?dashboard={saved['id']}", options, f"Imported {saved['title']}"
