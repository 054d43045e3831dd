"""Whole dashboards in the page (editors): a new, empty one; JSON export and import."""

from __future__ import annotations

import base64
import json
from typing import Any

from dash import ALL, Dash, Input, Output, State, no_update

from dashboard import auth
from dashboard.auth.guard import current_user
from dashboard.boards import service as boards
from dashboard.metrics.model import ValidationError
from dashboard.runtime import Runtime
from layouts import ids
from layouts.editing import export_href, import_upload
from layouts.finder import dashboard_options

EXPORT_HREF = """
function (search) {
    var id = new URLSearchParams(search || "").get("dashboard") || "default";
    return "HREF".replace("ID", encodeURIComponent(id));
}
""".replace("HREF", export_href("ID"))

UPLOAD_NAME = """
function (filenames) {
    return (filenames || []).map(function (filename) {
        return filename ? "File: " + filename : "Choose a JSON file…";
    });
}
"""
# the file picker (there once edit mode was opened: a pattern, so its absence is no error)
PICKER = {**ids.IMPORT_PICKER, "form": ALL}


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
        Output(PICKER, "children"),
        Input(PICKER, "filename"),
        prevent_initial_call=True,
    )
    register_new(app, rt)
    register_import(app, rt)

    @app.callback(
        Output(ids.IMPORT_SLOT, "children"),
        Input(ids.EDIT_TOGGLE, "n_clicks"),
        State(ids.IMPORT_SLOT, "children"),
        prevent_initial_call=True,
    )
    def draw_upload(clicks: int | None, drawn: Any) -> Any:
        """Import JSON's file picker, the first time an editor switches edit mode on (it stays,
        hidden with the form, when edit mode is switched off)."""
        if drawn or not (clicks or 0) % 2 or not auth.can_edit(current_user()):
            return no_update
        return import_upload()


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
        State(PICKER, "contents"),
        State(PICKER, "filename"),
        State(ids.IMPORT_TITLE, "value"),
        prevent_initial_call=True,
    )
    def import_json(
        clicks: Any, contents: list[str | None], filenames: list[str | None], title: str | None
    ) -> tuple[Any, Any, str]:
        """Validate the uploaded file, save it under the new title and a fresh id, open it."""
        contents_one = (contents or [None])[0]
        filename = (filenames or [None])[0]
        return _imported(rt, clicks, contents_one, filename, title)


def _imported(
    rt: Runtime, clicks: Any, contents: str | None, filename: str | None, title: str | None
) -> tuple[Any, Any, str]:
    """Import JSON's answer for the picked file (``contents``: a data URL, None: none picked)."""
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
