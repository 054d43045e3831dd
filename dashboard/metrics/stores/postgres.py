"""The PostgreSQL store: daily-partitioned raw points, incremental rollups, binary COPY, a pool.

- ``points`` is partitioned by range on ``ts`` (Unix ms), one partition a day, created ahead at
  start and by retention, and on demand for a write that needs one.
- A write COPYs the batch (binary) into a per-connection temporary staging table, then one
  statement inserts it into ``points`` with ``ON CONFLICT DO NOTHING RETURNING`` and feeds only
  the rows actually inserted into upserts of ``rollup_1m/5m/1h/1d`` (min, max, sum, count, last),
  all in the same transaction: a replay adds nothing anywhere, and rollups never drift from raw.
- A rollup query reads its rollup table, never raw points. Results travel as one ``bytea`` per
  query (``int8send``/``float8send``), decoded by numpy without a Python object per point.
- ``retention(now)`` deletes rollup rows and drops raw partitions past their tier's retention and
  records each tier's horizon; writes skip points below a horizon, so replays of dropped data
  cannot count twice in a rollup.
"""

from __future__ import annotations

import json
import logging
import re
import struct
import threading
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

import numpy as np
import psycopg
from psycopg import sql
from psycopg_pool import ConnectionPool, PoolTimeout

from dashboard.db import migrate
from dashboard.metrics.frame import SeriesFrame, SeriesInfo, empty_frame
from dashboard.metrics.model import Batch, SeriesKey, SeriesPoints
from dashboard.metrics.steps import DAY, RAW, ROLLUPS, STEPS, Step

log = logging.getLogger(__name__)

TIERS: tuple[str, ...] = tuple(s.name for s in STEPS)
PARTITION_WIDTH = DAY
_PARTITION_RE = re.compile(r"^points_p(\d{8})$")
_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack("!ii", 0, 0)
_COPY_TRAILER = struct.pack("!h", -1)
_COPY_ROW = np.dtype(
    [
        ("n", ">i2"),
        ("l_sid", ">i4"),
        ("sid", ">i4"),
        ("l_ts", ">i4"),
        ("ts", ">i8"),
        ("l_value", ">i4"),
        ("value", ">f8"),
    ]
)
_RAW_ROW = np.dtype([("ts", ">i8"), ("value", ">f8")])
_ROLLUP_ROW = np.dtype(
    [
        ("bucket", ">i8"),
        ("min", ">f8"),
        ("max", ">f8"),
        ("sum", ">f8"),
        ("count", ">i8"),
        ("last", ">f8"),
    ]
)
# Advisory lock class ids: partition creation ("dbpt") and retention ("dbrt").
_PARTITION_LOCK = 0x64627074
_RETENTION_LOCK = 0x64627274
_RETRYABLE = (psycopg.errors.DeadlockDetected, psycopg.errors.SerializationFailure)
# A write waits this long for a connection; after a failed one, writes fail at once for
# DOWN_HOLD_S, so ingest answers 503 in milliseconds, not after the pool's 10 s, while the
# server is down (and a queue of waiting requests does not build up behind the bus lock).
WRITE_WAIT_S = 2.0
DOWN_HOLD_S = 1.0
_INT64_MIN = -(2**63)


# --- pure helpers -------------------------------------------------------------------------


def partition_name(day_start_ms: int) -> str:
    """The raw partition of the UTC day starting at ``day_start_ms``: ``points_pYYYYMMDD``."""
    day = datetime.fromtimestamp(day_start_ms // 1000, UTC)
    return f"points_p{day:%Y%m%d}"


def partition_day(name: str) -> int | None:
    """The first millisecond of a raw partition, from its name (None for other tables)."""
    match = _PARTITION_RE.match(name)
    if not match:
        return None
    day = datetime.strptime(match.group(1), "%Y%m%d").replace(tzinfo=UTC)
    return int(day.timestamp()) * 1000


def days_of(ts: np.ndarray) -> list[int]:
    """The distinct day starts (Unix ms) that the timestamps fall into, ascending."""
    if ts.size == 0:
        return []
    return [int(d) * PARTITION_WIDTH for d in np.unique(ts // PARTITION_WIDTH)]


def days_around(now_ms: int, before: int = 1, after: int = 2) -> list[int]:
    """Day starts from ``before`` days before today to ``after`` days after it."""
    today = now_ms // PARTITION_WIDTH * PARTITION_WIDTH
    return [today + i * PARTITION_WIDTH for i in range(-before, after + 1)]


def retention_cutoffs(now_ms: int) -> dict[str, int]:
    """Per tier, the first kept unit start: a bucket (or a raw day) ending before the tier's
    retention (``start + width <= now - retention``) is dropped; everything from here is kept."""
    out = {}
    for step in STEPS:
        width = PARTITION_WIDTH if step == RAW else step.width_ms
        out[step.name] = (now_ms - step.retention_ms) // width * width
    return out


def stage_columns(
    parts: Sequence[tuple[int, np.ndarray, np.ndarray]],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(series_id, ts, value)`` columns sorted by series and time, first value per timestamp."""
    if not parts:
        empty = np.empty(0, dtype=np.int64)
        return empty.astype(np.int32), empty, np.empty(0)
    sid = np.concatenate([np.full(ts.size, s, dtype=np.int32) for s, ts, _ in parts])
    ts = np.concatenate([np.asarray(ts, dtype=np.int64) for _, ts, _ in parts])
    value = np.concatenate([np.asarray(v, dtype=np.float64) for _, _, v in parts])
    order = np.lexsort((ts, sid))  # stable: among equal (sid, ts) the first given stays first
    sid, ts, value = sid[order], ts[order], value[order]
    if ts.size > 1:
        keep = np.ones(ts.size, dtype=bool)
        keep[1:] = (ts[1:] != ts[:-1]) | (sid[1:] != sid[:-1])
        sid, ts, value = sid[keep], ts[keep], value[keep]
    return sid, ts, value


def encode_copy(sid: np.ndarray, ts: np.ndarray, value: np.ndarray) -> bytes:
    """A binary COPY payload of ``(integer, bigint, double precision)`` rows."""
    rows = np.empty(ts.size, dtype=_COPY_ROW)
    rows["n"] = 3
    rows["l_sid"] = 4
    rows["sid"] = sid
    rows["l_ts"] = 8
    rows["ts"] = ts
    rows["l_value"] = 8
    rows["value"] = value
    return _COPY_HEADER + rows.tobytes() + _COPY_TRAILER


def decode_raw(data: bytes | None) -> tuple[np.ndarray, np.ndarray]:
    """``(ts, value)`` from the concatenated ``int8send(ts) || float8send(value)`` records."""
    rows = np.frombuffer(data or b"", dtype=_RAW_ROW)
    return rows["ts"].astype(np.int64), rows["value"].astype(np.float64)


def decode_rollup(data: bytes | None) -> dict[str, np.ndarray]:
    """Rollup columns (bucket, min, max, sum, count, last) from concatenated binary records."""
    rows = np.frombuffer(data or b"", dtype=_ROLLUP_ROW)
    out = {name: rows[name].astype(np.float64) for name in ("min", "max", "sum", "last")}
    out["bucket"] = rows["bucket"].astype(np.int64)
    out["count"] = rows["count"].astype(np.int64)
    return out


def rollup_table(step: Step) -> str:
    """The table holding one rollup step."""
    return f"rollup_{step.name}"


def write_sql() -> str:
    """The statement that moves staged rows into points and the rows it inserted into rollups."""
    horizons = ",\n           ".join(
        f"coalesce(max(horizon) FILTER (WHERE tier = '{t}'), {_INT64_MIN}) AS h_{t}" for t in TIERS
    )
    upsert = (
        "ON CONFLICT (series_id, bucket) DO UPDATE SET"
        " min = least(r.min, excluded.min), max = greatest(r.max, excluded.max),"
        " sum = r.sum + excluded.sum, count = r.count + excluded.count,"
        " last = CASE WHEN excluded.last_ts > r.last_ts THEN excluded.last ELSE r.last END,"
        " last_ts = greatest(r.last_ts, excluded.last_ts)"
    )
    columns = "(series_id, bucket, min, max, sum, count, last, last_ts)"
    first, *coarser = ROLLUPS
    ctes = [
        f"""r_{first.name} AS (
    INSERT INTO {rollup_table(first)} AS r {columns}
    SELECT series_id, bucket, mn, mx, sm, cnt, lst, lst_ts FROM m1, h
    WHERE bucket >= h.h_{first.name} ORDER BY series_id, bucket
    {upsert}
)"""
    ]
    for step in coarser:
        w = step.width_ms
        ctes.append(
            f"""r_{step.name} AS (
    INSERT INTO {rollup_table(step)} AS r {columns}
    SELECT series_id, bucket - bucket %% {w}, min(mn), max(mx), sum(sm), sum(cnt)::bigint,
           (array_agg(lst ORDER BY lst_ts DESC))[1], max(lst_ts)
    FROM m1, h WHERE bucket >= h.h_{step.name}
    GROUP BY 1, 2 ORDER BY 1, 2
    {upsert}
)"""
        )
    w1 = first.width_ms
    rollups = ",\n".join(ctes)
    return f"""
WITH h AS (
    SELECT {horizons}
    FROM retention_horizon
),
ins AS (
    INSERT INTO points (series_id, ts, value)
    SELECT st.series_id, st.ts, st.value FROM pg_temp.staging st, h WHERE st.ts >= h.h_raw
    ON CONFLICT DO NOTHING
    RETURNING series_id, ts, value
),
m1 AS MATERIALIZED (
    SELECT series_id, ts - ts %% {w1} AS bucket, min(value) AS mn, max(value) AS mx,
           sum(value) AS sm, count(*) AS cnt,
           (array_agg(value ORDER BY ts DESC))[1] AS lst, max(ts) AS lst_ts
    FROM ins GROUP BY 1, 2
),
{rollups},
span AS (SELECT series_id, min(ts) AS f, max(ts) AS l FROM ins GROUP BY 1),
upd AS (
    UPDATE series s SET first_ts = least(s.first_ts, span.f),
        last_ts = greatest(s.last_ts, span.l),
        unit = CASE WHEN u.unit <> '' THEN u.unit ELSE s.unit END
    FROM unnest(%(ids)s::integer[], %(units)s::text[]) AS u(id, unit)
    LEFT JOIN span ON span.series_id = u.id
    WHERE s.id = u.id AND (span.f IS NOT NULL OR (u.unit <> '' AND u.unit <> s.unit))
)
SELECT count(*) FROM ins
"""


WRITE_SQL = write_sql()
RAW_SQL = """
SELECT string_agg(int8send(ts) || float8send(value), ''::bytea) FROM (
    SELECT ts, value FROM points WHERE series_id = %s AND ts BETWEEN %s AND %s ORDER BY ts
) p
"""
ROLLUP_SQL = """
SELECT string_agg(int8send(bucket) || float8send(min) || float8send(max) || float8send(sum)
                  || int8send(count) || float8send(last), ''::bytea) FROM (
    SELECT * FROM {table} WHERE series_id = %s AND bucket BETWEEN %s AND %s ORDER BY bucket
) r
"""


# --- the store ----------------------------------------------------------------------------


class PostgresStore:
    """Points, rollups and series in PostgreSQL, through a connection pool."""

    kind = "postgres"

    def __init__(
        self,
        url: str,
        *,
        schema: str | None = None,
        min_size: int = 1,
        max_size: int = 8,
        timeout: float = 10.0,
        now_ms: int | None = None,
    ) -> None:
        """Open a pool on ``url`` (``search_path`` = ``schema`` when given), migrate, and
        create the raw partitions around ``now_ms`` (default: the wall clock)."""
        self.url = url
        self.schema = schema
        self._ids: dict[SeriesKey, int] = {}
        self._partitions: set[int] = set()
        self._down_until = 0.0
        self._lock = threading.Lock()
        self._pool = ConnectionPool(
            url,
            min_size=min_size,
            max_size=max_size,
            timeout=timeout,
            kwargs={"autocommit": True},
            configure=self._configure,
            check=ConnectionPool.check_connection,
            name=f"dashboard-{schema or 'default'}",
            open=False,
        )
        self._pool.open(wait=True, timeout=timeout)
        try:
            with self._pool.connection() as conn:
                applied = migrate.upgrade(conn)
            if applied:
                log.info("postgres: applied migrations %s", ", ".join(applied))
            self.ensure_partitions(days_around(_wall_ms() if now_ms is None else now_ms))
        except BaseException:
            self._pool.close()
            raise

    def _configure(self, conn: psycopg.Connection) -> None:
        """Per connection: the schema, no JIT (compiling costs more than these queries), staging."""
        if self.schema:
            conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(self.schema)))
        conn.execute("SET jit = off")
        conn.execute(
            "CREATE TEMP TABLE IF NOT EXISTS staging"
            " (series_id integer, ts bigint, value double precision) ON COMMIT DELETE ROWS"
        )

    # --- series and partitions ---

    def _series_ids(self, series: Iterable[SeriesPoints]) -> dict[SeriesKey, int]:
        """Ids of the batch's series; new ones are inserted (and committed) first."""
        with self._lock:
            known = {s.key: self._ids[s.key] for s in series if s.key in self._ids}
        missing = {s.key: s.unit for s in series if s.key not in known}
        if missing:
            keys = sorted(missing)
            texts = [str(k) for k in keys]
            with self._pool.connection(timeout=WRITE_WAIT_S) as conn:
                conn.execute(
                    "INSERT INTO series (key, name, labels, unit)"
                    " SELECT k, n, l::jsonb, u FROM unnest(%s::text[], %s::text[], %s::text[],"
                    " %s::text[]) AS t(k, n, l, u) ORDER BY k ON CONFLICT (key) DO NOTHING",
                    (
                        texts,
                        [k.name for k in keys],
                        [json.dumps(k.label_dict, sort_keys=True) for k in keys],
                        [missing[k] for k in keys],
                    ),
                )
                rows = conn.execute(
                    "SELECT key, id FROM series WHERE key = ANY(%s)", (texts,)
                ).fetchall()
            by_text = dict(rows)
            with self._lock:
                for key, text in zip(keys, texts, strict=True):
                    known[key] = self._ids[key] = int(by_text[text])
        return known

    def _series_id(self, key: SeriesKey) -> int | None:
        """The id of a known series, or None."""
        with self._lock:
            sid = self._ids.get(key)
        if sid is not None:
            return sid
        with self._pool.connection() as conn:
            row = conn.execute("SELECT id FROM series WHERE key = %s", (str(key),)).fetchone()
        if row is None:
            return None
        with self._lock:
            self._ids[key] = int(row[0])
        return int(row[0])

    def ensure_partitions(self, days: Iterable[int]) -> list[str]:
        """Create the daily raw partitions that are missing (never below the raw horizon)."""
        with self._lock:
            wanted = sorted(set(days) - self._partitions)
        if not wanted:
            return []
        created = []
        with self._pool.connection() as conn, conn.transaction():
            conn.execute(
                "SELECT pg_advisory_xact_lock(%s, hashtext(current_schema()))", (_PARTITION_LOCK,)
            )
            existing = set(self._existing_partitions(conn))
            horizon = _horizon(conn, "raw")
            for day in wanted:
                if day in existing or day + PARTITION_WIDTH <= horizon:
                    continue
                conn.execute(
                    sql.SQL(
                        "CREATE TABLE {} PARTITION OF points FOR VALUES FROM ({}) TO ({})"
                    ).format(
                        sql.Identifier(partition_name(day)),
                        sql.Literal(day),
                        sql.Literal(day + PARTITION_WIDTH),
                    )
                )
                created.append(partition_name(day))
        with self._lock:
            self._partitions.update(d for d in wanted if d + PARTITION_WIDTH > horizon)
        if created:
            log.info("postgres: created partitions %s", ", ".join(created))
        return created

    @staticmethod
    def _existing_partitions(conn: psycopg.Connection) -> list[int]:
        """Day starts of the raw partitions that exist, ascending."""
        rows = conn.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
            " WHERE i.inhparent = 'points'::regclass"
        ).fetchall()
        return sorted(d for (name,) in rows if (d := partition_day(name)) is not None)

    def partitions(self) -> list[str]:
        """Names of the raw partitions that exist, oldest first."""
        with self._pool.connection() as conn:
            return [partition_name(d) for d in self._existing_partitions(conn)]

    # --- the protocol ---

    def write(self, batch: Batch) -> int:
        """Store the batch in one transaction; points already stored keep their first value."""
        self.write_counted(batch)
        return batch.point_count

    def write_counted(self, batch: Batch) -> int:
        """Store the batch like ``write``; return how many points were new."""
        series = [s for s in batch.series if len(s)]
        if not series:
            return 0
        if time.monotonic() < self._down_until:
            raise psycopg.OperationalError("postgres: unreachable a moment ago; retry shortly")
        try:
            return self._write_series(series)
        except (psycopg.OperationalError, PoolTimeout):
            self._down_until = time.monotonic() + DOWN_HOLD_S
            raise

    def _write_series(self, series: list[SeriesPoints]) -> int:
        """Store non-empty series in one transaction; how many points were new."""
        ids = self._series_ids(series)
        sid, ts, value = stage_columns([(ids[s.key], s.ts, s.values) for s in series])
        self.ensure_partitions(days_of(ts))
        payload = encode_copy(sid, ts, value)
        units = {ids[s.key]: s.unit for s in series}
        params = {"ids": list(units), "units": list(units.values())}
        for attempt in range(4):
            try:
                with self._pool.connection(timeout=WRITE_WAIT_S) as conn, conn.transaction():
                    with conn.cursor().copy(
                        "COPY pg_temp.staging (series_id, ts, value) FROM STDIN (FORMAT BINARY)"
                    ) as copy:
                        copy.write(payload)
                    row = conn.execute(WRITE_SQL, params).fetchone()
                return int(row[0]) if row else 0
            except _RETRYABLE:
                if attempt == 3:
                    raise
                log.info("postgres: write conflicted with another writer; retrying")
        raise AssertionError("unreachable")

    def list_series(self) -> list[SeriesInfo]:
        """Every series with stored points, in key order."""
        with self._pool.connection() as conn:
            rows = conn.execute(
                "SELECT name, labels, unit, first_ts, last_ts FROM series WHERE last_ts IS NOT NULL"
            ).fetchall()
        infos = [
            SeriesInfo(SeriesKey.of(name, labels), unit, int(first), int(last))
            for name, labels, unit, first, last in rows
        ]
        return sorted(infos, key=lambda i: i.key)

    def query(self, key: SeriesKey, start_ms: int, end_ms: int, step: Step) -> SeriesFrame:
        """Raw points in ``[start_ms, end_ms]``, or the rollup table's buckets that start in
        ``[floor(start_ms / width) * width, end_ms]``."""
        sid = self._series_id(key)
        if sid is None or end_ms < start_ms:
            return empty_frame(key, step)
        if step == RAW:
            with self._pool.connection() as conn:
                row = conn.execute(RAW_SQL, (sid, start_ms, end_ms), binary=True).fetchone()
            ts, value = decode_raw(row[0] if row else None)
            return SeriesFrame(key, step, ts, value)
        w = step.width_ms
        query = sql.SQL(ROLLUP_SQL).format(table=sql.Identifier(rollup_table(step)))
        with self._pool.connection() as conn:
            row = conn.execute(query, (sid, start_ms // w * w, end_ms), binary=True).fetchone()
        c = decode_rollup(row[0] if row else None)
        count = c["count"]
        return SeriesFrame(
            key,
            step,
            c["bucket"],
            c["sum"] / np.maximum(count, 1),
            c["min"],
            c["max"],
            count,
            c["sum"],
            c["last"],
        )

    def ping(self) -> bool:
        """True when the server answers a trivial query."""
        try:
            with self._pool.connection(timeout=2) as conn:
                conn.execute("SELECT 1").fetchone()
            return True
        except Exception:  # noqa: BLE001 - any failure means not available
            return False

    def close(self) -> None:
        """Close the pool."""
        self._pool.close()

    # --- retention ---

    def retention(self, now_ms: int) -> dict[str, int]:
        """Drop raw partitions and delete rollup rows past each tier's retention.

        Returns the number of rows removed per tier (``raw``, ``1m``, ``5m``, ``1h``, ``1d``);
        an empty dict when another node is running retention on this schema right now.
        """
        cutoffs = retention_cutoffs(now_ms)
        dropped = dict.fromkeys(TIERS, 0)
        with self._pool.connection() as conn:
            got = conn.execute(
                "SELECT pg_try_advisory_lock(%s, hashtext(current_schema()))", (_RETENTION_LOCK,)
            ).fetchone()
            if not got or not got[0]:
                return {}
            try:
                with conn.transaction():
                    conn.execute("SET LOCAL lock_timeout = '5s'")
                    for tier, cutoff in cutoffs.items():
                        conn.execute(
                            "INSERT INTO retention_horizon (tier, horizon) VALUES (%s, %s)"
                            " ON CONFLICT (tier) DO UPDATE"
                            " SET horizon = greatest(retention_horizon.horizon, excluded.horizon)",
                            (tier, cutoff),
                        )
                    for step in ROLLUPS:
                        cur = conn.execute(
                            sql.SQL("DELETE FROM {} WHERE bucket < %s").format(
                                sql.Identifier(rollup_table(step))
                            ),
                            (cutoffs[step.name],),
                        )
                        dropped[step.name] = max(cur.rowcount, 0)
                    conn.execute(
                        "UPDATE series SET first_ts = %s WHERE first_ts < %s",
                        (cutoffs[ROLLUPS[-1].name], cutoffs[ROLLUPS[-1].name]),
                    )
                names = []
                for day in self._existing_partitions(conn):
                    if day >= cutoffs["raw"]:
                        continue
                    name = partition_name(day)
                    with conn.transaction():
                        conn.execute("SET LOCAL lock_timeout = '5s'")
                        table = sql.Identifier(name)
                        conn.execute(sql.SQL("LOCK TABLE {} IN SHARE MODE").format(table))
                        row = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(table))
                        dropped["raw"] += int(row.fetchone()[0])  # type: ignore[index]
                        conn.execute(sql.SQL("DROP TABLE {}").format(table))
                    names.append(name)
                    with self._lock:
                        self._partitions.discard(day)
            finally:
                conn.execute(
                    "SELECT pg_advisory_unlock(%s, hashtext(current_schema()))", (_RETENTION_LOCK,)
                )
        if names:
            log.info("postgres: retention dropped partitions %s", ", ".join(names))
        self.ensure_partitions(days_around(now_ms))
        return dropped


def _horizon(conn: psycopg.Connection, tier: str) -> int:
    """The retention horizon of a tier (the first kept millisecond), or the smallest int64."""
    row = conn.execute("SELECT horizon FROM retention_horizon WHERE tier = %s", (tier,)).fetchone()
    return int(row[0]) if row else _INT64_MIN


def _wall_ms() -> int:
    """Wall-clock time in Unix milliseconds."""
    return time.time_ns() // 1_000_000
