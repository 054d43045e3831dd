"""Helpers shared by the JSON API routes: errors in one shape, the runtime of the app."""

from __future__ import annotations

from typing import Any

from flask import current_app, jsonify
from flask.typing import ResponseReturnValue

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
