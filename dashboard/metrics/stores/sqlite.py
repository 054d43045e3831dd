"""The embedded store: SQLite in WAL mode, batched and idempotent on (series, timestamp).

Every point is kept at millisecond resolution; a point given again for a stored (series,
timestamp) replaces its value, the last one given in a batch winning. Rollups are aggregated
from the raw points by the query, so a replaced value can never leave a stale bucket behind.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from itertools import repeat
from pathlib import Path

import numpy as np

from dashboard.metrics.frame import SeriesFrame, SeriesInfo, empty_frame
from dashboard.metrics.model import Batch, SeriesKey
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

    def write(self, batch: Batch) -> int:
        """Store the batch in one transaction; a point given again replaces the one stored."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                # one statement for all the points and one for the spans, in batch order (so the
                # last of equal timestamps wins): a batch of many one-point series is one call
                rows: list[tuple[int, int, float]] = []
                spans = []
                for s in batch.series:
                    if len(s) == 0:
                        continue
                    sid = self._series_id(s.key, s.unit)
                    rows.extend(zip(repeat(sid), s.ts.tolist(), s.values.tolist()))
                    first, last = int(s.ts.min()), int(s.ts.max())
                    spans.append((first, first, last, last, s.unit, s.unit, sid))
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
