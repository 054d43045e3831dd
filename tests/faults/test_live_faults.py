"""The live fan-out under a fault: Redis drops every Pub/Sub connection (`CLIENT KILL TYPE
pubsub`) while a browser-like Socket.IO client on node B follows a series ingested on node A."""

from __future__ import annotations

import threading
from typing import Any

import redis
import requests
import socketio

from dashboard.metrics.stores.sqlite import SQLiteStore
from tests.conftest import ADMIN_PASSWORD
from tests.faults.harness import (
    Producer,
    assert_stored_exactly_once,
    redis_env,
    stored_points,
    wait_until,
    web_node,
)

SERIES = [{"name": "fault.live", "labels": {}}]


class LiveClient:
    """A signed-in python-socketio client on a node's ``/live``, following SERIES like the page.

    It records every pushed point and the cursor chain; ``catch_up`` asks ``since`` from the
    last cursor before any gap, as the page does after a gap or a reconnect.
    """

    def __init__(self, url: str) -> None:
        """Sign in through the API, connect with the session cookie, subscribe."""
        session = requests.Session()
        response = session.post(
            url + "/api/v1/auth/login",
            json={"username": "admin", "password": ADMIN_PASSWORD},
            timeout=10,
        )
        assert response.status_code == 200, response.text
        cookie = "; ".join(f"{c.name}={c.value}" for c in session.cookies)
        self.lock = threading.Lock()
        self.pushed: list[list[float]] = []
        self.alerts: list[dict[str, Any]] = []
        self.gap_from: str | None = None
        self.sio = socketio.Client(reconnection=False)
        self.sio.on("points", self._on_points, namespace="/live")
        self.sio.on("alert", self._on_alert, namespace="/live")
        self.sio.connect(
            url, namespaces=["/live"], transports=["websocket"], headers={"Cookie": cookie}
        )
        ack = self.sio.call("subscribe", {"series": SERIES}, namespace="/live", timeout=10)
        assert "error" not in ack, ack
        self.cursor: str = ack["cursor"]

    def _on_points(self, message: dict[str, Any]) -> None:
        """Keep the points and follow the cursor; remember where a gap began."""
        with self.lock:
            if message["prev"] != self.cursor and self.gap_from is None:
                self.gap_from = self.cursor
            for points in message["series"].values():
                self.pushed.extend(points)
            self.cursor = message["cursor"]

    def _on_alert(self, payload: dict[str, Any]) -> None:
        """Keep alert events (they come through the Redis message queue)."""
        with self.lock:
            self.alerts.append(payload)

    def catch_up(self) -> list[list[float]]:
        """The client's series after ``since``: pushed points plus what it missed, by time."""
        with self.lock:
            start = self.gap_from or self.cursor
        missed = self.sio.call(
            "since", {"series": SERIES, "cursor": start}, namespace="/live", timeout=10
        )
        assert not missed.get("reset"), missed
        merged = {ts: v for ts, v in self.pushed}
        for points in missed["series"].values():
            for ts, v in points:
                assert merged.setdefault(ts, v) == v
        return [[ts, merged[ts]] for ts in sorted(merged)]

    def close(self) -> None:
        """Disconnect."""
        self.sio.disconnect()


def _pubsub_clients(client: redis.Redis) -> int:
    """Connections subscribed to a channel (each node's Socket.IO listener)."""
    return len(client.client_list(_type="pubsub"))


def _alert_arrives(emitter: socketio.RedisManager, live: LiveClient, rule_id: str) -> None:
    """Emit an alert through the message queue until the client has it (Pub/Sub delivers at
    most once: a message published while a listener reconnects is not kept for it)."""
    for _ in range(20):
        emitter.emit("alert", {"rule_id": rule_id}, namespace="/live")
        try:
            wait_until(lambda: any(x["rule_id"] == rule_id for x in live.alerts), timeout=1)
            return
        except AssertionError:
            continue
    raise AssertionError(
        f"alert {rule_id!r} never reached the client (connected: "
        f"{live.sio.connected}, points pushed: {len(live.pushed)})"
    )


def test_a_pubsub_kill_leaves_the_live_feed_whole_and_the_fanout_reconnects(
    private_redis, tmp_path
):
    """Kill every Pub/Sub connection: points ingested on A keep reaching the client on B, the
    nodes' message-queue listeners come back (an alert from another process arrives), and the
    client's series after its catch-up equals the stored series."""
    db = tmp_path / "shared" / "dashboard.db"
    env = redis_env(private_redis.url, db)
    a = web_node(tmp_path / "shared", env, "a")
    b = web_node(tmp_path / "shared", env, "b")
    admin = redis.Redis.from_url(private_redis.url, socket_timeout=5)
    # what `dashboard worker` uses to reach every node's browsers (its alerts)
    emitter = socketio.RedisManager(
        private_redis.url, channel=f"{env['DASHBOARD_REDIS_PREFIX']}:socketio", write_only=True
    )
    producer = Producer(a.url, name="fault.live")
    live = watcher_on_a = None
    try:
        # a node subscribes to the message queue when its first client connects
        live = LiveClient(b.url)
        watcher_on_a = LiveClient(a.url)
        wait_until(lambda: _pubsub_clients(admin) == 2, what="both nodes' listeners")
        producer.start()
        producer.wait_acked(30)
        wait_until(lambda: len(live.pushed) >= 10, what="pushed points on B")
        _alert_arrives(emitter, live, "before")

        killed = admin.execute_command("CLIENT", "KILL", "TYPE", "pubsub")
        assert killed == 2
        pushed_at_kill = len(live.pushed)
        producer.wait_acked(len(producer.acked) + 50)
        wait_until(lambda: len(live.pushed) >= pushed_at_kill + 30, what="points after the kill")
        wait_until(lambda: _pubsub_clients(admin) == 2, what="the listeners to reconnect")
        _alert_arrives(emitter, live, "after")
        producer.stop()

        store = SQLiteStore(db)
        wait_until(
            lambda: set(producer.expected()) <= {t for t, _ in stored_points(store, producer.key)},
            what="the nodes to persist every point",
        )
        stored = assert_stored_exactly_once(store, producer)
        store.close()
        pushed_ts = [ts for ts, _ in live.pushed]
        assert len(pushed_ts) == len(set(pushed_ts)), "a point was pushed twice"
        assert live.catch_up() == [list(p) for p in stored]
    finally:
        producer.stop()
        for client in (live, watcher_on_a):
            if client is not None:
                client.close()
        a.stop()
        b.stop()
        admin.close()
