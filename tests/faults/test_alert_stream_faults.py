"""No alert lost across a reconnect (#22): on a Redis setup the worker's alert events reach a
node through a stream it tails from its last id, so a node whose Redis connections are killed
while the alert fires still pushes it to its browser, once. (Through Pub/Sub, which this
replaces for alerts, an event published while the listener reconnects was lost.)"""

from __future__ import annotations

import threading
import time

import redis
import requests

from tests.conftest import ADMIN_PASSWORD
from tests.faults.harness import WorkerProcess, redis_env, wait_until, web_node
from tests.faults.test_live_faults import LiveClient


def _rule(url: str) -> None:
    """Create the rule ``fault-high``: fault.live above 10, at once."""
    session = requests.Session()
    session.post(
        url + "/api/v1/auth/login",
        json={"username": "admin", "password": ADMIN_PASSWORD},
        timeout=10,
    )
    made = session.post(
        url + "/api/v1/alerts/rules",
        json={
            "id": "fault-high",
            "series": {"name": "fault.live"},
            "condition": "above",
            "threshold": 10,
        },
        headers={"X-CSRFToken": session.cookies.get("_csrf_token")},
        timeout=10,
    )
    assert made.status_code == 201, made.text


def test_an_alert_fired_while_the_nodes_redis_connections_die_still_reaches_the_page(
    private_redis, tmp_path
):
    """Kill every Redis connection (the node's tails and listener, the worker's) again and again
    while a breaching point is evaluated: the page's socket gets the firing alert, exactly
    once."""
    env = redis_env(private_redis.url, tmp_path / "shared" / "dashboard.db")
    node = web_node(tmp_path / "shared", env, "node")
    worker = WorkerProcess(tmp_path / "worker", env)
    admin = redis.Redis.from_url(private_redis.url, socket_timeout=5)
    live = None
    try:
        _rule(node.url)
        live = LiveClient(node.url)
        wait_until(lambda: node_has_alert_tail(admin), what="the node's alert tail")
        time.sleep(6)  # the worker reloads the rules every 5 s

        stop = threading.Event()
        kills: list[int] = []

        def kill_again_and_again() -> None:
            """Kill every normal and Pub/Sub connection every 100 ms for 3 s."""
            deadline = time.monotonic() + 3
            while time.monotonic() < deadline and not stop.is_set():
                for kind in ("normal", "pubsub"):
                    kills.append(int(admin.execute_command("CLIENT", "KILL", "TYPE", kind)))
                time.sleep(0.1)

        point = [int(time.time() * 1000), 50.0]
        sent = node.ingest({"metrics": [{"name": "fault.live", "points": [point]}]})
        assert sent.status_code == 202, sent.text
        killer = threading.Thread(target=kill_again_and_again)
        killer.start()
        killer.join()
        assert sum(kills) > 0  # connections were killed while the alert was on its way
        wait_until(
            lambda: any(a.get("rule_id") == "fault-high" for a in live.alerts),
            timeout=30,
            what="the alert to reach the page",
        )
        time.sleep(2)
        fired = [a for a in live.alerts if a.get("rule_id") == "fault-high"]
        assert [a["state"] for a in fired] == ["firing"], fired  # once, not replayed
    finally:
        if live is not None:
            live.close()
        worker.stop()
        node.stop()
        admin.close()


def node_has_alert_tail(admin: redis.Redis) -> bool:
    """True once some connection blocks on XREAD (the node's tails are up)."""
    return any("xread" in str(c.get("cmd", "")) for c in admin.client_list())
