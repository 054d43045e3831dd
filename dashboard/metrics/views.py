"""The read side of ``/api/v1``: known series, a series over a range or since a cursor.

Each view parses its query, calls ``dashboard.metrics.service`` and maps its errors; the JSON
404 for an unknown API path is here too. (A dashboard's feed, ``/api/v1/live``, is in
``dashboard.live.views``.)
"""

from __future__ import annotations

from flask import Blueprint, request
from flask.typing import ResponseReturnValue

from dashboard.api.errors import error
from dashboard.auth.limits import api_limit, user_key
from dashboard.clock import now_ms
from dashboard.extensions import current_runtime, limiter
from dashboard.metrics import service
from dashboard.metrics.model import SeriesKey, ValidationError, parse_key
from dashboard.metrics.steps import HOUR

bp = Blueprint("api", __name__, url_prefix="/api/v1")
limiter.limit(api_limit, key_func=user_key)(bp)

MAX_POINTS_LIMIT = 20_000
# The Unix milliseconds a range may name: from the epoch to the largest integer JSON keeps exact.
MAX_TS = 2**53 - 1


class BadParam(ValueError):
    """A query parameter that cannot be used; the message names it."""


def _int_param(
    name: str, default: int | None = None, lo: int | None = None, hi: int | None = None
) -> int:
    """An integer query parameter (in ``[lo, hi]`` when given), or BadParam."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        if default is None:
            raise BadParam(f"{name}: required")
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadParam(f"{name}: must be an integer") from None
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise BadParam(f"{name}: between {lo} and {hi}")
    return value


def _series_key() -> SeriesKey:
    """The series named by ``key=`` (text form) or ``name=`` and ``labels=k:v,...``."""
    if request.args.get("key"):
        try:
            return parse_key(request.args["key"])
        except ValidationError as exc:
            raise BadParam(f"key: {exc.message}") from None
    name = request.args.get("name", "")
    if not name:
        raise BadParam("name: required")
    labels: dict[str, str] = {}
    for pair in filter(None, request.args.get("labels", "").split(",")):
        k, sep, v = pair.partition(":")
        if not sep or not k:
            raise BadParam("labels: use k:v pairs separated by commas")
        labels[k] = v
    return SeriesKey.of(name, labels)


def _range_params(now: int) -> tuple[int, int, int]:
    """``start``, ``end`` (the hour up to now by default) and ``max_points`` of a range read."""
    end = _int_param("end", now, 0, MAX_TS)
    start = _int_param("start", max(end - HOUR, 0), 0, MAX_TS)
    if start > end:
        raise BadParam("start: must not be after end")
    max_points = _int_param("max_points", 1000)
    if not 1 <= max_points <= MAX_POINTS_LIMIT:
        raise BadParam(f"max_points: between 1 and {MAX_POINTS_LIMIT}")
    return start, end, max_points


@bp.errorhandler(BadParam)
def _bad_param(exc: BadParam) -> ResponseReturnValue:
    """A 400 naming the parameter."""
    return error(400, "bad parameter", str(exc))


@bp.route("/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def unknown_route(rest: str) -> ResponseReturnValue:
    """404 in JSON for an API path that does not exist (not Dash's page shell)."""
    return error(404, "not found", f"/api/v1/{rest[:100]}")


@bp.get("/metrics")
def list_metrics() -> ResponseReturnValue:
    """Every known series with its unit, time span and its family's metric type."""
    rt = current_runtime()
    return {"series": service.listed_series(reader=rt, metadata=rt)}


@bp.get("/series")
def get_series() -> ResponseReturnValue:
    """One series over ``start..end`` at a step, or what arrived after ``since``."""
    rt = current_runtime()
    try:
        key = service.known_series(reader=rt, key=_series_key())
    except service.UnknownSeries as exc:
        return error(404, "unknown series", str(exc.key))
    since = request.args.get("since")
    if since is not None:
        return service.series_since(feed=rt.hub, key=key, since=since)
    now = now_ms()
    start, end, max_points = _range_params(now)
    step = request.args.get("step", "auto")
    try:
        frame = service.read_series(
            reader=rt,
            key=key,
            start_ms=start,
            end_ms=end,
            now=now,
            step=step,
            max_points=max_points,
        )
    except ValueError as exc:
        raise BadParam(f"step: {exc}") from None
    return {**service.frame_json(frame), "cursor": rt.hub.cursor}
