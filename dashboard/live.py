"""The ``/live`` Socket.IO namespace and the hub's timing: one ``points`` message per room."""

from __future__ import annotations

import logging
import time
from typing import Any

from flask import request
from flask_jwt_extended import get_current_user, get_jwt, verify_jwt_in_request
from flask_jwt_extended.exceptions import JWTExtendedException
from flask_socketio import ConnectionRefusedError, Namespace, SocketIO, join_room
from jwt.exceptions import PyJWTError

from dashboard import dashboards
from dashboard.model import Batch
from dashboard.runtime import Runtime

log = logging.getLogger(__name__)

NAMESPACE = "/live"


def room_for(dashboard_id: str) -> str:
    """The room of a dashboard's viewers."""
    return f"dashboard:{dashboard_id}"


class LiveNamespace(Namespace):
    """Browsers join a dashboard's room and receive its points."""

    def __init__(self, rt: Runtime) -> None:
        """A namespace bound to one node's runtime."""
        super().__init__(NAMESPACE)
        self.rt = rt
        self.sessions: dict[str, tuple[str, int]] = {}

    def on_connect(self, auth: Any = None) -> None:
        """Accept only a valid session cookie (the handshake's Origin is checked by Engine.IO)."""
        try:
            verify_jwt_in_request()
            user = get_current_user()
        except (JWTExtendedException, PyJWTError):
            user = None
        if user is None:
            raise ConnectionRefusedError("unauthorized")
        self.sessions[request.sid] = (user.username, int(get_jwt()["exp"]))  # type: ignore[attr-defined]
        self.rt.live_clients += 1

    def on_disconnect(self, reason: Any = None) -> None:
        """Forget the client."""
        if self.sessions.pop(request.sid, None) is not None:  # type: ignore[attr-defined]
            self.rt.live_clients = max(0, self.rt.live_clients - 1)

    def expired(self, now_s: float) -> list[str]:
        """Socket ids whose session ended; the sweeper disconnects them (they reconnect anew)."""
        return [sid for sid, (_, exp) in list(self.sessions.items()) if exp <= now_s]

    def on_subscribe(self, data: Any) -> dict[str, Any]:
        """Join a dashboard's room; the ack carries the current cursor."""
        dashboard_id = data.get("dashboard") if isinstance(data, dict) else None
        dash = dashboards.get_dashboard(str(dashboard_id or ""))
        if dash is None:
            return {"error": "unknown dashboard", "detail": dashboard_id}
        room = room_for(dash["id"])
        self.rt.hub.add_room(room, dashboards.selectors(dash))
        join_room(room)
        return {"cursor": self.rt.hub.cursor, "room": room}

    def on_since(self, data: Any) -> dict[str, Any]:
        """What the client missed after its cursor (catch-up after a reconnect or a gap)."""
        if not isinstance(data, dict):
            return {"error": "expected {dashboard, cursor}"}
        dash = dashboards.get_dashboard(str(data.get("dashboard") or ""))
        if dash is None:
            return {"error": "unknown dashboard", "detail": data.get("dashboard")}
        return self.rt.hub.since(str(data.get("cursor") or ""), dashboards.selectors(dash))


class LiveEmitter:
    """Publishes batches to the hub and emits its room messages at the right moments."""

    def __init__(self, rt: Runtime, socketio: SocketIO) -> None:
        """An emitter for one node."""
        self.rt = rt
        self.socketio = socketio

    def publish(self, batch: Batch) -> None:
        """Queue a batch; emit now after a quiet spell, else once when the window ends."""
        due = self.rt.hub.publish(batch)
        if due is None:
            return
        if due <= 0:
            self.flush()
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
            # each node tails the bus itself: its points go to its own clients only, never
            # through the message queue (which would deliver every node's copy everywhere)
            self.socketio.server.manager.emit(
                "points", payload, namespace=NAMESPACE, room=room, ignore_queue=True
            )
        if messages:
            self.rt.metrics.live_messages.inc(len(messages))
            self.rt.metrics.live_flush_seconds.observe(time.perf_counter() - started)


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


def register(socketio: SocketIO, rt: Runtime) -> LiveNamespace:
    """Attach the namespace and route the bus's live consumer through the emitter."""
    namespace = LiveNamespace(rt)
    socketio.on_namespace(namespace)
    emitter = LiveEmitter(rt, socketio)
    rt.live_sink = emitter.publish
    return namespace
