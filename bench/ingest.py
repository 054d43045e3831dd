"""Points per second from HTTP batches into the store, embedded and on the Redis bus.

A real ``dashboard serve`` on loopback takes ``POST /api/v1/ingest`` batches of 10,000 points
(100 series x 100 points). Embedded, a 202 means the batch is in SQLite and the hot store;
with Redis it means the batch is on the stream, and the figure waits until the persisters
have written everything. Baseline: the same bodies POSTed to ``/healthz`` (HTTP and JSON
transfer alone), in the same run.
"""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from collections.abc import Iterator

import numpy as np
import redis
import requests

from bench.live import PASSWORD, TOKEN, running_server


def _bodies(batches: int, series: int, points: int) -> list[bytes]:
    """Encoded ingest bodies with fresh timestamps, one point a second per series."""
    now = int(time.time()) * 1000 - 3_600_000
    out = []
    for b in range(batches):
        t0 = now + b * points * 1000
        metrics = [
            {
                "name": "bench.ingest",
                "labels": {"s": str(s)},
                "points": [[t0 + i * 1000, float(i)] for i in range(points)],
            }
            for s in range(series)
        ]
        out.append(json.dumps({"metrics": metrics}).encode())
    return out


def http_to_store(
    batches: int = 10, series: int = 100, points: int = 100, redis_url: str = ""
) -> dict[str, float]:
    """Points/s accepted (embedded: stored) over HTTP, and the baseline of bare transfers."""
    bodies = _bodies(batches, series, points)
    prefix = f"bench{uuid.uuid4().hex[:6]}"
    env = {"DASHBOARD_REDIS_URL": redis_url, "DASHBOARD_REDIS_PREFIX": prefix}
    with running_server(env) as url, _cleanup(redis_url, prefix):
        session = requests.Session()
        headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
        started = time.perf_counter()
        for body in bodies:
            r = session.post(url + "/api/v1/ingest", data=body, headers=headers, timeout=60)
            r.raise_for_status()
        accepted = time.perf_counter() - started
        stored = accepted
        if redis_url:
            session.post(
                url + "/api/v1/auth/login", json={"username": "admin", "password": PASSWORD}
            )
            while session.get(url + "/healthz").json()["bus"].get("lag", 0) > 0:
                time.sleep(0.01)
            stored = time.perf_counter() - started
        started = time.perf_counter()
        for body in bodies:
            session.post(url + "/healthz", data=body, headers=headers, timeout=60)
        baseline = time.perf_counter() - started
    total = batches * series * points
    return {
        "accepted_points_per_s": total / accepted,
        "stored_points_per_s": total / stored,
        "baseline_transfer_points_per_s": total / baseline,
    }


@contextlib.contextmanager
def _cleanup(redis_url: str, prefix: str) -> Iterator[None]:
    """Delete the benchmark's stream from Redis afterwards."""
    try:
        yield
    finally:
        if redis_url:
            client = redis.Redis.from_url(redis_url)
            for key in client.scan_iter(match=f"{prefix}*"):
                client.delete(key)
            client.close()


def validate_and_hot_store(batches: int = 20, series: int = 100, points: int = 100) -> dict:
    """In-process: validation plus hot-store write of the same batches, points/s."""
    from dashboard.metrics.model import validate_batch
    from dashboard.metrics.stores.hot import HotStore

    bodies = [json.loads(b) for b in _bodies(batches, series, points)]
    store = HotStore()
    now = int(time.time() * 1000)
    started = time.perf_counter()
    for body in bodies:
        store.write(validate_batch(body, now_ms=now))
    elapsed = time.perf_counter() - started
    parsed = time.perf_counter()
    for body in bodies:
        np.asarray([p for m in body["metrics"] for p in m["points"]], dtype=np.float64)
    baseline = time.perf_counter() - parsed
    total = batches * series * points
    return {"points_per_s": total / elapsed, "baseline_to_numpy_points_per_s": total / baseline}
