"""Errors in the API's one shape, ``{"error": message, "detail": detail}``."""

from __future__ import annotations

from flask import request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

from dashboard.auth.guard import json_error

# the guard answers in this shape too (and auth may not import the api): one implementation
error = json_error


def json_http_errors(exc: HTTPException) -> ResponseReturnValue:
    """HTTP errors under ``/api/`` as JSON in the API's shape (429s keep their Retry-After)."""
    if not request.path.startswith("/api/"):
        return exc
    response = error(exc.code or 500, (exc.name or "error").lower(), exc.description)
    if exc.response is not None:
        for name in ("Retry-After", "WWW-Authenticate"):
            if name in exc.response.headers:
                response.headers[name] = exc.response.headers[name]
    return response
