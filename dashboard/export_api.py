"""``GET /api/v1/export.csv``: what the series API returns, streamed as CSV."""

from __future__ import annotations

from collections.abc import Iterator

from flask import Blueprint, Response, request, stream_with_context
from flask.typing import ResponseReturnValue

from dashboard import dashboards, export_csv
from dashboard.http import error, runtime
from dashboard.model import SeriesKey, ValidationError, parse_key
from dashboard.queries import matching_keys
from dashboard.realtime import Selector
from dashboard.runtime import now_ms
from dashboard.steps import DAY, HOUR, RAW, choose_step, step_named
from dashboard.timerange import resolve

bp = Blueprint("export", __name__, url_prefix="/api/v1")
CHUNK_MS = 6 * HOUR


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
        dash = dashboards.get_dashboard(request.args["dashboard"])
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
