"""The PostgreSQL store: daily-partitioned raw points, incremental rollups, binary COPY, a pool.

- ``points`` is partitioned by range on ``ts`` (Unix ms), one partition a day, created ahead at
  start and by retention, and on demand for a write that needs one.
- A write COPYs the batch (binary, the last value per timestamp) into a per-connection temporary
  staging table, then one statement inserts it into ``points`` with ``ON CONFLICT DO NOTHING
  RETURNING`` and folds only the rows actually inserted into upserts of ``rollup_1m/5m/1h/1d``
  (min, max, sum, count, last). When some staged rows were already stored, a second statement
  gives the stored points their new value (last wins) where it differs and locks the touched
  buckets' rollup rows, and two more recompute those buckets (1m and 5m from raw, 1h and 1d from
  5m): min and max cannot be folded back out. All in one transaction: a replay adds nothing
  anywhere, and rollups never drift from raw.
- A rollup query reads its rollup table, never raw points. Results travel as one ``bytea`` per
  query (``int8send``/``float8send``), decoded by numpy without a Python object per point.
- ``retention(now)`` deletes rollup rows and drops raw partitions past their tier's retention and
  records each tier's horizon; writes skip points below a horizon, so replays of dropped data
  cannot count twice in a rollup.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterable

import numpy as np
import psycopg
from psycopg import sql
from psycopg_pool import ConnectionPool, PoolTimeout

from dashboard.clock import now_ms as wall_ms
from dashboard.db import migrate
from dashboard.metrics.frame import SeriesFrame, SeriesInfo, empty_frame
from dashboard.metrics.metadata import MetricMetadata, merge_all
from dashboard.metrics.model import Batch, SeriesKey, SeriesPoints
from dashboard.metrics.steps import RAW, ROLLUPS, Step
from dashboard.metrics.stores.postgres_sql import (
    COPY_STAGING_SQL,
    CREATE_PARTITION_SQL,
    DELETE_ROLLUPS_SQL,
    HORIZON_SQL,
    INSERT_SERIES_SQL,
    INT64_MIN,
    LIST_SERIES_SQL,
    METADATA_SQL,
    PARTITION_LOCK,
    PARTITION_WIDTH,
    PARTITIONS_SQL,
    RAW_SQL,
    REFOLD_COARSE_SQL,
    REFOLD_FINE_SQL,
    REPLACE_SQL,
    RETENTION_LOCK,
    ROLLUP_SQL,
    SERIES_ID_SQL,
    SERIES_IDS_SQL,
    SET_HORIZON_SQL,
    STAGING_DDL,
    TIERS,
    TRIM_FIRST_TS_SQL,
    TRY_LOCK_SQL,
    UNLOCK_SQL,
    UPSERT_METADATA_SQL,
    WRITE_SQL,
    XACT_LOCK_SQL,
    days_around,
    days_of,
    decode_raw,
    decode_rollup,
    encode_copy,
    partition_day,
    partition_name,
    retention_cutoffs,
    rollup_table,
    stage_columns,
)

log = logging.getLogger(__name__)

_RETRYABLE = (psycopg.errors.DeadlockDetected, psycopg.errors.SerializationFailure)
# A write waits this long for a connection; after a failed one, writes fail at once for
# DOWN_HOLD_S, so ingest answers 503 in milliseconds, not after the pool's 10 s, while the
# server is down (and a queue of waiting requests does not build up behind the bus lock).
WRITE_WAIT_S = 2.0
# a new connection to a server that does not answer fails after this long (libpq's default is
# to wait forever), so a request never hangs on a dead database
CONNECT_TIMEOUT_S = 3
DOWN_HOLD_S = 1.0


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
            kwargs={"autocommit": True, "connect_timeout": CONNECT_TIMEOUT_S},
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
            self.ensure_partitions(days_around(wall_ms() if now_ms is None else now_ms))
        except BaseException:
            self._pool.close()
            raise

    def _configure(self, conn: psycopg.Connection) -> None:
        """Per connection: the schema, no JIT (compiling costs more than these queries), staging."""
        if self.schema:
            conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(self.schema)))
        conn.execute("SET jit = off")
        conn.execute(STAGING_DDL)

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
                    INSERT_SERIES_SQL,
                    (
                        texts,
                        [k.name for k in keys],
                        [json.dumps(k.label_dict, sort_keys=True) for k in keys],
                        [missing[k] for k in keys],
                    ),
                )
                rows = conn.execute(SERIES_IDS_SQL, (texts,)).fetchall()
            by_text: dict[str, int] = dict(rows)
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
            row = conn.execute(SERIES_ID_SQL, (str(key),)).fetchone()
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
            conn.execute(XACT_LOCK_SQL, (PARTITION_LOCK,))
            existing = set(self._existing_partitions(conn))
            horizon = _horizon(conn, "raw")
            for day in wanted:
                if day in existing or day + PARTITION_WIDTH <= horizon:
                    continue
                conn.execute(
                    sql.SQL(CREATE_PARTITION_SQL).format(
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
        rows = conn.execute(PARTITIONS_SQL).fetchall()
        return sorted(d for (name,) in rows if (d := partition_day(name)) is not None)

    def partitions(self) -> list[str]:
        """Names of the raw partitions that exist, oldest first."""
        with self._pool.connection() as conn:
            return [partition_name(d) for d in self._existing_partitions(conn)]

    # --- the protocol ---

    def write(self, batch: Batch) -> int:
        """Store the batch in one transaction; a point given again replaces the one stored."""
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
        bounds = {"lo": int(ts.min()), "hi": int(ts.max())}
        for attempt in range(4):
            try:
                with self._pool.connection(timeout=WRITE_WAIT_S) as conn, conn.transaction():
                    with conn.cursor().copy(COPY_STAGING_SQL) as copy:
                        copy.write(payload)
                    row = conn.execute(WRITE_SQL, params).fetchone()
                    new = int(row[0]) if row else 0
                    if new < ts.size:  # some were stored already: replace what differs
                        _replace(conn, bounds)
                return new
            except _RETRYABLE:
                if attempt == 3:
                    raise
                log.info("postgres: write conflicted with another writer; retrying")
        raise AssertionError("unreachable")

    def list_series(self) -> list[SeriesInfo]:
        """Every series with stored points, in key order."""
        with self._pool.connection() as conn:
            rows = conn.execute(LIST_SERIES_SQL).fetchall()
        infos = [
            SeriesInfo(SeriesKey.of(name, labels), unit, int(first), int(last))
            for name, labels, unit, first, last in rows
        ]
        return sorted(infos, key=lambda i: i.key)

    def upsert_metadata(self, entries: list[MetricMetadata]) -> None:
        """Store metric families' metadata (the latest non-empty value of each field wins);
        like a write, it fails at once while the server is down (ingest calls it)."""
        rows = list(merge_all(entries).values())
        if not rows:
            return
        columns = [[getattr(m, f) for m in rows] for f in ("name", "type", "help", "unit")]
        self._metadata_sql(UPSERT_METADATA_SQL, (wall_ms(), *columns))

    def metadata(self) -> dict[str, MetricMetadata]:
        """Every stored family's metadata, by name (failing at once while the server is down)."""
        rows = self._metadata_sql(METADATA_SQL, ())
        return {name: MetricMetadata(name, type_, help_, unit) for name, type_, help_, unit in rows}

    def _metadata_sql(self, query: str, params: tuple) -> list[tuple]:
        """Run a metadata statement within a write's wait; its rows (none for an upsert)."""
        if time.monotonic() < self._down_until:
            raise psycopg.OperationalError("postgres: unreachable a moment ago; retry shortly")
        try:
            with self._pool.connection(timeout=WRITE_WAIT_S) as conn:
                cur = conn.execute(query, params)
                return cur.fetchall() if cur.description else []
        except (psycopg.OperationalError, PoolTimeout):
            self._down_until = time.monotonic() + DOWN_HOLD_S
            raise

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
        with self._pool.connection() as conn:
            got = conn.execute(TRY_LOCK_SQL, (RETENTION_LOCK,)).fetchone()
            if not got or not got[0]:
                return {}
            try:
                dropped = self._trim_rollups(conn, cutoffs)
                dropped["raw"] = self._drop_raw_partitions(conn, cutoffs["raw"])
            finally:
                conn.execute(UNLOCK_SQL, (RETENTION_LOCK,))
        self.ensure_partitions(days_around(now_ms))
        return {tier: dropped[tier] for tier in TIERS}

    @staticmethod
    def _trim_rollups(conn: psycopg.Connection, cutoffs: dict[str, int]) -> dict[str, int]:
        """Raise the horizons and delete rollup rows below them, in one transaction; rows per
        rollup tier."""
        dropped = {}
        with conn.transaction():
            conn.execute("SET LOCAL lock_timeout = '5s'")
            for tier, cutoff in cutoffs.items():
                conn.execute(SET_HORIZON_SQL, (tier, cutoff))
            for step in ROLLUPS:
                cur = conn.execute(
                    sql.SQL(DELETE_ROLLUPS_SQL).format(sql.Identifier(rollup_table(step))),
                    (cutoffs[step.name],),
                )
                dropped[step.name] = max(cur.rowcount, 0)
            oldest_kept = cutoffs[ROLLUPS[-1].name]
            conn.execute(TRIM_FIRST_TS_SQL, (oldest_kept, oldest_kept))
        return dropped

    def _drop_raw_partitions(self, conn: psycopg.Connection, cutoff: int) -> int:
        """Drop the raw partitions of days before ``cutoff``, one transaction each; rows dropped."""
        rows = 0
        names = []
        for day in self._existing_partitions(conn):
            if day >= cutoff:
                continue
            name = partition_name(day)
            with conn.transaction():
                conn.execute("SET LOCAL lock_timeout = '5s'")
                table = sql.Identifier(name)
                conn.execute(sql.SQL("LOCK TABLE {} IN SHARE MODE").format(table))
                row = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(table))
                rows += int(row.fetchone()[0])  # type: ignore[index]
                conn.execute(sql.SQL("DROP TABLE {}").format(table))
            names.append(name)
            with self._lock:
                self._partitions.discard(day)
        if names:
            log.info("postgres: retention dropped partitions %s", ", ".join(names))
        return rows


def _replace(conn: psycopg.Connection, bounds: dict[str, int]) -> None:
    """Give stored points the staged value where it differs; recompute the touched buckets."""
    row = conn.execute(REPLACE_SQL, bounds).fetchone()
    if row is None or not row[0]:
        return
    touched = {"sids": row[0], "buckets": row[1]}
    conn.execute(REFOLD_FINE_SQL, touched)
    conn.execute(REFOLD_COARSE_SQL, touched)


def _horizon(conn: psycopg.Connection, tier: str) -> int:
    """The retention horizon of a tier (the first kept millisecond), or the smallest int64."""
    row = conn.execute(HORIZON_SQL, (tier,)).fetchone()
    return int(row[0]) if row else INT64_MIN
