"""Errors in the API's one shape, ``{"error": message, "detail": detail}``."""

from __future__ import annotations

from flask import Response, jsonify, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

from dashboard.auth.guard import json_error

# the guard answers in this shape too (and auth may not import the api): one implementation
error = json_error


# Prometheus' errorType for an HTTP error under /prometheus/ (``bad_data`` for the other 4xx)
PROMETHEUS_ERROR_TYPES = {404: "not_found", 406: "not_acceptable", 429: "unavailable"}


def prometheus_error(status: int, kind: str, message: str) -> Response:
    """An error in Prometheus' envelope, ``{"status": "error", "errorType", "error"}``."""
    response = jsonify({"status": "error", "errorType": kind, "error": message})
    response.status_code = status
    return response


def json_http_errors(exc: HTTPException) -> ResponseReturnValue:
    """HTTP errors under ``/api/`` as JSON in the API's shape, under ``/prometheus/`` in
    Prometheus' (a body over the size limit, a rate limit); 429s keep their Retry-After."""
    code = exc.code or 500
    if request.path.startswith("/prometheus/"):
        kind = PROMETHEUS_ERROR_TYPES.get(code, "bad_data" if code < 500 else "internal")
        response = prometheus_error(code, kind, f"{exc.name}: {exc.description}")
    elif request.path.startswith("/api/"):
        response = error(code, (exc.name or "error").lower(), exc.description)
    else:
        return exc
    if exc.response is not None:
        for name in ("Retry-After", "WWW-Authenticate"):
            if name in exc.response.headers:
                response.headers[name] = exc.response.headers[name]
    return response
