"""Dashboards as the HTTP views and the Dash callbacks use them: the saved dashboards (read,
create, replace, import, delete: editors only) and what a page reads for their widgets.

Errors are domain exceptions (``DashboardNotFound``, ``DashboardExists``, ``EditRefused``,
``ValidationError``) that each caller maps to its own answer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from dashboard.auth import can_edit
from dashboard.boards.annotations import alert_spans, chart_marks
from dashboard.boards.exprs import expr_name, is_expr, legend, result_key
from dashboard.boards.models import imported_dashboard, unique_id
from dashboard.boards.store import DashboardStore
from dashboard.boards.templates import host_dashboard
from dashboard.boards.units import format_for_unit
from dashboard.boards.variables import (
    MAX_OPTIONS,
    Picked,
    interpolate_dashboard,
    interpolate_expr,
    parse_label_values,
    pick,
    promql_match,
    shown_values,
    wire_values,
)
from dashboard.boards.view import BoardView, WidgetView, delta_view, drilled_widget, labels_match
from dashboard.db import audit
from dashboard.metrics.frame import SeriesFrame
from dashboard.metrics.model import Selector, SeriesKey
from dashboard.metrics.service import (
    SeriesReader,
    known_keys,
    matching_keys,
    read_series,
)
from dashboard.metrics.steps import HOUR, RAW, choose_step, step_named
from dashboard.metrics.summary import frame_summary
from dashboard.metrics.timerange import resolve_range
from dashboard.query import service as query_service
from dashboard.query.series import ExprSeries, range_series, step_for
from dashboard.query.service import QueryLimits
from dashboard.query.values import QueryError, format_labels

if TYPE_CHECKING:
    from dashboard.auth.users import User


class DashboardNotFound(LookupError):
    """No dashboard has this id."""

    def __init__(self, dashboard_id: Any) -> None:
        """The error for ``dashboard_id``."""
        super().__init__(dashboard_id)
        self.dashboard_id = dashboard_id


class DashboardExists(ValueError):
    """A new dashboard's id is taken."""

    def __init__(self, dashboard_id: Any) -> None:
        """The error for ``dashboard_id``."""
        super().__init__(dashboard_id)
        self.dashboard_id = dashboard_id


class EditRefused(PermissionError):
    """The user may not change dashboards (only editors and admins may)."""


# --- the saved dashboards ----------------------------------------------------------------------


def editor_name(*, user: User | None) -> str:
    """The name of a user who may change dashboards; EditRefused for anyone else."""
    if user is None or not can_edit(user):
        raise EditRefused("only editors and admins can change dashboards")
    return user.username


def list_dashboards(*, store: DashboardStore) -> list[dict[str, Any]]:
    """Id, title, owner and update time of every dashboard, by title."""
    return store.list()


def find_dashboard(*, store: DashboardStore, dashboard_id: str) -> dict[str, Any] | None:
    """A saved dashboard by id, or None."""
    return store.get(dashboard_id)


def get_dashboard(*, store: DashboardStore, dashboard_id: str) -> dict[str, Any]:
    """A saved dashboard by id; DashboardNotFound when there is none."""
    found = store.get(dashboard_id)
    if found is None:
        raise DashboardNotFound(dashboard_id)
    return found


def _noted(
    store: DashboardStore, action: str, saved: dict[str, Any], **detail: Any
) -> dict[str, Any]:
    """``saved``, its change recorded in the audit trail (its title, widgets and ``detail``)."""
    widgets = len(saved.get("widgets", []))
    audit.note(
        store,
        action,
        "dashboard",
        saved["id"],
        {"title": saved["title"], "widgets": widgets, **detail},
    )
    return saved


def save_dashboard(
    *, store: DashboardStore, dashboard: Any, user: User | None, edit: str = ""
) -> dict[str, Any]:
    """Validate and save (create or replace) a dashboard as ``user``; the saved form. The
    editor's saves say which ``edit`` they make (the audit trail's detail)."""
    saved = store.put(dashboard, owner=editor_name(user=user))
    return _noted(store, "dashboard.edit", saved, edit=edit)


def create_dashboard(*, store: DashboardStore, body: Any, user: User | None) -> dict[str, Any]:
    """A new dashboard from its JSON form; DashboardExists when its id is taken."""
    owner = editor_name(user=user)
    if isinstance(body, dict) and store.get(str(body.get("id"))) is not None:
        raise DashboardExists(body.get("id"))
    return _noted(store, "dashboard.create", store.put(body, owner=owner))


def replace_dashboard(
    *, store: DashboardStore, dashboard_id: str, body: Any, user: User | None
) -> dict[str, Any]:
    """Replace dashboard ``dashboard_id`` (which overrides the body's id); DashboardNotFound
    when there is none (or the body is no JSON object)."""
    owner = editor_name(user=user)
    if not isinstance(body, dict) or store.get(dashboard_id) is None:
        raise DashboardNotFound(dashboard_id)
    return _noted(store, "dashboard.replace", store.put({**body, "id": dashboard_id}, owner=owner))


def delete_dashboard(*, store: DashboardStore, dashboard_id: str, user: User | None) -> None:
    """Delete a dashboard; DashboardNotFound when there is none."""
    editor_name(user=user)
    if not store.delete(dashboard_id):
        raise DashboardNotFound(dashboard_id)
    audit.note(store, "dashboard.delete", "dashboard", dashboard_id)


def _taken(store: DashboardStore) -> Callable[[str], bool]:
    """Whether an id names a saved dashboard."""
    return lambda dashboard_id: store.get(dashboard_id) is not None


def new_dashboard(*, store: DashboardStore, title: str, user: User | None) -> dict[str, Any]:
    """An empty dashboard saved under ``title`` and a fresh id made from it."""
    owner = editor_name(user=user)
    new_id = unique_id(title, _taken(store))
    body = {"id": new_id, "title": title, "schema_version": 1, "widgets": []}
    return _noted(store, "dashboard.create", store.put(body, owner=owner))


def offer_host_dashboard(
    *, store: DashboardStore, instance: str, job: str = "", matchers: dict[str, str] | None = None
) -> dict[str, Any] | None:
    """Save the "Host <instance>" dashboard of a node exporter (``templates.host_dashboard``)
    unless a dashboard has its id already; the one saved, or None."""
    dashboard = host_dashboard(instance, job, matchers=matchers)
    if store.get(dashboard["id"]) is not None:
        return None
    return _noted(store, "dashboard.create", store.put(dashboard, owner=None), offered=instance)


def import_dashboard(
    *, store: DashboardStore, body: Any, title: str | None, user: User | None
) -> dict[str, Any]:
    """An exported dashboard saved under ``title`` (the file's own when empty) and a fresh id."""
    owner = editor_name(user=user)
    saved = store.put(imported_dashboard(body, title, _taken(store)), owner=owner)
    return _noted(store, "dashboard.import", saved)


# --- a dashboard's variables ------------------------------------------------------------------


def variable_options(
    *, reader: SeriesReader, var: dict[str, Any], picked: dict[str, Picked], now: int
) -> list[str]:
    """The options of a variable: a query variable's are the values of its label over the
    series its selector picks (written with the variables before it), through the same label
    machinery as the Prometheus API's ``/label/<name>/values``."""
    if var["type"] != "query":
        return list(var.get("options") or [])
    selector, label = parse_label_values(var["query"])
    try:
        match = [promql_match(interpolate_expr(selector, picked))] if selector else []
        values = query_service.label_values(
            reader=reader, name=label, match=match, start_ms=0, end_ms=now
        )
    except QueryError:  # a selector that a value made unreadable lists nothing
        return []
    return values[:MAX_OPTIONS]


def pick_variables(
    *, reader: SeriesReader, dashboard: dict[str, Any], wanted: dict[str, list[str]], now: int
) -> tuple[dict[str, Picked], list[dict[str, Any]]]:
    """The values a page shows for each of a dashboard's variables (``wanted``: the URL's),
    in order (a query variable's selector may use the variables before it), and each one's
    dropdown: ``{"name", "label", "multi", "include_all", "options", "value"}``."""
    picked: dict[str, Picked] = {}
    views: list[dict[str, Any]] = []
    for var in dashboard.get("variables") or []:
        options = variable_options(reader=reader, var=var, picked=picked, now=now)
        chosen = pick(var, options, wanted.get(var["name"]))
        picked[var["name"]] = chosen
        views.append(
            {
                "name": var["name"],
                "label": var.get("label") or var["name"],
                "multi": bool(var.get("multi")),
                "include_all": bool(var.get("include_all")),
                "options": options,
                "value": shown_values(chosen),
            }
        )
    return picked, views


# --- what a page reads for a dashboard's widgets -----------------------------------------------


def query_limits(reader: SeriesReader) -> QueryLimits:
    """The node's query limits (the reader's, when it has them)."""
    return getattr(reader, "query_limits", None) or QueryLimits(timeout_s=10.0)


def series_title(widget: dict[str, Any], key: SeriesKey) -> str:
    """How a report or an export names a widget's series: an expression's by its legend, or by
    the expression and the result's labels; a stored one by its key."""
    for entry in widget.get("series", []):
        if is_expr(entry) and key.name == expr_name(entry["expr"]):
            shown = legend(entry.get("legend", ""), key.label_dict) if entry.get("legend") else ""
            return shown or f"{entry['expr']}{format_labels(key.label_dict) if key.labels else ''}"
    return str(key)


def expr_frames(
    *,
    reader: SeriesReader,
    entry: dict[str, Any],
    start_ms: int,
    end_ms: int,
    max_points: int,
    step: str = "auto",
    label_filter: dict[str, str] | None = None,
) -> list[SeriesFrame]:
    """The series an expression entry gives over a range, one frame each (sorted by labels);
    only those carrying the entry's labels and the filter's. QueryError when it can't run
    (or when a variable's value could not be written into it)."""
    if entry.get("error"):
        raise QueryError(entry["error"])
    named = step_named(step).width_ms if step not in ("auto", "raw") else 0
    step_ms = named or step_for(start_ms, end_ms, max_points)
    first = start_ms - start_ms % step_ms + (step_ms if start_ms % step_ms else 0)
    wanted = {**(entry.get("labels") or {}), **(label_filter or {})}
    found: list[ExprSeries] = range_series(
        reader=reader,
        expr=entry["expr"],
        start_ms=first,
        end_ms=end_ms,
        step_ms=step_ms,
        limits=query_limits(reader),
    )
    frames = []
    for series in found:
        key = result_key(entry["expr"], series.labels)
        if key is None or not labels_match(series.labels, wanted):
            continue
        frames.append(SeriesFrame(key, RAW, series.ts, series.values))
    return frames


def widget_keys(
    *,
    reader: SeriesReader,
    widget: dict[str, Any],
    known: list[SeriesKey] | None = None,
    now: int | None = None,
) -> list[SeriesKey]:
    """The series a widget shows (one frame each, in this order): an expression's are those it
    gives over the last 5 minutes."""
    plain = [s for s in widget["series"] if not is_expr(s)]
    selectors = [Selector.of(s["name"], s.get("labels") or {}) for s in plain]
    keys = matching_keys(reader=reader, selectors=selectors, known=known) if plain else []
    if len(plain) < len(widget["series"]):
        at = now if now is not None else max((i.last_ts for i in reader.series_list()), default=0)
        for entry in widget["series"]:
            if is_expr(entry):
                frames = expr_frames(
                    reader=reader, entry=entry, start_ms=at - 300_000, end_ms=at, max_points=10
                )
                keys.extend(f.key for f in frames)
    return keys


def widget_frames(
    *,
    reader: SeriesReader,
    widget: dict[str, Any],
    dashboard_range: dict[str, Any],
    now: int,
    known: list[SeriesKey] | None = None,
    label_filter: dict[str, str] | None = None,
) -> list[SeriesFrame]:
    """The frames a widget draws, one per matching series, read as its kind needs them; an
    expression's series follow the stored ones, evaluated at the step the kind needs.

    ``known`` saves listing the series again for each widget of a page; ``label_filter`` (the
    page's) narrows the expressions' series as ``known`` narrows the stored ones.
    """
    plain = {**widget, "series": [s for s in widget["series"] if not is_expr(s)]}
    keys = widget_keys(reader=reader, widget=plain, known=known) if plain["series"] else []
    kind = widget["kind"]
    start, end = resolve_range(widget.get("range") or dashboard_range, now)
    step = widget.get("step", "auto")

    def read(key: SeriesKey, a: int, b: int, step: str, max_points: int) -> SeriesFrame:
        """One series, read and downsampled."""
        return read_series(
            reader=reader, key=key, start_ms=a, end_ms=b, now=now, step=step, max_points=max_points
        )

    def exprs(a: int, b: int, step: str, max_points: int) -> list[SeriesFrame]:
        """Every expression entry's frames over ``[a, b]``."""
        out: list[SeriesFrame] = []
        for entry in widget["series"]:
            if is_expr(entry):
                out.extend(
                    expr_frames(
                        reader=reader,
                        entry=entry,
                        start_ms=a,
                        end_ms=b,
                        max_points=max_points,
                        step=step,
                        label_filter=label_filter,
                    )
                )
        return out

    if kind == "stat":
        return [read(k, now - HOUR, now, "raw", 120) for k in keys] + exprs(
            now - HOUR, now, "auto", 120
        )
    if kind == "status":
        return [read(k, now - 5 * 60_000, now, "raw", 10) for k in keys] + exprs(
            now - 5 * 60_000, now, "auto", 10
        )
    if kind == "pie":
        return [read(k, start, end, "1m", 10_000) for k in keys] + exprs(start, end, "auto", 100)
    if kind == "table":  # whole buckets, never downsampled: min, max and avg stay exact
        chosen = choose_step(start, end, now, 500) if step == "auto" else step_named(step)
        return [reader.query(k, start, end, chosen) for k in keys] + exprs(start, end, step, 500)
    return [read(k, start, end, step, 1000) for k in keys] + exprs(start, end, step, 1000)


def period_values(
    *,
    reader: SeriesReader,
    widget: dict[str, Any],
    dashboard_range: dict[str, Any],
    now: int,
    known: list[SeriesKey] | None = None,
) -> tuple[float | None, float | None, int]:
    """A stat widget's aggregation over the range and over the same-length period just before
    it, with that length in ms (None where a period has no data)."""
    start, end = resolve_range(widget.get("range") or dashboard_range, now)
    length = end - start
    how = widget.get("aggregation", "avg")
    first = widget["series"][0] if widget["series"] else {}
    if is_expr(first):  # the expression at one step for both periods: like for like

        def value(a: int, b: int) -> float | None:
            """The aggregation of the expression's first series over ``[a, b]``."""
            frames = expr_frames(reader=reader, entry=first, start_ms=a, end_ms=b, max_points=250)
            if not frames:
                return None
            summary = frame_summary(frames[0])
            return summary["avg" if how not in summary else how]

        return value(start, end), value(start - length, start - 1), length
    keys = widget_keys(reader=reader, widget=widget, known=known)
    if not keys:
        return None, None, length
    step = choose_step(start - length, end, now, 500)  # one step for both: like for like

    def value(a: int, b: int) -> float | None:
        """The aggregation over ``[a, b]``."""
        summary = frame_summary(reader.query(keys[0], a, b, step))
        return summary["avg" if how not in summary else how]

    return value(start, end), value(start - length, start - 1), length


def stat_delta(
    *,
    reader: SeriesReader,
    widget: dict[str, Any],
    dashboard_range: dict[str, Any],
    now: int,
    known: list[SeriesKey] | None = None,
) -> dict[str, str]:
    """A stat tile's change against the previous period of the same length, as shown."""
    current, previous, period = period_values(
        reader=reader, widget=widget, dashboard_range=dashboard_range, now=now, known=known
    )
    return delta_view(current, previous, period)


def view_widget(
    *,
    reader: SeriesReader,
    widget: dict[str, Any],
    drill: tuple[str, dict[str, str]] | None,
    known: list[SeriesKey] | None = None,
) -> dict[str, Any]:
    """The widget as the page shows it: a drilled-into pie becomes its slice's breakdown."""
    if drill is None or drill[0] != widget["id"] or widget["kind"] not in ("pie", "table"):
        return widget
    path = drill[1]
    if any(is_expr(s) for s in widget["series"]):  # the slice's breakdown, as the pie read it
        drilled = drilled_widget(widget, path, 2)
        count = len(widget_keys(reader=reader, widget=drilled, known=known))
        return drilled_widget(widget, path, count)
    selectors = [
        Selector.of(s["name"], {**(s.get("labels") or {}), **path}) for s in widget["series"]
    ]
    found = matching_keys(reader=reader, selectors=selectors, known=known)
    return drilled_widget(widget, path, len(found))


def visible_series(
    *, reader: SeriesReader, label_filter: dict[str, str]
) -> tuple[list[SeriesKey], dict[SeriesKey, str]]:
    """The known series a label filter keeps (all without one) and each known series' unit,
    from one listing of the series (once for a page)."""
    infos = reader.series_list()
    keys = [i.key for i in infos if labels_match(i.key.label_dict, label_filter)]
    return keys, {i.key: i.unit for i in infos if i.unit}


def with_unit_format(
    widget: dict[str, Any], units: dict[SeriesKey, str], known: list[SeriesKey]
) -> dict[str, Any]:
    """The widget with a ``format`` from its first series' unit when it has none of its own
    (a ratio shows as 15 %, a price with its currency, bytes as KiB/MiB, seconds as 350 ms)."""
    if widget.get("format") or not units:
        return widget
    selectors = [
        Selector.of(s["name"], s.get("labels") or {}) for s in widget["series"] if not is_expr(s)
    ]  # an expression's series carry no stored unit
    for key in known:
        if key in units and any(sel.matches(key) for sel in selectors):
            fmt = format_for_unit(units[key])
            return {**widget, "format": fmt} if fmt else widget
    return widget


def shown_widget(
    *,
    reader: SeriesReader,
    widget: dict[str, Any],
    live: bool,
    drill: tuple[str, dict[str, str]] | None,
    known: list[SeriesKey] | None = None,
) -> dict[str, Any]:
    """A widget as a view shows it: its own relative range holds in live mode (a fixed range
    applies to all), and a drilled-into pie opens its slice."""
    shown = widget if live else {k: v for k, v in widget.items() if k != "range"}
    return view_widget(reader=reader, widget=shown, drill=drill, known=known)


def visible_keys(*, reader: SeriesReader, label_filter: dict[str, str]) -> list[SeriesKey]:
    """The known series that a label filter keeps (all of them without one)."""
    known = known_keys(reader=reader)
    return [k for k in known if labels_match(k.label_dict, label_filter)]


def read_widget(
    *,
    reader: SeriesReader,
    widget: dict[str, Any],
    dashboard_range: dict[str, Any],
    now: int,
    known: list[SeriesKey],
    deferred: bool,
    filtered: bool = False,
    label_filter: dict[str, str] | None = None,
) -> WidgetView:
    """What a page draws of a shown widget: its frames, or only its series when its chart is
    ``deferred``; nothing when a label filter (``filtered``) leaves it no series; the reason
    when one of its expressions can't run (over the query limits)."""
    keys: list[SeriesKey] = []
    frames: list[SeriesFrame] = []
    try:
        if deferred:
            keys = widget_keys(reader=reader, widget=widget, known=known, now=now)
        else:
            frames = widget_frames(
                reader=reader,
                widget=widget,
                dashboard_range=dashboard_range,
                now=now,
                known=known,
                label_filter=label_filter,
            )
        if filtered and not (keys or frames):
            return WidgetView(widget, deferred=deferred, filtered_out=True)
        delta = None
        if widget["kind"] == "stat":
            delta = stat_delta(
                reader=reader, widget=widget, dashboard_range=dashboard_range, now=now, known=known
            )
    except QueryError as exc:
        return WidgetView(widget, error=f"The query failed: {exc}")
    return WidgetView(widget, frames, keys, deferred, delta)


def read_board(
    *,
    reader: SeriesReader,
    dashboard: dict[str, Any],
    rng: dict[str, Any],
    live: bool,
    now: int,
    cursor: str,
    deferred: Callable[[dict[str, Any]], bool],
    label_filter: dict[str, str] | None = None,
    drill: tuple[str, dict[str, str]] | None = None,
    alert_events: list[dict[str, Any]] | None = None,
    picked: dict[str, Picked] | None = None,
) -> BoardView:
    """Every widget of a dashboard as a page shows it over ``rng``, read now (``deferred``
    says which charts wait until they scroll near); ``cursor``, read before, is where the live
    feed takes over, so it overlaps the history and never leaves a gap. Its widgets are
    written with the ``picked`` values of its variables (their defaults without them)."""
    if picked is None:
        picked, _ = pick_variables(reader=reader, dashboard=dashboard, wanted={}, now=now)
    dashboard = interpolate_dashboard(dashboard, picked)
    # listed once for all widgets
    known, units = visible_series(reader=reader, label_filter=label_filter or {})
    spans = alert_spans(alert_events or [], now)
    notes = dashboard.get("annotations", [])
    widgets = []
    for widget in dashboard["widgets"]:
        shown = shown_widget(reader=reader, widget=widget, live=live, drill=drill, known=known)
        shown = with_unit_format(shown, units, known)
        widgets.append(
            read_widget(
                reader=reader,
                widget=shown,
                dashboard_range=rng,
                now=now,
                known=known,
                deferred=deferred(shown),
                filtered=bool(label_filter),
                label_filter=label_filter,
            )
        )
        view = widgets[-1]
        if view.widget["kind"] == "line" and (spans or notes):
            start, end = resolve_range(view.widget.get("range") or rng, now)
            texts = [str(f.key) for f in view.frames] or [str(k) for k in view.keys]
            marks = chart_marks(texts, spans, notes, start, end)
            if marks:
                view.widget = {**view.widget, "marks": marks}
    return BoardView(
        dashboard["id"],
        cursor,
        rng,
        live,
        now,
        widgets,
        dict(label_filter or {}),
        wire_values(picked),
    )
