"""The embedded store: SQLite in WAL mode, batched and idempotent on (series, timestamp).

Every point is kept at millisecond resolution; a point given again for a stored (series,
timestamp) replaces its value, the last one given in a batch winning. Rollups are aggregated
from the raw points by the query, so a replaced value can never leave a stale bucket behind.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from dashboard.clock import now_ms as wall_ms
from dashboard.metrics.frame import SeriesFrame, SeriesInfo, empty_frame
from dashboard.metrics.metadata import MetricMetadata
from dashboard.metrics.model import Batch, SeriesKey, SeriesPoints
from dashboard.metrics.steps import RAW, Step

SCHEMA = """
CREATE TABLE IF NOT EXISTS series (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    labels TEXT NOT NULL,
    unit TEXT NOT NULL DEFAULT '',
    first_ts INTEGER,
    last_ts INTEGER
);
CREATE TABLE IF NOT EXISTS points (
    series_id INTEGER NOT NULL REFERENCES series(id),
    ts INTEGER NOT NULL,
    value REAL NOT NULL,
    PRIMARY KEY (series_id, ts)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS metric_metadata (
    name TEXT PRIMARY KEY,
    type TEXT NOT NULL DEFAULT 'unknown',
    help TEXT NOT NULL DEFAULT '',
    unit TEXT NOT NULL DEFAULT '',
    updated_ms INTEGER NOT NULL
);
"""

# The last value given wins; an equal value rewrites nothing.
UPSERT_SQL = (
    "INSERT INTO points (series_id, ts, value) VALUES (?, ?, ?)"
    " ON CONFLICT (series_id, ts) DO UPDATE SET value = excluded.value"
    " WHERE value IS NOT excluded.value"
)
SPAN_SQL = (
    "UPDATE series SET first_ts = min(coalesce(first_ts, ?), ?),"
    " last_ts = max(coalesce(last_ts, ?), ?),"
    " unit = CASE WHEN ? != '' THEN ? ELSE unit END WHERE id = ?"
)
RAW_SQL = "SELECT ts, value FROM points WHERE series_id = ? AND ts BETWEEN ? AND ? ORDER BY ts"
# A family's metadata: the latest non-empty value of each field wins.
UPSERT_METADATA_SQL = (
    "INSERT INTO metric_metadata (name, type, help, unit, updated_ms) VALUES (?, ?, ?, ?, ?)"
    " ON CONFLICT (name) DO UPDATE SET"
    " type = CASE WHEN excluded.type != 'unknown' THEN excluded.type ELSE type END,"
    " help = CASE WHEN excluded.help != '' THEN excluded.help ELSE help END,"
    " unit = CASE WHEN excluded.unit != '' THEN excluded.unit ELSE unit END,"
    " updated_ms = excluded.updated_ms"
)
# Buckets of width ``w`` (given three times) in ``[lo, hi)``, each with its last point's value.
ROLLUP_SQL = """
WITH b AS (
    SELECT ts / ? * ? AS start, min(value) AS mn, max(value) AS mx,
           sum(value) AS sm, count(*) AS cnt, max(ts) AS last_ts
    FROM points WHERE series_id = ? AND ts >= ? AND ts < ?
    GROUP BY ts / ?
)
SELECT b.start, b.mn, b.mx, b.sm, b.cnt, p.value
FROM b JOIN points p ON p.series_id = ? AND p.ts = b.last_ts
ORDER BY b.start
"""


def connect(path: str | Path, schema: str) -> sqlite3.Connection:
    """A connection to the database file (created with its folder), in WAL mode, with ``schema``.

    Shared by every store kept in the embedded database; each store serialises its own use.
    """
    text = str(path)
    if text != ":memory:":
        Path(text).parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(text, check_same_thread=False, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA busy_timeout=5000")
    conn.executescript(schema)
    return conn


class SQLiteStore:
    """Points in one SQLite file; rollups are computed by the query from raw points."""

    kind = "sqlite"

    def __init__(self, path: str | Path) -> None:
        """Open (and create) the database file."""
        self.path = str(path)
        self._conn = connect(path, SCHEMA)
        self._lock = threading.Lock()
        self._ids: dict[SeriesKey, int] = {}

    def _series_id(self, key: SeriesKey, unit: str) -> int:
        """The id of a series, created on first use (caller holds the lock, in a transaction)."""
        sid = self._ids.get(key)
        if sid is None:
            text = str(key)
            self._conn.execute(
                "INSERT OR IGNORE INTO series (key, name, labels, unit) VALUES (?, ?, ?, ?)",
                (text, key.name, json.dumps(key.label_dict, sort_keys=True), unit),
            )
            row = self._conn.execute("SELECT id FROM series WHERE key = ?", (text,)).fetchone()
            sid = self._ids[key] = int(row[0])
        return sid

    def _rows(self, live: list[SeriesPoints]) -> tuple[Iterable[tuple], list[tuple]]:
        """The point rows and span rows of non-empty series, in batch order (caller holds the
        lock, in a transaction)."""
        ids = self._ids
        sids = [ids.get(s.key) for s in live]
        if None in sids:
            sids = [self._series_id(s.key, s.unit) for s in live]
        units = [s.unit for s in live]
        sizes = [s.ts.size for s in live]
        ts = np.concatenate([s.ts for s in live])
        times = ts.tolist()
        values = np.concatenate([s.values for s in live]).tolist()
        if len(times) == len(live):  # one point a series: what senders send
            spans = list(zip(times, times, times, times, units, units, sids, strict=True))
            return zip(sids, times, values, strict=True), spans
        starts = np.cumsum([0, *sizes[:-1]])
        first = np.minimum.reduceat(ts, starts).tolist()
        last = np.maximum.reduceat(ts, starts).tolist()
        spans = list(zip(first, first, last, last, units, units, sids, strict=True))
        row_ids = np.repeat(np.asarray(sids, dtype=np.int64), sizes).tolist()
        return zip(row_ids, times, values, strict=True), spans

    def write(self, batch: Batch) -> int:
        """Store the batch in one transaction; a point given again replaces the one stored."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                # one statement for all the points and one for the spans, in batch order (so the
                # last of equal timestamps wins): a batch of many one-point series is one call
                # (the arrays are joined once, not walked a series at a time)
                live = [s for s in batch.series if s.ts.size]
                if live:
                    rows, spans = self._rows(live)
                    self._conn.executemany(UPSERT_SQL, rows)
                    self._conn.executemany(SPAN_SQL, spans)
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
        return batch.point_count

    def list_series(self) -> list[SeriesInfo]:
        """Every series with stored points."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT name, labels, unit, first_ts, last_ts FROM series"
                " WHERE last_ts IS NOT NULL ORDER BY key"
            ).fetchall()
        infos = [
            SeriesInfo(SeriesKey.of(name, json.loads(labels)), unit, first, last)
            for name, labels, unit, first, last in rows
        ]
        return sorted(infos, key=lambda i: i.key)

    def upsert_metadata(self, entries: list[MetricMetadata]) -> None:
        """Store metric families' metadata (the latest non-empty value of each field wins)."""
        now = wall_ms()
        rows = [(m.name, m.type, m.help, m.unit, now) for m in entries]
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._conn.executemany(UPSERT_METADATA_SQL, rows)
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise

    def metadata(self) -> dict[str, MetricMetadata]:
        """Every stored family's metadata, by name."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT name, type, help, unit FROM metric_metadata ORDER BY name"
            ).fetchall()
        return {name: MetricMetadata(name, type_, help_, unit) for name, type_, help_, unit in rows}

    def query(self, key: SeriesKey, start_ms: int, end_ms: int, step: Step) -> SeriesFrame:
        """Raw points, or buckets aggregated by SQL from the raw points."""
        with self._lock:
            row = self._conn.execute("SELECT id FROM series WHERE key = ?", (str(key),)).fetchone()
            if row is None:
                return empty_frame(key, step)
            sid = int(row[0])
            if step == RAW:
                rows = self._conn.execute(RAW_SQL, (sid, start_ms, end_ms)).fetchall()
                if not rows:
                    return empty_frame(key, step)
                arr = np.asarray(rows, dtype=np.float64)
                return SeriesFrame(key, step, arr[:, 0].astype(np.int64), arr[:, 1])
            w = step.width_ms
            lo, hi = start_ms // w * w, (end_ms // w + 1) * w
            rows = self._conn.execute(ROLLUP_SQL, (w, w, sid, lo, hi, w, sid)).fetchall()
        if not rows:
            return empty_frame(key, step)
        arr = np.asarray(rows, dtype=np.float64)
        count = arr[:, 4].astype(np.int64)
        return SeriesFrame(
            key,
            step,
            arr[:, 0].astype(np.int64),
            arr[:, 3] / np.maximum(count, 1),
            arr[:, 1],
            arr[:, 2],
            count,
            arr[:, 3],
            arr[:, 5],
        )

    def ping(self) -> bool:
        """True when a trivial query answers."""
        try:
            with self._lock:
                self._conn.execute("SELECT 1").fetchone()
            return True
        except sqlite3.Error:
            return False

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._conn.close()
