"""The data set the conformance tests write into both the dashboard and Prometheus:
counters with resets, gauges, histogram buckets and a series with a gap, on jittered 15 s
samples that never fall on a whole second (so no sample sits on a window's boundary)."""

from __future__ import annotations

import numpy as np

from bench.promserver import Series

STEP_MS = 15_000
ROUTES = ("/a", "/b", "/c")
BOUNDS = ("0.1", "0.5", "1", "+Inf")


def _times(rng: np.random.Generator, start_ms: int, count: int) -> np.ndarray:
    """Sample times: every 15 s from 3.7 s after ``start_ms``, with up to 1.5 s of jitter."""
    base = start_ms + 3_700 + np.arange(count, dtype=np.int64) * STEP_MS
    return base + rng.integers(1, 1_500, count) * 1 + 0  # odd milliseconds: never whole seconds


def _counter(rng: np.random.Generator, count: int, resets: int) -> np.ndarray:
    """A counter from a high start with random increments and ``resets`` drops to near 0."""
    steps = rng.integers(0, 20, count).astype(np.float64)
    values = 5_000.0 + np.cumsum(steps)
    for at in rng.choice(np.arange(count // 4, count), resets, replace=False):
        values[at:] -= values[at] - rng.integers(0, 5)
    return values


def dataset(start_ms: int, count: int, seed: int = 7) -> list[Series]:
    """Every series of the conformance data set."""
    rng = np.random.default_rng(seed)
    out: list[Series] = []
    for route in ROUTES:
        for code in ("200", "500"):
            values = _counter(rng, count, 2 if code == "200" else 1)
            labels = {"route": route, "code": code}
            out.append(("http_requests_total", labels, _times(rng, start_ms, count), values))
        ts = _times(rng, start_ms, count)
        shares = rng.dirichlet(np.ones(4), count)
        totals = np.cumsum(rng.integers(0, 30, count)).astype(np.float64)
        cum = np.cumsum(shares, axis=1)
        for j, le in enumerate(BOUNDS):
            values = np.floor(totals * cum[:, j]) if le != "+Inf" else totals
            out.append(("lat_bucket", {"route": route, "le": le}, ts, values))
    for host in ("h1", "h2", "h3"):
        values = np.round(20.0 + np.cumsum(rng.normal(0, 0.5, count)), 2)
        out.append(("temp", {"host": host}, _times(rng, start_ms, count), values))
    ts = _times(rng, start_ms, count)
    keep = (ts < start_ms + count * STEP_MS // 3) | (ts > start_ms + count * STEP_MS // 2)
    out.append(("gappy", {"host": "h1"}, ts[keep], np.arange(keep.sum(), dtype=np.float64)))
    return out
