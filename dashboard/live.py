"""The ``/live`` Socket.IO namespace and the hub's timing: one ``points`` message per room."""

from __future__ import annotations

import logging
import time
from typing import Any

from flask_socketio import Namespace, SocketIO, join_room

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

    def on_connect(self, auth: Any = None) -> None:
        """Count the client (auth arrives with the security work)."""
        self.rt.live_clients += 1

    def on_disconnect(self, reason: Any = None) -> None:
        """Forget the client."""
        self.rt.live_clients = max(0, self.rt.live_clients - 1)

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
            self.socketio.emit("points", payload, to=room, namespace=NAMESPACE)
        if messages:
            self.rt.metrics.live_messages.inc(len(messages))
            self.rt.metrics.live_flush_seconds.observe(time.perf_counter() - started)


def register(socketio: SocketIO, rt: Runtime) -> LiveEmitter:
    """Attach the namespace and route the bus's live consumer through the emitter."""
    socketio.on_namespace(LiveNamespace(rt))
    emitter = LiveEmitter(rt, socketio)
    rt.live_sink = emitter.publish
    return emitter
