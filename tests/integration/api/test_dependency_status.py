"""A node tells its pages over /live when its Redis goes away and when it comes back.

A real ``dashboard serve`` on a private redis-server that is SIGKILLed and restarted; a real
Socket.IO client listens for the node's ``status`` events.
"""

from __future__ import annotations

import queue

import requests
import socketio

from tests.conftest import ADMIN_PASSWORD
from tests.faults.harness import redis_env, web_node
from tests.redis_server import private_redis  # noqa: F401 - fixture

DOWN = {
    "ok": False,
    "store": True,
    "bus": False,
    "live": False,
    "message": "Updates delayed: message bus unreachable — polling",
}
UP = {"ok": True, "store": True, "bus": True, "live": True, "message": ""}


def test_pages_hear_the_bus_go_down_and_come_back(private_redis, tmp_path):  # noqa: F811
    """Redis killed: the page's socket gets a degraded status, a new subscriber's ack and
    /healthz say so; Redis back: the socket hears all is well again."""
    node = web_node(tmp_path, redis_env(private_redis.url, tmp_path / "app.db"))
    client = socketio.Client(reconnection=False)
    try:
        session = requests.Session()
        login = {"username": "admin", "password": ADMIN_PASSWORD}
        assert session.post(node.url + "/api/v1/auth/login", json=login, timeout=10).ok
        cookie = "; ".join(f"{c.name}={c.value}" for c in session.cookies)
        statuses: queue.Queue[dict] = queue.Queue()
        client.on("status", statuses.put, namespace="/live")
        client.connect(
            node.url, namespaces=["/live"], transports=["websocket"], headers={"Cookie": cookie}
        )
        ack = client.call("subscribe", {"dashboard": "default"}, namespace="/live", timeout=10)
        assert ack["health"] == UP

        private_redis.kill()
        assert statuses.get(timeout=20) == DOWN
        ack = client.call("subscribe", {"dashboard": "default"}, namespace="/live", timeout=10)
        assert ack["health"] == DOWN
        health = session.get(node.url + "/healthz", timeout=10)
        assert health.status_code == 503 and health.json()["bus"]["ok"] is False

        private_redis.start()
        assert statuses.get(timeout=20) == UP
        assert statuses.empty()
    finally:
        client.disconnect()
        node.stop()
