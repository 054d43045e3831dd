"""``python -m bench.engine``: the metrics engine's memory and speed, against the old ring store.

Each scenario runs in a fresh subprocess, so resident memory (RSS) is that of a process that did
only that; the figures come back as JSON and are printed as one markdown table. Nothing is
written to bench/RESULTS.md.

Value kinds: ``counter`` (a monotone integer counter), ``int_gauge`` (an integer random walk),
``rounded`` (a daily curve with noise, two decimals, like the demo's), ``noisy`` (full-precision
float noise: the worst case for any compressor). The 15 s scenario jitters timestamps by up to
+-25 ms, as real scrapes do; the 1 s one is exact, as the demo's producer is.
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable

import numpy as np
import psutil

from dashboard.metrics.model import Batch, SeriesKey, SeriesPoints
from dashboard.metrics.steps import BY_NAME, DAY, RAW, SECOND
from dashboard.metrics.stores.hot import HotStore

T0 = 1_700_000_000_000 // DAY * DAY
KINDS = ("counter", "int_gauge", "rounded", "noisy")
MIX_10K = {"counter": 0.4, "int_gauge": 0.3, "rounded": 0.2, "noisy": 0.1}


def old_store_class() -> type:
    """The ring-buffer MemoryStore the hot store replaced (the baseline)."""
    from bench.baseline_ring import MemoryStore

    return MemoryStore


def rss() -> int:
    """Resident bytes of this process."""
    return psutil.Process().memory_info().rss


class Feed:
    """Values of many series, generated a tick range at a time, continuous across calls."""

    def __init__(self, kinds: list[str], seed: int = 1) -> None:
        """One series per entry of ``kinds``."""
        self.kinds = np.array(kinds)
        self.rng = np.random.default_rng(seed)
        self.state = np.zeros(len(kinds))

    def block(self, i0: int, n: int) -> np.ndarray:
        """Values of ticks ``i0 .. i0+n-1``: shape (series, n)."""
        rng, k = self.rng, len(self.kinds)
        phase = (i0 + np.arange(n)) / 3000.0
        out = np.empty((k, n))
        for kind in KINDS:
            rows = np.flatnonzero(self.kinds == kind)
            if rows.size == 0:
                continue
            if kind == "counter":
                steps = rng.integers(0, 100, (rows.size, n))
            elif kind == "int_gauge":
                steps = rng.integers(-3, 4, (rows.size, n))
            if kind in ("counter", "int_gauge"):
                block = self.state[rows, None] + np.cumsum(steps, axis=1)
                self.state[rows] = block[:, -1]
                out[rows] = np.abs(block)
            elif kind == "rounded":
                base = 1500 + 900 * np.sin(phase)[None, :]
                out[rows] = np.round(base + rng.normal(0, 20, (rows.size, n)), 2)
            else:
                out[rows] = np.sin(phase)[None, :] + rng.normal(0, 0.1, (rows.size, n))
        return out


def fill(store, keys, kinds, interval_ms: int, hours: float, per_batch: int, jitter: int) -> float:
    """Feed ``hours`` of points at ``interval_ms`` in batches of ``per_batch`` ticks; seconds."""
    feed = Feed(kinds)
    rng = np.random.default_rng(2)
    ticks = int(hours * 3_600_000 // interval_ms)
    elapsed = 0.0
    for i0 in range(0, ticks, per_batch):
        n = min(per_batch, ticks - i0)
        values = feed.block(i0, n)
        base = T0 + (i0 + np.arange(n, dtype=np.int64)) * interval_ms
        series = []
        for j, key in enumerate(keys):
            ts = base + rng.integers(-jitter, jitter + 1, n) if jitter else base
            series.append(SeriesPoints(key, ts, values[j]))
        batch = Batch(series)
        started = time.perf_counter()
        store.write(batch)
        elapsed += time.perf_counter() - started
    return elapsed


def by_kind(store: HotStore, keys, kinds) -> dict[str, float]:
    """Bytes a point per kind (the series' whole accounted bytes over their points)."""
    out = {}
    for kind in KINDS:
        series = [store._entries[k].series for k, kd in zip(keys, kinds, strict=True) if kd == kind]
        if series:
            nbytes = sum(s.nbytes for s in series)
            out[f"B/point {kind}"] = nbytes / sum(s.points for s in series)
            payload = sum(sum(len(b) for b in s.sealed()) for s in series)
            sealed = sum(s.points - s._hn for s in series)
            out[f"B/point {kind} (sealed chunks only)"] = payload / max(sealed, 1)
    return out


# ---- scenarios (each runs in its own process) --------------------------------------------------


def fixed_cost(n: int = 10_000) -> dict[str, float]:
    """Bytes of a one-point series (its key included): accounted, RSS and traced, new and old."""
    out: dict[str, float] = {}
    for name, make in (("hot", HotStore), ("old", old_store_class())):
        count = n if name == "hot" else 50
        for measure in ("RSS", "traced"):
            gc.collect()
            before = rss()
            if measure == "traced":
                tracemalloc.start()
            store = make()
            for i in range(count):
                key = SeriesKey.of("node_cpu_seconds_total", {"cpu": str(i), "mode": "idle"})
                store.write(Batch([SeriesPoints(key, np.array([T0]), np.array([1.0]))]))
            if measure == "traced":
                used, _ = tracemalloc.get_traced_memory()
                tracemalloc.stop()
            else:
                used = rss() - before
            out[f"{name}: {measure} bytes a series"] = used / count
            out[f"{name}: accounted bytes a series"] = store.memory_bytes() / count
            del store
    return out


def day_at_1s(series: int = 100) -> dict[str, float]:
    """100 series x 24 h at 1 s: hot-store bytes and RSS; read times; old store alongside."""
    keys = [SeriesKey.of("bench.1s", {"i": str(i)}) for i in range(series)]
    kinds = [KINDS[i % len(KINDS)] for i in range(series)]
    out: dict[str, float] = {}
    base = rss()
    store = HotStore()
    out["hot: write s (10 min batches)"] = fill(store, keys, kinds, SECOND, 24, 600, 0)
    gc.collect()
    out["hot: store MB"] = store.memory_bytes() / 1e6
    out["hot: RSS delta MB"] = (rss() - base) / 1e6
    out["hot: points"] = store.stats()["points"]
    out.update(by_kind(store, keys, kinds))
    out.update(read_times("hot", store, keys))
    del store
    gc.collect()
    base = rss()
    old = old_store_class()()
    out["old: write s (10 min batches)"] = fill(old, keys, kinds, SECOND, 24, 600, 0)
    out["old: store MB"] = old.memory_bytes() / 1e6
    out["old: RSS delta MB"] = (rss() - base) / 1e6
    out.update(read_times("old", old, keys))
    return out


def read_times(name: str, store, keys) -> dict[str, float]:
    """Milliseconds to read 24 h of every series, raw and at 1m, 5m and 1h."""
    end = T0 + DAY - 1
    out = {}
    for step in (RAW, BY_NAME["1m"], BY_NAME["5m"], BY_NAME["1h"]):
        started = time.perf_counter()
        for key in keys:
            store.query(key, T0, end, step)
        elapsed_ms = (time.perf_counter() - started) * 1e3
        out[f"{name}: read {len(keys)} x 24 h {step.name} ms"] = elapsed_ms
    return out


def many_at_15s(series: int = 10_000, mix: str = "mix") -> dict[str, float]:
    """10,000 series x 24 h at 15 s: the whole process's RSS."""
    keys = [SeriesKey.of("node_metric", {"i": str(i), "job": "node"}) for i in range(series)]
    if mix == "mix":
        kinds = [k for k, share in MIX_10K.items() for _ in range(int(series * share))]
    else:
        kinds = [mix] * series
    store = HotStore()
    elapsed = fill(store, keys, kinds, 15 * SECOND, 24, 40, 25)  # 10 minute batches
    gc.collect()
    stats = store.stats()
    out = {
        f"{mix}: process RSS MB": rss() / 1e6,
        f"{mix}: store MB": stats["bytes"] / 1e6,
        f"{mix}: points": stats["points"],
        f"{mix}: write points/s": stats["points"] / elapsed,
    }
    if mix == "mix":
        out.update(by_kind(store, keys, kinds))
    return out


def write_rate(series: int = 1_000, ticks: int = 300) -> dict[str, float]:
    """Points/s: live shape (one point per series per tick) and bulk backfill, new and old."""
    keys = [SeriesKey.of("bench.live", {"i": str(i)}) for i in range(series)]
    live = [
        Batch([SeriesPoints(k, np.array([T0 + s * SECOND]), np.array([float(s)])) for k in keys])
        for s in range(ticks)
    ]
    bulk_ts = T0 + np.arange(86_400, dtype=np.int64) * SECOND
    feed = Feed([KINDS[i % 4] for i in range(100)])
    values = feed.block(0, 86_400)
    bulk = [Batch([SeriesPoints(k, bulk_ts, values[i])]) for i, k in enumerate(keys[:100])]
    out = {}
    for name, make in (("hot", HotStore), ("old", old_store_class())):
        store = make()
        started = time.perf_counter()
        for batch in live:
            store.write(batch)
        out[f"{name}: live points/s"] = series * ticks / (time.perf_counter() - started)
        store = make()
        started = time.perf_counter()
        for batch in bulk:
            store.write(batch)
        out[f"{name}: backfill points/s"] = 86_400 * len(bulk) / (time.perf_counter() - started)
    return out


SCENARIOS: dict[str, Callable[..., dict[str, float]]] = {
    "fixed_cost": fixed_cost,
    "day_at_1s": day_at_1s,
    "many_at_15s": many_at_15s,
    "many_at_15s_noisy": lambda: many_at_15s(mix="noisy"),
    "write_rate": write_rate,
}


def in_process(name: str) -> dict[str, float]:
    """One scenario's figures, measured in a fresh process (so RSS is its own)."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.engine", "--inside", name],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.splitlines()[-1])


def engine(names: tuple[str, ...] = ()) -> dict[str, float]:
    """Every scenario (or those named), each in its own process: ``scenario.figure`` values."""
    return {
        f"{name}.{figure}": value
        for name in names or tuple(SCENARIOS)
        for figure, value in in_process(name).items()
    }


def main(argv: list[str] | None = None) -> int:
    """Run every scenario (or those named) in a subprocess each; print a markdown table."""
    parser = argparse.ArgumentParser(prog="python -m bench.engine")
    parser.add_argument("names", nargs="*", help=f"of: {', '.join(SCENARIOS)}")
    parser.add_argument("--inside", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.inside:
        print(json.dumps(SCENARIOS[args.inside]()))
        return 0
    memory = psutil.virtual_memory().total / 2**30
    print(
        f"Machine: {platform.machine()}, {psutil.cpu_count()} CPUs, {memory:.1f} GiB, "
        f"Python {platform.python_version()}"
    )
    print("\n| scenario | figure | value |\n|---|---|---|")
    for name in args.names or SCENARIOS:
        started = time.perf_counter()
        for figure, value in in_process(name).items():
            print(f"| {name} | {figure} | {value:,.2f} |", flush=True)
        print(f"| {name} | (scenario wall s) | {time.perf_counter() - started:,.1f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
