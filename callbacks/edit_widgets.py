"""Editing a dashboard's widgets in the page (editors): move, resize (buttons or drag),
duplicate, remove, add, and a widget's settings form."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from dash import ALL, Dash, Input, Output, State, ctx, html, no_update

from callbacks.page import drawn_grid, render_view
from dashboard import auth
from dashboard.auth.guard import current_user
from dashboard.boards import service as boards
from dashboard.boards.exprs import expr_error
from dashboard.boards.models import configure_widget, edit_widget, new_widget, place_widget
from dashboard.boards.thresholds import parse_steps, steps_text
from dashboard.boards.units import edited_format, resolved, unit_of
from dashboard.clock import now_ms
from dashboard.metrics.metadata import type_of
from dashboard.metrics.model import SeriesKey, ValidationError, parse_key
from dashboard.metrics.service import known_keys
from dashboard.metrics.timerange import dashboard_from_search, resolve
from dashboard.query.complete import completions
from dashboard.query.suggest import suggest_expression
from dashboard.runtime import Runtime
from layouts import ids
from layouts.editing import FROM_SERIES, series_options
from layouts.page import VIEW_OUTPUTS

REFUSED = "Only editors and admins can change dashboards."
GONE = "This dashboard no longer exists."

TOGGLE = """
function (clicks) {
    var on = (clicks || 0) % 2 === 1;
    return [!on, on ? "grid editing" : "grid", on ? "Done editing" : "Edit dashboard",
            on ? "true" : "false", on ? window.dash_clientside.no_update : true];
}
"""

# the keyboard user who pressed a widget's Edit lands in its form
FOCUS_TITLE = """
function (widget) {
    if (widget) {
        setTimeout(function () { document.getElementById("edit-config-title").focus(); }, 0);
    }
    return window.dash_clientside.no_update;
}
"""

# what the settings form shows of a widget, in the order form_values answers
FORM_FIELDS = (
    (ids.CONFIG_FORM, "hidden"),
    (ids.CONFIG_WIDGET, "data"),
    (ids.CONFIG_HEADING, "children"),
    (ids.CONFIG_TITLE, "value"),
    (ids.CONFIG_KIND, "value"),
    (ids.CONFIG_AGGREGATION, "value"),
    (ids.CONFIG_STEP, "value"),
    (ids.CONFIG_SERIES, "options"),
    (ids.CONFIG_SERIES, "value"),
    (ids.CONFIG_UNIT, "value"),
    (ids.CONFIG_DECIMALS, "value"),
    (ids.CONFIG_THRESHOLDS, "value"),
    (ids.CONFIG_THRESHOLDS_ERROR, "children"),
    (ids.CONFIG_LEGEND, "value"),
)


class FormError(ValueError):
    """The add-widget form is not filled in right (the message says what to do)."""


def _grid_and_status() -> list[Output]:
    """Outputs of a grid drawn again, its live config and the edit status line."""
    return [
        Output(ids.WIDGETS_GRID, "children", allow_duplicate=True),
        Output(ids.LIVE_CONFIG, "data", allow_duplicate=True),
        Output(ids.EDIT_STATUS, "children", allow_duplicate=True),
    ]


def _clicked_id() -> Any:
    """The id of what a real click fired the callback with, or None when only components
    drawn anew did (their ``n_clicks`` is None). A click and a redraw can come in one call,
    the redraw first: the click is the one with a value."""
    for fired in ctx.triggered or []:
        if fired.get("value"):
            return ctx.triggered_prop_ids.get(fired["prop_id"])
    return None


def _clicked() -> bool:
    """True when a real click (not a component drawn anew) fired the callback."""
    return _clicked_id() is not None


def _saved_view(
    rt: Runtime, search: str | None, changed: dict[str, Any], note: str
) -> tuple[Any, ...]:
    """Save an edited dashboard as the signed-in user: the grid drawn again, its live config
    and ``note`` (or why it was not saved)."""
    try:
        saved = boards.save_dashboard(
            store=rt.dashboards, dashboard=changed, user=current_user(), edit=note
        )
    except boards.EditRefused:
        return no_update, no_update, REFUSED
    except ValidationError as exc:
        return no_update, no_update, f"Not saved: {exc}"
    return (*drawn_grid(rt, saved, search), note)


def _editable_dashboard(rt: Runtime, search: str | None) -> dict[str, Any] | str:
    """The URL's saved dashboard when the signed-in user may edit it, else the status text."""
    if not auth.can_edit(current_user()):
        return REFUSED
    dash = boards.find_dashboard(store=rt.dashboards, dashboard_id=dashboard_from_search(search))
    return GONE if dash is None else dash


def parse_labels(text: str | None) -> dict[str, str]:
    """``{"region": "eu"}`` from ``region=eu`` (comma-separated k=v pairs); FormError else."""
    pairs = {}
    for pair in filter(None, (text or "").split(",")):
        k, sep, v = pair.partition("=")
        if not sep:
            raise FormError("Labels: write k=v pairs, comma-separated.")
        pairs[k.strip()] = v.strip()
    return pairs


def edited(
    dash: dict[str, Any],
    trigger: Any,
    kind: str,
    metric: str | None,
    labels: str | None,
    title: str | None,
    query: str | None = None,
) -> tuple[dict[str, Any], str]:
    """The dashboard with a toolbar's edit or the added widget (of a metric, or of a PromQL
    query), and the status note; FormError when the form is not filled in right, ValueError
    when the edit cannot be made."""
    if isinstance(trigger, dict):
        changed = edit_widget(dash, str(trigger["widget"]), str(trigger["op"]))
        return changed, f"{trigger['op'].capitalize()}: {trigger['widget']}"
    if (query or "").strip():
        problem = expr_error(query)
        if problem is not None:
            raise FormError(f"Query: {problem}")
        changed = new_widget(
            dash, kind=kind, title=(title or "").strip(), name="", labels={}, expr=query.strip()
        )
        return changed, f"Added {changed['widgets'][-1]['title']}"
    if not metric:
        raise FormError("Pick a metric or write a query to add.")
    pairs = parse_labels(labels)
    changed = new_widget(dash, kind=kind, title=(title or "").strip(), name=metric, labels=pairs)
    return changed, f"Added {changed['widgets'][-1]['title']}"


def register(app: Dash, rt: Runtime) -> None:
    """Register the widget editing callbacks on ``app``."""
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
    register_controls(app, rt)
    register_edit(app, rt)
    register_drop(app, rt)
    register_form(app, rt)
    register_save(app, rt)
    register_query_help(app, rt)
    register_notes(app, rt)


def query_help(rt: Runtime, text: str | None) -> tuple[str, list[Any]]:
    """What the query field says as it is typed (the parse error with its position, or that
    it reads well) and its completions (metric names, label names and values)."""
    text = text or ""
    if not text.strip():
        return "", []
    names: set[str] = set()
    labels: dict[str, dict[str, set[str]]] = {}
    for key in known_keys(reader=rt):
        names.add(key.name)
        by_label = labels.setdefault(key.name, {})
        for k, v in key.labels:
            by_label.setdefault(k, set()).add(v)
    proposals = completions(text, names=names, labels=labels)
    problem = expr_error(text)
    note = f"✗ {problem}" if problem else "✓ the query reads well"
    return note, [html.Option(value=p) for p in proposals]


def register_controls(app: Dash, rt: Runtime) -> None:
    """The grid's edit controls are drawn the first time edit mode is switched on."""

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
        user = current_user()
        if drawn or not auth.can_edit(user) or (clicks or 0) % 2 == 0:
            return no_update, no_update, no_update
        view = dict(zip(VIEW_OUTPUTS, render_view(rt, search, user, editing=True), strict=True))
        return (
            view[(ids.WIDGETS_GRID, "children")],
            view[(ids.LIVE_CONFIG, "data")],
            view[(ids.EDIT_DRAWN, "data")],
        )


def register_edit(app: Dash, rt: Runtime) -> None:
    """A widget's toolbar (move, resize, duplicate, remove) and the Add widget form."""

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
        State(ids.ADD_QUERY, "value"),
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
        query: str | None,
    ) -> tuple[Any, ...]:
        """Apply one edit to the saved dashboard and draw it again."""
        if not _clicked():
            return no_update, no_update, no_update
        dash = _editable_dashboard(rt, search)
        if isinstance(dash, str):
            return no_update, no_update, dash
        try:
            changed, note = edited(dash, _clicked_id(), kind, metric, labels, title, query)
        except FormError as exc:
            return no_update, no_update, str(exc)
        except ValueError as exc:  # an edit of a widget that is gone, say
            return no_update, no_update, f"Not saved: {exc}"
        return _saved_view(rt, search, changed, note)


def note_time(text: str | None, now: int) -> int:
    """A note's time from the form: ``now``, ``now-15m`` or ``2026-12-05 14:30`` (UTC);
    FormError for anything else."""
    text = (text or "").strip() or "now"
    try:
        return resolve(text, now)
    except ValueError:
        pass
    try:
        stamp = datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=UTC)
    except ValueError:
        raise FormError("Note time: now, now-15m or YYYY-MM-DD HH:MM (UTC).") from None
    return int(stamp.timestamp() * 1000)


def with_note(dash: dict[str, Any], text: str | None, at: int, author: str) -> dict[str, Any]:
    """The dashboard with a note at ``at`` (ms), by ``author``; FormError without text."""
    text = (text or "").strip()
    if not text:
        raise FormError("Write the note's text.")
    note = {"ts": at, "text": text, "author": author}
    return {**dash, "annotations": [*dash.get("annotations", []), note]}


def register_notes(app: Dash, rt: Runtime) -> None:
    """The edit form's Add note: a labelled line at a time on every time chart, for everyone."""

    @app.callback(
        *_grid_and_status(),
        Input(ids.NOTE_ADD, "n_clicks"),
        State(ids.NOTE_TEXT, "value"),
        State(ids.NOTE_TIME, "value"),
        State(ids.PAGE_URL, "search"),
        prevent_initial_call=True,
    )
    def add_note(
        _clicks: int | None, text: str | None, when: str | None, search: str | None
    ) -> tuple[Any, ...]:
        """Save the note with the dashboard and draw the grid again."""
        if not _clicked():
            return no_update, no_update, no_update
        dash = _editable_dashboard(rt, search)
        if isinstance(dash, str):
            return no_update, no_update, dash
        user = current_user()
        try:
            at = note_time(when, now_ms())
            changed = with_note(dash, text, at, user.username if user else "")
        except FormError as exc:
            return no_update, no_update, str(exc)
        return _saved_view(rt, search, changed, f"Noted {changed['annotations'][-1]['text']}")


def register_query_help(app: Dash, rt: Runtime) -> None:
    """The query field: its inline check and completions, as it is typed (editors only)."""

    @app.callback(
        Output(ids.ADD_QUERY_CHECK, "children"),
        Output(ids.ADD_QUERY_HINTS, "children"),
        Input(ids.ADD_QUERY, "value"),
        prevent_initial_call=True,
    )
    def check_query(text: str | None) -> tuple[Any, Any]:
        """The check and the completions of the query being typed."""
        if not auth.can_edit(current_user()):
            return REFUSED, []
        return query_help(rt, text)

    @app.callback(
        Output(ids.ADD_METRIC_HINT, "children"),
        Output(ids.ADD_QUERY_USE, "hidden"),
        Output(ids.ADD_QUERY_USE, "children"),
        Input(ids.ADD_METRIC, "value"),
        prevent_initial_call=True,
    )
    def metric_hint(metric: str | None) -> tuple[Any, bool, str]:
        """What the picked metric's type suggests (a counter: its rate, as Grafana hints)."""
        proposal = suggested_query(rt, metric)
        if proposal is None:
            return "", True, ""
        kind = type_of(str(metric), rt.metric_metadata())
        return f"{metric} is a {kind}: you likely want {proposal}", False, f"Use {proposal}"

    @app.callback(
        Output(ids.ADD_QUERY, "value"),
        Input(ids.ADD_QUERY_USE, "n_clicks"),
        State(ids.ADD_METRIC, "value"),
        prevent_initial_call=True,
    )
    def use_suggestion(_clicks: int | None, metric: str | None) -> Any:
        """The query field filled with the suggested expression."""
        proposal = suggested_query(rt, metric)
        return proposal if proposal is not None else no_update


def suggested_query(rt: Runtime, metric: str | None) -> str | None:
    """The expression a metric's type suggests (``rate()`` of a counter), or None."""
    if not metric:
        return None
    return suggest_expression(metric, type_of(metric, rt.metric_metadata()))


def register_drop(app: Dash, rt: Runtime) -> None:
    """A widget dropped on the grid (assets/grid.js sets the store): save its new place."""

    @app.callback(
        *_grid_and_status(),
        Input(ids.EDIT_DROP, "data"),
        State(ids.PAGE_URL, "search"),
        prevent_initial_call=True,
    )
    def drop(data: Any, search: str | None) -> tuple[Any, ...]:
        """Place the widget at the dropped ``{widget, x, y, w, h}`` and draw the grid again."""
        if not isinstance(data, dict):
            return no_update, no_update, no_update
        dash = _editable_dashboard(rt, search)
        if isinstance(dash, str):
            return no_update, no_update, dash
        try:
            where = [int(data[k]) for k in ("x", "y", "w", "h")]
            changed = place_widget(dash, str(data.get("widget")), *where)
        except (KeyError, TypeError, ValueError) as exc:
            return no_update, no_update, f"Not saved: {exc}"
        x, y, w, h = where
        return _saved_view(rt, search, changed, f"Placed {data['widget']} at {x},{y} ({w}×{h})")


def _selected(value: str, series: list[dict[str, Any]]) -> bool:
    """True when a dropdown value is one of the widget's own series selectors."""
    return any(
        value == str(SeriesKey.of(s["name"], s.get("labels") or {}))
        for s in series
        if "expr" not in s
    )


def form_values(rt: Runtime, widget: dict[str, Any]) -> tuple[Any, ...]:
    """The settings form filled in with a widget's saved settings, one value per FORM_FIELDS."""
    chosen = series_options(known_keys(reader=rt), widget["series"])
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
        unit_of(widget.get("format")) or FROM_SERIES,
        # a format saved before units had ids shows its implied 0 decimals, not auto
        resolved(widget["format"]).get("decimals", 0) if widget.get("format") else None,
        steps_text(widget.get("thresholds")),
        "",
        (widget.get("legend") or {}).get("mode", "list"),
    )


def with_number_settings(
    dash: dict[str, Any],
    widget_id: str,
    *,
    unit: str | None,
    decimals: Any,
    thresholds: str | None,
    legend: str | None,
) -> dict[str, Any]:
    """A copy of the dashboard with one widget's format, thresholds and legend as the settings
    form has them (not yet validated; FormError when the thresholds do not read)."""
    try:
        steps = parse_steps(thresholds)
    except ValueError as exc:
        raise FormError(f"Thresholds: {exc}") from None
    widgets = []
    for widget in dash["widgets"]:
        if widget["id"] == widget_id:
            chosen = None if unit in (None, FROM_SERIES) else unit
            fmt = edited_format(widget.get("format"), chosen, decimals)
            widget = {
                k: v for k, v in widget.items() if k not in ("format", "thresholds", "legend")
            }
            if fmt is not None:
                widget["format"] = fmt
            if steps:
                widget["thresholds"] = steps
            if legend and legend != "list":
                widget["legend"] = {"mode": legend}
        widgets.append(widget)
    return {**dash, "widgets": widgets}


def register_form(app: Dash, rt: Runtime) -> None:
    """A widget's settings form: opened by its Edit button, closed by Cancel."""
    app.clientside_callback(
        FOCUS_TITLE,
        Output(ids.CONFIG_HEADING, "title"),
        Input(ids.CONFIG_WIDGET, "data"),
        prevent_initial_call=True,
    )

    @app.callback(
        *[Output(cid, prop) for cid, prop in FORM_FIELDS],
        Input({"type": ids.WIDGET_CONFIG, "widget": ALL}, "n_clicks"),
        Input(ids.CONFIG_CANCEL, "n_clicks"),
        State(ids.PAGE_URL, "search"),
        prevent_initial_call=True,
    )
    def open_form(clicks: list[Any], cancel: Any, search: str | None) -> tuple[Any, ...]:
        """Fill the form with the clicked widget's saved settings (or close it on Cancel)."""
        unchanged = (no_update,) * len(FORM_FIELDS)
        if not _clicked():
            return unchanged
        trigger = _clicked_id()
        if trigger == ids.CONFIG_CANCEL:
            return (True, None, *unchanged[2:])
        dash = _editable_dashboard(rt, search)
        if isinstance(dash, str) or not isinstance(trigger, dict):
            return unchanged
        widget = next((w for w in dash["widgets"] if w["id"] == trigger["widget"]), None)
        return unchanged if widget is None else form_values(rt, widget)


def register_save(app: Dash, rt: Runtime) -> None:
    """The settings form's Save: the widget's new settings, validated, and the grid again."""

    @app.callback(
        *_grid_and_status(),
        Output(ids.CONFIG_FORM, "hidden", allow_duplicate=True),
        Output(ids.CONFIG_THRESHOLDS_ERROR, "children", allow_duplicate=True),
        Input(ids.CONFIG_SAVE, "n_clicks"),
        State(ids.CONFIG_WIDGET, "data"),
        State(ids.CONFIG_TITLE, "value"),
        State(ids.CONFIG_KIND, "value"),
        State(ids.CONFIG_AGGREGATION, "value"),
        State(ids.CONFIG_STEP, "value"),
        State(ids.CONFIG_SERIES, "value"),
        State(ids.PAGE_URL, "search"),
        State(ids.CONFIG_UNIT, "value"),
        State(ids.CONFIG_DECIMALS, "value"),
        State(ids.CONFIG_THRESHOLDS, "value"),
        State(ids.CONFIG_LEGEND, "value"),
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
        unit: str | None,
        decimals: Any,
        thresholds: str | None,
        legend: str | None,
    ) -> tuple[Any, ...]:
        """Save the form's settings for its widget, validated, and draw the grid again."""
        if not clicks:
            return (no_update,) * 5
        dash = _editable_dashboard(rt, search)
        if dash == REFUSED:
            return no_update, no_update, REFUSED, no_update, no_update
        if isinstance(dash, str) or not widget_id:
            return no_update, no_update, "Pick a widget's Edit button first.", no_update, no_update
        try:
            dash = with_number_settings(
                dash,
                widget_id,
                unit=unit,
                decimals=decimals,
                thresholds=thresholds,
                legend=legend,
            )
        except FormError as exc:
            return no_update, no_update, f"Not saved: {exc}", no_update, str(exc)
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
        except ValueError as exc:  # ValidationError too
            return no_update, no_update, f"Not saved: {exc}", no_update, ""
        saved = _saved_view(rt, search, changed, f"Saved {title}")
        return (*saved, True if saved[0] is not no_update else no_update, "")
