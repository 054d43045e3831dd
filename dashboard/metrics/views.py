"""The read side of ``/api/v1``: known series, a series over a range or since a cursor."""

from __future__ import annotations

from flask import Blueprint, request
from flask.typing import ResponseReturnValue

from dashboard.api.errors import error, runtime
from dashboard.boards import models as dashboards
from dashboard.clock import now_ms
from dashboard.live.hub import Selector
from dashboard.metrics.model import SeriesKey, ValidationError, parse_key
from dashboard.metrics.service import frame_json, read_series
from dashboard.metrics.steps import HOUR

bp = Blueprint("api", __name__, url_prefix="/api/v1")

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
    """Every known series with its unit and time span."""
    return {"series": [info.to_json() for info in runtime().series_list()]}


@bp.get("/series")
def get_series() -> ResponseReturnValue:
    """One series over ``start..end`` at a step, or what arrived after ``since``."""
    rt = runtime()
    key = _series_key()
    known = {i.key for i in rt.series_list()}
    if key not in known:
        return error(404, "unknown series", str(key))
    since = request.args.get("since")
    if since is not None:
        result = rt.hub.since(since, [Selector.of(key.name, key.label_dict)])
        points = result["series"].get(str(key), [])  # type: ignore[union-attr]
        return {
            "key": str(key),
            "name": key.name,
            "labels": key.label_dict,
            "step": "raw",
            "cursor": result["cursor"],
            "reset": bool(result.get("reset")),
            "points": points,
        }
    now = now_ms()
    end = _int_param("end", now, 0, MAX_TS)
    start = _int_param("start", max(end - HOUR, 0), 0, MAX_TS)
    if start > end:
        raise BadParam("start: must not be after end")
    max_points = _int_param("max_points", 1000)
    if not 1 <= max_points <= MAX_POINTS_LIMIT:
        raise BadParam(f"max_points: between 1 and {MAX_POINTS_LIMIT}")
    step = request.args.get("step", "auto")
    try:
        frame = read_series(rt, key, start, end, step=step, max_points=max_points, now=now)
    except ValueError as exc:
        raise BadParam(f"step: {exc}") from None
    return {**frame_json(frame), "cursor": rt.hub.cursor}


@bp.get("/live")
def live_since() -> ResponseReturnValue:
    """What arrived after ``since`` for every series of a dashboard (catch-up and polling)."""
    rt = runtime()
    dash = rt.dashboard(request.args.get("dashboard", dashboards.DEFAULT_ID))
    if dash is None:
        return error(404, "unknown dashboard", request.args.get("dashboard"))
    since = request.args.get("since")
    if not since:
        raise BadParam("since: required")
    return rt.hub.since(since, dashboards.selectors(dash))
