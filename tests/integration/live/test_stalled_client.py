"""A browser that stops reading must not hold up the others, nor grow the server's memory."""

from __future__ import annotations

import socket
import threading
import time

import pytest
import requests
import socketio
import websocket

from tests.conftest import ADMIN_PASSWORD
from tests.servers import LiveServer


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    """A real node without demo data."""
    # a short coalescing window, so a quick flood still goes out as one message per batch
    node = LiveServer(
        tmp_path_factory.mktemp("stalled") / "data",
        demo=False,
        env={"DASHBOARD_LIVE_WINDOW_MS": "5"},
    )
    yield node
    node.stop()


def _session(url: str) -> requests.Session:
    """A signed-in admin session."""
    s = requests.Session()
    s.post(url + "/api/v1/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD})
    return s


def _stalled_client(url: str, cookie: str) -> websocket.WebSocket:
    """A raw Socket.IO client that subscribes to the dashboard and then never reads again."""
    ws = websocket.create_connection(
        url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket",
        header=[f"Cookie: {cookie}"],
        sockopt=((socket.SOL_SOCKET, socket.SO_RCVBUF, 4096),),
        timeout=5,
    )
    ws.recv()  # the Engine.IO open packet
    ws.send("40/live,")
    while not ws.recv().startswith("40/live"):
        pass
    ws.send('42/live,0["subscribe",{"dashboard":"default"}]')
    return ws


def test_a_client_that_never_reads_is_skipped_and_the_others_get_everything(server):
    """Flood the dashboard: the reading client gets every batch, the stalled one is skipped."""
    session = _session(server.url)
    cookie = "; ".join(f"{c.name}={c.value}" for c in session.cookies)
    stalled = _stalled_client(server.url, cookie)
    got: set[float] = set()
    reader = socketio.Client()
    lock = threading.Lock()

    def on_points(msg: dict) -> None:
        with lock:
            for series in msg["series"].values():
                got.update(v for _, v in series)

    reader.on("points", on_points, namespace="/live")
    reader.connect(
        server.url, namespaces=["/live"], transports=["websocket"], headers={"Cookie": cookie}
    )
    reader.call("subscribe", {"dashboard": "default"}, namespace="/live")
    base = int(time.time()) * 1000 - 3_600_000
    sent: set[float] = set()
    headers = {"Authorization": "Bearer test-ingest-token"}
    # ~12 MB: enough to fill the stalled socket's kernel buffers, then > 64 more messages
    per_batch = 2000
    for batch in range(240):
        points = [
            [base + batch * per_batch + i, float(batch * per_batch + i)] for i in range(per_batch)
        ]
        body = {"metrics": [{"name": "demo.active_users", "points": points}]}
        assert (
            requests.post(
                server.url + "/api/v1/ingest", json=body, headers=headers, timeout=5
            ).status_code
            == 202
        )
        sent.update(v for _, v in points)
        time.sleep(0.012)  # past the hub's 5 ms window: one message per batch
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and got != sent:
        time.sleep(0.05)
    reader.disconnect()
    assert got == sent
    metrics = session.get(server.url + "/metrics").text
    skipped = [
        line for line in metrics.splitlines() if line.startswith("dashboard_live_skipped_total")
    ]
    assert skipped and float(skipped[0].split()[-1]) > 0, metrics
    stalled.close()
