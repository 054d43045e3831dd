"""Edit mode: the panel (add a widget, new dashboard, a widget's settings, JSON export and
import) and each widget's toolbar and drag handles (editors and admins only)."""

from __future__ import annotations

from typing import Any

from dash import dcc, html

from dashboard.boards.models import AGGREGATIONS, KINDS, LEGEND_MODES, STEP_NAMES
from dashboard.boards.units import MAX_DECIMALS, unit_options
from dashboard.metrics.model import SeriesKey
from layouts import ids
from layouts.variables_form import variables_section

FROM_SERIES = "from-series"  # the Unit field's "From the series": the widget keeps no format
EDIT_BUTTONS = (
    ("left", "←", "Move left"),
    ("right", "→", "Move right"),
    ("up", "↑", "Move up"),
    ("down", "↓", "Move down"),
    ("narrower", "−", "Narrower"),
    ("wider", "+", "Wider"),
    ("shorter", "⤒", "Shorter"),
    ("taller", "⤓", "Taller"),
    ("duplicate", "Copy", "Copy (duplicate)"),  # the name holds the visible word
    ("remove", "✕", "Remove"),
)


def export_href(dashboard_id: str) -> str:
    """The API address that downloads a dashboard's JSON."""
    return f"/api/v1/dashboards/{dashboard_id}?download=1"


def series_options(
    known: list[SeriesKey], extra: list[dict[str, Any]] | None = None
) -> list[dict[str, str]]:
    """Every known series (name and labels) as dropdown options, plus ``extra`` selectors that
    are not a stored series themselves (a label subset such as every route)."""
    stored = [s for s in extra or [] if "expr" not in s]  # an expression is no stored series
    keys = [*known, *(SeriesKey.of(s["name"], s.get("labels") or {}) for s in stored)]
    return [{"label": str(k), "value": str(k)} for k in sorted(set(keys))]


def _field(label: str, control_id: str, control: Any, wide: bool = False) -> html.Div:
    """A labelled control of the widget settings form."""
    return html.Div(
        [html.Label(label, htmlFor=control_id, className="range-label"), control],
        className="config-field wide" if wide else "config-field",
    )


def _choice(control_id: str, options: tuple[str, ...]) -> dcc.Dropdown:
    """A small, unsearchable, uncleared dropdown."""
    return dcc.Dropdown(
        id=control_id,
        options=list(options),
        clearable=False,
        searchable=False,
        className="add-kind",
    )


def number_fields() -> list[html.Div]:
    """The form's unit (from the series by default), decimals (empty: as many as the number
    needs), thresholds (``0.02 amber, 0.05 red``, with its inline error) and legend fields."""
    return [
        _field(
            "Unit",
            ids.CONFIG_UNIT,
            dcc.Dropdown(
                id=ids.CONFIG_UNIT,
                options=[{"label": "From the series", "value": FROM_SERIES}, *unit_options()],
                value=FROM_SERIES,
                clearable=False,
                searchable=False,
                className="add-kind config-unit",
            ),
        ),
        _field(
            "Decimals",
            ids.CONFIG_DECIMALS,
            dcc.Input(
                id=ids.CONFIG_DECIMALS,
                type="number",
                min=0,
                max=MAX_DECIMALS,
                step=1,
                placeholder="auto",
                className="config-input config-decimals",
            ),
        ),
        html.Div(
            [
                html.Label("Thresholds", htmlFor=ids.CONFIG_THRESHOLDS, className="range-label"),
                dcc.Input(
                    id=ids.CONFIG_THRESHOLDS,
                    type="text",
                    placeholder="0.02 amber, 0.05 red",
                    className="config-input",
                    spellCheck=False,
                    autoComplete="off",
                ),
                html.Span(
                    id=ids.CONFIG_THRESHOLDS_ERROR,
                    role="alert",
                    className="range-text level-bad config-error",
                ),
            ],
            className="config-field",
        ),
        _field("Legend", ids.CONFIG_LEGEND, _choice(ids.CONFIG_LEGEND, LEGEND_MODES)),
    ]


def config_form() -> html.Section:
    """The settings of one widget: title, kind, aggregation, step, its series, and how its
    numbers read (unit, decimals, thresholds) and its legend."""
    return html.Section(
        [
            html.H3("Edit widget", id=ids.CONFIG_HEADING, className="config-heading"),
            _field(
                "Title",
                ids.CONFIG_TITLE,
                dcc.Input(id=ids.CONFIG_TITLE, type="text", className="config-input"),
            ),
            _field("Kind", ids.CONFIG_KIND, _choice(ids.CONFIG_KIND, KINDS)),
            _field(
                "Aggregation", ids.CONFIG_AGGREGATION, _choice(ids.CONFIG_AGGREGATION, AGGREGATIONS)
            ),
            _field("Step", ids.CONFIG_STEP, _choice(ids.CONFIG_STEP, STEP_NAMES)),
            _field(
                "Series",
                ids.CONFIG_SERIES,
                dcc.Dropdown(
                    id=ids.CONFIG_SERIES,
                    multi=True,
                    searchable=True,
                    placeholder="Search series…",
                    className="config-series",
                ),
                wide=True,
            ),
            *number_fields(),
            html.Button("Save", id=ids.CONFIG_SAVE, type="button", className="small-button"),
            html.Button("Cancel", id=ids.CONFIG_CANCEL, type="button", className="small-button"),
            dcc.Store(id=ids.CONFIG_WIDGET),
        ],
        id=ids.CONFIG_FORM,
        className="config-form",
        hidden=True,
        **{"aria-labelledby": ids.CONFIG_HEADING},
    )


def transfer_controls(dashboard_id: str) -> list[Any]:
    """Export the dashboard's JSON; import a file as a new dashboard under a title."""
    return [
        html.A(
            "Export JSON",
            id=ids.EXPORT_JSON,
            href=export_href(dashboard_id),
            download="",
            className="export-link",
        ),
        # the file picker comes with edit mode (callbacks/edit_boards.py): dcc's upload code
        # (8 KB) is then fetched by the editors who open it, not by every page
        html.Div(id=ids.IMPORT_SLOT, className="import-slot"),
        html.Label("Import as", htmlFor=ids.IMPORT_TITLE, className="range-label"),
        dcc.Input(
            id=ids.IMPORT_TITLE, type="text", placeholder="New title", className="range-input"
        ),
        html.Button("Import JSON", id=ids.IMPORT_SUBMIT, type="button", className="small-button"),
    ]


def import_upload() -> dcc.Upload:
    """The file picker of Import JSON (drawn the first time edit mode is switched on)."""
    return dcc.Upload(
        "Choose a JSON file…",
        id=ids.IMPORT_PICKER,
        accept=".json,application/json",
        className="import-upload",
        max_size=2_000_000,
    )


def add_controls(names: list[str]) -> list[Any]:
    """Add a widget of a kind for a metric picked from a search; start a new dashboard."""
    return [
        html.Label("Kind", htmlFor=ids.ADD_KIND, className="range-label"),
        dcc.Dropdown(
            id=ids.ADD_KIND,
            options=list(KINDS),
            value="line",
            clearable=False,
            className="add-kind",
        ),
        html.Label("Metric", htmlFor=ids.ADD_METRIC, className="range-label"),
        dcc.Dropdown(
            id=ids.ADD_METRIC,
            options=names,
            placeholder="Search metrics…",
            searchable=True,
            className="add-metric",
        ),
        html.Span(id=ids.ADD_METRIC_HINT, role="status", className="range-text metric-hint"),
        html.Button(
            "Use rate()", id=ids.ADD_QUERY_USE, type="button", className="small-button", hidden=True
        ),
        html.Label("Labels", htmlFor=ids.ADD_LABELS, className="range-label"),
        dcc.Input(id=ids.ADD_LABELS, type="text", placeholder="region=eu", className="range-input"),
        html.Label("or a query (PromQL)", htmlFor=ids.ADD_QUERY, className="range-label"),
        dcc.Input(
            id=ids.ADD_QUERY,
            type="text",
            list=ids.ADD_QUERY_HINTS,
            placeholder="sum by (route) (rate(http_requests_total[5m]))",
            className="range-input add-query",
            autoComplete="off",
            spellCheck=False,
        ),
        html.Datalist(id=ids.ADD_QUERY_HINTS),
        html.Span(id=ids.ADD_QUERY_CHECK, role="status", className="range-text query-check"),
        html.Label("Title", htmlFor=ids.ADD_TITLE, className="range-label"),
        dcc.Input(id=ids.ADD_TITLE, type="text", className="range-input"),
        html.Button("Add widget", id=ids.ADD_SUBMIT, type="button", className="small-button"),
        html.Label("Note", htmlFor=ids.NOTE_TEXT, className="range-label"),
        dcc.Input(id=ids.NOTE_TEXT, type="text", placeholder="deploy v2", className="range-input"),
        html.Label("at", htmlFor=ids.NOTE_TIME, className="range-label"),
        dcc.Input(
            id=ids.NOTE_TIME,
            type="text",
            placeholder="now, now-15m or 2026-12-05 14:30 (UTC)",
            className="range-input",
        ),
        html.Button("Add note", id=ids.NOTE_ADD, type="button", className="small-button"),
        html.Label("New dashboard", htmlFor=ids.NEW_TITLE, className="range-label"),
        dcc.Input(id=ids.NEW_TITLE, type="text", placeholder="Title", className="range-input"),
        html.Button("Create", id=ids.NEW_SUBMIT, type="button", className="small-button"),
    ]


def edit_panel(names: list[str], editor: bool, dashboard_id: str = "default") -> html.Div:
    """Edit mode: a switch, and a form that adds a widget for a metric (``names``: every known
    metric, sorted) picked from a search."""
    return html.Div(
        [
            html.Button(
                "Edit dashboard",
                id=ids.EDIT_TOGGLE,
                type="button",
                className="small-button",
                **{"aria-pressed": "false"},
            ),
            html.Div(
                [
                    *add_controls(names),
                    *transfer_controls(dashboard_id),
                    html.Span(id=ids.EDIT_STATUS, role="status", className="range-text"),
                    variables_section(),
                ],
                id=ids.EDIT_FORM,
                className="edit-form",
                hidden=True,
            ),
            config_form(),
            dcc.Store(id=ids.EDIT_DROP),
        ],
        className="edit-panel",
        hidden=not editor,
    )


def edit_bar(widget: dict[str, Any]) -> html.Div:
    """Buttons that move, resize, duplicate, remove and configure a widget (in edit mode)."""
    title = widget["title"]
    return html.Div(
        [
            html.Button(
                symbol,
                id={"type": ids.WIDGET_EDIT, "widget": widget["id"], "op": op},
                type="button",
                className="edit-button",
                title=f"{label}: {title}",
                **{"aria-label": f"{label}: {title}"},
            )
            for op, symbol, label in EDIT_BUTTONS
        ]
        + [
            html.Button(
                "Edit",
                id={"type": ids.WIDGET_CONFIG, "widget": widget["id"]},
                type="button",
                className="edit-button",
                title=f"Title, kind and series: {title}",
                **{"aria-label": f"Edit title, kind and series: {title}"},
            )
        ],
        className="edit-bar",
        role="toolbar",
        **{"aria-label": f"Edit {title}"},
    )


def drag_handle(widget: dict[str, Any]) -> html.Span:
    """The grip in a widget's head that drags it (the toolbar's arrows are the keyboard way)."""
    return html.Span(
        "⠿",
        className="drag-handle",
        title=f"Drag to move {widget['title']}",
        **{"aria-hidden": "true", "data-widget": widget["id"]},
    )


def resize_handle(widget: dict[str, Any]) -> html.Span:
    """The bottom-right corner that drags a widget's size."""
    return html.Span(
        className="resize-handle",
        title=f"Drag to resize {widget['title']}",
        **{"aria-hidden": "true", "data-widget": widget["id"]},
    )
