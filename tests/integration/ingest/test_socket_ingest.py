"""Producers on the /ingest Socket.IO namespace: token auth, acks, validation, storage."""

from __future__ import annotations

import time

from dashboard.metrics.model import SeriesKey
from dashboard.metrics.steps import RAW
from tests.conftest import TOKEN


def _producer(app, token: str | None):
    """A Socket.IO test client on /ingest with ``token`` in its connect auth."""
    socketio = app.extensions["socketio"]
    return socketio.test_client(app, namespace="/ingest", auth={"token": token} if token else None)


def test_producer_with_a_token_gets_acks_and_its_points_are_stored(app):
    """Each `points` event is acked with the count once durable, and readable afterwards."""
    producer = _producer(app, TOKEN)
    assert producer.is_connected("/ingest")
    now = int(time.time() * 1000)
    body = {
        "metrics": [
            {
                "name": "socket.temp",
                "labels": {"room": "lab"},
                "unit": "C",
                "points": [[now - 1000, 20.5], [now, 21.0]],
            }
        ]
    }
    ack = producer.emit("points", body, namespace="/ingest", callback=True)
    assert ack == {"accepted": 2}
    frame = app.extensions["dashboard"].store.query(
        SeriesKey.of("socket.temp", {"room": "lab"}), now - 5000, now, RAW
    )
    assert frame.value.tolist() == [20.5, 21.0]


def test_bad_batches_get_an_error_ack_naming_the_field_and_store_nothing(app):
    """An invalid batch is refused whole, with the first bad field in the ack."""
    producer = _producer(app, TOKEN)
    now = int(time.time() * 1000)
    body = {
        "metrics": [
            {"name": "socket.good", "points": [[now, 1.0]]},
            {"name": "socket.bad", "points": [[now, "NaN"]]},
        ]
    }
    ack = producer.emit("points", body, namespace="/ingest", callback=True)
    assert ack["error"] == "invalid batch"
    assert ack["detail"]["field"] == "metrics[1].points[0][1]"
    assert app.extensions["dashboard"].store.list_series() == []


def test_producers_without_a_valid_token_are_refused(app):
    """No token, a wrong token, or a user session: the connection is refused."""
    assert not _producer(app, None).is_connected("/ingest")
    assert not _producer(app, "not-a-token").is_connected("/ingest")


def test_ingest_over_socket_is_rate_limited_per_token(settings):
    """Over the per-token limit the ack says so instead of storing."""
    from dashboard.app import create_app

    settings.ingest_rate_limit = "2 per minute"
    app = create_app(settings)
    producer = _producer(app, TOKEN)
    now = int(time.time() * 1000)
    acks = [
        producer.emit(
            "points",
            {"metrics": [{"name": "s.x", "points": [[now - i, 1.0]]}]},
            namespace="/ingest",
            callback=True,
        )
        for i in range(3)
    ]
    assert acks[:2] == [{"accepted": 1}, {"accepted": 1}]
    assert acks[2]["error"] == "rate limited"
    app.extensions["dashboard"].close()
