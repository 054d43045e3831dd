"""The fault suite's harness: a producer of numbered points that records which were
acknowledged, the check that each of them is stored exactly once, and the processes of a
Redis setup (web node and `dashboard worker`)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import numpy as np
import requests

from dashboard.metrics.model import SeriesKey
from dashboard.metrics.steps import BY_NAME, RAW
from dashboard.metrics.store_interface import MetricStore
from tests.conftest import ADMIN_PASSWORD, TOKEN
from tests.servers import LiveServer

SECOND_MS = 1000


class Producer:
    """A thread POSTing point i = (t0 + i s, i) one request at a time to ``/api/v1/ingest``.

    Each number is sent once: a refused or failed request is recorded, not retried, so the
    acknowledged numbers are exactly the points the server promised to keep.
    """

    def __init__(self, url: str, name: str = "fault.points", labels: dict | None = None) -> None:
        """A producer for one series on the node at ``url`` (not started)."""
        self.url = url
        self.name = name
        self.labels = labels or {}
        self.key = SeriesKey.of(name, self.labels)
        # one point a second of data time (the hot store keeps one a second), in the past hour
        self.t0 = (int(time.time()) - 3600) * SECOND_MS
        self.acked: list[int] = []
        self.refused: list[tuple[int, int, str | None]] = []  # number, status, Retry-After
        self.failed: list[int] = []  # no answer: the outcome is unknown
        self.sent = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="producer", daemon=True)

    def ts(self, i: int) -> int:
        """The timestamp of point ``i``."""
        return self.t0 + i * SECOND_MS

    def start(self) -> Producer:
        """Start sending."""
        self._thread.start()
        return self

    def _run(self) -> None:
        """Send until stopped (or an hour of data time is used up)."""
        session = requests.Session()
        headers = {"Authorization": f"Bearer {TOKEN}"}
        while not self._stop.is_set() and self.sent < 3500:
            i = self.sent
            body = {
                "metrics": [
                    {"name": self.name, "labels": self.labels, "points": [[self.ts(i), float(i)]]}
                ]
            }
            self.sent += 1
            try:
                response = session.post(
                    self.url + "/api/v1/ingest", json=body, headers=headers, timeout=15
                )
            except requests.RequestException:
                self.failed.append(i)
                time.sleep(0.05)
                continue
            if 200 <= response.status_code < 300:
                self.acked.append(i)
            else:
                self.refused.append((i, response.status_code, response.headers.get("Retry-After")))
                time.sleep(0.05)
            time.sleep(0.01)
        session.close()

    def wait_acked(self, n: int, timeout: float = 30) -> None:
        """Block until ``n`` points are acknowledged in all."""
        self._wait(lambda: len(self.acked) >= n, timeout, f"{n} acknowledged points")

    def wait_refused(self, n: int, timeout: float = 30) -> None:
        """Block until ``n`` requests were refused or failed in all."""
        self._wait(lambda: len(self.refused) + len(self.failed) >= n, timeout, f"{n} refusals")

    def _wait(self, done, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
        """Poll ``done`` until it holds or ``timeout`` passes."""
        deadline = time.monotonic() + timeout
        while not done():
            assert self._thread.is_alive(), "the producer stopped"
            assert time.monotonic() < deadline, (
                f"waited {timeout} s for {what}: acked {len(self.acked)}, "
                f"refused {self.refused[-3:]}, failed {len(self.failed)}"
            )
            time.sleep(0.02)

    def stop(self) -> None:
        """Stop sending and wait for the request in flight."""
        self._stop.set()
        if self._thread.ident is not None:
            self._thread.join(30)

    def expected(self) -> dict[int, float]:
        """Acknowledged timestamps and their values."""
        return {self.ts(i): float(i) for i in self.acked}


def stored_points(store: MetricStore, key: SeriesKey) -> list[tuple[int, float]]:
    """Every raw point the store holds for ``key``, in order."""
    frame = store.query(key, 0, 2**62, RAW)
    return list(zip(frame.ts.tolist(), frame.value.tolist(), strict=True))


def assert_stored_exactly_once(store: MetricStore, producer: Producer) -> list[tuple[int, float]]:
    """Every acknowledged point is stored once with its value; nothing stored was never sent."""
    points = stored_points(store, producer.key)
    ts = [t for t, _ in points]
    assert len(ts) == len(set(ts)), "a timestamp is stored twice"
    stored = dict(points)
    missing = sorted(set(producer.expected()) - set(stored))
    assert not missing, f"{len(missing)} acknowledged points are not stored: {missing[:5]}"
    for t, v in stored.items():
        i = (t - producer.t0) // SECOND_MS
        assert (t - producer.t0) % SECOND_MS == 0 and 0 <= i < producer.sent, f"unsent point {t}"
        assert v == float(i), f"point {i} stored as {v}"
    # each point counted once in the rollups too (a replayed write must not count twice)
    minute = store.query(producer.key, 0, 2**62, BY_NAME["1m"])
    assert int(np.sum(minute.count)) == len(points)
    return points


def api_points(url: str, producer: Producer) -> list[list[float]]:
    """The raw points a node's series API returns for the producer's series."""
    session = requests.Session()
    session.post(
        url + "/api/v1/auth/login",
        json={"username": "admin", "password": ADMIN_PASSWORD},
        timeout=10,
    )
    params = {
        "name": producer.name,
        "start": producer.t0,
        "end": producer.ts(producer.sent),
        "step": "raw",
        "max_points": 20_000,
    }
    response = session.get(url + "/api/v1/series", params=params, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()["points"]


def redis_env(redis_url: str, db: Path) -> dict[str, str]:
    """Settings of every process of one Redis setup: its own prefix, a shared SQLite file."""
    prefix = f"f{uuid.uuid4().hex[:8]}"
    return {
        "DASHBOARD_REDIS_URL": redis_url,
        "DASHBOARD_REDIS_PREFIX": prefix,
        "DASHBOARD_RATELIMIT_PREFIX": prefix,
        "DASHBOARD_DATABASE_URL": f"sqlite:///{db}",
        "DASHBOARD_SECRET_KEY": "a-shared-secret-for-the-fault-test-nodes-0123456789",
        "DASHBOARD_INGEST_RATE_LIMIT": "10000 per second",
    }


def web_node(folder: Path, env: dict[str, str], name: str = "node") -> LiveServer:
    """A `dashboard serve` of the setup (demo off), logging to ``folder/<name>.log``."""
    return LiveServer(folder, demo=False, env=env, log_name=f"{name}.log")


class WorkerProcess:
    """A `dashboard worker` subprocess of the setup (``extra`` adds settings)."""

    def __init__(self, folder: Path, env: dict[str, str], extra: dict[str, str] | None = None):
        """Start it; its output goes to ``folder/worker-<pid>.log``."""
        folder.mkdir(parents=True, exist_ok=True)
        full = {**os.environ, **env, "DASHBOARD_DATA_DIR": str(folder), "DASHBOARD_DEMO": "0"}
        self._log = (folder / f"worker-{uuid.uuid4().hex[:6]}.log").open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "dashboard.cli", "worker"],
            env={**full, **(extra or {})},
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def pause(self) -> None:
        """SIGSTOP it (a worker that has fallen behind)."""
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        """SIGCONT it."""
        self.proc.send_signal(signal.SIGCONT)

    def kill(self) -> None:
        """SIGKILL it (a crash: no clean-up, no acknowledgement)."""
        self.proc.kill()
        self.proc.wait(10)

    def stop(self) -> None:
        """Stop it if it still runs."""
        if self.proc.poll() is None:
            self.resume()
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._log.close()


def wait_until(condition, timeout: float = 30, what: str = "the condition") -> None:  # type: ignore[no-untyped-def]
    """Poll ``condition`` until it is true, failing after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"waited {timeout} s for {what}"
        time.sleep(0.05)
