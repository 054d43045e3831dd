"""End-to-end live latency: POST a point to a real ``dashboard serve``, time its push.

Baseline: the round trip of ``GET /healthz`` to the same server in the same run.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import requests
import socketio

TOKEN = "bench-token"
PASSWORD = "bench-admin-password"


def _free_port() -> int:
    """An unused TCP port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def running_server(extra_env: dict[str, str] | None = None) -> Iterator[str]:
    """A ``dashboard serve`` on a free loopback port with its own data folder; yields its URL."""
    with serve_process(extra_env) as (url, _):
        yield url


@contextlib.contextmanager
def serve_process(
    extra_env: dict[str, str] | None = None,
) -> Iterator[tuple[str, subprocess.Popen]]:
    """Like ``running_server``, also yielding the process (to read its CPU time)."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "DASHBOARD_DATA_DIR": str(Path(tmp) / "data"),
            "DASHBOARD_DEMO": "0",
            "DASHBOARD_INGEST_TOKENS": TOKEN,
            "DASHBOARD_ADMIN_PASSWORD": PASSWORD,
            "DASHBOARD_PORT": str(port),
            "DASHBOARD_INGEST_RATE_LIMIT": "100000 per second",
            **(extra_env or {}),
        }
        proc = subprocess.Popen(
            [sys.executable, "-m", "dashboard.cli", "serve"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            for _ in range(300):
                try:
                    if requests.get(url + "/healthz", timeout=1).ok:
                        break
                except requests.ConnectionError:
                    time.sleep(0.05)
            yield url, proc
        finally:
            proc.terminate()
            proc.wait(10)


def ingest_to_push(samples: int = 100, interval_s: float = 0.05) -> dict[str, float]:
    """p50/p99 ms from sending the POST to receiving the ``points`` message over WebSocket."""
    with running_server() as url:
        return _measure(url, samples, interval_s)


def _measure(url: str, samples: int, interval_s: float) -> dict[str, float]:
    """Send numbered points and time each one's arrival."""
    received: dict[float, float] = {}
    arrived = threading.Event()
    client = socketio.Client()

    def on_points(msg: dict) -> None:
        now = time.perf_counter()
        for _, v in msg["series"].get("demo.active_users", []):
            received.setdefault(v, now)
        arrived.set()

    client.on("points", on_points, namespace="/live")
    session = requests.Session()
    session.post(url + "/api/v1/auth/login", json={"username": "admin", "password": PASSWORD})
    cookie = "; ".join(f"{c.name}={c.value}" for c in session.cookies)
    client.connect(url, namespaces=["/live"], transports=["websocket"], headers={"Cookie": cookie})
    client.call("subscribe", {"dashboard": "default"}, namespace="/live")
    headers = {"Authorization": f"Bearer {TOKEN}"}
    sent: dict[float, float] = {}
    rtt = []
    for i in range(samples):
        t0 = time.perf_counter()
        session.get(url + "/healthz", timeout=5)
        rtt.append(time.perf_counter() - t0)
        value = float(i + 1)
        body = {
            "metrics": [{"name": "demo.active_users", "points": [[int(time.time() * 1000), value]]}]
        }
        sent[value] = time.perf_counter()
        session.post(url + "/api/v1/ingest", json=body, headers=headers, timeout=5)
        time.sleep(interval_s)
    deadline = time.monotonic() + 5
    while len(received) < samples and time.monotonic() < deadline:
        arrived.wait(0.1)
        arrived.clear()
    client.disconnect()
    lat = np.array([received[v] - sent[v] for v in sent if v in received]) * 1e3
    return {
        "p50_ms": float(np.percentile(lat, 50)),
        "p99_ms": float(np.percentile(lat, 99)),
        "delivered": float(len(lat)) / samples,
        "baseline_healthz_p50_ms": float(np.percentile(np.array(rtt) * 1e3, 50)),
    }
