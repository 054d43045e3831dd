"""``/healthz`` (each part's state) and ``/metrics`` (Prometheus text)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from flask import Blueprint, Response
from flask.typing import ResponseReturnValue
from prometheus_client import generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from dashboard import __version__
from dashboard.api.errors import error
from dashboard.auth import role_at_least
from dashboard.auth.guard import bearer_token, public, session_role, token_auth
from dashboard.extensions import current_runtime

if TYPE_CHECKING:
    from dashboard.runtime import Runtime

bp = Blueprint("observability", __name__)


@bp.get("/healthz")
@public
def healthz() -> ResponseReturnValue:
    """200 when the node can serve, 503 when its store does not answer.

    Anyone (a load balancer) gets the status; signed-in users get each part's state.
    """
    rt = current_runtime()
    (store_ok, store_why), (bus_ok, bus_why) = dependency_states(rt)
    status = 200 if store_ok and bus_ok else 503
    if session_role() is None:
        return {"status": "ok" if status == 200 else "degraded"}, status
    body = {
        "status": "ok" if status == 200 else "degraded",
        "version": __version__,
        "uptime_s": round(time.time() - rt.started_at, 1),
        "store": {
            "kind": rt.store.kind,
            "ok": store_ok,
            **({"error": store_why} if store_why else {}),
        },
        "bus": {**bus_state(rt, bus_ok), **({"error": bus_why} if bus_why else {})},
        "hot_store": rt.hot.stats(),
        "series": {"known": len(rt.series_limit), "max": rt.settings.max_series},
        "live": {
            "cursor": rt.hub.cursor,
            "clients": rt.live_clients,
            "rooms": rt.hub.room_names(),
        },
        "tasks": dict(rt.tasks),
    }
    return body, status


def dependency_states(rt: Runtime) -> tuple[tuple[bool, str], tuple[bool, str]]:
    """``(ok, why)`` of the store and of the bus, from the background check (at once, whatever
    is down); a node whose check has not run yet (no ``serve`` task) pings now."""
    now = time.monotonic()
    out = []
    for part, ping in (("store", rt.store.ping), ("bus", rt.bus.ping)):
        state = rt.dependencies.read(part, now)
        out.append(state if state is not None else (ping(), ""))
    return out[0], out[1]


def bus_state(rt: Runtime, ok: bool) -> dict[str, object]:
    """The bus's kind and state, with the persisters' lag for Redis."""
    state: dict[str, object] = {"kind": rt.bus.kind, "ok": ok}
    if ok and hasattr(rt.bus, "lag"):
        try:
            state["lag"] = rt.bus.lag()
        except Exception as exc:  # noqa: BLE001 - shown, not raised
            state["lag_error"] = str(exc)
    return state


@bp.get("/metrics")
@token_auth
def metrics() -> ResponseReturnValue:
    """Every counter of this node in the Prometheus text format.

    For an admin's session, a scraper holding an ingest token, or anyone when
    ``DASHBOARD_METRICS_PUBLIC=1``.
    """
    rt = current_runtime()
    token = bearer_token()
    if not rt.settings.metrics_public and not (token and rt.ingest_token_name(token)):
        role = session_role()
        if role is None:
            return error(401, "unauthorized", "sign in as an admin or send a bearer token")
        if not role_at_least(role, "admin"):
            return error(403, "forbidden", "needs the admin role")
    return Response(generate_latest(rt.metrics.registry), mimetype=CONTENT_TYPE_LATEST)
