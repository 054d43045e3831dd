"""Exports: a selection of series as CSV lines, a dashboard over a range as a PDF report.

The views parse the query string and map the errors below to API errors; everything else
(what to read, at which step, how much, what goes on each page) is decided here.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dashboard.alerts import service as alerts
from dashboard.boards import models as boards
from dashboard.boards import service as boards_service
from dashboard.boards.figures import static_chart
from dashboard.export import csv as export_csv
from dashboard.export.render_pool import RenderError
from dashboard.export.report import Section, build_pdf
from dashboard.metrics.frame import SeriesFrame
from dashboard.metrics.model import Selector, SeriesKey
from dashboard.metrics.service import known_keys, matching_keys, read_series
from dashboard.metrics.steps import DAY, HOUR, RAW, Step, choose_step, step_named
from dashboard.metrics.summary import frame_stats

if TYPE_CHECKING:
    from dashboard.runtime import Runtime

CHUNK_MS = 6 * HOUR
MAX_CHUNKS = 4 * 400  # 400 days of 6-hour chunks at the finest steps
ALERT_EVENTS = 1000  # the most alert events a report lists


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


def find_dashboard(*, rt: Runtime, dashboard_id: str) -> dict[str, Any]:
    """The saved dashboard ``dashboard_id``; raises UnknownDashboard."""
    try:
        return boards_service.get_dashboard(store=rt.dashboards, dashboard_id=dashboard_id)
    except boards_service.DashboardNotFound:
        raise UnknownDashboard(dashboard_id) from None


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
) -> CsvExport:
    """The series (by name, by key, or a dashboard's) and the step a CSV export reads."""
    selectors = [Selector.of(name) for name in names]
    selectors += [Selector(key.name, key.labels) for key in series]
    if dashboard_id:
        selectors += boards.selectors(find_dashboard(rt=rt, dashboard_id=dashboard_id))
    if not selectors:
        raise BadParameter("names, series or dashboard: name what to export")
    keys = matching_keys(reader=rt, selectors=selectors)
    try:
        chosen = choose_step(start, end, now, 2000) if step == "auto" else step_named(step)
    except ValueError as exc:
        raise BadParameter(f"step: {exc}") from None
    if (end - start) / max(CHUNK_MS, chosen.width_ms * 1000) > MAX_CHUNKS:
        raise RangeTooLong(
            f"{chosen.name}: export at most {MAX_CHUNKS * CHUNK_MS // DAY} days, or pick a"
            " coarser step"
        )
    return CsvExport(keys, start, end, chosen)


def csv_lines(*, rt: Runtime, export: CsvExport) -> Iterator[str]:
    """The header, then every series' rows (tidy long format), read as they are sent."""
    yield export_csv.header(export.step != RAW)
    for key in export.keys:
        yield from _series_rows(rt=rt, key=key, export=export)


def _series_rows(*, rt: Runtime, key: SeriesKey, export: CsvExport) -> Iterator[str]:
    """One series, read a chunk of time at a time so a long range never sits in memory."""
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
            yield from export_csv.rows(key, frame.ts, frame.value, extra)  # type: ignore[arg-type]
        at = stop + 1


def check_renderer(*, rt: Runtime) -> None:
    """Raises RenderUnavailable, saying what to install, when reports cannot be rendered."""
    missing = rt.render_pool.available()
    if missing:
        raise RenderUnavailable(missing)


def pdf_report(
    *, rt: Runtime, dash: dict[str, Any], start: int, end: int, now: int, user: str
) -> bytes:
    """The PDF report of ``dash`` over ``start..end``: charts, summaries, the alerts that fired."""
    known = known_keys(reader=rt)  # listed once for every widget
    sections: list[Section] = []
    charts: list[dict[str, Any]] = []
    owners: list[int] = []  # the section of each chart
    for widget in dash["widgets"]:
        section, chart = _section(rt=rt, widget=widget, start=start, end=end, now=now, known=known)
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
    return build_pdf(
        title=dash["title"],
        range_text=f"{export_csv.iso(start)} to {export_csv.iso(end)}",
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
) -> tuple[Section, dict[str, Any] | None]:
    """A widget's page (its summary rows) and the chart to render onto it (None: a table)."""
    plain = {k: v for k, v in widget.items() if k != "range"}  # the report's range, not its own
    frames: list[SeriesFrame]
    if widget["kind"] in ("stat", "status"):  # over the whole range, not the tile's last hour
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
    section = Section(title=widget["title"])
    chart = static_chart(plain, frames)
    if chart is None:
        section.note = "Shown as a table: this widget has no chart."
    for frame in frames:
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
