"""Helpers shared by the JSON API routes: errors in one shape, the runtime of the app."""

from __future__ import annotations

from typing import Any

from flask import current_app, jsonify, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

from dashboard.runtime import Runtime


def runtime() -> Runtime:
    """The Runtime of the current app."""
    return current_app.extensions["dashboard"]


def error(status: int, message: str, detail: Any = None, **headers: str) -> ResponseReturnValue:
    """A JSON error response: ``{"error": message, "detail": detail}``."""
    response = jsonify({"error": message, "detail": detail})
    response.status_code = status
    for name, value in headers.items():
        response.headers[name.replace("_", "-")] = value
    return response


def json_http_errors(exc: HTTPException) -> ResponseReturnValue:
    """HTTP errors under ``/api/`` as JSON in the API's shape (429s keep their Retry-After)."""
    if not request.path.startswith("/api/"):
        return exc
    response = error(exc.code or 500, (exc.name or "error").lower(), exc.description)
    if exc.response is not None:
        for name in ("Retry-After", "WWW-Authenticate"):
            if name in exc.response.headers:
                response.headers[name] = exc.response.headers[name]  # type: ignore[union-attr]
    return response
