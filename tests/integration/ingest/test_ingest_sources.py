"""Sources beyond the JSON route: Prometheus text ingest, and pollers against real loopback HTTP."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote

import pytest
from prometheus_client import CollectorRegistry, Counter, Gauge, start_http_server

from dashboard.background import start_node_pollers
from ingest.pollers import Poller, start_pollers
from tests.conftest import TOKEN

AUTH = {"Authorization": f"Bearer {TOKEN}"}


def _now() -> int:
    """Now in Unix ms."""
    return int(time.time() * 1000)


def _points(client, key: str) -> list[list[float]]:
    """The raw points of a series (its text form) over the last hour, through the API."""
    response = client.get(f"/api/v1/series?key={quote(key)}&step=raw")
    assert response.status_code == 200, response.get_json()
    return response.get_json()["points"]


def _series(client) -> list[tuple[str, dict]]:
    """Every known series as (name, labels), through the API."""
    return [(s["name"], s["labels"]) for s in client.get("/api/v1/metrics").get_json()["series"]]


def _metric(client, line_start: str) -> float:
    """A value from /metrics (0 when absent)."""
    for line in client.get("/metrics").get_data(as_text=True).splitlines():
        if line.startswith(line_start):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_a_prometheus_exposition_is_accepted_and_readable(anon_client, client):
    """202 with the sample count; each sample is a series, read back through the API."""
    t0 = _now() - 60_000
    body = f"""\
# HELP http_requests_total Requests served.
# TYPE http_requests_total counter
http_requests_total{{code="200",route="/api"}} 1027 {t0}
http_requests_total{{code="500",route="/api"}} 3 {t0}
# TYPE queue_depth gauge
queue_depth 7
job:latency_seconds:p99{{job="api"}} 0.25
"""
    response = anon_client.post(
        "/api/v1/ingest/prometheus",
        data=body,
        headers={**AUTH, "Content-Type": "text/plain; version=0.0.4"},
    )
    assert (response.status_code, response.get_json()) == (202, {"accepted": 4})
    assert _points(client, 'http_requests_total{code="200",route="/api"}') == [[t0, 1027.0]]
    assert _points(client, 'http_requests_total{code="500",route="/api"}') == [[t0, 3.0]]
    [[ts, value]] = _points(client, "queue_depth")
    assert value == 7.0 and abs(ts - _now()) < 600_000
    assert ("job:latency_seconds:p99", {"job": "api"}) in _series(client)
    assert _metric(client, 'dashboard_ingest_points_total{source="prometheus"}') == 4


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        (
            'ok 1\nrpc_seconds{quantile="0.99"} NaN\n',
            'rpc_seconds{quantile="0.99"} value',
            "finite",
        ),
        ("ok 1\nbig +Inf\n", "big value", "finite"),
        ("ok 1\nbroken{ 1\n", "body", "line 2: "),
        (
            "ok 1\nwide{" + ",".join(f'k{i}="v"' for i in range(17)) + "} 1\n",
            None,
            "more than 16 labels",
        ),
        ("ok 1\nold 1 1000\n", "old timestamp", "outside the accepted window"),
        ('ok 1\nctl{a="x\\ny"} 1\n', 'ctl{a="x\\ny"} labels.a', "control characters"),
        (b"ok 1\nbad\xff 1\n", "body", "not UTF-8"),
    ],
    ids=["nan", "inf", "parse-error", "too-many-labels", "old", "control-char", "not-utf8"],
)
def test_a_bad_exposition_is_refused_whole(anon_client, client, body, field, message):
    """400 naming the sample (or the line) at fault; the good samples before it are not stored."""
    response = anon_client.post("/api/v1/ingest/prometheus", data=body, headers=AUTH)
    assert response.status_code == 400
    payload = response.get_json()
    assert payload["error"] == "invalid exposition"
    if field is not None:
        assert payload["detail"]["field"] == field
    assert message in payload["detail"]["message"]
    assert _series(client) == []
    assert _metric(client, 'dashboard_ingest_rejected_total{reason="invalid",source="prometheus"}')


def test_the_prometheus_route_needs_an_ingest_token(anon_client, client):
    """401 with the Bearer challenge without a valid token; nothing stored."""
    for headers in ({}, {"Authorization": "Bearer wrong"}):
        response = anon_client.post("/api/v1/ingest/prometheus", data="up 1\n", headers=headers)
        assert response.status_code == 401 and "Bearer" in response.headers["WWW-Authenticate"]
    assert _series(client) == []


@contextmanager
def http_server(respond: Callable[[str], tuple[int, bytes]], port: int = 0) -> Iterator[int]:
    """A real HTTP server on loopback in a thread; yields its port."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            """Answer with whatever ``respond`` gives for the path."""
            status, body = respond(self.path)
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            """Keep the test output quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


class SteppedClock:
    """Wall-clock time that stands still until a test moves it (so delays are exact)."""

    def __init__(self) -> None:
        """Start a minute ago, so moving it on stays within the API's default hour."""
        self.now = time.time() - 60

    def __call__(self) -> float:
        """The current time in seconds."""
        return self.now


def _pollers(app, targets: list[str], clock: SteppedClock | None = None) -> list[Poller]:
    """Pollers for ``targets`` wired to the app's bus, counters and /healthz (not started)."""
    rt = app.extensions["dashboard"]
    rt.settings.poll_targets = targets
    return start_pollers(
        rt.settings,
        publish=rt.bus.publish,
        spawn=lambda name, run: None,
        sleep=lambda seconds: None,
        clock=clock or SteppedClock(),
        metrics=rt.metrics,
        tasks=rt.tasks,
        limits=rt.limits,
    )


def test_a_real_prometheus_exporter_is_scraped_into_series(app, client):
    """prometheus_client's own HTTP server on loopback: a gauge and a labelled counter arrive."""
    registry = CollectorRegistry()
    temperature = Gauge("room_temperature_celsius", "Temperature", registry=registry)
    jobs = Counter("jobs_done", "Jobs done", ["queue"], registry=registry)
    temperature.set(21.5)
    jobs.labels("mail").inc(3)
    server, thread = start_http_server(0, addr="127.0.0.1", registry=registry)
    try:
        port = server.server_port
        clock = SteppedClock()
        [poller] = _pollers(app, [f"prometheus+http://127.0.0.1:{port}/metrics"], clock)
        assert poller.step() == 5.0
        temperature.set(22.0)
        jobs.labels("mail").inc()
        clock.now += 5.0
        assert poller.step() == 5.0
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
    assert [p[1] for p in _points(client, "room_temperature_celsius")] == [21.5, 22.0]
    assert [p[1] for p in _points(client, 'jobs_done_total{queue="mail"}')] == [3.0, 4.0]
    name = f"prometheus+http://127.0.0.1:{port}/metrics"
    health = client.get("/healthz").get_json()["tasks"][f"poll:{name}"]
    assert health["state"] == "ok" and health["failures"] == 0
    assert _metric(client, f'dashboard_polls_total{{target="{name}"}}') == 2


def test_a_json_url_is_polled_with_the_documented_mapping(app, client):
    """A nested object's numbers become ``json.<path>`` series labelled with their source."""
    doc = {"queue": {"depth": 4, "workers": [{"busy": True}]}, "version": "2.1"}
    with http_server(lambda path: (200, json.dumps(doc).encode())) as port:
        [poller] = _pollers(app, [f"json+http://127.0.0.1:{port}/stats"])
        poller.step()
    source = f"127.0.0.1:{port}"
    assert sorted(_series(client)) == [
        ("json.queue.depth", {"source": source}),
        ("json.queue.workers.0.busy", {"source": source}),
    ]
    assert [p[1] for p in _points(client, f'json.queue.depth{{source="{source}"}}')] == [4.0]


def test_a_json_list_of_points_is_polled(app, client):
    """A list of ``{"name", "labels", "value", "ts"}`` items is stored as given."""
    ts = _now() - 5_000
    doc = [{"name": "shop.orders", "labels": {"region": "eu"}, "value": 12, "ts": ts}]
    with http_server(lambda path: (200, json.dumps(doc).encode())) as port:
        [poller] = _pollers(app, [f"json+http://127.0.0.1:{port}/"])
        poller.step()
    key = f'shop.orders{{region="eu",source="127.0.0.1:{port}"}}'
    assert _points(client, key) == [[ts, 12.0]]


def _closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_failing_target_is_counted_shown_on_healthz_and_recovers(app, client, caplog):
    """A closed port fails (counted, backed off, failing on /healthz); serving it recovers."""
    port = _closed_port()
    name = f"json+http://127.0.0.1:{port}/stats"
    [poller] = _pollers(app, [name])
    assert [poller.step() for _ in range(3)] == [10.0, 20.0, 40.0]
    assert _metric(client, f'dashboard_poll_failures_total{{target="{name}"}}') == 3
    health = client.get("/healthz").get_json()["tasks"][f"poll:{name}"]
    assert health["state"] == "failing" and health["failures"] == 3
    assert health["last_error"] == "ConnectionError: [Errno 111] Connection refused"
    assert health["last_error_ms"]
    with http_server(lambda path: (200, b'{"up": 1}'), port=port):
        assert poller.step() == 5.0
    health = client.get("/healthz").get_json()["tasks"][f"poll:{name}"]
    assert health["state"] == "ok" and health["last_ok_ms"] >= health["last_error_ms"]
    assert _metric(client, f'dashboard_polls_total{{target="{name}"}}') == 4
    assert _metric(client, f'dashboard_poll_failures_total{{target="{name}"}}') == 3
    assert [p[1] for p in _points(client, f'json.up{{source="127.0.0.1:{port}"}}')] == [1.0]
    assert [r.levelname for r in caplog.records if r.name == "ingest.pollers"] == [
        "WARNING",
        "WARNING",
    ]


def test_an_http_error_status_fails_the_poll_without_storing(app, client):
    """A 500 from the target is a failed poll named by its status."""
    with http_server(lambda path: (500, b"oops")) as port:
        [poller] = _pollers(app, [f"prometheus+http://127.0.0.1:{port}/metrics"])
        poller.step()
    health = client.get("/healthz").get_json()["tasks"][poller.key]
    assert health["state"] == "failing" and health["last_error"].startswith("HTTP 500")
    assert _series(client) == []


def test_a_bad_poll_target_stops_the_node_from_starting(app):
    """An unknown scheme in DASHBOARD_POLL_TARGETS ends the start with a message naming it."""
    app.extensions["dashboard"].settings.poll_targets = ["host://", "smtp://mail:25"]
    with pytest.raises(SystemExit, match="smtp://mail:25"):
        start_node_pollers(app.extensions["dashboard"], app.extensions["socketio"])
