"""The ``/live`` Socket.IO namespace through Flask-SocketIO's test client.

Points reach the browser through the emitter: at once after a quiet spell, otherwise in a
background flush about 50 ms later. In the threading async mode of the tests that flush runs in
a thread, so the tests poll ``get_received`` for up to ~2 s instead of asserting at once.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from dashboard.clock import now_ms
from dashboard.metrics.steps import SECOND

NAMESPACE = "/live"
WAIT_S = 2.0


def _socket(app, flask_client):
    """A Socket.IO test client on /live sharing ``flask_client``'s cookies (its session)."""
    return app.extensions["socketio"].test_client(
        app, namespace=NAMESPACE, flask_test_client=flask_client
    )


@pytest.fixture
def live(app, client) -> Iterator[Any]:
    """A signed-in Socket.IO client connected to /live."""
    sio = _socket(app, client)
    assert sio.is_connected(NAMESPACE)
    yield sio
    if sio.is_connected(NAMESPACE):
        sio.disconnect(namespace=NAMESPACE)


def _subscribe(sio, data: dict[str, Any]) -> dict[str, Any]:
    """Emit ``subscribe`` and return its ack."""
    ack = sio.emit("subscribe", data, namespace=NAMESPACE, callback=True)
    assert isinstance(ack, dict), ack
    return ack


def _ingest(client, auth_headers, *metrics: dict[str, Any]) -> None:
    """POST a batch through the HTTP API; it must be accepted."""
    response = client.post("/api/v1/ingest", json={"metrics": list(metrics)}, headers=auth_headers)
    assert response.status_code == 202, response.get_data(as_text=True)


def _points_messages(sio, *, until=None, wait_s: float = WAIT_S) -> list[dict[str, Any]]:
    """``points`` payloads received, polling until ``until(messages)`` holds or time is up."""
    messages: list[dict[str, Any]] = []
    deadline = time.monotonic() + wait_s
    while True:
        for packet in sio.get_received(NAMESPACE):
            if packet["name"] == "points":
                messages.append(packet["args"][0])
        if (until is not None and until(messages)) or time.monotonic() >= deadline:
            return messages
        time.sleep(0.01)


def _all_points(messages: list[dict[str, Any]]) -> dict[str, list[list[float]]]:
    """Every series' points over several messages, in arrival order."""
    out: dict[str, list[list[float]]] = {}
    for message in messages:
        for key, points in message["series"].items():
            out.setdefault(key, []).extend(points)
    return out


def test_subscribe_acks_with_the_current_cursor(client, live):
    """The ack of ``subscribe {"dashboard": "default"}`` carries the hub's cursor and room."""
    ack = _subscribe(live, {"dashboard": "default"})
    assert "error" not in ack
    health = client.get("/healthz").get_json()["live"]
    assert ack["cursor"] == health["cursor"]
    assert ack["room"] == "dashboard:default"
    assert "dashboard:default" in health["rooms"]


def test_an_ingested_point_is_pushed_to_the_dashboards_room(client, auth_headers, live):
    """A point of a dashboard series arrives as one ``points`` event with cursor and prev."""
    ack = _subscribe(live, {"dashboard": "default"})
    t = now_ms() - SECOND
    _ingest(client, auth_headers, {"name": "demo.active_users", "points": [[t, 321.0]]})
    messages = _points_messages(live, until=bool)
    assert len(messages) == 1, messages
    message = messages[0]
    assert message["series"] == {"demo.active_users": [[t, 321.0]]}
    assert message["prev"] == ack["cursor"]
    assert message["cursor"] != ack["cursor"]
    assert message["cursor"] == client.get("/healthz").get_json()["live"]["cursor"]
    # nothing else follows
    assert _points_messages(live, wait_s=0.2) == []


def test_a_series_not_on_the_dashboard_is_not_sent(client, auth_headers, live):
    """``other.metric`` is not on the default dashboard: no message carries it."""
    ack = _subscribe(live, {"dashboard": "default"})
    t = now_ms() - 2 * SECOND
    _ingest(client, auth_headers, {"name": "other.metric", "points": [[t, 5.0]]})
    assert _points_messages(live, wait_s=0.3) == []
    # in a batch with a dashboard series, only the dashboard series goes out
    _ingest(
        client,
        auth_headers,
        {"name": "other.metric", "points": [[t + SECOND, 6.0]]},
        {"name": "demo.error_rate", "points": [[t + SECOND, 0.01]]},
    )
    messages = _points_messages(live, until=bool)
    assert [m["series"] for m in messages] == [{"demo.error_rate": [[t + SECOND, 0.01]]}]
    # the room's previous message is still the ack: the other.metric batch was not its
    assert messages[0]["prev"] == ack["cursor"]


def test_points_in_quick_succession_all_arrive_in_a_chain_of_messages(client, auth_headers, live):
    """Batches inside the coalescing window go out in a later (background) flush: every point
    arrives once, and each message's ``prev`` is the cursor of the one before."""
    ack = _subscribe(live, {"dashboard": "default"})
    t = now_ms() - 10 * SECOND
    sent = [[t + i * SECOND, float(i)] for i in range(6)]
    for point in sent:
        _ingest(client, auth_headers, {"name": "demo.active_users", "points": [point]})
    messages = _points_messages(
        live, until=lambda ms: len(_all_points(ms).get("demo.active_users", [])) >= len(sent)
    )
    assert _all_points(messages) == {"demo.active_users": sent}
    assert 1 <= len(messages) <= len(sent)
    chain = [ack["cursor"]] + [m["cursor"] for m in messages]
    assert [m["prev"] for m in messages] == chain[:-1]
    assert messages[-1]["cursor"] == client.get("/healthz").get_json()["live"]["cursor"]


def test_since_with_the_ack_cursor_returns_the_ingested_point(client, auth_headers, live):
    """The ``since`` event (catch-up after a gap) gives what arrived after the ack's cursor."""
    ack = _subscribe(live, {"dashboard": "default"})
    t = now_ms() - SECOND
    _ingest(
        client,
        auth_headers,
        {"name": "demo.active_users", "points": [[t, 77.0]]},
        {"name": "other.metric", "points": [[t, 1.0]]},
    )
    caught_up = live.emit(
        "since",
        {"dashboard": "default", "cursor": ack["cursor"]},
        namespace=NAMESPACE,
        callback=True,
    )
    assert caught_up["series"] == {"demo.active_users": [[t, 77.0]]}
    assert not caught_up.get("reset")
    assert caught_up["cursor"] != ack["cursor"]
    # since the new cursor: nothing; a foreign cursor: reset
    empty = live.emit(
        "since",
        {"dashboard": "default", "cursor": caught_up["cursor"]},
        namespace=NAMESPACE,
        callback=True,
    )
    assert (empty["series"], empty["cursor"]) == ({}, caught_up["cursor"])
    foreign = live.emit(
        "since",
        {"dashboard": "default", "cursor": "0badbeef-1"},
        namespace=NAMESPACE,
        callback=True,
    )
    assert foreign["reset"] is True and foreign["series"] == {}


def test_subscribe_to_an_unknown_dashboard_acks_with_an_error(client, auth_headers, live):
    """An unknown dashboard (or a malformed request) is refused in the ack; no room is joined."""
    for data in ({"dashboard": "no-such-dashboard"}, {"series": []}, "default", {}):
        ack = live.emit("subscribe", data, namespace=NAMESPACE, callback=True)
        assert isinstance(ack, dict) and ack.get("error"), (data, ack)
        assert "cursor" not in ack
    assert client.get("/healthz").get_json()["live"]["rooms"] == []
    _ingest(client, auth_headers, {"name": "demo.active_users", "points": [[now_ms(), 1.0]]})
    assert _points_messages(live, wait_s=0.2) == []


def test_subscribe_to_named_series(client, auth_headers, live):
    """``{"series": [...]}`` picks series by name and labels, as objects or text keys."""
    ack = _subscribe(
        live, {"series": [{"name": "svc.up", "labels": {"service": "api"}}, "svc.latency"]}
    )
    assert ack["room"].startswith("series:")
    t = now_ms() - SECOND
    _ingest(
        client,
        auth_headers,
        {"name": "svc.up", "labels": {"service": "api"}, "points": [[t, 1.0]]},
        {"name": "svc.up", "labels": {"service": "db"}, "points": [[t, 0.0]]},
        {"name": "svc.latency", "labels": {"region": "eu"}, "points": [[t, 12.0]]},
    )
    messages = _points_messages(live, until=bool)
    assert _all_points(messages) == {
        'svc.up{service="api"}': [[t, 1.0]],
        'svc.latency{region="eu"}': [[t, 12.0]],
    }


def test_healthz_counts_the_connected_clients(app, client, anon_client):
    """Each signed-in socket adds one to /healthz's count, each disconnect takes it away;
    a socket without a session is refused and not counted."""

    def count() -> int:
        return client.get("/healthz").get_json()["live"]["clients"]

    assert count() == 0
    first = _socket(app, client)
    assert first.is_connected(NAMESPACE)
    assert count() == 1
    second = _socket(app, client)
    assert count() == 2
    _subscribe(second, {"dashboard": "default"})
    refused = _socket(app, anon_client)
    assert not refused.is_connected(NAMESPACE)
    assert count() == 2
    second.disconnect(namespace=NAMESPACE)
    assert count() == 1
    # the room went with its last member
    assert client.get("/healthz").get_json()["live"]["rooms"] == []
    first.disconnect(namespace=NAMESPACE)
    assert count() == 0
