"""``POST /api/v1/ingest`` (JSON) and ``/ingest/prometheus`` (text format): validated batches
onto the bus, answered once durable."""

from __future__ import annotations

from flask import Blueprint, Response, g, request
from flask.typing import ResponseReturnValue

from dashboard.api.errors import error
from dashboard.auth.guard import bearer_token, token_auth
from dashboard.auth.limits import ingest_limit, token_key
from dashboard.extensions import current_runtime, limiter
from dashboard.metrics.model import Batch, Limits, ValidationError
from ingest import accept
from ingest.prometheus_text import exposition_batch

bp = Blueprint("ingest", __name__, url_prefix="/api/v1")


@bp.post("/ingest")
@token_auth
@limiter.limit(ingest_limit, key_func=token_key)
def ingest() -> ResponseReturnValue:
    """Accept a JSON batch of points; 202 with the count once it is stored."""
    rt = current_runtime()
    try:
        accept.authorize(node=rt, token=bearer_token(), source="http")
        if not request.is_json:
            rt.metrics.ingest_rejected.labels("http", "content_type").inc()
            return error(415, "unsupported media type", "send the batch as application/json")
        # the app's request class makes deep nesting None too
        body = request.get_json(silent=True)
        if body is None:
            rt.metrics.ingest_rejected.labels("http", "invalid").inc()
            return error(400, "invalid JSON", "body: not a JSON document")
        batch = accept.parse(node=rt, body=body, source="http")
        accepted = accept.publish(node=rt, batch=batch, source="http")
    except accept.Refused as refused:
        return _refusal(refused)
    return {"accepted": accepted}, 202


@bp.post("/ingest/prometheus")
@token_auth
@limiter.limit(ingest_limit, key_func=token_key)
def ingest_prometheus() -> ResponseReturnValue:
    """Accept a Prometheus text exposition; each sample is a point; 202 once stored."""
    rt = current_runtime()
    try:
        accept.authorize(node=rt, token=bearer_token(), source="prometheus")
        batch = accept.parse(
            node=rt,
            body=request.get_data(cache=False),
            source="prometheus",
            parser=_exposition,
            message="invalid exposition",
        )
        accepted = accept.publish(node=rt, batch=batch, source="prometheus")
    except accept.Refused as refused:
        return _refusal(refused)
    return {"accepted": accepted}, 202


def _exposition(data: bytes, *, now_ms: int, limits: Limits) -> Batch:
    """The batch of an exposition's bytes (UTF-8 text)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValidationError("body", f"not UTF-8: {exc}") from None
    return exposition_batch(text, now_ms=now_ms, limits=limits)


def _refusal(refused: accept.Refused) -> ResponseReturnValue:
    """The JSON error of a refused batch, with its challenge or its Retry-After."""
    headers = {}
    if refused.status == 401:
        headers["WWW_Authenticate"] = 'Bearer realm="ingest"'
    if refused.retry:
        g.ingest_retry_after = "1"
        headers["Retry_After"] = "1"
    return error(refused.status, refused.message, refused.detail, **headers)


@bp.after_app_request
def _keep_retry_after(response: Response) -> Response:
    """Put back the Retry-After of a refused batch: flask-limiter, adding its headers after the
    view on rate-limited routes, rewrites it a second shorter ("1" became "0": retry at once)."""
    wanted = g.pop("ingest_retry_after", None)
    if wanted is not None:
        response.headers["Retry-After"] = wanted
    return response
