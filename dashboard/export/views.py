"""``GET /api/v1/export.csv`` (what the series API returns, streamed as CSV) and
``GET /api/v1/export.pdf`` (a dashboard's report): parse the query, call the export service."""

from __future__ import annotations

from flask import Blueprint, Response, request, stream_with_context
from flask.typing import ResponseReturnValue

from dashboard.api.errors import error
from dashboard.auth.guard import current_user
from dashboard.auth.limits import api_limit, user_key
from dashboard.boards.models import DEFAULT_ID
from dashboard.clock import now_ms
from dashboard.export import service
from dashboard.extensions import current_runtime, limiter
from dashboard.metrics.model import SeriesKey, ValidationError, parse_key
from dashboard.metrics.steps import DAY
from dashboard.metrics.timerange import resolve

bp = Blueprint("export", __name__, url_prefix="/api/v1")
limiter.limit(api_limit, key_func=user_key)(bp)
MAX_TS = 2**53 - 1  # the largest integer JSON (and JavaScript) keeps exact

# each refusal of the service as an API error: status, error text, headers
REFUSALS: dict[type[service.ExportError], tuple[int, str, dict[str, str]]] = {
    service.BadParameter: (400, "bad parameter", {}),
    service.UnknownDashboard: (404, "unknown dashboard", {}),
    service.RangeTooLong: (400, "range too long for this step", {}),
    service.RenderUnavailable: (503, "PDF export unavailable", {"Retry_After": "3600"}),
    service.RenderFailed: (503, "PDF rendering failed", {"Retry_After": "10"}),
}


@bp.get("/export.csv")
def export_csv_route() -> ResponseReturnValue:
    """Stream every selected series over ``start..end`` at ``step`` (tidy long format)."""
    rt = current_runtime()
    now = now_ms()
    view = _page_view(now)
    try:
        if view is None:
            start, end = _range(now, default_start=None, allow_empty=True)
        else:
            start, end = view.start, view.end
        export = service.plan_csv(
            rt=rt,
            names=[n.strip() for n in request.args.get("names", "").split(",") if n],
            series=_series_keys(),
            dashboard_id=view.dashboard_id if view else request.args.get("dashboard"),
            start=start,
            end=end,
            step=request.args.get("step", "chart" if view else "auto"),
            now=now,
            queries=request.args.getlist("query"),
            label_filter=view.label_filter if view else {},
            variables=view.variables if view else None,
        )
    except service.ExportError as exc:
        return _refused(exc)
    stem = view.dashboard_id if view else "export"
    filename = f"{stem}-{start}-{end}.csv"
    return Response(
        stream_with_context(service.csv_lines(rt=rt, export=export)),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "X-Export-View": service.view_text(export, view.dashboard_id if view else None),
        },
    )


def _page_view(now: int) -> service.PageView | None:
    """What the page at ``view`` (its URL's query, as the browser has it) shows: the
    dashboard, its range resolved now and its label filter; None without ``view``."""
    search = request.args.get("view")
    if search is None:
        return None
    return service.page_view(search, now)


@bp.get("/export.pdf")
def export_pdf_route() -> ResponseReturnValue:
    """A PDF report of a dashboard over a range: charts, summaries, the alerts that fired."""
    rt = current_runtime()
    try:
        service.check_renderer(rt=rt)
        now = now_ms()
        view = _page_view(now)
        dash_id = view.dashboard_id if view else request.args.get("dashboard", DEFAULT_ID)
        dash = service.find_dashboard(
            rt=rt, dashboard_id=dash_id, variables=view.variables if view else None
        )
        if view is None:
            start, end = _range(now, default_start="now-24h", allow_empty=False)
        else:
            start, end = view.start, view.end
        user = current_user()
        pdf = service.pdf_report(
            rt=rt,
            dash=dash,
            start=start,
            end=end,
            now=now,
            user=user.username if user else "?",
            label_filter=view.label_filter if view else {},
        )
    except service.ExportError as exc:
        return _refused(exc)
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{dash["id"]}-{start}-{end}.pdf"'},
    )


def _range(now: int, *, default_start: str | None, allow_empty: bool) -> tuple[int, int]:
    """``start`` and ``end`` of the query (``start`` defaults to a day before ``end``)."""
    try:
        end = resolve(request.args.get("end", "now"), now)
        start = resolve(request.args.get("start", default_start or str(end - DAY)), now)
    except ValueError:
        raise service.BadParameter("start and end: Unix milliseconds, now or now-24h") from None
    if start > end or (start == end and not allow_empty):
        detail = "must not be after end" if allow_empty else "must be before end"
        raise service.BadParameter(f"start: {detail}")
    if not (0 <= start <= MAX_TS and 0 <= end <= MAX_TS):
        raise service.BadParameter(f"start and end: between 0 and {MAX_TS}")
    return start, end


def _series_keys() -> list[SeriesKey]:
    """The keys of the ``series`` parameters."""
    try:
        return [parse_key(text) for text in request.args.getlist("series")]
    except ValidationError as exc:
        raise service.BadParameter(f"series: {exc.message}") from None


def _refused(exc: service.ExportError) -> ResponseReturnValue:
    """The API error for an export the service refused."""
    status, message, headers = REFUSALS[type(exc)]
    return error(status, message, exc.detail, **headers)
