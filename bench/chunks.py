"""Bytes on disk per raw point in the database stores (compressed chunks), PostgreSQL and SQLite
side by side, and the brief's retention projected from them.

Two shapes, each a third integer gauges (a random walk of whole numbers, like active users), a
third counters with resets (Poisson increments, reset to zero every few hours, like a
restarted process) and a third noisy floats (full float64 noise, like CPU seconds ratios):
``1000x15s`` (1,000 series x 24 h, a point every 15 s with scrape jitter of up to 20 ms) and
``100x1s`` (100 series x 24 h, a point a second, jitter up to 5 ms).

The day is written as it arrives in practice: the first 22 hours in hourly batches (a backfill,
or a node catching up), each followed by a seal; the last 2 hours live, a batch a minute, each
followed by a seal, so the open hour's chunk is re-encoded as it grows. Everything on disk is
counted: head rows, chunks (heap, TOAST, indexes), series, and the dead versions that
re-encoding leaves until a VACUUM (``_bytes_per_point``, as measured right after the last seal)
or after one (``_vacuumed``, what autovacuum brings it to). Then retention drops the day
(PostgreSQL) and seals its 5m, 1h and 1d buckets into rollup chunks, measured per series and
day; the projection for the brief's retention (raw 1 day, 5m 7 days, 1h 30 days, 1d 365 days;
PostgreSQL keeps whole UTC days, so raw is 1.5 days on average) for 10,000 series at 15 s uses
the measured figures.
"""

from __future__ import annotations

import os
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import psycopg
from psycopg import sql

from dashboard.metrics import chunked
from dashboard.metrics.model import Batch, SeriesKey, SeriesPoints
from dashboard.metrics.steps import DAY, HOUR, MINUTE, SECOND
from dashboard.metrics.stores.postgres import PostgresStore
from dashboard.metrics.stores.sqlite import SQLiteStore

URL = os.environ.get(
    "DASHBOARD_BENCH_POSTGRES_URL",
    os.environ.get("DASHBOARD_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"),
)
SHAPES = {"1000x15s": (1000, 15, 20), "100x1s": (100, 1, 5)}
LIVE_HOURS = 2


def _values(kind: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """A series of ``n`` values: 0 integer gauge, 1 counter with resets, 2 noisy float."""
    if kind == 0:
        return np.maximum(0, 500 + np.cumsum(rng.integers(-3, 4, n))).astype(np.float64)
    if kind == 1:
        steps = rng.poisson(7, n).astype(np.float64)
        counter = np.cumsum(steps)
        for reset in np.sort(rng.integers(0, n, 3)):  # a restarted process: back to zero
            counter[reset:] -= counter[reset]
        return counter
    return 0.35 + 0.1 * np.sin(np.arange(n) / 400.0) + rng.normal(0, 0.02, n)


def dataset(series: int, every_s: int, jitter_ms: int, end: int) -> list[SeriesPoints]:
    """24 h of ``series`` series ending at ``end``: timestamps every ``every_s`` with jitter."""
    rng = np.random.default_rng(28)
    n = 86_400 // every_s
    base = end - DAY + np.arange(n, dtype=np.int64) * every_s * SECOND
    out = []
    for i in range(series):
        ts = base + rng.integers(0, jitter_ms + 1, n)
        key = SeriesKey.of("bench.disk", {"kind": str(i % 3), "i": str(i)})
        out.append(SeriesPoints(key, ts, _values(i % 3, n, rng)))
    return out


def _slices(data: list[SeriesPoints], lo: int, hi: int) -> Batch:
    """The points of every series in ``[lo, hi)``."""
    parts = []
    for s in data:
        a, b = np.searchsorted(s.ts, lo), np.searchsorted(s.ts, hi)
        if b > a:
            parts.append(SeriesPoints(s.key, s.ts[a:b], s.values[a:b]))
    return Batch(parts)


def write_day(store: PostgresStore | SQLiteStore, data: list[SeriesPoints], end: int) -> float:
    """Write the day as backfill hours then live minutes, sealing after each batch; seconds."""
    started = time.perf_counter()
    t = end - DAY
    live_from = end - LIVE_HOURS * HOUR
    while t < end:
        width = HOUR if t < live_from else MINUTE
        store.write(_slices(data, t, t + width))
        store.seal()
        t += width
    return time.perf_counter() - started


def _day_figures(
    store: PostgresStore | SQLiteStore, data: list[SeriesPoints], end: int, chunk: str, extra: str
) -> dict[str, float]:
    """Write the day as it arrives (``write_day``) and read the store's bytes: all in, the
    chunks' (stats key ``chunk``), and one more stats figure ``extra`` as it is."""
    points = sum(len(s) for s in data)
    seconds = write_day(store, data, end)
    stats = store.stats()
    return {
        "points": float(points),
        "write_and_seal_points_per_s": points / seconds,
        "bytes_per_point": stats["bytes"] / points,
        "chunk_bytes_per_point": stats[chunk] / points,
        extra: stats[extra],
        "compression_ratio": stats["compression_ratio"],
    }


@contextmanager
def _pg_store() -> Iterator[tuple[PostgresStore, psycopg.Connection]]:
    """A PostgreSQL store in a fresh schema, and a connection using it; both gone afterwards."""
    conn = psycopg.connect(URL, autocommit=True)
    name = f"bench_{uuid.uuid4().hex[:10]}"
    conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(name)))
    conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(name)))
    store = PostgresStore(URL, schema=name, max_size=2)
    try:
        yield store, conn
    finally:
        store.close()
        conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(name)))
        conn.close()


def _rollup_bytes(conn: psycopg.Connection) -> dict[str, float]:
    """Rollup chunks per tier: rows and data bytes, and the table's bytes besides the data
    (heap, TOAST and index overhead) per row."""
    out: dict[str, float] = {}
    total_rows = 0
    total_data = 0
    for tier, rows, data in conn.execute(
        "SELECT tier, count(*), sum(length(data)) FROM rollups GROUP BY tier"
    ):
        out[f"{tier}_rows"] = float(rows)
        out[f"{tier}_data_bytes"] = float(data)
        total_rows += rows
        total_data += data
    size = conn.execute("SELECT pg_total_relation_size('rollups')").fetchone()
    assert size is not None
    out["overhead_per_row"] = (size[0] - total_data) / max(total_rows, 1)
    return out


def postgres_disk(shape: str = "1000x15s", divisor: int = 1) -> dict[str, float]:
    """Bytes on disk per raw point in PostgreSQL for one shape (``divisor``: fewer series, for
    the smoke run), and the rollup chunks' cost."""
    series, every_s, jitter = SHAPES[shape]
    series = max(3, series // divisor)
    end = (int(time.time() * 1000) - 10 * MINUTE) // MINUTE * MINUTE
    data = dataset(series, every_s, jitter, end)
    points = sum(len(s) for s in data)
    with _pg_store() as (store, conn):
        out = _day_figures(store, data, end, "chunk_bytes", "head_bytes")
        store.vacuum()
        conn.execute("VACUUM rollups, series")
        out["bytes_per_point_vacuumed"] = store.stats()["bytes"] / points
        # retention drops the day: its buckets sealed into rollup chunks
        store.retention(end + 3 * DAY)
        rollups = _rollup_bytes(conn)
        series_days = series * 2  # the day spans two UTC days of each series
        out["rollup_5m_bytes_per_series_day"] = (
            rollups["5m_data_bytes"] / series_days + rollups["overhead_per_row"]
        )
        out["rollup_1h_bytes_per_series_day"] = (
            rollups["1h_data_bytes"] / series_days + rollups["overhead_per_row"]
        )
        out["rollup_overhead_per_row"] = rollups["overhead_per_row"]
    # a 1d rollup chunk holds 28 days: its bytes per bucket, with the day's real buckets
    day_rows = [chunked.day_rollups(s.ts, s.values)["1d"] for s in data[:30]]
    rows28 = np.concatenate([np.tile(r[:1], (28, 1)) for r in day_rows[:1]])
    rows28[:, 0] = rows28[0, 0] + np.arange(28) * DAY
    rows28[:, 1:] += np.random.default_rng(1).normal(0, 1, rows28[:, 1:].shape)
    out["rollup_1d_bytes_per_bucket"] = (
        len(chunked.encode_rows(rows28)) + out["rollup_overhead_per_row"]
    ) / 28
    return out


def sqlite_disk(shape: str = "1000x15s", divisor: int = 1) -> dict[str, float]:
    """Bytes on disk per raw point in the SQLite file for one shape (raw kept, rollups computed
    from it: no rollup chunks)."""
    series, every_s, jitter = SHAPES[shape]
    series = max(3, series // divisor)
    end = (int(time.time() * 1000) - 10 * MINUTE) // MINUTE * MINUTE
    data = dataset(series, every_s, jitter, end)
    points = sum(len(s) for s in data)
    with tempfile.TemporaryDirectory() as folder:
        store = SQLiteStore(Path(folder) / "bench.db")
        try:
            out = _day_figures(store, data, end, "chunk_data_bytes", "free_bytes")
            store.vacuum()
            out["bytes_per_point_vacuumed"] = store.stats()["bytes"] / points
        finally:
            store.close()
    return out


def disk(shapes: tuple[str, ...] = tuple(SHAPES), divisor: int = 1) -> dict[str, float]:
    """Both stores, both shapes, and the brief's retention for 10,000 series at 15 s."""
    out: dict[str, float] = {}
    for shape in shapes:
        for name, run in (("postgres", postgres_disk), ("sqlite", sqlite_disk)):
            for key, value in run(shape, divisor).items():
                out[f"{name}_{shape}_{key}"] = value
    if "1000x15s" in shapes:
        p = "postgres_1000x15s_"
        per_series_day_raw = out[p + "bytes_per_point_vacuumed"] * 5760
        per_series = (
            1.5 * per_series_day_raw
            + 7 * out[p + "rollup_5m_bytes_per_series_day"]
            + 30 * out[p + "rollup_1h_bytes_per_series_day"]
            + 365 * out[p + "rollup_1d_bytes_per_bucket"]
        )
        out["projection_10k_series_15s_brief_retention_gb"] = per_series * 10_000 / 1e9
        out["projection_raw_gb_per_day_per_1000_series_15s"] = per_series_day_raw * 1000 / 1e9
        out["projection_raw_gb_per_day_per_1000_series_1s"] = (
            out.get("postgres_100x1s_bytes_per_point_vacuumed", 0.0) * 86_400 * 1000 / 1e9
        )
    return out
