"""``GET /api/v1/export.csv``: what the series API returns, streamed as CSV."""

from __future__ import annotations

from collections.abc import Iterator

from flask import Blueprint, Response, request, stream_with_context
from flask.typing import ResponseReturnValue

from dashboard.api.errors import error, runtime
from dashboard.boards import models as dashboards
from dashboard.clock import now_ms
from dashboard.export import csv as export_csv
from dashboard.live.hub import Selector
from dashboard.metrics.model import SeriesKey, ValidationError, parse_key
from dashboard.metrics.service import matching_keys
from dashboard.metrics.steps import DAY, HOUR, RAW, choose_step, step_named
from dashboard.metrics.timerange import resolve

bp = Blueprint("export", __name__, url_prefix="/api/v1")
CHUNK_MS = 6 * HOUR
MAX_CHUNKS = 4 * 400  # 400 days of 6-hour chunks at the finest steps
MAX_TS = 2**53 - 1  # the largest integer JSON (and JavaScript) keeps exact


@bp.get("/export.csv")
def export_csv_route() -> ResponseReturnValue:
    """Stream every selected series over ``start..end`` at ``step`` (tidy long format)."""
    rt = runtime()
    now = now_ms()
    try:
        end = resolve(request.args.get("end", "now"), now)
        start = resolve(request.args.get("start", str(end - DAY)), now)
    except ValueError:
        return error(400, "bad parameter", "start and end: Unix milliseconds, now or now-24h")
    if start > end:
        return error(400, "bad parameter", "start: must not be after end")
    if not (0 <= start <= MAX_TS and 0 <= end <= MAX_TS):
        return error(400, "bad parameter", f"start and end: between 0 and {MAX_TS}")
    selectors: list[Selector] = []
    for name in filter(None, request.args.get("names", "").split(",")):
        selectors.append(Selector.of(name.strip()))
    for text in request.args.getlist("series"):
        try:
            key = parse_key(text)
        except ValidationError as exc:
            return error(400, "bad parameter", f"series: {exc.message}")
        selectors.append(Selector(key.name, key.labels))
    if request.args.get("dashboard"):
        dash = rt.dashboard(request.args["dashboard"])
        if dash is None:
            return error(404, "unknown dashboard", request.args["dashboard"])
        selectors += dashboards.selectors(dash)
    if not selectors:
        return error(400, "bad parameter", "names, series or dashboard: name what to export")
    keys = matching_keys(rt, selectors)
    try:
        wanted = request.args.get("step", "auto")
        step = choose_step(start, end, now, 2000) if wanted == "auto" else step_named(wanted)
    except ValueError as exc:
        return error(400, "bad parameter", f"step: {exc}")
    if (end - start) / max(CHUNK_MS, step.width_ms * 1000) > MAX_CHUNKS:
        return error(
            400,
            "range too long for this step",
            f"{step.name}: export at most {MAX_CHUNKS * CHUNK_MS // DAY} days, or pick a"
            " coarser step",
        )

    def generate() -> Iterator[str]:
        yield export_csv.header(step != RAW)
        for key in keys:
            yield from _series_rows(rt, key, start, end, step)

    filename = f"export-{start}-{end}.csv"
    return Response(
        stream_with_context(generate()),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _series_rows(rt, key: SeriesKey, start: int, end: int, step) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """One series, read a chunk of time at a time so a long range never sits in memory."""
    chunk = max(CHUNK_MS, step.width_ms * 1000)
    at = start // step.width_ms * step.width_ms if step != RAW else start
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


def _summary(rt, key: SeriesKey, start: int, end: int, now: int) -> tuple[float, ...] | None:  # type: ignore[no-untyped-def]
    """(min, max, mean, last) of a series over the range, exact, from rollups where it can."""
    step = choose_step(start, end, now, 2000)
    frame = rt.query(key, start, end, step)
    if not len(frame):
        return None
    if step == RAW:
        return (
            float(frame.value.min()),
            float(frame.value.max()),
            float(frame.value.mean()),
            float(frame.value[-1]),
        )
    total = float(frame.sum.sum())  # type: ignore[union-attr]
    count = float(frame.count.sum())  # type: ignore[union-attr]
    return (
        float(frame.min.min()),
        float(frame.max.max()),  # type: ignore[union-attr]
        total / max(count, 1.0),
        float(frame.last[-1]),
    )  # type: ignore[index]


@bp.get("/export.pdf")
def export_pdf_route() -> ResponseReturnValue:
    """A PDF report of a dashboard over a range: charts, summaries, the alerts that fired."""
    import time as _time

    from dashboard.auth.guard import current_user
    from dashboard.export.render_pool import RenderError
    from dashboard.export.report import Section, build_pdf
    from dashboard.metrics.service import read_series, widget_frames
    from layouts.widgets import bar, line, pie, stat

    rt = runtime()
    pool = rt.render_pool
    missing = pool.available()
    if missing:
        return error(503, "PDF export unavailable", missing, Retry_After="3600")
    dash = rt.dashboard(request.args.get("dashboard", dashboards.DEFAULT_ID))
    if dash is None:
        return error(404, "unknown dashboard", request.args.get("dashboard"))
    now = now_ms()
    try:
        end = resolve(request.args.get("end", "now"), now)
        start = resolve(request.args.get("start", "now-24h"), now)
    except ValueError:
        return error(400, "bad parameter", "start and end: Unix milliseconds, now or now-24h")
    if start >= end:
        return error(400, "bad parameter", "start: must be before end")
    if not (0 <= start <= MAX_TS and 0 <= end <= MAX_TS):
        return error(400, "bad parameter", f"start and end: between 0 and {MAX_TS}")
    rng = {"from": start, "to": end}
    figures: list[dict] = []
    sections: list[Section] = []
    owners: list[int] = []
    known = [i.key for i in rt.series_list()]  # listed once for every widget
    for widget in dash["widgets"]:
        kind = widget["kind"]
        plain = {k: v for k, v in widget.items() if k != "range"}
        if kind in ("stat", "status"):
            keys = matching_keys(
                rt,
                [Selector.of(s["name"], s.get("labels") or {}) for s in widget["series"]],
                known,
            )
            frames = [read_series(rt, k, start, end, max_points=600, now=now) for k in keys]
        else:
            frames = widget_frames(rt, plain, rng, now, known)
        figure = {"line": line.figure, "bar": bar.figure, "pie": pie.figure}.get(kind)
        section = Section(title=widget["title"])
        if figure is not None:
            figures.append(figure(plain, frames))
            owners.append(len(sections))
        elif kind == "stat" and frames:
            figures.append(stat.spark_figure(frames[0]))
            owners.append(len(sections))
        else:
            section.note = "Shown as a table: this widget has no chart."
        for frame in frames:
            summary = _summary(rt, frame.key, start, end, now)
            if summary:
                section.rows.append((str(frame.key), *summary))  # type: ignore[arg-type]
        sections.append(section)
    try:
        images = pool.render(figures) if figures else []
    except RenderError as exc:
        return error(503, "PDF rendering failed", str(exc), Retry_After="10")
    for owner, image in zip(owners, images, strict=True):
        sections[owner].image = image
    events = [
        {**e, "time": _time.strftime("%Y-%m-%d %H:%M:%S", _time.gmtime(e["ts"] / 1000))}
        for e in rt.alerts.store.events(limit=1000, since_ts=start)  # type: ignore[union-attr]
        if e["ts"] <= end and e["state"] in ("firing", "resolved")
    ]
    user = current_user()
    pdf = build_pdf(
        title=dash["title"],
        range_text=f"{export_csv.iso(start)} to {export_csv.iso(end)}",
        generated=export_csv.iso(now),
        user=user.username if user else "?",
        sections=sections,
        alerts=list(reversed(events)),
    )
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{dash["id"]}-{start}-{end}.pdf"'},
    )
