"""The ``/live`` Socket.IO namespace and the hub's timing: one ``points`` message per room."""

from __future__ import annotations

import hashlib
import json
import logging
import time
from typing import TYPE_CHECKING, Any

import numpy as np
from flask import request
from flask_jwt_extended import get_current_user, get_jwt, verify_jwt_in_request
from flask_jwt_extended.exceptions import JWTExtendedException
from flask_socketio import ConnectionRefusedError, Namespace, SocketIO, join_room, leave_room
from jwt.exceptions import PyJWTError

from dashboard.boards import models as dashboards
from dashboard.boards import service as boards_service
from dashboard.boards.exprs import dashboard_exprs, result_key
from dashboard.boards.variables import free_values, interpolate_dashboard
from dashboard.clock import now_ms
from dashboard.live import transport
from dashboard.live.health import Dependencies, HealthWatch
from dashboard.metrics.model import Batch, Selector, SeriesKey, ValidationError, parse_key
from dashboard.query.series import instant_series
from dashboard.query.values import QueryError

if TYPE_CHECKING:
    from dashboard.runtime import Runtime

log = logging.getLogger(__name__)

NAMESPACE = "/live"
# A client with more packets than this waiting to be sent gets no more until it drains.
MAX_QUEUED = 64


def room_for(dashboard_id: str) -> str:
    """The room of a dashboard's viewers."""
    return f"dashboard:{dashboard_id}"


MAX_SELECTORS = 200


def board_of(rt: Runtime, data: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """The room and the dashboard, written with the message's variable values (``vars``, as
    the page's config has them), that a message names; None for no such dashboard."""
    dash = rt.dashboard(str(data["dashboard"]))
    if dash is None:
        return None
    variables = dash.get("variables") or []
    picked = free_values(data.get("vars"), variables)
    chosen = {n: "*" if p.all else list(p.values) for n, p in picked.items()}  # All is All
    if chosen == {
        n: "*" if p.all else list(p.values) for n, p in free_values(None, variables).items()
    }:
        return room_for(dash["id"]), interpolate_dashboard(dash, picked)  # the defaults' room
    # a room per set of values: the viewers of one pick share the expressions' evaluation
    text = json.dumps(chosen, sort_keys=True).encode()
    digest = hashlib.sha1(text, usedforsecurity=False).hexdigest()[:16]
    return f"{room_for(dash['id'])}:{digest}", interpolate_dashboard(dash, picked)


def selectors_of(rt: Runtime, data: Any) -> tuple[str, list[Selector]] | None:
    """The room and selectors a ``subscribe`` or ``since`` message asks for, or None.

    ``{"dashboard": ID}`` means that dashboard's series (``"vars"``: with the values of its
    variables written in); ``{"series": [...]}`` names series as ``{"name", "labels"}``
    objects or text keys (``name{k="v"}``).
    """
    if not isinstance(data, dict):
        return None
    if data.get("dashboard") is not None:
        found = board_of(rt, data)
        if found is None:
            return None
        return found[0], dashboards.selectors(found[1])
    wanted = data.get("series")
    if not isinstance(wanted, list) or not 0 < len(wanted) <= MAX_SELECTORS:
        return None
    out: list[Selector] = []
    try:
        for item in wanted:
            if isinstance(item, str):
                key = parse_key(item)
                out.append(Selector(key.name, key.labels))
            elif isinstance(item, dict) and isinstance(item.get("name"), str):
                labels = item.get("labels") or {}
                if not isinstance(labels, dict):
                    return None
                out.append(Selector.of(item["name"], {str(k): str(v) for k, v in labels.items()}))
            else:
                return None
    except ValidationError:
        return None
    # a room name, not a security check (the room grants nothing: every member is signed in)
    selection = "\n".join(sorted(map(str, out))).encode()
    digest = hashlib.sha1(selection, usedforsecurity=False).hexdigest()[:16]
    return f"series:{digest}", out


class LiveNamespace(Namespace):
    """Browsers join a room for their dashboard (or series) and receive its points."""

    def __init__(self, rt: Runtime) -> None:
        """A namespace bound to one node's runtime."""
        super().__init__(NAMESPACE)
        self.rt = rt
        self.sessions: dict[str, tuple[str, int]] = {}
        self.rooms_of: dict[str, set[str]] = {}
        self.health = HealthWatch(separate_bus=rt.bus.kind != "embedded")
        self.emitter: LiveEmitter | None = None

    def trigger_event(self, event: str, *args: Any) -> Any:
        """Run the event's handler in the request context Flask-SocketIO makes for it, first
        dropping that context's routing error.

        /socket.io/ is no Flask route, so each event's context holds a NotFound (or, for a
        websocket, a WebsocketMismatch) whose traceback holds the context: a cycle of a few KB
        per event that only a full collection frees, of which a node with thousands of viewers
        runs few (``dashboard.cli.tune_gc``).
        """
        handler = getattr(self, f"on_{event or ''}", None)
        if handler is None:
            return None

        def handle(*a: Any) -> Any:
            request.routing_exception = None
            return handler(*a)

        return self.socketio._handle_event(handle, event, self.namespace, *args)

    def on_connect(self, auth: Any = None) -> None:
        """Accept only a valid session cookie (the handshake's Origin is checked by Engine.IO)."""
        try:
            verify_jwt_in_request()
            user = get_current_user()
        except (JWTExtendedException, PyJWTError):
            user = None
        if user is None:
            raise ConnectionRefusedError("unauthorized")
        sid = request.sid  # type: ignore[attr-defined]
        self.sessions[sid] = (user.username, int(get_jwt()["exp"]))
        self.rt.live_clients += 1

    def on_disconnect(self, reason: Any = None) -> None:
        """Forget the client, and every room it leaves empty."""
        sid = request.sid  # type: ignore[attr-defined]
        if self.sessions.pop(sid, None) is not None:
            self.rt.live_clients = max(0, self.rt.live_clients - 1)
        for room in self.rooms_of.pop(sid, set()):
            self._drop_if_empty(room, leaving=sid)

    def _drop_if_empty(self, room: str, leaving: str) -> None:
        """Stop collecting points for a room nobody else is in."""
        others = [
            s
            for s, _ in self.socketio.server.manager.get_participants(NAMESPACE, room)
            if s != leaving
        ]
        if not others:
            self.rt.hub.remove_room(room)

    def expired(self, now_s: float) -> list[str]:
        """Socket ids whose session ended; the sweeper disconnects them (they reconnect anew)."""
        return [sid for sid, (_, exp) in list(self.sessions.items()) if exp <= now_s]

    def on_subscribe(self, data: Any) -> dict[str, Any]:
        """Join the room of a dashboard or a set of series; the ack carries the cursor."""
        picked = selectors_of(self.rt, data)
        if picked is None:
            return {"error": "unknown dashboard or bad series list", "detail": str(data)[:200]}
        room, selectors = picked
        found = board_of(self.rt, data) if data.get("dashboard") else None
        self.rt.hub.add_room(room, selectors, dashboard_exprs(found[1]) if found else ())
        join_room(room)
        self.rooms_of.setdefault(request.sid, set()).add(room)  # type: ignore[attr-defined]
        return {"cursor": self.rt.hub.cursor, "room": room, "health": self.health.state.as_dict()}

    def on_unsubscribe(self, data: Any) -> dict[str, Any]:
        """Leave a room (a page that stops showing those series)."""
        picked = selectors_of(self.rt, data)
        if picked is None:
            return {"error": "unknown dashboard or bad series list"}
        room = picked[0]
        leave_room(room)
        self.rooms_of.get(request.sid, set()).discard(room)  # type: ignore[attr-defined]
        self._drop_if_empty(room, leaving=request.sid)  # type: ignore[attr-defined]
        return {"left": room}

    def on_since(self, data: Any) -> dict[str, Any]:
        """What the client missed after its cursor (catch-up after a reconnect or a gap)."""
        picked = selectors_of(self.rt, data)
        if picked is None:
            return {"error": "expected {dashboard or series, cursor}"}
        return self.rt.hub.since(str(data.get("cursor") or ""), picked[1])


class LiveEmitter:
    """Publishes batches to the hub and emits its room messages at the right moments."""

    def __init__(self, rt: Runtime, socketio: SocketIO) -> None:
        """An emitter for one node."""
        self.rt = rt
        self.socketio = socketio

    def publish(self, batch: Batch) -> None:
        """Queue a batch; emit now after a quiet spell, else once when the window ends, from
        a task of its own either way (the producer's request does not wait for the fan-out)."""
        due = self.rt.hub.publish(batch)
        if due is None:
            return
        if due <= 0:
            self.socketio.start_background_task(self.flush)
        else:
            self.socketio.start_background_task(self._flush_later, due)

    def _flush_later(self, delay: float) -> None:
        """Sleep cooperatively, then flush."""
        self.socketio.sleep(delay)
        self.flush()

    def flush(self) -> None:
        """Emit one ``points`` message per room with pending points."""
        started = time.perf_counter()
        messages = self.rt.hub.flush()
        for room, payload in messages:
            # a client whose send queue is full is skipped; when it drains, the next message's
            # `prev` shows it the gap and it catches up with `since`. Each node tails the bus
            # itself: its points go to its own clients only, never through the message queue
            # (which would deliver every node's copy everywhere)
            skipped = transport.send_to_room(
                self.socketio.server, NAMESPACE, room, "points", payload, MAX_QUEUED
            )
            if skipped:
                self.rt.metrics.live_skipped.inc(skipped)
        if messages:
            self.rt.metrics.live_messages.inc(len(messages))
            self.rt.metrics.live_flush_seconds.observe(time.perf_counter() - started)


class RoundReader:
    """The node read for one round of the live expressions: its series listed once (the
    round's expressions all see the same series), every other read passed through."""

    def __init__(self, rt: Runtime) -> None:
        """Read through ``rt``."""
        self._rt = rt
        self._listed: list[Any] | None = None

    def series_list(self) -> list[Any]:
        """The node's series, listed on the first call of the round."""
        if self._listed is None:
            self._listed = self._rt.series_list()
        return self._listed

    def __getattr__(self, name: str) -> Any:
        """Anything else the node reads with (``query``, ``query_many``, limits...)."""
        return getattr(self._rt, name)


def expression_points(
    rt: Runtime, exprs: list[str], at_ms: int
) -> dict[SeriesKey, tuple[np.ndarray, np.ndarray]]:
    """Each expression's value at ``at_ms``, by the key of each series it gives; an expression
    that fails now (over a limit) gives nothing and is logged."""
    out: dict[SeriesKey, tuple[np.ndarray, np.ndarray]] = {}
    limits = boards_service.query_limits(rt)
    reader = RoundReader(rt)  # the series are listed once for the round, not per expression
    for expr in exprs:
        try:
            found = instant_series(reader=reader, expr=expr, at_ms=at_ms, limits=limits)
        except QueryError as exc:
            log.warning("live expression %r failed: %s", expr[:200], exc)
            continue
        for series in found:
            key = result_key(expr, series.labels)
            if key is not None:
                out[key] = (series.ts, series.values)
    return out


def feed_expressions(rt: Runtime, emitter: LiveEmitter, at_ms: int) -> int:
    """Evaluate the expressions the viewers' dashboards draw at ``at_ms`` and push their values;
    how many series went out."""
    exprs = rt.hub.expressions()
    if not exprs:
        return 0
    started = time.perf_counter()
    points = expression_points(rt, exprs, at_ms)
    if rt.hub.publish_derived(points):
        emitter.flush()
    rt.metrics.live_expr_seconds.observe(time.perf_counter() - started)
    return len(points)


def run_expression_feed(rt: Runtime, emitter: LiveEmitter, every_s: float = 1.0) -> None:
    """Feed the expressions every second, on the second (a ``serve`` task: each node for its
    own rooms, from its own hot store)."""
    while True:
        emitter.socketio.sleep(every_s - time.time() % every_s)
        try:
            feed_expressions(rt, emitter, now_ms() // 1000 * 1000)
        except Exception:  # keep feeding
            log.exception("live expressions failed")


def sweep_expired_sessions(socketio: SocketIO, namespace: LiveNamespace) -> int:
    """Disconnect every socket whose session token has expired; how many were."""
    sids = namespace.expired(time.time())
    for sid in sids:
        socketio.server.disconnect(sid, namespace=NAMESPACE)
        namespace.sessions.pop(sid, None)
    return len(sids)


def run_session_sweeper(socketio: SocketIO, namespace: LiveNamespace, every_s: float = 15) -> None:
    """Sweep expired sessions forever (a background task of ``dashboard serve``)."""
    while True:
        socketio.sleep(every_s)
        try:
            sweep_expired_sessions(socketio, namespace)
        except Exception:  # keep sweeping
            log.exception("session sweep failed")


def check_dependencies(rt: Runtime, watch: HealthWatch) -> Dependencies | None:
    """Ping the store and the bus once, recording each reading for ``/healthz``; the new
    state when it changed.

    The embedded bus is the store itself, so only a Redis bus is pinged on its own.
    """
    probe = rt.dependencies
    probe.begin("store", time.monotonic())
    store_ok = rt.store.ping()
    probe.done("store", store_ok, time.monotonic())
    bus_ok = True
    if rt.bus.kind != "embedded":
        probe.begin("bus", time.monotonic())
        bus_ok = rt.bus.ping()
        probe.done("bus", bus_ok, time.monotonic())
    else:
        probe.done("bus", store_ok, time.monotonic())
    return watch.observe(store_ok, bus_ok)


def emit_health(socketio: SocketIO, state: Dependencies) -> None:
    """Tell every page on this node (never through the message queue: it may be the one down)."""
    socketio.server.manager.emit(
        "status", state.as_dict(), namespace=NAMESPACE, room=None, ignore_queue=True
    )


def watch_once(socketio: SocketIO, namespace: LiveNamespace) -> Dependencies | None:
    """One round of the health watch: ping, and tell the pages when the state changed."""
    changed = check_dependencies(namespace.rt, namespace.health)
    if changed is not None:
        log.warning("dependencies: %s", changed.message() or "all reachable again")
        emit_health(socketio, changed)
    return changed


def run_health_watch(socketio: SocketIO, namespace: LiveNamespace, every_s: float = 1.0) -> None:
    """Ping the dependencies forever, telling the pages of each change (a ``serve`` task)."""
    while True:
        try:
            watch_once(socketio, namespace)
        except Exception:  # keep watching
            log.exception("health watch failed")
        socketio.sleep(namespace.health.next_check_s(every_s))


def register(socketio: SocketIO, rt: Runtime) -> LiveNamespace:
    """Attach the namespace and route the bus's live consumer through the emitter."""
    namespace = LiveNamespace(rt)
    socketio.on_namespace(namespace)
    emitter = LiveEmitter(rt, socketio)
    rt.live_sink = emitter.publish
    namespace.emitter = emitter
    return namespace
