"""Edit mode's "Variables" section (editors): the dashboard's variables, each with Edit and
Remove, and the form that adds or changes one, with a preview of the options it gives and the
validator's errors next to the field they are about.

Drawn from the variables it is handed; nothing here reads a store.
"""

from __future__ import annotations

from typing import Any

from dash import dcc, html

from dashboard.boards.variables import TYPES, definition_text

SECTION = "vars-edit"
HEADING = "vars-edit-heading"
LIST = "vars-edit-list"
FORM_HEADING = "vars-edit-form-heading"
NAME = "vars-edit-name"
NAME_ERROR = "vars-edit-name-error"
KIND = "vars-edit-type"
DEFINITION = "vars-edit-definition"
DEFINITION_LABEL = "vars-edit-definition-label"
DEFINITION_ERROR = "vars-edit-definition-error"
MULTI = "vars-edit-multi"  # a toggle button: its aria-pressed is the setting
INCLUDE_ALL = "vars-edit-include-all"
PREVIEW = "vars-edit-preview"
SAVE = "vars-edit-save"
CANCEL = "vars-edit-cancel"
STATUS = "vars-edit-status"
EDITING = "vars-edit-editing"  # the name of the variable the form changes (None: a new one)
EDIT_ITEM = "vars-edit-item"  # {"type": EDIT_ITEM, "name": n}: a variable's Edit button
REMOVE_ITEM = "vars-edit-remove"  # {"type": REMOVE_ITEM, "name": n}: its Remove button

KIND_LABELS = {"query": "Query (label values)", "custom": "Custom list", "interval": "Interval"}
DEFINITION_LABELS = {
    "query": "Query: label_values(metric, label)",
    "custom": "Values, comma-separated",
    "interval": "Intervals, comma-separated",
}
PLACEHOLDERS = {
    "query": "label_values(demo.requests, route)",
    "custom": "prod, staging",
    "interval": "1m, 5m, 1h",
}


def variable_rows(variables: list[dict[str, Any]] | None) -> list[Any]:
    """One row per variable: its name, type and definition, an Edit and a Remove button."""
    if not variables:
        return [html.Li("No variables yet.", className="vars-edit-empty")]
    return [_row(v) for v in variables]


def _row(var: dict[str, Any]) -> html.Li:
    """A variable's row."""
    name = var["name"]
    return html.Li(
        [
            html.Code("$" + name, className="vars-edit-var"),
            html.Span(var.get("type", "query"), className="vars-edit-kind"),
            html.Span(definition_text(var), className="vars-edit-def", title=definition_text(var)),
            html.Button(
                "Edit",
                id={"type": EDIT_ITEM, "name": name},
                type="button",
                className="small-button",
                **{"aria-label": f"Edit variable {name}"},
            ),
            html.Button(
                "Remove",
                id={"type": REMOVE_ITEM, "name": name},
                type="button",
                className="small-button",
                **{"aria-label": f"Remove variable {name}"},
            ),
        ],
        className="vars-edit-row",
        **{"data-var": name},
    )


def _toggle(control_id: str, text: str, title: str) -> html.Button:
    """A setting switched on and off by a button (``aria-pressed``), as a checkbox would."""
    return html.Button(
        text,
        id=control_id,
        type="button",
        className="small-button vars-edit-toggle",
        title=title,
        **{"aria-pressed": "false"},
    )


def _field(label: Any, control_id: str, control: Any, error_id: str | None = None) -> html.Div:
    """A labelled control with the line that says what is wrong with it."""
    error = [html.Span(id=error_id, className="field-error", role="status")] if error_id else []
    return html.Div(
        [html.Label(label, htmlFor=control_id, className="range-label"), control, *error],
        className="config-field",
    )


def variables_section() -> html.Section:
    """The "Variables" section: the list (filled in when edit mode opens) and the form."""
    return html.Section(
        [
            html.H3("Variables", id=HEADING, className="config-heading"),
            html.Ul(variable_rows(None), id=LIST, className="vars-edit-list"),
            html.Div(
                [
                    html.H4("Add a variable", id=FORM_HEADING, className="vars-edit-title"),
                    _field(
                        "Name",
                        NAME,
                        dcc.Input(
                            id=NAME,
                            type="text",
                            placeholder="env",
                            debounce=True,
                            autoComplete="off",
                            spellCheck=False,
                            className="range-input",
                        ),
                        NAME_ERROR,
                    ),
                    _field(
                        "Type",
                        KIND,
                        dcc.Dropdown(
                            id=KIND,
                            options=[{"label": KIND_LABELS[t], "value": t} for t in TYPES],
                            value="query",
                            clearable=False,
                            searchable=False,
                            className="vars-edit-kind",
                        ),
                    ),
                    _field(
                        html.Span(DEFINITION_LABELS["query"], id=DEFINITION_LABEL),
                        DEFINITION,
                        dcc.Input(
                            id=DEFINITION,
                            type="text",
                            placeholder=PLACEHOLDERS["query"],
                            debounce=True,
                            autoComplete="off",
                            spellCheck=False,
                            className="range-input vars-edit-definition",
                        ),
                        DEFINITION_ERROR,
                    ),
                    html.Div(
                        [
                            _toggle(MULTI, "Multi-select", "Pick several values at once"),
                            _toggle(INCLUDE_ALL, "Include All", 'Offer "All" (every value)'),
                        ],
                        className="vars-edit-flags",
                        role="group",
                        **{"aria-label": "Options"},
                    ),
                    html.P(
                        id=PREVIEW,
                        className="range-text vars-edit-preview",
                        role="status",
                        **{"aria-live": "polite"},
                    ),
                    html.Button("Add variable", id=SAVE, type="button", className="small-button"),
                    html.Button("Cancel", id=CANCEL, type="button", className="small-button"),
                    html.Span(id=STATUS, role="status", className="range-text"),
                    dcc.Store(id=EDITING),
                ],
                className="vars-edit-form",
                role="group",
                **{"aria-labelledby": FORM_HEADING},
            ),
        ],
        id=SECTION,
        className="vars-editor",
        **{"aria-labelledby": HEADING},
    )


def form_for(var: dict[str, Any] | None) -> tuple[Any, ...]:
    """What the form shows to change ``var`` (None: an empty form for a new one): its heading,
    name, type, definition, the multi-select and include-All toggles (``aria-pressed``), the
    save button's text and the name it edits."""
    if var is None:
        return "Add a variable", "", "query", "", "false", "false", "Add variable", None
    return (
        f"Edit ${var['name']}",
        var["name"],
        var.get("type", "query"),
        definition_text(var),
        "true" if var.get("multi") else "false",
        "true" if var.get("include_all") else "false",
        "Save variable",
        var["name"],
    )


def preview_text(options: list[str], limit: int = 12) -> str:
    """The preview line: how many options the variable gives and the first few."""
    if not options:
        return "Gives no options (yet): nothing in the store matches."
    shown = ", ".join(options[:limit]) + (", …" if len(options) > limit else "")
    return f"Gives {len(options)} option{'' if len(options) == 1 else 's'}: {shown}"
