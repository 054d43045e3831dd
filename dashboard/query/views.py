"""The Prometheus HTTP API (``/prometheus/api/v1``): ``query``, ``query_range``, ``series``,
``labels`` and ``label/<name>/values``, GET or POST (form), in Prometheus' JSON and error
format, so Grafana's Prometheus data source can read the store.

Each view parses its parameters, calls ``dashboard.query.service`` and maps its errors:
``bad_data`` 400, ``execution`` 422 (too many samples), ``timeout`` 503; every refusal is
counted in ``dashboard_query_refused_total{reason}``. Callers: a viewer's session (POST
needs its CSRF header, as everywhere) or a bearer token of scope ``read``: one made with
``dashboard tokens create NAME --scope read`` or listed in ``DASHBOARD_READ_TOKENS``. An
ingest token is refused here (403), as a read token is on the ingest routes.
"""

from __future__ import annotations

import logging

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue

from dashboard.api.errors import prometheus_error
from dashboard.auth import role_at_least
from dashboard.auth.guard import bearer_token, session_role, token_auth
from dashboard.auth.limits import api_limit, user_key
from dashboard.clock import now_ms
from dashboard.extensions import current_runtime, limiter
from dashboard.query import service, wire
from dashboard.query.values import QueryError, TooManySamples

log = logging.getLogger(__name__)

bp = Blueprint("prometheus", __name__, url_prefix="/prometheus/api/v1")
limiter.limit(api_limit, key_func=user_key)(bp)

STATUS = {"bad_data": 400, "execution": 422, "timeout": 503}
METHODS = ["GET", "POST"]
# When no start is given for series and label lookups: all the stored history.
MIN_MS, MAX_MS = wire.MIN_MS, wire.MAX_MS


@bp.before_request
def _authorise() -> ResponseReturnValue | None:
    """A token of scope ``read`` or a viewer's session (with its CSRF check): 401 for an
    unknown or revoked token, 403 for a token of another scope."""
    token = bearer_token()
    if token:
        grant = current_runtime().token_grant(token)
        if grant is None:
            return prometheus_error(401, "unauthorized", "unknown or revoked token")
        if grant.scope != "read":
            return prometheus_error(
                403,
                "forbidden",
                f"token {grant.name!r} may only {grant.scope}; query with a read token"
                " (`dashboard tokens create NAME --scope read`)",
            )
        return None
    role = session_role()
    if role is None:
        return prometheus_error(401, "unauthorized", "sign in or send a read token")
    if not role_at_least(role, "viewer"):
        return prometheus_error(403, "forbidden", "needs the viewer role")
    return None


def _param(name: str) -> str | None:
    """A parameter from the query string or, for POST, the form."""
    value = request.values.get(name)
    return value if value is None else value.strip()


def _limits() -> service.QueryLimits:
    """The node's query limits (``DASHBOARD_QUERY_MAX_SAMPLES``, ``_TIMEOUT_S``)."""
    settings = current_runtime().settings
    return service.QueryLimits(settings.query_max_samples, settings.query_timeout_s)


def _timeout() -> float | None:
    """The ``timeout`` parameter in seconds, if given."""
    raw = _param("timeout")
    return wire.parse_duration(raw, "timeout") / 1000.0 if raw else None


def _success(data: object) -> ResponseReturnValue:
    """Prometheus' success envelope."""
    return jsonify({"status": "success", "data": data})


@bp.errorhandler(QueryError)
def _query_error(exc: QueryError) -> ResponseReturnValue:
    """Prometheus' error envelope, counted by reason."""
    reason = "too_many_samples" if isinstance(exc, TooManySamples) else exc.kind
    current_runtime().metrics.query_refused.labels(reason).inc()
    return prometheus_error(STATUS.get(exc.kind, 400), exc.kind, str(exc))


@bp.route("/query", methods=METHODS)
@token_auth
def query() -> ResponseReturnValue:
    """An instant query at ``time`` (now by default)."""
    text = _param("query") or ""
    at = wire.parse_time(_param("time"), "time", now_ms())
    timeout = _timeout()
    data = service.instant_query(
        reader=current_runtime(), query=text, at_ms=at, limits=_limits(), timeout_s=timeout
    )
    return _success(data)


@bp.route("/query_range", methods=METHODS)
@token_auth
def query_range() -> ResponseReturnValue:
    """A range query from ``start`` to ``end`` every ``step``."""
    text = _param("query") or ""
    start = wire.parse_time(_param("start"), "start")
    end = wire.parse_time(_param("end"), "end")
    step = wire.parse_duration(_param("step"), "step")
    timeout = _timeout()
    data = service.range_query(
        reader=current_runtime(),
        query=text,
        start_ms=start,
        end_ms=end,
        step_ms=step,
        limits=_limits(),
        timeout_s=timeout,
    )
    return _success(data)


def _span() -> tuple[list[str], int, int]:
    """``match[]``, ``start`` and ``end`` of a metadata request (all of time by default)."""
    match = [m for m in request.values.getlist("match[]") if m.strip()]
    start = wire.parse_time(_param("start"), "start", MIN_MS)
    end = wire.parse_time(_param("end"), "end", MAX_MS)
    return match, start, end


@bp.route("/series", methods=METHODS)
@token_auth
def series() -> ResponseReturnValue:
    """The label sets of the series ``match[]`` selects."""
    match, start, end = _span()
    found = service.find_series(reader=current_runtime(), match=match, start_ms=start, end_ms=end)
    return _success(found)


@bp.route("/labels", methods=METHODS)
@token_auth
def labels() -> ResponseReturnValue:
    """Every label name (of the series ``match[]`` selects, when given)."""
    match, start, end = _span()
    names = service.label_names(reader=current_runtime(), match=match, start_ms=start, end_ms=end)
    return _success(names)


@bp.get("/label/<name>/values")
@token_auth
def label_values(name: str) -> ResponseReturnValue:
    """Every value of one label (of the series ``match[]`` selects, when given)."""
    match, start, end = _span()
    values = service.label_values(
        reader=current_runtime(), name=name, match=match, start_ms=start, end_ms=end
    )
    return _success(values)


@bp.get("/status/buildinfo")
@token_auth
def buildinfo() -> ResponseReturnValue:
    """What Grafana asks to pick its query features: the Prometheus version this API follows."""
    return _success({"version": "3.0.0", "revision": "dashboard", "branch": "", "goVersion": ""})


@bp.get("/metadata")
@token_auth
def metadata() -> ResponseReturnValue:
    """Metric metadata by family: ``{name: [{type, help, unit}]}`` (``metric``, ``limit``), as
    Grafana reads it to offer ``rate()`` for counters."""
    data = service.metadata(
        reader=current_runtime(), metric=_param("metric"), limit=_param("limit")
    )
    return _success(data)


@bp.route("/<path:rest>", methods=METHODS)
@token_auth
def unknown(rest: str) -> ResponseReturnValue:
    """404 in Prometheus' error format for an endpoint this API does not have."""
    return prometheus_error(404, "not_found", f"unknown endpoint {rest[:100]}")
