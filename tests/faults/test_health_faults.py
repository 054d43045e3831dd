"""``/healthz`` and ingest while PostgreSQL refuses connections, then stops, then comes back:
every probe answers within a second, health turns degraded within 5 s, ingest refuses with 503
and Retry-After instead of hanging, and the node recovers by itself.

A private PostgreSQL (tests/postgres_server.py), never the machine's shared cluster.
"""

from __future__ import annotations

import threading
import time

import pytest
import requests

from dashboard.metrics.stores.postgres import PostgresStore
from tests.conftest import TOKEN
from tests.faults.harness import Producer, assert_stored_exactly_once
from tests.postgres_server import private_postgres  # noqa: F401 - fixture
from tests.servers import LiveServer

# serial: it times every probe (within 1 s) and the 503 (within 5 s), which another test's
# load on the 2 cores can delay
pytestmark = pytest.mark.serial


class Prober(threading.Thread):
    """GETs /healthz every 200 ms with a 1 s timeout, recording (time, status, seconds)."""

    def __init__(self, url: str) -> None:
        """A prober of the node at ``url`` (not started)."""
        super().__init__(daemon=True)
        self.url = url
        self.readings: list[tuple[float, int | str, float]] = []
        self.stop = threading.Event()

    def run(self) -> None:
        """Probe until stopped."""
        while not self.stop.wait(0.2):
            started = time.monotonic()
            try:
                status: int | str = requests.get(self.url + "/healthz", timeout=1).status_code
            except requests.RequestException as exc:
                status = type(exc).__name__
            self.readings.append((started, status, time.monotonic() - started))

    def since(self, t: float) -> list[tuple[float, int | str, float]]:
        """The readings taken after ``t``."""
        return [r for r in self.readings if r[0] >= t]


def ingest(url: str) -> requests.Response:
    """POST one point now."""
    point = [int(time.time() * 1000), 1.0]
    return requests.post(
        url + "/api/v1/ingest",
        json={"metrics": [{"name": "fault.health", "points": [point]}]},
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=10,
    )


def first_at(readings, status, after: float) -> float | None:  # type: ignore[no-untyped-def]
    """Seconds after ``after`` of the first reading with ``status``."""
    return next((r[0] - after for r in readings if r[1] == status and r[0] >= after), None)


def test_health_answers_at_once_while_postgres_refuses_and_stops(private_postgres, tmp_path):  # noqa: F811
    """Refused, stopped, back, under a producer's load: probes never wait, the state follows
    within 5 s each way, and every acknowledged point is stored once."""
    node = LiveServer(
        tmp_path / "node", demo=False, env={"DASHBOARD_DATABASE_URL": private_postgres.url}
    )
    prober = Prober(node.url)
    producer = Producer(node.url, name="fault.load")  # the load: points without pause
    try:
        assert ingest(node.url).status_code == 202
        producer.start()
        producer.wait_acked(20)
        prober.start()
        time.sleep(1.5)

        refused = time.monotonic()
        private_postgres.refuse_connections()
        time.sleep(6)
        degraded = first_at(prober.readings, 503, refused)
        assert degraded is not None and degraded <= 5.0, prober.since(refused)
        started = time.monotonic()
        answer = ingest(node.url)
        assert answer.status_code == 503 and answer.headers.get("Retry-After")
        assert time.monotonic() - started < 5.0  # refused fast, not after a long hang
        assert answer.json()["error"] == "storage unavailable"  # says what is wrong

        stopped = time.monotonic()
        private_postgres.stop()
        time.sleep(4)
        assert {r[1] for r in prober.since(stopped)} == {503}
        assert ingest(node.url).status_code == 503

        back = time.monotonic()
        private_postgres.start()
        private_postgres.allow_connections()
        deadline = time.monotonic() + 60
        while first_at(prober.readings, 200, back) is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert first_at(prober.readings, 200, back) is not None, "the node did not recover"
        while ingest(node.url).status_code != 202 and time.monotonic() < deadline:
            time.sleep(0.5)
        assert ingest(node.url).status_code == 202
        producer.wait_acked(len(producer.acked) + 20)  # the load is accepted again
        producer.stop()
        prober.stop.set()
        prober.join(5)
        slow = [r for r in prober.readings if not isinstance(r[1], int) or r[2] >= 1.0]
        assert slow == [], slow  # every probe answered within a second
        assert len(prober.readings) > 50
        store = PostgresStore(private_postgres.url)
        try:  # every point acknowledged under the faults is stored, once
            assert_stored_exactly_once(store, producer)
        finally:
            store.close()
    finally:
        producer.stop()
        prober.stop.set()
        node.stop()
