"""The PostgreSQL store: a row head, compressed chunks, rollup chunks, binary COPY, a pool.

- A write COPYs the batch (binary, the last value per timestamp) into a per-connection temporary
  staging table, then one statement upserts it into the head, ``points`` (the last value given
  wins; an equal value rewrites nothing), skipping points below the raw horizon, and widens the
  series' spans.
- :meth:`PostgresStore.seal` (every minute, by one node at a time) moves the head into raw
  chunks, ``chunks`` (one row a series and hour, pcodec, :mod:`dashboard.metrics.chunked`),
  re-encoding each touched chunk with the head's points in the transaction that deletes them.
  ``points`` and ``chunks`` are partitioned by day (``points_pYYYYMMDD``, ``chunks_pYYYYMMDD``),
  created ahead at start and by retention, and on demand for a write that needs one.
- A read is one statement (one snapshot): the chunks of the range, the head's points in it, the
  rollup chunks of the step and the raw horizon. Rollups of retained raw days are computed from
  raw points; older ones come from rollup chunks (``rollups``), sealed when retention drops a raw
  day. A chunk that does not decode is logged and counted, and only its own points are missing.
- ``retention(now)`` seals the head, drops raw days past the raw retention (their 5m, 1h and 1d
  buckets first sealed into rollup chunks), deletes rollup chunks past their tier's retention,
  and records each tier's horizon; writes skip points below the raw horizon.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable

import numpy as np
import psycopg
from psycopg import sql
from psycopg_pool import ConnectionPool, PoolTimeout

from dashboard.clock import now_ms as wall_ms
from dashboard.db import migrate
from dashboard.metrics import chunked
from dashboard.metrics.chunked import RAW_WINDOW, ROLLUP_WINDOWS
from dashboard.metrics.frame import SeriesFrame, SeriesInfo, empty_frame
from dashboard.metrics.metadata import MetricMetadata, merge_all
from dashboard.metrics.model import Batch, SeriesKey, SeriesPoints
from dashboard.metrics.rollup import bucket_rows, empty_rows
from dashboard.metrics.steps import BY_NAME, RAW, ROLLUPS, Step
from dashboard.metrics.stores.postgres_sql import (
    CHUNK_STORAGE_SQL,
    CHUNKS_AT_SQL,
    COPY_HEAD_SQL,
    CREATE_PARTITION_SQL,
    DAY_CHUNKS_SQL,
    DAY_HEAD_SQL,
    DELETE_ROLLUPS_SQL,
    HORIZON_SQL,
    INSERT_SERIES_SQL,
    INT64_MIN,
    LIST_SERIES_SQL,
    METADATA_SQL,
    OLD_ROLLUP_SQL,
    PARTITION_LOCK,
    PARTITION_WIDTH,
    PARTITIONS_SQL,
    RAW_HORIZON_SQL,
    READ_SQL,
    RETENTION_LOCK,
    ROLLUPS_AT_SQL,
    SEAL_LOCK,
    SEAL_SERIES_SQL,
    SERIES_ID_SQL,
    SERIES_IDS_SQL,
    SET_HORIZON_SQL,
    SPANS_SQL,
    TAKE_HEAD_SQL,
    TIERS,
    TRIM_FIRST_TS_SQL,
    TRY_LOCK_SQL,
    UNLOCK_SQL,
    UPSERT_CHUNKS_SQL,
    UPSERT_METADATA_SQL,
    UPSERT_ROLLUPS_SQL,
    WIDEN_SPANS_SQL,
    XACT_LOCK_SQL,
    days_around,
    days_of,
    decode_raw,
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
# A seal transaction's batch of series, and what a progress callback receives.
SEAL_BATCH = 500
# A write's series with at least this many points are merged straight into their chunks (a
# backfill, a copy); fewer are appended to the head, which the seal merges a minute at a time
# (a chunk re-encoded per write would cost more than the append).
BULK_POINTS = 1024
SealProgress = Callable[[dict], None]


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
        raw_retention_days: int = 1,
    ) -> None:
        """Open a pool on ``url`` (``search_path`` = ``schema`` when given), migrate, and
        create the raw partitions around ``now_ms`` (default: the wall clock)."""
        self.url = url
        self.schema = schema
        self._ids: dict[SeriesKey, int] = {}
        self._spans: dict[int, tuple[int, str]] = {}  # first_ts and unit stored, by series id
        self._partitions: set[int] = set()
        self._down_until = 0.0
        self.raw_retention_ms = raw_retention_days * PARTITION_WIDTH
        self.chunk_faults = 0  # stored chunks that did not decode, since start
        self.sealed_points = 0  # head points sealed into chunks, since start
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
            self._upgrade()
        except BaseException:
            self._pool.close()
            raise

    def _configure(self, conn: psycopg.Connection) -> None:
        """Per connection: the schema, and no JIT (compiling costs more than these queries)."""
        if self.schema:
            conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(self.schema)))
        conn.execute("SET jit = off")

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
            by_text = {text: (sid, first, unit) for text, sid, first, unit in rows}
            with self._lock:
                for key, text in zip(keys, texts, strict=True):
                    sid, first, unit = by_text[text]
                    known[key] = self._ids[key] = int(sid)
                    if first is not None:
                        self._spans[int(sid)] = (int(first), unit)
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
        """Create the daily partitions of the head and of the raw chunks that are missing
        (never below the raw horizon)."""
        with self._lock:
            wanted = sorted(set(days) - self._partitions)
        if not wanted:
            return []
        created = []
        with self._pool.connection() as conn, conn.transaction():
            conn.execute(XACT_LOCK_SQL, (PARTITION_LOCK,))
            horizon = _horizon(conn, "raw")
            for table in ("points", "chunks"):
                existing = set(self._existing_partitions(conn, table))
                for day in wanted:
                    if day in existing or day + PARTITION_WIDTH <= horizon:
                        continue
                    name = sql.Identifier(partition_name(day, table))
                    conn.execute(
                        sql.SQL(CREATE_PARTITION_SQL).format(
                            name,
                            sql.Identifier(table),
                            sql.Literal(day),
                            sql.Literal(day + PARTITION_WIDTH),
                        )
                    )
                    if table == "chunks":
                        conn.execute(sql.SQL(CHUNK_STORAGE_SQL).format(name))
                    created.append(partition_name(day, table))
        with self._lock:
            self._partitions.update(d for d in wanted if d + PARTITION_WIDTH > horizon)
        if created:
            log.info("postgres: created partitions %s", ", ".join(created))
        return created

    @staticmethod
    def _existing_partitions(conn: psycopg.Connection, table: str = "points") -> list[int]:
        """Day starts of the partitions of ``table`` that exist, ascending."""
        rows = conn.execute(PARTITIONS_SQL, (table,)).fetchall()
        return sorted(d for (name,) in rows if (d := partition_day(name)) is not None)

    def partitions(self) -> list[str]:
        """Names of the head's partitions that exist, oldest first."""
        with self._pool.connection() as conn:
            return [partition_name(d) for d in self._existing_partitions(conn)]

    def _upgrade(self) -> None:
        """Bring a database of earlier versions to chunks: every head day gets its chunk
        partition, and the row-per-bucket rollup tables become rollup chunks (the buckets of days
        whose raw points are gone; the others are computed from raw) and are dropped. The head's
        points are sealed by :meth:`seal` (``dashboard db upgrade`` shows its progress)."""
        with self._pool.connection() as conn:
            days = self._existing_partitions(conn)
        self.ensure_partitions(days)
        with self._pool.connection() as conn, conn.transaction():
            conn.execute(XACT_LOCK_SQL, (PARTITION_LOCK,))
            tables = [rollup_table(step) for step in ROLLUPS]
            present = [t for t in tables if _exists(conn, t)]
            if not present:
                return
            raw_h = _horizon(conn, "raw")
            moved = 0
            for tier, width in ROLLUP_WINDOWS.items():
                table = rollup_table(BY_NAME[tier])
                if table not in present or raw_h == INT64_MIN:
                    continue
                query = sql.SQL(OLD_ROLLUP_SQL).format(sql.Identifier(table))
                rows = np.asarray(conn.execute(query, (raw_h,)).fetchall(), dtype=np.float64)
                if not rows.size:
                    continue
                sids = rows[:, 0].astype(np.int64)
                cut = [0, *(np.flatnonzero(sids[1:] != sids[:-1]) + 1).tolist(), sids.size]
                out: list[tuple[int, int, bytes]] = []
                for lo, hi in zip(cut[:-1], cut[1:], strict=True):
                    for start, part in chunked.rows_windows(rows[lo:hi, 1:], width):
                        out.append((int(sids[lo]), start, chunked.encode_rows(part)))
                _upsert_rollups(conn, tier, out)
                moved += rows.shape[0]
            for table in present:
                conn.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(table)))
        log.info("postgres: converted %d rollup rows into rollup chunks", moved)

    # --- the protocol ---

    def write(self, batch: Batch) -> int:
        """Store the batch in one transaction; a point given again replaces the one stored."""
        self._write(batch)
        return batch.point_count

    def write_counted(self, batch: Batch) -> int:
        """Store the batch like ``write``; return how many of its points were not stored yet
        (head or chunks; what the copy between databases reports)."""
        new = 0
        for s in batch.series:
            if len(s):
                held = self.query(s.key, int(s.ts.min()), int(s.ts.max()), RAW).ts
                new += int(np.count_nonzero(~np.isin(np.unique(s.ts), held)))
        kept = self._write(batch)
        return min(new, kept)

    def _write(self, batch: Batch) -> int:
        """Write the batch's non-empty series into the head; how many points were kept (at or
        above the raw horizon)."""
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
        """Store non-empty series in one transaction; how many points were kept (at or above
        the raw horizon). The head takes them by binary COPY, appended; a series with
        ``BULK_POINTS`` or more in the batch is merged straight into its chunks instead."""
        ids = self._series_ids(series)
        sid, ts, value = stage_columns([(ids[s.key], s.ts, s.values) for s in series])
        units = {ids[s.key]: s.unit for s in series}
        self.ensure_partitions(days_of(ts))
        for attempt in range(4):
            try:
                with self._pool.connection(timeout=WRITE_WAIT_S) as conn, conn.transaction():
                    row = conn.execute(RAW_HORIZON_SQL).fetchone()
                    keep = ts >= (int(row[0]) if row else INT64_MIN)
                    k_sid, k_ts, k_value = sid[keep], ts[keep], value[keep]
                    bulk = chunked.bulk_runs(k_sid, k_ts, k_value, BULK_POINTS)
                    if bulk:
                        # merged straight into chunks: one chunk writer at a time, the lock
                        # taken first (as the sealer does, before any series row), so the two
                        # never wait on each other in a cycle
                        conn.execute(
                            "SELECT pg_advisory_xact_lock(%s, hashtext(current_schema()))",
                            (SEAL_LOCK,),
                        )
                        head = ~np.isin(k_sid, np.fromiter(bulk, dtype=np.int64))
                        h_sid, h_ts, h_value = k_sid[head], k_ts[head], k_value[head]
                    else:
                        h_sid, h_ts, h_value = k_sid, k_ts, k_value
                    if h_ts.size:
                        with conn.cursor().copy(COPY_HEAD_SQL) as copy:
                            copy.write(encode_copy(h_sid, h_ts, h_value))
                    spans = self._widening(k_sid, k_ts, units)
                    if spans[0]:
                        conn.execute(SPANS_SQL, spans)
                    if bulk:
                        _seal_series(conn, sorted(bulk), bulk)
                with self._lock:
                    for i, first, unit in zip(spans[0], spans[1], spans[3], strict=True):
                        old = self._spans.get(i)
                        self._spans[i] = (
                            first if old is None else min(first, old[0]),
                            unit or (old[1] if old else ""),
                        )
                return int(k_ts.size)
            except _RETRYABLE:
                if attempt == 3:
                    raise
                log.info("postgres: write conflicted with another writer; retrying")
        raise AssertionError("unreachable")

    def _widening(
        self, sid: np.ndarray, ts: np.ndarray, units: dict[int, str]
    ) -> tuple[list[int], list[int], list[int], list[str]]:
        """Span rows ``(ids, firsts, lasts, units)`` of a write's points (sorted by series and
        time) that change a series' row: a new series, a point older than its first, a new
        unit."""
        out: tuple[list[int], list[int], list[int], list[str]] = ([], [], [], [])
        if ts.size == 0:
            return out
        cut = np.flatnonzero(sid[1:] != sid[:-1]) + 1
        starts = np.concatenate(([0], cut))
        ends = np.concatenate((cut, [ts.size])) - 1
        with self._lock:
            for i, first, last in zip(
                sid[starts].tolist(), ts[starts].tolist(), ts[ends].tolist(), strict=True
            ):
                known = self._spans.get(i)
                unit = units.get(i, "")
                if known is None or first < known[0] or (unit and unit != known[1]):
                    out[0].append(i)
                    out[1].append(first)
                    out[2].append(last)
                    out[3].append(unit)
        return out

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
        """Raw points in ``[start_ms, end_ms]``, or the buckets that start in
        ``[floor(start_ms / width) * width, end_ms]``: computed from the raw points (head and
        chunks) where they are kept, read from rollup chunks before the raw horizon."""
        sid = self._series_id(key)
        if sid is None or end_ms < start_ms:
            return empty_frame(key, step)
        if step == RAW:
            ts, value = self._read(key, sid, start_ms, end_ms, None)[:2]
            return SeriesFrame(key, step, ts, value)
        w = step.width_ms
        lo, hi = start_ms // w * w, (end_ms // w + 1) * w - 1
        ts, value, stored, step_h = self._read(key, sid, lo, hi, step)
        rows = bucket_rows(ts, value, w)
        if stored.shape[0]:
            rows = np.concatenate((stored, rows))
        # a bucket that ended before the step's retention is gone, though raw points remain
        rows = chunked.clip_rows(rows, max(lo, step_h), end_ms)
        count = rows[:, 4].astype(np.int64)
        return SeriesFrame(
            key,
            step,
            rows[:, 0].astype(np.int64),
            rows[:, 3] / np.maximum(count, 1),
            rows[:, 1],
            rows[:, 2],
            count,
            rows[:, 3],
            rows[:, 5],
        )

    def _read(
        self, key: SeriesKey, sid: int, lo: int, hi: int, step: Step | None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
        """Raw points of a series in ``[lo, hi]`` (the head merged over the chunks) at or
        above the raw horizon; for a rollup step kept as chunks, its stored bucket rows below
        the horizon; and the step's horizon. A chunk that does not decode is counted, logged
        and left out."""
        tier = step.name if step is not None and step.name in ROLLUP_WINDOWS else ""
        rwidth = ROLLUP_WINDOWS.get(tier, 1)
        params = {
            "sid": sid,
            "lo": lo,
            "hi": hi,
            "clo": chunked.window_of(lo),
            "tier": tier,
            "rlo": lo // rwidth * rwidth,
            "rhi": hi,
            "step": (step or RAW).name,
        }
        with self._pool.connection() as conn:
            rows = conn.execute(READ_SQL, params, binary=True).fetchall()
        raw = [(int(start), bytes(data)) for kind, start, data in rows if kind == 0]
        head = next((data for kind, _, data in rows if kind == 1), None)
        tiers = [(int(start), bytes(data)) for kind, start, data in rows if kind == 2]
        raw_h = next((int(start) for kind, start, _ in rows if kind == 3), INT64_MIN)
        step_h = next((int(start) for kind, start, _ in rows if kind == 4), INT64_MIN)
        ts, value, faults = chunked.decode_run(str(key), raw)
        ts, value = chunked.clip(ts, value, max(lo, raw_h), hi)
        hts, hvalue = chunked.last_per_ts(*decode_raw(head))
        ts, value = chunked.merge_points(ts, value, hts, hvalue)
        stored = empty_rows()
        if tier and lo < raw_h:
            stored, more = chunked.decode_rows_run(str(key), tiers, rwidth)
            faults += more
            stored = chunked.clip_rows(stored, lo, min(hi, raw_h - 1))
        for fault in faults:
            self.chunk_faults += 1
            log.error("postgres: %s", fault.describe())
        return ts, value, stored, step_h

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

    # --- sealing ---

    def seal(self, *, batch_series: int = SEAL_BATCH, progress: SealProgress | None = None) -> dict:
        """Move the head into chunks: each series' head points are merged into their windows'
        chunks, which are re-encoded, in the transaction that deletes them from the head (a
        batch of series a transaction). One sealer runs at a time per schema; another caller
        returns at once. Returns ``{"series", "points", "chunks"}`` sealed."""
        done = {"series": 0, "points": 0, "chunks": 0}
        days: set[int] = set()
        try:
            self._seal_batches(batch_series, progress, done, days)
        finally:
            if days:  # the deleted head rows and the re-encoded chunks' old versions
                self._vacuum_days(days)
        return done

    def _seal_batches(
        self, batch_series: int, progress: SealProgress | None, done: dict, days: set[int]
    ) -> None:
        """The seal's transactions, a batch of series each; ``done`` and ``days`` (the days
        whose partitions it changed) are filled in as it goes."""
        after = -(2**31)  # below every series id
        while True:
            with self._pool.connection() as conn, conn.transaction():
                got = conn.execute(
                    "SELECT pg_try_advisory_xact_lock(%s, hashtext(current_schema()))",
                    (SEAL_LOCK,),
                ).fetchone()
                if not got or not got[0]:
                    return
                ids = [r[0] for r in conn.execute(SEAL_SERIES_SQL, (after, batch_series))]
                if not ids:
                    return
                after = ids[-1]
                points, written = _seal_series(conn, ids, days=days)
            done["series"] += len(ids)
            done["points"] += points
            done["chunks"] += written
            self.sealed_points += points
            if progress is not None:
                progress(done)
            time.sleep(0)  # under gevent: let the node's other greenlets run between batches

    def _vacuum_days(self, days: set[int]) -> None:
        """VACUUM the head and chunk partitions of ``days``: the space of the rows a seal
        deleted or rewrote is reused at once (a plain VACUUM skips the pages it did not touch,
        and gives an empty table's pages back to the file system)."""
        names = [partition_name(d, t) for d in sorted(days) for t in ("points", "chunks")]
        try:
            with self._pool.connection() as conn:
                present = [n for n in names if _exists(conn, n)]
                if present:
                    conn.execute(
                        sql.SQL("VACUUM {}").format(
                            sql.SQL(", ").join(sql.Identifier(n) for n in present)
                        )
                    )
        except psycopg.Error as exc:  # the next seal vacuums again; autovacuum as well
            log.warning("postgres: vacuum after the seal failed: %s", exc)

    # --- retention ---

    def retention(self, now_ms: int) -> dict[str, int]:
        """Seal the head, then drop raw days (head and chunks) past the raw retention, each
        day's 5m, 1h and 1d buckets sealed into rollup chunks first, and delete rollup chunks
        whose window ended past their tier's retention.

        Returns what was removed per tier (``raw``: points; the others: rollup chunks); an
        empty dict when another node is running retention on this schema right now.
        """
        cutoffs = retention_cutoffs(now_ms, self.raw_retention_ms)
        with self._pool.connection() as conn:
            got = conn.execute(TRY_LOCK_SQL, (RETENTION_LOCK,)).fetchone()
            if not got or not got[0]:
                return {}
            try:
                self.seal()
                dropped = {tier: 0 for tier in TIERS}
                dropped["raw"] = self._drop_raw_days(conn, cutoffs["raw"])
                dropped.update(self._trim_rollups(conn, cutoffs))
            finally:
                conn.execute(UNLOCK_SQL, (RETENTION_LOCK,))
        self.ensure_partitions(days_around(now_ms))
        return {tier: dropped[tier] for tier in TIERS}

    @staticmethod
    def _trim_rollups(conn: psycopg.Connection, cutoffs: dict[str, int]) -> dict[str, int]:
        """Raise the rollup horizons and delete the rollup chunks whose window ended before
        them, in one transaction; chunks per tier."""
        dropped = {}
        with conn.transaction():
            conn.execute("SET LOCAL lock_timeout = '5s'")
            for step in ROLLUPS:
                conn.execute(SET_HORIZON_SQL, (step.name, cutoffs[step.name]))
            for tier, width in ROLLUP_WINDOWS.items():
                cur = conn.execute(DELETE_ROLLUPS_SQL, (tier, width, cutoffs[tier]))
                dropped[tier] = max(cur.rowcount, 0)
            oldest_kept = cutoffs[ROLLUPS[-1].name]
            conn.execute(TRIM_FIRST_TS_SQL, (oldest_kept, oldest_kept))
        return dropped

    def _drop_raw_days(self, conn: psycopg.Connection, cutoff: int) -> int:
        """For each raw day before ``cutoff``, in one transaction: raise the raw horizon past
        it, seal its buckets into rollup chunks, and drop its head and chunk partitions. The
        points dropped."""
        points = 0
        names = []
        days = sorted(
            set(self._existing_partitions(conn)) | set(self._existing_partitions(conn, "chunks"))
        )
        for day in days:
            if day >= cutoff:
                continue
            with conn.transaction():
                conn.execute("SET LOCAL lock_timeout = '5s'")
                conn.execute(SET_HORIZON_SQL, ("raw", day + PARTITION_WIDTH))
                tables = [partition_name(day, t) for t in ("points", "chunks")]
                present = [t for t in tables if _exists(conn, t)]
                for table in present:
                    ident = sql.Identifier(table)
                    conn.execute(sql.SQL("LOCK TABLE {} IN SHARE MODE").format(ident))
                points += _seal_day_rollups(conn, present)
                for table in present:
                    conn.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(table)))
            names += present
            with self._lock:
                self._partitions.discard(day)
        if names:
            log.info("postgres: retention dropped partitions %s", ", ".join(names))
        return points

    def vacuum(self) -> None:
        """Give the space of sealed head rows back to the file system (after an upgrade's large
        seal): each head partition found empty under an exclusive lock is truncated (its index
        too), then the chunks are vacuumed (re-encoded chunks' old versions)."""
        with self._pool.connection() as conn:
            for day in self._existing_partitions(conn):
                table = sql.Identifier(partition_name(day))
                try:
                    with conn.transaction():
                        conn.execute("SET LOCAL lock_timeout = '2s'")
                        conn.execute(
                            sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE").format(table)
                        )
                        if conn.execute(
                            sql.SQL("SELECT 1 FROM {} LIMIT 1").format(table)
                        ).fetchone():
                            continue  # written meanwhile: the next seal takes it
                        conn.execute(sql.SQL("TRUNCATE {}").format(table))
                except psycopg.errors.LockNotAvailable:
                    log.info("postgres: %s is busy; left for VACUUM", partition_name(day))
            conn.execute("VACUUM (ANALYZE) points")
            conn.execute("VACUUM (ANALYZE) chunks")

    # --- what it holds ---

    def stats(self) -> dict[str, float]:
        """Series, head points, chunks and their points, rollup chunks, bytes on disk per part
        (tables with their indexes and TOAST) and the raw compression ratio (16 bytes a point
        over the chunks' bytes)."""
        with self._pool.connection() as conn:
            row = conn.execute(STATS_SQL).fetchone()
        assert row is not None
        keys = (
            "series",
            "head_points",
            "chunks",
            "chunk_points",
            "rollup_chunks",
            "head_bytes",
            "chunk_bytes",
            "rollup_bytes",
            "series_bytes",
        )
        out = {k: float(v or 0) for k, v in zip(keys, row, strict=True)}
        out["bytes"] = sum(out[k] for k in keys if k.endswith("_bytes"))
        points = out["head_points"] + out["chunk_points"]
        out["bytes_per_point"] = out["bytes"] / points if points else 0.0
        out["compression_ratio"] = (
            16 * out["chunk_points"] / out["chunk_bytes"] if out["chunk_bytes"] else 0.0
        )
        return out


STATS_SQL = """
SELECT (SELECT count(*) FROM series),
       (SELECT count(*) FROM points),
       (SELECT count(*) FROM chunks),
       (SELECT coalesce(sum(count), 0) FROM chunks),
       (SELECT count(*) FROM rollups),
       (SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_inherits i
        JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'points'::regclass),
       (SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_inherits i
        JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'chunks'::regclass),
       pg_total_relation_size('rollups'),
       pg_total_relation_size('series')
"""


def _seal_series(
    conn: psycopg.Connection,
    ids: list[int],
    extra: dict[int, tuple[np.ndarray, np.ndarray]] | None = None,
    days: set[int] | None = None,
) -> tuple[int, int]:
    """Seal the head of the series ``ids`` (inside the caller's transaction), with the points
    of ``extra`` (by series id) written over it; points, chunks. The days of the sealed points
    are added to ``days``."""
    taken = conn.execute(TAKE_HEAD_SQL, (ids,), binary=True).fetchall()
    heads = {int(sid): chunked.last_per_ts(*decode_raw(data)) for sid, data in taken}
    for sid, (ts, value) in (extra or {}).items():
        heads[sid] = chunked.merge_points(*heads[sid], ts, value) if sid in heads else (ts, value)
    if not heads:
        return 0, 0
    want_sid, want_start = [], []
    for sid, (ts, _) in heads.items():
        # the hours the points touch (a run of one hour: the common case, without a pass)
        first, last = int(ts[0]) // RAW_WINDOW, int(ts[-1]) // RAW_WINDOW
        hours = [first * RAW_WINDOW] if first == last else [s for s, _ in chunked.windows(ts)]
        want_sid += [sid] * len(hours)
        want_start += hours
    old: dict[int, dict[int, bytes]] = {}
    for sid, start, data in conn.execute(CHUNKS_AT_SQL, (want_sid, want_start), binary=True):
        old.setdefault(int(sid), {})[int(start)] = bytes(data)
    if days is not None:
        days.update(start // PARTITION_WIDTH * PARTITION_WIDTH for start in set(want_start))
    out_sid, out_start, out_count, out_data = [], [], [], []
    points = 0
    spans: tuple[list[int], list[int], list[int]] = ([], [], [])
    for sid, (ts, value) in heads.items():
        points += int(ts.size)
        spans[0].append(sid)
        spans[1].append(int(ts[0]))
        spans[2].append(int(ts[-1]))
        held = old.get(sid, {})
        for start, count, data in chunked.seal(held, ts, value):
            if held.get(start) == data:  # a replay: the chunk is unchanged, not rewritten
                continue
            out_sid.append(sid)
            out_start.append(start)
            out_count.append(count)
            out_data.append(data)
    if out_sid:
        conn.execute(UPSERT_CHUNKS_SQL, (out_sid, out_start, out_count, out_data))
    conn.execute(WIDEN_SPANS_SQL, spans)
    return points, len(out_sid)


def _seal_day_rollups(conn: psycopg.Connection, tables: list[str]) -> int:
    """Seal the 5m, 1h and 1d buckets of one raw day (its head and chunk partitions
    ``tables``) into rollup chunks (inside the caller's transaction); the day's points. The
    chunks stream through a server-side cursor in series order and are rolled up a batch of
    series at a time, so a day never sits in memory whole. A chunk that does not decode is
    logged and left out."""
    heads: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    chunk_table = next((t for t in tables if t.startswith("chunks")), None)
    for table in tables:
        if table != chunk_table:
            query = sql.SQL(DAY_HEAD_SQL).format(sql.Identifier(table))
            for sid, data in conn.execute(query, binary=True):
                heads[int(sid)] = chunked.last_per_ts(*decode_raw(data))
    points = 0
    pending: list[tuple[int, np.ndarray, np.ndarray]] = []

    def roll(sid: int, run: list[tuple[int, bytes]]) -> None:
        nonlocal points
        ts, value, faults = chunked.decode_run(f"series {sid}", run)
        for fault in faults:
            log.error("postgres: retention: %s", fault.describe())
        if sid in heads:
            ts, value = chunked.merge_points(ts, value, *heads.pop(sid))
        points += int(ts.size)
        pending.append((sid, ts, value))
        if len(pending) >= SEAL_BATCH:
            _write_day_rollups(conn, pending)
            pending.clear()

    if chunk_table is not None:
        query = sql.SQL(DAY_CHUNKS_SQL).format(sql.Identifier(chunk_table))
        with conn.cursor(name="day_chunks", binary=True) as cur:
            cur.itersize = 2000
            run: list[tuple[int, bytes]] = []
            current = -1
            for sid, start, data in cur.execute(query):
                if sid != current and run:
                    roll(current, run)
                    run = []
                current = int(sid)
                run.append((int(start), bytes(data)))
            if run:
                roll(current, run)
    for sid in sorted(heads):  # series with head points only
        roll(sid, [])
    if pending:
        _write_day_rollups(conn, pending)
    return points


def _write_day_rollups(
    conn: psycopg.Connection, day: list[tuple[int, np.ndarray, np.ndarray]]
) -> None:
    """Write the 5m, 1h and 1d rollup chunks of some series' points of one day; a tier whose
    window is wider than the day has that day's buckets merged into its stored chunk."""
    by_tier: dict[str, list[tuple[int, int, np.ndarray]]] = {t: [] for t in ROLLUP_WINDOWS}
    for sid, ts, value in day:
        for tier, rows in chunked.day_rollups(ts, value).items():
            for start, part in chunked.rows_windows(rows, ROLLUP_WINDOWS[tier]):
                by_tier[tier].append((sid, start, part))
    for tier, parts in by_tier.items():
        if not parts:
            continue
        old: dict[tuple[int, int], np.ndarray] = {}
        if ROLLUP_WINDOWS[tier] > PARTITION_WIDTH:
            sids = [sid for sid, _, _ in parts]
            starts = [start for _, start, _ in parts]
            for sid, start, data in conn.execute(ROLLUPS_AT_SQL, (sids, starts, tier)):
                try:
                    old[(int(sid), int(start))] = chunked.decode_rows(bytes(data))
                except ValueError as exc:
                    log.error(
                        "postgres: retention: rollup chunk %s/%s/%s: %s", sid, tier, start, exc
                    )
        out = []
        for sid, start, rows in parts:
            prior = old.get((sid, start))
            merged = rows if prior is None else chunked.replace_rows(prior, rows)
            out.append((sid, start, chunked.encode_rows(merged)))
        _upsert_rollups(conn, tier, out)


def _upsert_rollups(
    conn: psycopg.Connection, tier: str, rows: list[tuple[int, int, bytes]]
) -> None:
    """Write rollup chunks ``(series_id, start, data)`` of one tier."""
    if rows:
        sids, starts, data = (list(c) for c in zip(*rows, strict=True))
        conn.execute(UPSERT_ROLLUPS_SQL, (tier, sids, starts, data))


def _exists(conn: psycopg.Connection, table: str) -> bool:
    """True when ``table`` exists in the search path."""
    row = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (table,)).fetchone()
    return bool(row and row[0])


def _horizon(conn: psycopg.Connection, tier: str) -> int:
    """The retention horizon of a tier (the first kept millisecond), or the smallest int64."""
    row = conn.execute(HORIZON_SQL, (tier,)).fetchone()
    return int(row[0]) if row else INT64_MIN
