"""Exports: a selection of series as CSV lines, a dashboard over a range as a PDF report.

The views parse the query string and map the errors below to API errors; everything else
(what to read, at which step, how much, what goes on each page) is decided here.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dashboard.alerts import service as alerts
from dashboard.boards import models as boards
from dashboard.boards import service as boards_service
from dashboard.boards.exprs import expr_error, is_expr, result_key
from dashboard.boards.figures import static_chart
from dashboard.boards.variables import interpolate_dashboard
from dashboard.boards.view import filter_text, labels_match, read_search
from dashboard.clock import now_ms
from dashboard.db import audit
from dashboard.export import csv as export_csv
from dashboard.export.render_pool import RenderError
from dashboard.export.report import Section, build_pdf
from dashboard.metrics.frame import SeriesFrame
from dashboard.metrics.model import Selector, SeriesKey
from dashboard.metrics.service import matching_keys, read_series
from dashboard.metrics.steps import DAY, HOUR, RAW, Step, choose_step, step_named
from dashboard.metrics.summary import frame_stats
from dashboard.metrics.timerange import resolve_range
from dashboard.query.series import range_series, step_for
from dashboard.query.values import QueryError

if TYPE_CHECKING:
    from dashboard.runtime import Runtime

CHUNK_MS = 6 * HOUR
MAX_CHUNKS = 4 * 400  # 400 days of 6-hour chunks at the finest steps
ALERT_EVENTS = 1000  # the most alert events a report lists
CHART_POINTS = 1000  # the points a line chart reads over its range (boards.service)


class ExportError(Exception):
    """An export the service refuses; ``detail`` says why (the views map the kind to a status)."""

    def __init__(self, detail: str | None) -> None:
        """The refusal, with what the caller can act on."""
        super().__init__(detail)
        self.detail = detail


class BadParameter(ExportError):
    """A parameter the export cannot use."""


class UnknownDashboard(ExportError):
    """No saved dashboard has this id."""


class RangeTooLong(ExportError):
    """The range holds too many chunks of time at this step."""


class RenderUnavailable(ExportError):
    """Reports cannot be rendered on this server (no Chromium)."""


class RenderFailed(ExportError):
    """Rendering the charts of a report failed."""


@dataclass(frozen=True)
class CsvExport:
    """What a CSV export streams: these series over ``start..end`` at ``step``."""

    keys: list[SeriesKey]
    start: int
    end: int
    step: Step
    exprs: tuple[str, ...] = ()  # PromQL expressions, evaluated at the step (``raw``: auto)
    label_filter: dict[str, str] = field(default_factory=dict)  # the page's filter


@dataclass(frozen=True)
class PageView:
    """What a page shows, read from its URL's query exactly as the page reads it."""

    dashboard_id: str
    start: int
    end: int
    label_filter: dict[str, str]
    variables: dict[str, list[str]] = field(default_factory=dict)  # its ``var-NAME`` values


def page_view(search: str, now: int) -> PageView:
    """The dashboard, range (resolved at ``now``) and label filter of a page's URL query."""
    query = read_search(search if search.startswith("?") else "?" + search)
    start, end = resolve_range(query.rng, now)
    return PageView(query.dashboard_id, start, end, query.label_filter, query.variables)


def view_text(export: CsvExport, dashboard_id: str | None) -> str:
    """What an export holds, in one line (its ``X-Export-View`` header): dashboard, range,
    step and filter."""
    parts = [f"dashboard={dashboard_id}"] if dashboard_id else []
    parts += [
        f"start={export_csv.iso(export.start)}",
        f"end={export_csv.iso(export.end)}",
        f"step={export.step.name}",
    ]
    if export.label_filter:
        parts.append(f"filter={filter_text(export.label_filter)}")
    return "; ".join(parts)


def find_dashboard(
    *, rt: Runtime, dashboard_id: str, variables: dict[str, list[str]] | None = None
) -> dict[str, Any]:
    """The saved dashboard ``dashboard_id``, written with the page's values of its variables
    (their defaults without them); raises UnknownDashboard."""
    try:
        dash = boards_service.get_dashboard(store=rt.dashboards, dashboard_id=dashboard_id)
    except boards_service.DashboardNotFound:
        raise UnknownDashboard(dashboard_id) from None
    if not dash.get("variables"):
        return dash
    picked, _ = boards_service.pick_variables(
        reader=rt, dashboard=dash, wanted=variables or {}, now=now_ms()
    )
    return interpolate_dashboard(dash, picked)


def plan_csv(
    *,
    rt: Runtime,
    names: list[str],
    series: list[SeriesKey],
    dashboard_id: str | None,
    start: int,
    end: int,
    step: str,
    now: int,
    queries: list[str] | None = None,
    label_filter: dict[str, str] | None = None,
    variables: dict[str, list[str]] | None = None,
) -> CsvExport:
    """The series (by name, by key, by PromQL expression, or a dashboard's) and the step a CSV
    export reads."""
    selectors = [Selector.of(name) for name in names]
    selectors += [Selector(key.name, key.labels) for key in series]
    exprs: dict[str, None] = {}
    for text in queries or []:
        problem = expr_error(text)
        if problem is not None:
            raise BadParameter(f"query: {problem}")
        exprs[text.strip()] = None
    if dashboard_id:
        dash = find_dashboard(rt=rt, dashboard_id=dashboard_id, variables=variables)
        selectors += [
            s for s in boards.selectors(dash) if not s.name.startswith("expr_")
        ]  # an expression's series are evaluated, not stored
        for widget in dash["widgets"]:
            exprs.update({e["expr"]: None for e in widget["series"] if is_expr(e)})
    if not selectors and not exprs:
        raise BadParameter("names, series, query or dashboard: name what to export")
    keys = matching_keys(reader=rt, selectors=selectors) if selectors else []
    if label_filter:  # the page's filter: only the series it leaves
        keys = [k for k in keys if labels_match(k.label_dict, label_filter)]
    try:
        # "chart": the step a chart of the range reads (before it thins to its width), so a
        # page's export has the page's resolution
        points = CHART_POINTS if step == "chart" else 2000
        chosen = (
            choose_step(start, end, now, points) if step in ("auto", "chart") else step_named(step)
        )
    except ValueError as exc:
        raise BadParameter(f"step: {exc}") from None
    if (end - start) / max(CHUNK_MS, chosen.width_ms * 1000) > MAX_CHUNKS:
        raise RangeTooLong(
            f"{chosen.name}: export at most {MAX_CHUNKS * CHUNK_MS // DAY} days, or pick a"
            " coarser step"
        )
    export = CsvExport(keys, start, end, chosen, tuple(exprs), dict(label_filter or {}))
    audit.note(
        rt,
        "export.csv",
        "dashboard" if dashboard_id else "series",
        dashboard_id or "",
        {
            "names": names,
            "series": [str(key) for key in series],
            "queries": list(exprs),
            "start": start,
            "end": end,
            "step": chosen.name,
            "filter": dict(label_filter or {}),
        },
    )
    return export


def csv_lines(*, rt: Runtime, export: CsvExport) -> Iterator[str]:
    """The header, then every series' rows (tidy long format), read as they are sent; an
    expression's series (their ``name`` is the expression) after the stored ones."""
    yield export_csv.header(export.step != RAW, units=True)
    units = {info.key: info.unit for info in rt.series_list()} if export.keys else {}
    for key in export.keys:
        yield from _series_rows(rt=rt, key=key, export=export, unit=units.get(key, ""))
    for expr in export.exprs:
        yield from _expr_rows(rt=rt, expr=expr, export=export)


def _expr_rows(*, rt: Runtime, expr: str, export: CsvExport) -> Iterator[str]:
    """One expression's series at the export's step, a chunk of time at a time."""
    step_ms = (
        export.step.width_ms if export.step != RAW else step_for(export.start, export.end, 2000)
    )
    chunk = max(CHUNK_MS, step_ms * 1000) // step_ms * step_ms
    at = -(-export.start // step_ms) * step_ms
    pad = (0 if export.step == RAW else 3) + 1  # the rollup's columns, then the unit
    while at <= export.end:
        stop = min(at + chunk - step_ms, export.end)
        try:
            found = range_series(
                reader=rt,
                expr=expr,
                start_ms=at,
                end_ms=stop,
                step_ms=step_ms,
                limits=boards_service.query_limits(rt),
            )
        except QueryError as exc:
            yield export_csv.note(f"{expr}: {exc}")
            return
        for series in found:
            key = result_key(expr, series.labels)
            if key is not None and labels_match(series.labels, export.label_filter):
                yield from export_csv.expr_rows(expr, key, series.ts, series.values, pad)
        at = stop + step_ms


def _series_rows(
    *, rt: Runtime, key: SeriesKey, export: CsvExport, unit: str = ""
) -> Iterator[str]:
    """One series (its ``unit`` in the last column), read a chunk of time at a time so a long
    range never sits in memory."""
    step, end = export.step, export.end
    chunk = max(CHUNK_MS, step.width_ms * 1000)
    at = export.start // step.width_ms * step.width_ms if step != RAW else export.start
    while at <= end:
        stop = min(at + chunk - 1, end)
        frame = rt.query(key, at, stop, step)
        if step != RAW and len(frame):
            keep = frame.ts >= at  # a rollup read returns whole buckets from its start
            frame = frame.take(keep.nonzero()[0])
        if len(frame):
            extra = None if step == RAW else (frame.min, frame.max, frame.count)
            yield from export_csv.rows(
                key,
                frame.ts,
                frame.value,
                extra,  # type: ignore[arg-type]
                unit=unit,
            )
        at = stop + 1


def check_renderer(*, rt: Runtime) -> None:
    """Raises RenderUnavailable, saying what to install, when reports cannot be rendered."""
    missing = rt.render_pool.available()
    if missing:
        raise RenderUnavailable(missing)


def pdf_report(
    *,
    rt: Runtime,
    dash: dict[str, Any],
    start: int,
    end: int,
    now: int,
    user: str,
    label_filter: dict[str, str] | None = None,
) -> bytes:
    """The PDF report of ``dash`` over ``start..end`` (only the series ``label_filter`` leaves,
    as the page shows them): charts, summaries, the alerts that fired."""
    label_filter = label_filter or {}
    known, units = boards_service.visible_series(reader=rt, label_filter=label_filter)
    sections: list[Section] = []
    charts: list[dict[str, Any]] = []
    owners: list[int] = []  # the section of each chart
    for widget in dash["widgets"]:
        section, chart = _section(
            rt=rt,
            widget=boards_service.with_unit_format(widget, units, known),
            start=start,
            end=end,
            now=now,
            known=known,
            label_filter=label_filter,
        )
        if chart is not None:
            charts.append(chart)
            owners.append(len(sections))
        sections.append(section)
    try:
        images = rt.render_pool.render(charts) if charts else []
    except RenderError as exc:
        raise RenderFailed(str(exc)) from exc
    for owner, image in zip(owners, images, strict=True):
        sections[owner].image = image
    audit.note(
        rt,
        "export.pdf",
        "dashboard",
        dash["id"],
        {"title": dash["title"], "start": start, "end": end, "filter": label_filter},
    )
    return build_pdf(
        title=dash["title"],
        range_text=f"{export_csv.iso(start)} to {export_csv.iso(end)}"
        + (f", filter {filter_text(label_filter)}" if label_filter else ""),
        generated=export_csv.iso(now),
        user=user,
        sections=sections,
        alerts=_alert_events(rt=rt, start=start, end=end),
    )


def _section(
    *,
    rt: Runtime,
    widget: dict[str, Any],
    start: int,
    end: int,
    now: int,
    known: list[SeriesKey],
    label_filter: dict[str, str] | None = None,
) -> tuple[Section, dict[str, Any] | None]:
    """A widget's page (its summary rows) and the chart to render onto it (None: a table)."""
    plain = {k: v for k, v in widget.items() if k != "range"}  # the report's range, not its own
    fmt = dict(widget.get("format") or {})  # the numbers of its tables as its tiles show them
    frames: list[SeriesFrame]
    exprs = any(is_expr(s) for s in widget["series"])
    if exprs:  # evaluated over the report's range (a tile's over all of it, as a line)
        kind = "line" if widget["kind"] in ("stat", "status") else widget["kind"]
        try:
            frames = boards_service.widget_frames(
                reader=rt,
                widget={**plain, "kind": kind},
                dashboard_range={"from": start, "to": end},
                now=now,
                known=known,
                label_filter=label_filter,
            )
        except QueryError as exc:
            section = Section(title=widget["title"], fmt=fmt)
            section.note = f"The query failed: {exc}"
            return section, None
    elif widget["kind"] in ("stat", "status"):  # over the whole range, not the tile's last hour
        keys = boards_service.widget_keys(reader=rt, widget=plain, known=known)
        frames = [
            read_series(reader=rt, key=k, start_ms=start, end_ms=end, now=now, max_points=600)
            for k in keys
        ]
    else:
        frames = boards_service.widget_frames(
            reader=rt,
            widget=plain,
            dashboard_range={"from": start, "to": end},
            now=now,
            known=known,
        )
    section = Section(title=widget["title"], fmt=fmt)
    chart = static_chart(plain, frames)
    if chart is None:
        section.note = "Shown as a table: this widget has no chart."
    for frame in frames:
        if frame.key.name.startswith("expr_"):  # evaluated, not stored: its frame is all there is
            stats = frame_stats(frame)
            if stats is not None:
                name = boards_service.series_title(widget, frame.key)
                section.rows.append((name, stats.min, stats.max, stats.avg, stats.last))
            continue
        summary = _summary(rt=rt, key=frame.key, start=start, end=end, now=now)
        if summary:
            section.rows.append((str(frame.key), *summary))
    return section, chart


def _summary(
    *, rt: Runtime, key: SeriesKey, start: int, end: int, now: int
) -> tuple[float, float, float, float] | None:
    """(min, max, mean, last) of a series over the range, exact, from rollups where it can."""
    stats = frame_stats(rt.query(key, start, end, choose_step(start, end, now, 2000)))
    return None if stats is None else (stats.min, stats.max, stats.avg, stats.last)


def _alert_events(*, rt: Runtime, start: int, end: int) -> list[dict[str, Any]]:
    """The alert events that fired or resolved in the range, oldest first, with their UTC time."""
    events = [
        {**e, "time": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(e["ts"] / 1000))}
        for e in alerts.recent_events(store=rt.alerts.store, limit=ALERT_EVENTS, since_ts=start)
        if e["ts"] <= end and e["state"] in ("firing", "resolved")
    ]
    return list(reversed(events))
