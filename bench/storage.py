"""Benchmarks of the PostgreSQL store: points persisted per second, and a 100-series history read.

Each run works in a schema of its own, dropped afterwards. The server is the one named by
``DASHBOARD_BENCH_POSTGRES_URL`` (else ``DASHBOARD_TEST_POSTGRES_URL``, else the local ``test``
database).
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial

import numpy as np
import psycopg
from psycopg import sql

from dashboard.metrics.downsample import downsample_indices
from dashboard.metrics.model import Batch, SeriesKey, SeriesPoints
from dashboard.metrics.steps import BY_NAME, DAY, HOUR, RAW, SECOND, choose_step
from dashboard.metrics.stores.history_cache import HistoryCache
from dashboard.metrics.stores.postgres import PostgresStore
from dashboard.metrics.stores.postgres_sql import encode_copy, stage_columns

URL = os.environ.get(
    "DASHBOARD_BENCH_POSTGRES_URL",
    os.environ.get("DASHBOARD_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"),
)


def _now_ms() -> int:
    """Wall-clock time in Unix milliseconds."""
    return time.time_ns() // 1_000_000


@contextmanager
def _schema() -> Iterator[tuple[psycopg.Connection, str]]:
    """A fresh schema and an autocommit connection using it; both gone afterwards."""
    conn = psycopg.connect(URL, autocommit=True)
    name = f"bench_{uuid.uuid4().hex[:10]}"
    conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(name)))
    conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(name)))
    try:
        yield conn, name
    finally:
        if conn.closed:  # the server went away mid-run: drop the schema on a new connection
            conn = psycopg.connect(URL, autocommit=True)
        conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(name)))
        conn.close()


def _write_then_seal(schema: str, made: list[Batch]) -> tuple[float, float]:
    """Seconds to write ``made[1:]`` (after an untimed warm-up batch, sealed), then to seal."""
    store = PostgresStore(URL, schema=schema, max_size=2)
    try:
        store.write(made[0])
        store.seal()
        started = time.perf_counter()
        for batch in made[1:]:
            store.write(batch)
        written = time.perf_counter() - started
        started = time.perf_counter()
        store.seal()
        return written, time.perf_counter() - started
    finally:
        store.close()


def postgres_write(batches: int = 100, batch_points: int = 10_000, series: int = 100) -> dict:
    """Points/s persisted by ``PostgresStore.write`` (COPY, idempotent upsert into the head)
    and sealed into chunks by ``PostgresStore.seal`` (``points_per_s``: both; the other two
    rates: each alone).

    Batches of ``batch_points`` (``series`` series, one point a second each), one transaction
    each, after one untimed warm-up batch. Baseline: a plain binary COPY of the same rows into
    an unlogged table with no index and no rollups, one transaction a batch, same connection
    type, same run.
    """
    per_series = batch_points // series
    keys = [SeriesKey.of("bench.write", {"i": str(i)}) for i in range(series)]
    rng = np.random.default_rng(7)
    t0 = (_now_ms() - 20 * HOUR) // SECOND * SECOND
    made = []
    for b in range(batches + 1):
        ts = t0 + (b * per_series + np.arange(per_series, dtype=np.int64)) * SECOND
        made.append(Batch([SeriesPoints(k, ts, rng.normal(size=per_series)) for k in keys]))
    with _schema() as (conn, schema):
        elapsed, sealing = _write_then_seal(schema, made)
        payloads = []
        for batch in made[1:]:
            cols = stage_columns([(i, s.ts, s.values) for i, s in enumerate(batch.series)])
            payloads.append(encode_copy(*cols))
        conn.execute("CREATE UNLOGGED TABLE copy_baseline (sid integer, ts bigint, v float8)")
        started = time.perf_counter()
        for payload in payloads:
            with (
                conn.transaction(),
                conn.cursor().copy("COPY copy_baseline FROM STDIN (FORMAT BINARY)") as copy,
            ):
                copy.write(payload)
        baseline = time.perf_counter() - started
    points = sum(b.point_count for b in made[1:])
    return {
        "points_per_s": points / (elapsed + sealing),
        "head_points_per_s": points / elapsed,
        "seal_points_per_s": points / sealing,
        "ms_per_batch": elapsed / batches * 1e3,
        "baseline_copy_unlogged_points_per_s": points / baseline,
    }


def postgres_write_live(series: int = 10_000, batches: int = 30) -> dict:
    """Points/s persisted in the live shape: each batch one point of each of ``series`` series
    (what a persister takes off the bus when many senders report every 15 s), through the head,
    then one seal of them all into chunks; ``_head``/``_seal``: each part alone."""
    keys = [SeriesKey.of("bench.live", {"i": str(i)}) for i in range(series)]
    rng = np.random.default_rng(8)
    t0 = (_now_ms() - 2 * HOUR) // SECOND * SECOND
    made = [
        Batch(
            [
                SeriesPoints(k, np.array([t0 + b * 15 * SECOND], dtype=np.int64), v)
                for k, v in zip(keys, rng.normal(size=(series, 1)), strict=True)
            ]
        )
        for b in range(batches + 1)
    ]
    with _schema() as (_, schema):
        head, sealing = _write_then_seal(schema, made)
    points = series * batches
    return {
        "points_per_s": points / (head + sealing),
        "head_points_per_s": points / head,
        "seal_points_per_s": points / sealing,
    }


def _bulk_load(
    conn: psycopg.Connection, store: PostgresStore, series: int, start: int, seconds: int
) -> None:
    """Fill the head (time-major, as live writes lay them out) in SQL, then seal it into
    chunks as the store's sealer does."""
    conn.execute(
        "INSERT INTO series (id, key, name, labels, unit, first_ts, last_ts)"
        " SELECT i, 'bench.read{i=\"' || i || '\"}', 'bench.read',"
        " jsonb_build_object('i', i::text), '', %s, %s FROM generate_series(0, %s - 1) i",
        (start, start + (seconds - 1) * SECOND, series),
    )
    conn.execute(
        "INSERT INTO points SELECT i, %s + s * 1000, sin(s / 500.0) + i + random() * 0.1"
        " FROM generate_series(0, %s - 1) s, generate_series(0, %s - 1) i ORDER BY s, i",
        (start, seconds, series),
    )
    store.seal()
    store.vacuum()


def postgres_history_read(series: int = 100, hours: int = 24, width: int = 1000) -> dict:
    """Query and MinMaxLTTB-downsample ``series`` series x ``hours`` h at 1 s from PostgreSQL, ms.

    The range ends an hour ago (older ranges are what the node asks PostgreSQL for; the last 24 h
    come from the hot store), sealed into chunks, read at the step ``choose_step`` picks for a
    ``width``-px chart (5m: the 1m tier keeps only a day), at 1m and at raw, each downsampled to
    ``width`` points; ``auto_cached`` repeats the auto read through a warm history cache (L1).
    Rollups are computed from the raw chunks (the raw day is still kept). Baseline: the server
    alone summing the sizes of the same chunks (no transfer, no decoding).
    """
    seconds = hours * 3600
    now = _now_ms()
    end = (now - HOUR) // SECOND * SECOND
    start = end - (seconds - 1) * SECOND
    with _schema() as (conn, schema):
        store = PostgresStore(URL, schema=schema, max_size=2)
        try:
            store.ensure_partitions(range(start // DAY * DAY, end + DAY, DAY))
            _bulk_load(conn, store, series, start, seconds)
            keys = [SeriesKey.of("bench.read", {"i": str(i)}) for i in range(series)]
            auto = choose_step(start, end, now, width)
            out: dict[str, float] = {"auto_step_width_s": auto.width_ms / 1000}
            cache = HistoryCache()
            for key in keys:
                cache.read(key, start, end, auto, now=now, load=store.query)
            variants = (
                ("auto", auto, store.query),
                ("1m", BY_NAME["1m"], store.query),
                ("raw", RAW, store.query),
                ("auto_cached", auto, partial(cache.read, now=now, load=store.query)),
            )
            for label, step, read_fn in variants:
                read = sampled = 0.0
                rows = 0
                for key in keys:
                    t = time.perf_counter()
                    frame = read_fn(key, start, end, step)
                    t2 = time.perf_counter()
                    if len(frame) > width:
                        frame = frame.take(downsample_indices(frame.ts, frame.value, width))
                    t3 = time.perf_counter()
                    read += t2 - t
                    sampled += t3 - t2
                    rows += 1 if len(frame) else 0
                assert rows == series
                out[f"{label}_total_ms"] = (read + sampled) * 1e3
                out[f"{label}_query_ms"] = read * 1e3
                out[f"{label}_downsample_ms"] = sampled * 1e3
            t = time.perf_counter()
            for i in range(series):
                conn.execute(
                    "SELECT sum(length(data)) FROM chunks WHERE series_id = %s"
                    " AND start BETWEEN %s AND %s",
                    (i, start, end),
                ).fetchone()
            out["baseline_server_sum_chunk_bytes_ms"] = (time.perf_counter() - t) * 1e3
        finally:
            store.close()
    return out
