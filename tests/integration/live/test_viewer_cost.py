"""What one live viewer costs a node (the fixes `bench/viewers.py` found at 1,000-10,000
viewers): one file descriptor, no zlib compressor, no garbage cycle per event, the open-file
limit lifted, the collector tuned."""

from __future__ import annotations

import gc
import json
import time
from collections.abc import Callable

import psutil
import pytest
import requests
import websocket
from werkzeug.exceptions import HTTPException

from dashboard import cli
from tests.conftest import ADMIN_PASSWORD
from tests.servers import LiveServer

NAMESPACE = "/live"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    """A real gevent node without demo data."""
    node = LiveServer(tmp_path_factory.mktemp("viewer-cost") / "data", demo=False)
    yield node
    node.stop()


@pytest.fixture(scope="module")
def cookie(server: LiveServer) -> str:
    """The Cookie header of a signed-in admin."""
    response = requests.post(
        server.url + "/api/v1/auth/login",
        json={"username": "admin", "password": ADMIN_PASSWORD},
        timeout=5,
    )
    assert response.status_code == 200
    return "; ".join(f"{c.name}={c.value}" for c in response.cookies)


def _viewer(server: LiveServer, cookie: str) -> websocket.WebSocket:
    """A browser-like websocket (it offers permessage-deflate) subscribed to the dashboard."""
    ws = websocket.create_connection(
        server.url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket",
        header=[
            f"Cookie: {cookie}",
            "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits",
        ],
        origin=server.url,
        timeout=5,
    )
    assert ws.recv().startswith("0{")  # the Engine.IO open packet
    ws.send(f"40{NAMESPACE},")
    assert ws.recv().startswith(f"40{NAMESPACE},")
    ws.send(f'42{NAMESPACE},1["subscribe",{{"dashboard":"default"}}]')
    assert ws.recv().startswith(f"43{NAMESPACE},1")
    return ws


def test_an_offer_of_compression_is_declined(server, cookie):
    """No permessage-deflate: each viewer would hold a ~256 KB compressor."""
    ws = _viewer(server, cookie)
    try:
        extensions = (ws.getheaders() or {}).get("sec-websocket-extensions", "")
        assert "deflate" not in extensions
    finally:
        ws.close()


def test_each_viewer_holds_one_file_descriptor(server, cookie):
    """20 viewers open 20 descriptors on the node (not 40), and closing them frees them."""
    node = psutil.Process(server.proc.pid)
    before = node.num_fds()
    viewers = [_viewer(server, cookie) for _ in range(20)]
    opened = node.num_fds() - before
    ports = {ws.sock.getsockname()[1] for ws in viewers}
    # the node's sockets of these viewers, counted exactly (the total above may also lose a
    # descriptor of an earlier test's connection that the node closes meanwhile)
    held = [c for c in node.net_connections(kind="tcp") if c.raddr and c.raddr.port in ports]
    for ws in viewers:
        ws.close()
    assert len(held) == 20, held
    assert opened < 25, opened
    _eventually(lambda: node.num_fds() <= before + 2)
    assert node.num_fds() <= before + 2


def _eventually(done: Callable[[], object], seconds: float = 5) -> None:
    """Until ``done()`` is true, or ``seconds`` have passed (the caller asserts after)."""
    deadline = time.monotonic() + seconds
    while not done() and time.monotonic() < deadline:
        time.sleep(0.05)


def test_an_idle_viewer_costs_the_node_a_few_kilobytes(server, cookie):
    """An idle viewer holds no greenlet (its websocket is read when the event loop says bytes
    came), so 400 of them cost the node well under 16 KB each (a greenlet asleep in its
    request held ~5.5 KB of saved stack, its request's parsed headers and buffers ~4 KB more:
    21-32 KB a viewer), and every one of them still gets the next points."""
    node = psutil.Process(server.proc.pid)
    open_before = node.num_fds()
    viewers = [_viewer(server, cookie) for _ in range(20)]  # the code paths warmed first
    for ws in viewers:
        ws.close()
    _eventually(lambda: node.num_fds() <= open_before)
    time.sleep(0.5)
    before = node.memory_info().rss
    viewers = [_viewer(server, cookie) for _ in range(400)]
    try:
        time.sleep(0.5)
        per_viewer_kb = (node.memory_info().rss - before) / 400 / 1024
        _gets_the_next_point(server, viewers, 11.0)
    finally:
        for ws in viewers:
            ws.close()
    assert per_viewer_kb < 16, per_viewer_kb


def test_a_viewer_that_goes_or_misbehaves_is_closed_and_its_descriptor_freed(server, cookie):
    """However a viewer leaves (a close frame, its connection dropped, a message over the
    limit, which the node answers with close code 1009), the node ends its session and
    closes its socket; the viewers that stay still get their points."""
    node = psutil.Process(server.proc.pid)
    staying = _viewer(server, cookie)
    polite = [_viewer(server, cookie) for _ in range(3)]
    dropped = [_viewer(server, cookie) for _ in range(3)]
    oversized = [_viewer(server, cookie) for _ in range(3)]
    # the node's sockets of the leaving viewers, told by port (the node's total may also lose
    # a descriptor of an earlier test's connection meanwhile)
    ports = {ws.sock.getsockname()[1] for ws in polite + dropped + oversized}

    def held() -> int:
        return sum(1 for c in node.net_connections(kind="tcp") if c.raddr and c.raddr.port in ports)

    assert held() == 9
    for ws in polite:
        ws.close()
    for ws in dropped:
        ws.sock.shutdown(2)
        ws.sock.close()
    for ws in oversized:
        ws.send("4" + "x" * 1_100_000)
    for ws in oversized:
        ws.settimeout(5)
        while True:
            frame = ws.recv_frame()
            if frame.opcode == websocket.ABNF.OPCODE_CLOSE:
                break
        assert int.from_bytes(frame.data[:2], "big") == 1009
        ws.sock.close()
    try:
        _eventually(lambda: held() == 0)
        assert held() == 0
        _gets_the_next_point(server, [staying], 5.0)
    finally:
        staying.close()


def _gets_the_next_point(server: LiveServer, viewers: list, value: float) -> None:
    """A point of ``value`` ingested now reaches each of ``viewers``, alone in its message."""
    t = int(time.time() * 1000)
    body = {"metrics": [{"name": "demo.active_users", "points": [[t, value]]}]}
    assert server.ingest(body).status_code == 202
    for ws in viewers:
        (message,) = _points(ws, 1)
        assert message["series"]["demo.active_users"][-1][1] == value


def _points(ws: websocket.WebSocket, count: int) -> list[dict]:
    """The next ``points`` payloads until ``count`` values of the users series came."""
    out: list[dict] = []
    values = 0
    while values < count:
        text = ws.recv()
        if text == "2":
            ws.send("3")
        elif text.startswith(f"42{NAMESPACE},"):
            name, payload = json.loads(text[len(f"42{NAMESPACE},") :])
            if name == "points":
                out.append(payload)
                values += len(payload["series"].get("demo.active_users", []))
    return out


def test_a_room_message_encoded_once_reaches_every_viewer_whole_and_in_order(server, cookie):
    """The frame written straight to each viewer's socket decodes, and the chain of cursors
    has no gap, however the batches were coalesced."""
    viewers = [_viewer(server, cookie) for _ in range(3)]
    t = int(time.time() * 1000)
    try:
        for i in range(5):
            body = {"metrics": [{"name": "demo.active_users", "points": [[t + i, float(i)]]}]}
            assert server.ingest(body).status_code == 202
        for ws in viewers:
            messages = _points(ws, 5)
            values = [v for m in messages for _, v in m["series"]["demo.active_users"]]
            assert values == [0.0, 1.0, 2.0, 3.0, 4.0]
            for before, after in zip(messages, messages[1:], strict=False):
                assert after["prev"] == before["cursor"]
    finally:
        for ws in viewers:
            ws.close()


def test_a_viewer_is_pinged_every_interval_and_stays_connected(server, cookie):
    """Pings wait on a timer (not a greenlet a viewer): each answered ping brings the next one
    an interval (10 s) later, and the viewer still gets its points after two of them."""
    ws = _viewer(server, cookie)
    try:
        ws.settimeout(15)
        pinged = []
        while len(pinged) < 2:
            text = ws.recv()
            if text == "2":
                pinged.append(time.monotonic())
                ws.send("3")
        assert 8 < pinged[1] - pinged[0] < 13
        _gets_the_next_point(server, [ws], 7.0)
    finally:
        ws.close()


def test_the_open_file_limit_is_lifted(server):
    """`dashboard serve` raises its soft limit of open files to the hard limit."""
    soft, hard = psutil.Process(server.proc.pid).rlimit(psutil.RLIMIT_NOFILE)
    assert soft == hard


def test_an_event_leaves_no_cycle_of_its_routing_error(app, client):
    """/socket.io/ is no websocket route: each event's request context would keep a
    WebsocketMismatch whose traceback holds the context, garbage only a full collection frees."""
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        sio = app.extensions["socketio"].test_client(
            app,
            namespace=NAMESPACE,
            flask_test_client=client,
            headers={"Upgrade": "websocket", "Connection": "Upgrade"},
        )
        ack = sio.emit("subscribe", {"dashboard": "default"}, namespace=NAMESPACE, callback=True)
        assert "error" not in ack
        sio.disconnect(namespace=NAMESPACE)
        gc.collect()
        errors = [o for o in gc.garbage if isinstance(o, HTTPException)]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    assert errors == []


def test_tune_gc_freezes_the_start_up_objects_and_collects_young_ones_less_often():
    """After ``tune_gc`` the objects alive at start-up are frozen and the thresholds raised."""
    thresholds = gc.get_threshold()
    try:
        cli.tune_gc()
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == cli.GC_THRESHOLDS
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)
