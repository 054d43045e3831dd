"""Benchmarks of the pure core: hot-store writes, 24 h history read and downsampling."""

from __future__ import annotations

import time

import numpy as np

from dashboard.metrics.downsample import downsample
from dashboard.metrics.model import Batch, SeriesKey, SeriesPoints
from dashboard.metrics.steps import RAW
from dashboard.metrics.stores.hot import HotStore


def hot_store_write(series: int = 100, seconds: int = 600) -> dict[str, float]:
    """Live-shaped writes (one point per series per second) into the hot store, points/s.

    Baseline: assigning the same points into a preallocated numpy array (the floor for any
    in-memory store).
    """
    store = HotStore()
    keys = [SeriesKey.of("bench.metric", {"i": str(i)}) for i in range(series)]
    t0 = 1_700_000_000_000
    batches = []
    for s in range(seconds):
        ts = np.array([t0 + s * 1000], dtype=np.int64)
        batches.append(Batch([SeriesPoints(k, ts, np.array([float(s)])) for k in keys]))
    started = time.perf_counter()
    for batch in batches:
        store.write(batch)
    elapsed = time.perf_counter() - started
    points = series * seconds
    base = np.zeros((series, seconds))
    started = time.perf_counter()
    for s in range(seconds):
        base[:, s] = float(s)
    baseline = time.perf_counter() - started
    return {
        "points_per_s": points / elapsed,
        "baseline_points_per_s": points / baseline,
        "memory_mb_100_series": store.memory_bytes() / 1e6 * 100 / series,
    }


def history_read(width: int = 1000, series: int = 100) -> dict[str, float]:
    """Read 24 h at 1 s of ``series`` series from the hot store and MinMaxLTTB each to
    ``width`` (what a dashboard of that many charts asks for), ms in all.

    Baseline: copying the same values (86,400 a series).
    """
    store = HotStore()
    keys = [SeriesKey.of("bench.history", {"i": str(i)}) for i in range(series)]
    t0 = 1_700_000_000_000
    ts = t0 + np.arange(86_400, dtype=np.int64) * 1000
    rng = np.random.default_rng(1)
    values = [np.sin(np.arange(86_400) / 500.0) + rng.normal(0, 0.1, 86_400) for _ in keys]
    store.write(Batch([SeriesPoints(k, ts, v) for k, v in zip(keys, values, strict=True)]))
    read = sampled = 0.0
    for key in keys:
        started = time.perf_counter()
        frame = store.query(key, int(ts[0]), int(ts[-1]), RAW)
        read += time.perf_counter() - started
        started = time.perf_counter()
        x, _ = downsample(frame.ts, frame.value, width)
        sampled += time.perf_counter() - started
        assert len(frame) == 86_400 and x.size <= width
    started = time.perf_counter()
    for v in values:
        v.copy()
    baseline = time.perf_counter() - started
    return {
        "series": float(series),
        "total_ms": (read + sampled) * 1e3,
        "read_ms": read * 1e3,
        "downsample_ms": sampled * 1e3,
        "baseline_copy_ms": baseline * 1e3,
    }
