"""Whole dashboards in the page (editors): a new, empty one; JSON export and import."""

from __future__ import annotations

import base64
import json
from typing import Any

from dash import Dash, Input, Output, State, no_update

from dashboard import auth
from dashboard.auth.guard import current_user
from dashboard.boards import service as boards
from dashboard.metrics.model import ValidationError
from dashboard.runtime import Runtime
from layouts import ids
from layouts.editing import export_href
from layouts.finder import dashboard_options

EXPORT_HREF = """
function (search) {
    var id = new URLSearchParams(search || "").get("dashboard") || "default";
    return "HREF".replace("ID", encodeURIComponent(id));
}
""".replace("HREF", export_href("ID"))

UPLOAD_NAME = """
function (filename) {
    return filename ? "File: " + filename : "Choose a JSON file…";
}
"""


def _opened(rt: Runtime, saved: dict[str, Any], note: str) -> tuple[str, Any, str]:
    """Go to a dashboard just saved: its URL, the picker's options with it, and ``note``."""
    options = dashboard_options(boards.list_dashboards(store=rt.dashboards))
    return f"?dashboard={saved['id']}", options, note


def read_upload(contents: str) -> Any:
    """The JSON of an uploaded file (a ``data:`` URL); ValueError when it is not JSON."""
    raw = base64.b64decode(contents.partition(",")[2], validate=True)
    return json.loads(raw.decode("utf-8"))  # UnicodeDecodeError is a ValueError


def register(app: Dash, rt: Runtime) -> None:
    """Register the callbacks that create, export and import dashboards on ``app``."""
    app.clientside_callback(
        EXPORT_HREF, Output(ids.EXPORT_JSON, "href"), Input(ids.PAGE_URL, "search")
    )
    app.clientside_callback(
        UPLOAD_NAME,
        Output(ids.IMPORT_UPLOAD, "children"),
        Input(ids.IMPORT_UPLOAD, "filename"),
        prevent_initial_call=True,
    )
    register_new(app, rt)
    register_import(app, rt)


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
        user = current_user()
        if not clicks or not auth.can_edit(user):
            return no_update, no_update, "Only editors and admins can create dashboards."
        title = (title or "").strip()
        if not title:
            return no_update, no_update, "Give the new dashboard a title."
        try:
            saved = boards.new_dashboard(store=rt.dashboards, title=title, user=user)
        except ValidationError as exc:
            return no_update, no_update, f"Not created: {exc}"
        return _opened(rt, saved, f"Created {title}: add widgets to it.")


def register_import(app: Dash, rt: Runtime) -> None:
    """Import JSON saves an uploaded file as a new dashboard under a title, opened at once."""

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
        user = current_user()
        if not clicks or not auth.can_edit(user):
            return no_update, no_update, "Only editors and admins can import dashboards."
        if not contents:
            return no_update, no_update, "Choose a JSON file to import."
        try:
            body = read_upload(contents)
        except ValueError:
            return no_update, no_update, f"Not imported: {filename or 'the file'} is not JSON."
        try:
            saved = boards.import_dashboard(store=rt.dashboards, body=body, title=title, user=user)
        except ValidationError as exc:
            return no_update, no_update, f"Not imported: {exc}"
        return _opened(rt, saved, f"Imported {saved['title']}")
