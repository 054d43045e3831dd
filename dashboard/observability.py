"""``/healthz`` (each part's state) and ``/metrics`` (Prometheus text)."""

from __future__ import annotations

import time

from flask import Blueprint, Response
from flask.typing import ResponseReturnValue
from prometheus_client import generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from dashboard import __version__
from dashboard.http import runtime

bp = Blueprint("observability", __name__)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    """200 when the node can serve, 503 when its store does not answer."""
    rt = runtime()
    store_ok = rt.store.ping()
    body = {
        "status": "ok" if store_ok else "degraded",
        "version": __version__,
        "uptime_s": round(time.time() - rt.started_at, 1),
        "store": {"kind": rt.store.kind, "ok": store_ok},
        "bus": {"kind": rt.bus.kind, "ok": True},
        "hot_store": {"series": len(rt.hot.list_series()), "bytes": rt.hot.memory_bytes()},
        "live": {
            "cursor": rt.hub.cursor,
            "clients": rt.live_clients,
            "rooms": rt.hub.room_names(),
        },
        "tasks": dict(rt.tasks),
    }
    return body, 200 if store_ok else 503


@bp.get("/metrics")
def metrics() -> ResponseReturnValue:
    """Every counter of this node in the Prometheus text format."""
    return Response(generate_latest(runtime().metrics.registry), mimetype=CONTENT_TYPE_LATEST)
