"""``POST /api/v1/ingest`` (JSON) and ``/ingest/prometheus`` (text format): validated batches
onto the bus, answered once durable."""

from __future__ import annotations

from flask import Blueprint, Response, g, request
from flask.typing import ResponseReturnValue

from dashboard.api.errors import error, runtime
from dashboard.auth.guard import token_auth
from dashboard.clock import now_ms
from dashboard.metrics.model import Batch, ValidationError, validate_batch
from ingest.bus import BusBusy, BusUnavailable
from ingest.prometheus_text import exposition_batch

bp = Blueprint("ingest", __name__, url_prefix="/api/v1")


def bearer_token() -> str:
    """The token of an ``Authorization: Bearer`` header, or an empty string."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


@bp.post("/ingest")
@token_auth
def ingest() -> ResponseReturnValue:
    """Accept a JSON batch of points; 202 with the count once it is stored."""
    rt = runtime()
    rejected = rt.metrics.ingest_rejected
    refused = _refuse_without_token("http")
    if refused is not None:
        return refused
    if not request.is_json:
        rejected.labels("http", "content_type").inc()
        return error(415, "unsupported media type", "send the batch as application/json")
    body = request.get_json(silent=True)  # the app's request class makes deep nesting None too
    if body is None:
        rejected.labels("http", "invalid").inc()
        return error(400, "invalid JSON", "body: not a JSON document")
    try:
        batch = validate_batch(body, now_ms=now_ms(), limits=rt.limits)
    except ValidationError as exc:
        rejected.labels("http", "invalid").inc()
        return error(400, "invalid batch", {"field": exc.field, "message": exc.message})
    return _publish(batch, "http")


@bp.post("/ingest/prometheus")
@token_auth
def ingest_prometheus() -> ResponseReturnValue:
    """Accept a Prometheus text exposition; each sample is a point; 202 once stored."""
    rt = runtime()
    rejected = rt.metrics.ingest_rejected
    refused = _refuse_without_token("prometheus")
    if refused is not None:
        return refused
    try:
        text = request.get_data(cache=False).decode("utf-8")
    except UnicodeDecodeError as exc:
        rejected.labels("prometheus", "invalid").inc()
        return error(400, "invalid exposition", {"field": "body", "message": f"not UTF-8: {exc}"})
    try:
        batch = exposition_batch(text, now_ms=now_ms(), limits=rt.limits)
    except ValidationError as exc:
        rejected.labels("prometheus", "invalid").inc()
        return error(400, "invalid exposition", {"field": exc.field, "message": exc.message})
    return _publish(batch, "prometheus")


@bp.after_app_request
def _keep_retry_after(response: Response) -> Response:
    """Put back the Retry-After of a refused batch: flask-limiter, adding its headers after the
    view on rate-limited routes, rewrites it a second shorter ("1" became "0": retry at once)."""
    wanted = g.pop("ingest_retry_after", None)
    if wanted is not None:
        response.headers["Retry-After"] = wanted
    return response


def _refuse_without_token(source: str) -> ResponseReturnValue | None:
    """A counted 401 unless the request carries a valid ingest token."""
    rt = runtime()
    token = bearer_token()
    if token and rt.ingest_token_name(token) is not None:
        return None
    rt.metrics.ingest_rejected.labels(source, "auth").inc()
    return error(
        401,
        "unauthorized",
        "send an ingest token as 'Authorization: Bearer <token>'",
        WWW_Authenticate='Bearer realm="ingest"',
    )


def _publish(batch: Batch, source: str) -> ResponseReturnValue:
    """Hand a validated batch to the bus: 202 with the count, or 429/503 with Retry-After."""
    rt = runtime()
    rejected = rt.metrics.ingest_rejected
    try:
        accepted = rt.bus.publish(batch)
    except BusBusy as exc:
        rejected.labels(source, "busy").inc()
        g.ingest_retry_after = "1"
        return error(429, "ingest is behind", str(exc), Retry_After="1")
    except BusUnavailable as exc:
        rejected.labels(source, "unavailable").inc()
        g.ingest_retry_after = "1"
        return error(503, "storage unavailable", str(exc), Retry_After="1")
    rt.metrics.ingest_points.labels(source).inc(accepted)
    rt.metrics.ingest_batches.labels(source).inc()
    return {"accepted": accepted}, 202
