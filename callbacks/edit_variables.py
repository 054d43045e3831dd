"""Editing a dashboard's variables in the page (editors): the list in edit mode, the form's
preview and errors as it is filled in, and saving an added, changed or removed variable through
the boards service (which refuses anyone but an editor), after which the grid, the variables
bar and the URL's ``var-NAME`` follow."""

from __future__ import annotations

from typing import Any

from dash import ALL, Dash, Input, Output, State, no_update

from callbacks.edit_widgets import REFUSED, _clicked, _clicked_id, _editable_dashboard
from callbacks.page import drawn_grid, page_variables
from dashboard.auth.guard import current_user
from dashboard.boards import service as boards
from dashboard.boards.variables import drop_variable, form_variable, put_variable
from dashboard.boards.view import with_variables
from dashboard.clock import now_ms
from dashboard.metrics.model import ValidationError
from dashboard.runtime import Runtime
from layouts import ids
from layouts import variables_form as form
from layouts.header import variables_bar

# the form's fields, in the order form.form_for answers
FORM_OUTPUTS = (
    (form.FORM_HEADING, "children"),
    (form.NAME, "value"),
    (form.KIND, "value"),
    (form.DEFINITION, "value"),
    (form.MULTI, "aria-pressed"),
    (form.INCLUDE_ALL, "aria-pressed"),
    (form.SAVE, "children"),
    (form.EDITING, "data"),
)


def error_lines(exc: ValidationError | None) -> tuple[str, str, str]:
    """The validator's message as the form shows it: under the name, under the definition,
    or (anything else) in the status line."""
    if exc is None:
        return "", "", ""
    field = exc.field.removeprefix("variable").lstrip(".")
    if field.startswith("name"):
        return exc.message, "", ""
    if field.startswith(("query", "options", "type")):
        return "", exc.message, ""
    return "", "", str(exc)


def read_form(
    name: str | None, kind: str | None, definition: str | None, multi: Any, include_all: Any
) -> dict[str, Any]:
    """The variable the form describes (``multi``, ``include_all``: the toggles'
    ``aria-pressed``); ValidationError when the validator refuses it."""
    return form_variable(
        name=name,
        kind=kind,
        definition=definition,
        multi=multi == "true",
        include_all=include_all == "true",
    )


def saved_outputs(
    rt: Runtime, search: str | None, changed: dict[str, Any], note: str, names: dict[str, bool]
) -> tuple[Any, ...]:
    """Save ``changed`` as the signed-in user (the service checks the role) and what the page
    shows then: the URL (``names``: the variables whose ``var-NAME`` it carries now, True, or no
    longer, False), the grid, its live config, the variables bar, the list and the status."""
    try:
        saved = boards.save_dashboard(
            store=rt.dashboards, dashboard=changed, user=current_user(), edit=note
        )
    except boards.EditRefused:
        return (no_update,) * 5 + (REFUSED,)
    except ValidationError as exc:
        return (no_update,) * 5 + (f"Not saved: {exc}",)
    _, views = page_variables(rt, saved, search)
    shown = {v["name"]: v["value"] for v in views}
    new_search = with_variables(
        search, {n: shown.get(n, []) if keep else [] for n, keep in names.items()}
    )
    cards, config = drawn_grid(rt, saved, new_search)
    config["search"] = new_search  # the range callback finds this view drawn already
    rows = form.variable_rows(saved.get("variables"))
    return new_search, cards, config, variables_bar(views), rows, note


def register(app: Dash, rt: Runtime) -> None:
    """Register the variables editor's callbacks on ``app``."""
    register_list(app, rt)
    register_preview(app, rt)
    register_form(app, rt)
    register_save(app, rt)


def register_list(app: Dash, rt: Runtime) -> None:
    """The list follows the URL's dashboard when edit mode opens or the URL changes."""

    @app.callback(
        Output(form.LIST, "children"),
        Input(ids.EDIT_TOGGLE, "n_clicks"),
        Input(ids.PAGE_URL, "search"),
        prevent_initial_call=True,
    )
    def list_variables(_clicks: Any, search: str | None) -> Any:
        """The URL's dashboard's variables (editors only)."""
        dash = _editable_dashboard(rt, search)
        if isinstance(dash, str):
            return no_update
        return form.variable_rows(dash.get("variables"))


def register_preview(app: Dash, rt: Runtime) -> None:
    """The definition's label follows the type; the preview and errors follow the fields."""
    for toggle in (form.MULTI, form.INCLUDE_ALL):
        app.clientside_callback(
            "function (clicks, pressed) { return pressed === 'true' ? 'false' : 'true'; }",
            Output(toggle, "aria-pressed"),
            Input(toggle, "n_clicks"),
            State(toggle, "aria-pressed"),
            prevent_initial_call=True,
        )

    @app.callback(
        Output(form.DEFINITION_LABEL, "children"),
        Output(form.DEFINITION, "placeholder"),
        Input(form.KIND, "value"),
    )
    def kind_changed(kind: str | None) -> tuple[str, str]:
        """What the definition field asks for with this type."""
        kind = kind if kind in form.DEFINITION_LABELS else "query"
        return form.DEFINITION_LABELS[kind], form.PLACEHOLDERS[kind]

    @app.callback(
        Output(form.NAME_ERROR, "children"),
        Output(form.DEFINITION_ERROR, "children"),
        Output(form.PREVIEW, "children"),
        Input(form.NAME, "value"),
        Input(form.KIND, "value"),
        Input(form.DEFINITION, "value"),
        Input(form.MULTI, "aria-pressed"),
        Input(form.INCLUDE_ALL, "aria-pressed"),
        State(form.EDITING, "data"),
        State(ids.PAGE_URL, "search"),
        prevent_initial_call=True,
    )
    def preview(
        name: str | None,
        kind: str | None,
        definition: str | None,
        multi: str | None,
        include_all: str | None,
        editing: str | None,
        search: str | None,
    ) -> tuple[str, str, str]:
        """The validator's errors (a name another variable has, too), or the options the
        variable gives (a query's: the label values the store has now); nothing while the
        form is empty."""
        if not (name or "").strip() and not (definition or "").strip():
            return "", "", ""
        try:
            var = read_form(name, kind, definition, multi, include_all)
            dash = _editable_dashboard(rt, search)
            if not isinstance(dash, str):
                put_variable(dash.get("variables") or [], var, editing)
        except ValidationError as exc:
            name_error, definition_error, other = error_lines(exc)
            return name_error, definition_error, other
        options = boards.variable_options(reader=rt, var=var, picked={}, now=now_ms())
        return "", "", form.preview_text(options)


# the keyboard user who pressed a variable's Edit lands in its form
FOCUS_NAME = """
function (editing) {
    if (editing) {
        setTimeout(function () { document.getElementById("vars-edit-name").focus(); }, 0);
    }
    return window.dash_clientside.no_update;
}
"""


def register_form(app: Dash, rt: Runtime) -> None:
    """A variable's Edit fills the form with it (and moves the focus there); Cancel empties
    the form."""
    app.clientside_callback(
        FOCUS_NAME,
        Output(form.FORM_HEADING, "title"),
        Input(form.EDITING, "data"),
        prevent_initial_call=True,
    )

    @app.callback(
        *[Output(cid, prop, allow_duplicate=True) for cid, prop in FORM_OUTPUTS],
        Input({"type": form.EDIT_ITEM, "name": ALL}, "n_clicks"),
        Input(form.CANCEL, "n_clicks"),
        State(ids.PAGE_URL, "search"),
        prevent_initial_call=True,
    )
    def open_variable(_edits: list[Any], _cancel: Any, search: str | None) -> tuple[Any, ...]:
        """The form for the variable whose Edit was pressed (an empty one on Cancel)."""
        if not _clicked():
            return (no_update,) * len(FORM_OUTPUTS)
        trigger = _clicked_id()
        if not isinstance(trigger, dict):
            return form.form_for(None)
        dash = _editable_dashboard(rt, search)
        if isinstance(dash, str):
            return (no_update,) * len(FORM_OUTPUTS)
        var = next((v for v in dash.get("variables") or [] if v["name"] == trigger["name"]), None)
        return form.form_for(var)


def register_save(app: Dash, rt: Runtime) -> None:
    """Save the form's variable, or remove one; the page follows."""
    page_outputs = [
        Output(ids.PAGE_URL, "search", allow_duplicate=True),
        Output(ids.WIDGETS_GRID, "children", allow_duplicate=True),
        Output(ids.LIVE_CONFIG, "data", allow_duplicate=True),
        Output(ids.VARS_BAR, "children", allow_duplicate=True),
        Output(form.LIST, "children", allow_duplicate=True),
        Output(form.STATUS, "children"),
    ]

    @app.callback(
        *page_outputs,
        *[Output(cid, prop, allow_duplicate=True) for cid, prop in FORM_OUTPUTS],
        Output(form.NAME_ERROR, "children", allow_duplicate=True),
        Output(form.DEFINITION_ERROR, "children", allow_duplicate=True),
        Input(form.SAVE, "n_clicks"),
        Input({"type": form.REMOVE_ITEM, "name": ALL}, "n_clicks"),
        State(form.NAME, "value"),
        State(form.KIND, "value"),
        State(form.DEFINITION, "value"),
        State(form.MULTI, "aria-pressed"),
        State(form.INCLUDE_ALL, "aria-pressed"),
        State(form.EDITING, "data"),
        State(ids.PAGE_URL, "search"),
        prevent_initial_call=True,
    )
    def save(
        _save: Any,
        _removes: list[Any],
        name: str | None,
        kind: str | None,
        definition: str | None,
        multi: str | None,
        include_all: str | None,
        editing: str | None,
        search: str | None,
    ) -> tuple[Any, ...]:
        """Add, change or remove a variable and save the dashboard (editors only)."""
        keep_form = (no_update,) * (len(FORM_OUTPUTS) + 2)
        if not _clicked():
            return (no_update,) * len(page_outputs) + keep_form
        dash = _editable_dashboard(rt, search)
        if isinstance(dash, str):
            return (no_update,) * (len(page_outputs) - 1) + (dash,) + keep_form
        variables = dash.get("variables") or []
        trigger = _clicked_id()
        if isinstance(trigger, dict):  # a Remove button
            gone = str(trigger["name"])
            changed = {**dash, "variables": drop_variable(variables, gone)}
            out = saved_outputs(rt, search, changed, f"Removed ${gone}", {gone: False})
            return out + (keep_form if gone != editing else form.form_for(None) + ("", ""))
        try:
            var = read_form(name, kind, definition, multi, include_all)
            changed = {**dash, "variables": put_variable(variables, var, editing)}
        except ValidationError as exc:
            name_error, definition_error, other = error_lines(exc)
            status = other or "Not saved: see the errors above."
            return (
                (no_update,) * (len(page_outputs) - 1)
                + (status,)
                + keep_form[:-2]
                + (
                    name_error,
                    definition_error,
                )
            )
        verb = "Saved" if editing else "Added"
        names = {var["name"]: True}
        if editing and editing != var["name"]:
            names[editing] = False
        out = saved_outputs(rt, search, changed, f"{verb} ${var['name']}", names)
        if out[0] is no_update:  # refused or invalid: the form stays as it was
            return out + keep_form
        return out + form.form_for(None) + ("", "")
