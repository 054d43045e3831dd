"""``GET /api/v1/openapi.json``: the OpenAPI 3.1 description (public) of ``/api/v1``, the
ingest receivers and the Prometheus HTTP API under ``/prometheus/api/v1`` (its own envelope,
and a session or a read token: the ``readToken`` scheme)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from flask import Blueprint
from flask.typing import ResponseReturnValue

from dashboard.auth.guard import public

bp = Blueprint("openapi", __name__, url_prefix="/api/v1")

SPEC_PATH = Path(__file__).with_name("openapi.json")


@cache
def spec() -> dict[str, Any]:
    """The description, read once from ``openapi.json`` next to this module."""
    return json.loads(SPEC_PATH.read_text(encoding="utf-8"))


@bp.get("/openapi.json")
@public
def openapi() -> ResponseReturnValue:
    """The description; public, as it tells no more than the README."""
    return spec()
