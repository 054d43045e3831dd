"""The embedded store: SQLite in WAL mode, batched and idempotent on (series, timestamp).

Every point is kept at millisecond resolution; a point given again for a stored (series,
timestamp) replaces its value, the last one given winning. A write appends its points to
``incoming`` (a rowid table: a batch of many series lands on a few pages at its end, where the
head's (series, timestamp) order would dirty a page a series), folded into the head (``points``,
a row a point) in the order given, at most a second later and before anything reads the head;
:meth:`SQLiteStore.seal` moves the head into compressed chunks (``chunks``, a row a series and
hour, :mod:`dashboard.metrics.chunked`), and a read merges the head over the chunks. Rollups are
aggregated from the raw points by the read, so a replaced value can never leave a stale bucket
behind.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from dashboard.clock import now_ms as wall_ms
from dashboard.metrics import chunked
from dashboard.metrics.frame import SeriesFrame, SeriesInfo, empty_frame
from dashboard.metrics.metadata import MetricMetadata
from dashboard.metrics.model import Batch, SeriesKey, SeriesPoints
from dashboard.metrics.rollup import bucket_rows
from dashboard.metrics.steps import RAW, Step
from dashboard.metrics.stores.postgres_sql import stage_columns

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
CREATE TABLE IF NOT EXISTS incoming (
    series_id INTEGER NOT NULL,
    ts INTEGER NOT NULL,
    value REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS chunks (
    series_id INTEGER NOT NULL,
    start INTEGER NOT NULL,
    count INTEGER NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (series_id, start)
);
CREATE TABLE IF NOT EXISTS metric_metadata (
    name TEXT PRIMARY KEY,
    type TEXT NOT NULL DEFAULT 'unknown',
    help TEXT NOT NULL DEFAULT '',
    unit TEXT NOT NULL DEFAULT '',
    updated_ms INTEGER NOT NULL
);
"""

SPAN_SQL = (
    "UPDATE series SET first_ts = min(coalesce(first_ts, ?), ?),"
    " last_ts = max(coalesce(last_ts, ?), ?),"
    " unit = CASE WHEN ? != '' THEN ? ELSE unit END WHERE id = ?"
)
APPEND_SQL = "INSERT INTO incoming (series_id, ts, value) VALUES (?, ?, ?)"
# incoming rows into the head, each (series, ts) taking the value given last (rowid order)
FOLD_SQL = (
    "INSERT INTO points (series_id, ts, value)"
    " SELECT series_id, ts, value FROM incoming WHERE rowid <= ? ORDER BY series_id, ts, rowid"
    " ON CONFLICT (series_id, ts) DO UPDATE SET value = excluded.value"
    " WHERE value IS NOT excluded.value"
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
# Every series with points, its span widened by its head's points (not sealed yet).
LIST_SERIES_SQL = """
SELECT s.name, s.labels, s.unit,
       min(coalesce(s.first_ts, h.f), coalesce(h.f, s.first_ts)),
       max(coalesce(s.last_ts, h.l), coalesce(h.l, s.last_ts))
FROM series s LEFT JOIN (
    SELECT series_id, min(ts) AS f, max(ts) AS l FROM points GROUP BY series_id
) h ON h.series_id = s.id
WHERE s.last_ts IS NOT NULL OR h.l IS NOT NULL
"""
WIDEN_SQL = (
    "UPDATE series SET first_ts = min(coalesce(first_ts, ?), ?),"
    " last_ts = max(coalesce(last_ts, ?), ?) WHERE id = ?"
)
CHUNKS_SQL = "SELECT start, data FROM chunks WHERE series_id = ? AND start BETWEEN ? AND ?"
log = logging.getLogger(__name__)

SEAL_BATCH = 500
FOLD_EVERY_S = 1.0
FOLD_ROWS = 200_000  # or sooner, when this many points wait
CHECKPOINT_EVERY_S = 1.0
WRITER_CHECKPOINT_PAGES = 10_000


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
    # commits leave checkpoints to the store's Checkpointer; past this many WAL pages (40 MB)
    # a commit checkpoints itself, a bound should the background ones fall behind
    conn.execute(f"PRAGMA wal_autocheckpoint={WRITER_CHECKPOINT_PAGES}")
    conn.executescript(schema)
    return conn


def _start_os_thread(target: Callable[[], None]) -> None:
    """Run ``target`` in an operating-system thread, also where gevent has patched threads
    into greenlets (a checkpoint's fsync would stop the hub, and every request with it)."""
    try:
        from gevent import monkey

        start = monkey.get_original("_thread", "start_new_thread")
    except ImportError:  # pragma: no cover - gevent is a dependency
        import _thread

        start = _thread.start_new_thread
    start(target, ())


class Checkpointer:
    """Copies a database file's WAL back into the file in a thread of its own, at most once
    every ``every_s`` while commits come, so a commit never waits for a checkpoint.

    SQLite's automatic checkpoint runs inside the commit that takes the WAL past 1,000 pages,
    and syncs the WAL and the file there: with senders' batches of 500 one-point series that
    was a third of a request's time. A passive checkpoint from its own connection runs beside
    the writer (WAL lets both go on) and with the GIL released, so the node keeps serving.
    """

    def __init__(self, path: str, every_s: float = CHECKPOINT_EVERY_S) -> None:
        """Checkpoint the file at ``path``."""
        self.path = path
        self.every_s = every_s
        self.runs = 0  # checkpoints ended, since start
        self.failures = 0  # checkpoints that failed, since start
        self.failed = ""  # the last failure, until the next commit logs it
        self._running = False
        self._next = 0.0

    def after_commit(self, now: float) -> None:
        """A commit happened at ``now`` (monotonic): start a checkpoint when one is due and
        none is under way."""
        if self.failed:  # logged here, in the caller's thread (its locks are its own)
            log.warning("WAL checkpoint of %s failed: %s", self.path, self.failed)
            self.failed = ""
        if self._running or now < self._next:
            return
        self._running = True
        self._next = now + self.every_s
        try:
            _start_os_thread(self.run)
        except RuntimeError as exc:  # no thread to be had: the commit stands, and says why
            self._running = False
            self.failures += 1
            log.warning("WAL checkpoint of %s not started: %s", self.path, exc)

    def wait(self, timeout_s: float) -> bool:
        """Wait up to ``timeout_s`` for the checkpoint under way; True when none is."""
        deadline = time.monotonic() + timeout_s
        while self._running and time.monotonic() < deadline:
            time.sleep(0.005)
        return not self._running

    def run(self) -> None:
        """One passive checkpoint (in the calling thread)."""
        try:
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            try:
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            finally:
                conn.close()
            self.runs += 1
        except sqlite3.Error as exc:  # the writer's own bound still checkpoints
            self.failures += 1
            self.failed = str(exc)
        finally:
            self._running = False


class SQLiteStore:
    """Points in one SQLite file; rollups are computed by the query from raw points."""

    kind = "sqlite"

    def __init__(self, path: str | Path) -> None:
        """Open (and create) the database file."""
        self.path = str(path)
        self._conn = connect(path, SCHEMA)
        self._lock = threading.Lock()
        self.checkpointer = Checkpointer(self.path) if self.path != ":memory:" else None
        self._ids: dict[SeriesKey, int] = {}
        self._spans: dict[int, tuple[int, str]] = {}  # first_ts and unit stored, by series id
        self.chunk_faults = 0  # stored chunks that did not decode, since start
        self.sealed_points = 0  # head points sealed into chunks, since start
        self._incoming = 0  # rows this store appended and did not fold (when to fold a write)
        self._fold_due = 0.0

    def _series_id(self, key: SeriesKey, unit: str) -> int:
        """The id of a series, created on first use (caller holds the lock, in a transaction)."""
        sid = self._ids.get(key)
        if sid is None:
            text = str(key)
            self._conn.execute(
                "INSERT OR IGNORE INTO series (key, name, labels, unit) VALUES (?, ?, ?, ?)",
                (text, key.name, json.dumps(key.label_dict, sort_keys=True), unit),
            )
            row = self._conn.execute(
                "SELECT id, first_ts, unit FROM series WHERE key = ?", (text,)
            ).fetchone()
            sid = self._ids[key] = int(row[0])
            if row[1] is not None:
                self._spans[sid] = (int(row[1]), row[2])
        return sid

    def _widening(self, spans: list[tuple]) -> list[tuple]:
        """The span rows that change a series' row: a new series, a point older than its
        first, or a new unit (a newer point widens the span when it is sealed, so live writes
        do not rewrite the series' rows); the known spans are updated (caller holds the lock,
        in a transaction)."""
        out = []
        for row in spans:
            first, unit, sid = row[0], row[4], row[6]
            known = self._spans.get(sid)
            if known is None or first < known[0] or (unit and unit != known[1]):
                out.append(row)
                self._spans[sid] = (
                    first if known is None else min(first, known[0]),
                    unit or (known[1] if known else ""),
                )
        return out

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

    def _bulk(
        self, live: list[SeriesPoints]
    ) -> tuple[dict[int, tuple[np.ndarray, np.ndarray]], list[SeriesPoints]]:
        """The series of a batch with at least ``BULK_POINTS`` points, as sorted points with
        the last value given per timestamp (by series id; their spans recorded), and the
        others (caller holds the lock, in a transaction)."""
        sizes: dict[SeriesKey, int] = {}
        for s in live:
            sizes[s.key] = sizes.get(s.key, 0) + int(s.ts.size)
        if not any(n >= chunked.BULK_POINTS for n in sizes.values()):
            return {}, live
        big = [s for s in live if sizes[s.key] >= chunked.BULK_POINTS]
        sid, ts, value = stage_columns(
            [(self._series_id(s.key, s.unit), s.ts, s.values) for s in big]
        )
        bulk = chunked.bulk_runs(sid, ts, value, 1)
        units = {self._ids[s.key]: s.unit for s in big}
        self._conn.executemany(
            SPAN_SQL,
            self._widening(
                [
                    (int(t[0]), int(t[0]), int(t[-1]), int(t[-1]), units[i], units[i], i)
                    for i, (t, _) in bulk.items()
                ]
            ),
        )
        return bulk, [s for s in live if sizes[s.key] < chunked.BULK_POINTS]

    def _fold(self, now: float | None = None) -> None:
        """Move the incoming points into the head (caller holds the lock, in a transaction)."""
        (last,) = self._conn.execute("SELECT max(rowid) FROM incoming").fetchone()
        if last is not None:
            self._conn.execute(FOLD_SQL, (last,))
            self._conn.execute("DELETE FROM incoming WHERE rowid <= ?", (last,))
        self._incoming = 0
        self._fold_due = (time.monotonic() if now is None else now) + FOLD_EVERY_S

    def _folded(self) -> None:
        """Fold the incoming points before a read of the head (caller holds the lock). The
        table is asked, not this store's count: a rolled-back fold, or another process writing
        the same file, leaves rows this store did not count."""
        if self._conn.execute("SELECT 1 FROM incoming LIMIT 1").fetchone() is None:
            return
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            self._fold()
            self._conn.execute("COMMIT")
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise

    def write(self, batch: Batch) -> int:
        """Store the batch in one transaction; a point given again replaces the one stored."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                # one statement for all the points and one for the spans, in batch order (so the
                # last of equal timestamps wins): a batch of many one-point series is one call
                # (the arrays are joined once, not walked a series at a time)
                live = [s for s in batch.series if s.ts.size]
                bulk, live = self._bulk(live)
                if live:
                    rows, spans = self._rows(live)
                    self._conn.executemany(APPEND_SQL, rows)
                    self._conn.executemany(SPAN_SQL, self._widening(spans))
                    self._incoming += sum(int(s.ts.size) for s in live)
                if bulk:  # series with many points: sealed straight into chunks (the head
                    self._fold()  # first holding what came before them)
                    self._seal_series(sorted(bulk), bulk)
                now = time.monotonic()
                if self._incoming >= FOLD_ROWS or (self._incoming and now >= self._fold_due):
                    self._fold(now)
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
        if self.checkpointer is not None:
            self.checkpointer.after_commit(now)
        return batch.point_count

    def list_series(self) -> list[SeriesInfo]:
        """Every series with stored points."""
        with self._lock:
            self._folded()
            rows = self._conn.execute(LIST_SERIES_SQL).fetchall()
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
        """Raw points (the head merged over the chunks), or buckets aggregated from them."""
        if end_ms < start_ms:
            return empty_frame(key, step)
        if step == RAW:
            lo, hi = start_ms, end_ms
        else:
            w = step.width_ms
            lo, hi = start_ms // w * w, (end_ms // w + 1) * w - 1
        with self._lock:
            row = self._conn.execute("SELECT id FROM series WHERE key = ?", (str(key),)).fetchone()
            if row is None:
                return empty_frame(key, step)
            sid = int(row[0])
            self._folded()
            self._conn.execute("BEGIN")  # one snapshot for the chunks and the head
            try:
                run = self._conn.execute(
                    CHUNKS_SQL + " ORDER BY start", (sid, chunked.window_of(lo), hi)
                ).fetchall()
                head = self._conn.execute(RAW_SQL, (sid, lo, hi)).fetchall()
            finally:
                self._conn.execute("COMMIT")
        ts, value, faults = chunked.decode_run(str(key), run)
        for fault in faults:
            self.chunk_faults += 1
            log.error("sqlite: %s", fault.describe())
        ts, value = chunked.clip(ts, value, lo, hi)
        if head:
            arr = np.asarray(head, dtype=np.float64)
            ts, value = chunked.merge_points(ts, value, arr[:, 0].astype(np.int64), arr[:, 1])
        if step == RAW:
            return SeriesFrame(key, step, ts, value) if ts.size else empty_frame(key, step)
        rows = chunked.clip_rows(bucket_rows(ts, value, step.width_ms), lo, end_ms)
        if not rows.shape[0]:
            return empty_frame(key, step)
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

    def seal(
        self, *, batch_series: int = SEAL_BATCH, progress: Callable[[dict], None] | None = None
    ) -> dict:
        """Move the head into chunks, a batch of series a transaction: each series' head
        points are merged into their windows' chunks (re-encoded) in the transaction that
        deletes them from the head. Returns ``{"series", "points", "chunks"}`` sealed."""
        done = {"series": 0, "points": 0, "chunks": 0}
        after = -(2**31)  # below every series id
        while True:
            with self._lock:
                self._conn.execute("BEGIN IMMEDIATE")
                try:
                    self._fold()  # the points written since the last batch too
                    ids = [
                        r[0]
                        for r in self._conn.execute(
                            "SELECT DISTINCT series_id FROM points WHERE series_id > ?"
                            " ORDER BY series_id LIMIT ?",
                            (after, batch_series),
                        )
                    ]
                    points, written = self._seal_series(ids) if ids else (0, 0)
                    self._conn.execute("COMMIT")
                except BaseException:
                    self._conn.execute("ROLLBACK")
                    raise
            if not ids:
                return done
            after = ids[-1]
            done["series"] += len(ids)
            done["points"] += points
            done["chunks"] += written
            self.sealed_points += points
            if self.checkpointer is not None:
                self.checkpointer.after_commit(time.monotonic())
            if progress is not None:
                progress(done)
            time.sleep(0)  # under gevent: let the node's other greenlets run between batches

    def _seal_series(
        self, ids: list[int], extra: dict[int, tuple[np.ndarray, np.ndarray]] | None = None
    ) -> tuple[int, int]:
        """Seal the head of the series ``ids``, with the points of ``extra`` (by series id)
        written over it (caller holds the lock, in a transaction); points, chunks."""
        marks = ",".join("?" * len(ids))
        rows = self._conn.execute(
            f"SELECT series_id, ts, value FROM points WHERE series_id IN ({marks})"  # nosec B608 # placeholders only
            " ORDER BY series_id, ts",
            ids,
        ).fetchall()
        arr = np.asarray(rows, dtype=np.float64).reshape(-1, 3)
        heads = chunked.bulk_runs(
            arr[:, 0].astype(np.int64), arr[:, 1].astype(np.int64), arr[:, 2], 1
        )
        for sid, (ts, value) in (extra or {}).items():
            heads[sid] = (
                chunked.merge_points(*heads[sid], ts, value) if sid in heads else (ts, value)
            )
        out = []
        points = 0
        spans = []
        for sid, (ts, value) in heads.items():
            points += int(ts.size)
            spans.append((int(ts[0]), int(ts[0]), int(ts[-1]), int(ts[-1]), sid))
            starts = [start for start, _ in chunked.windows(ts)]
            old = {
                int(start): bytes(data)
                for start, data in self._conn.execute(
                    CHUNKS_SQL, (sid, starts[0], starts[-1])
                ).fetchall()
            }
            for start, count, data in chunked.seal(old, ts, value):
                if old.get(start) != data:  # a replay leaves its chunk as it is
                    out.append((sid, start, count, data))
        self._conn.executemany(
            "INSERT INTO chunks (series_id, start, count, data) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (series_id, start) DO UPDATE SET count = excluded.count,"
            " data = excluded.data",
            out,
        )
        self._conn.execute(
            f"DELETE FROM points WHERE series_id IN ({marks})",  # nosec B608 # placeholders only
            ids,
        )
        self._conn.executemany(WIDEN_SQL, spans)
        return points, len(out)

    def stats(self) -> dict[str, float]:
        """Series, head points, chunks and their points, the file's bytes (pages in use and
        free) and the raw compression ratio (16 bytes a point over the chunks' bytes)."""
        with self._lock:
            self._folded()
            series, head, n_chunks, chunk_points, chunk_data = self._conn.execute(
                "SELECT (SELECT count(*) FROM series), (SELECT count(*) FROM points),"
                " (SELECT count(*) FROM chunks), (SELECT coalesce(sum(count), 0) FROM chunks),"
                " (SELECT coalesce(sum(length(data)), 0) FROM chunks)"
            ).fetchone()
            page = self._conn.execute("PRAGMA page_size").fetchone()[0]
            pages = self._conn.execute("PRAGMA page_count").fetchone()[0]
            free = self._conn.execute("PRAGMA freelist_count").fetchone()[0]
        points = head + chunk_points
        size = float(page * pages)
        return {
            "series": float(series),
            "head_points": float(head),
            "chunks": float(n_chunks),
            "chunk_points": float(chunk_points),
            "chunk_data_bytes": float(chunk_data),
            "bytes": size,
            "free_bytes": float(page * free),
            "bytes_per_point": size / points if points else 0.0,
            "compression_ratio": 16 * chunk_points / chunk_data if chunk_data else 0.0,
        }

    def vacuum(self) -> None:
        """Give the file's free pages back to the file system (after a large seal)."""
        with self._lock:
            self._conn.execute("VACUUM")
            # in WAL mode the smaller file is written to the WAL: copy it back, and cut both
            self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def ping(self) -> bool:
        """True when a trivial query answers."""
        try:
            with self._lock:
                self._conn.execute("SELECT 1").fetchone()
            return True
        except sqlite3.Error:
            return False

    def close(self) -> None:
        """Close the connection, after the checkpoint under way (so the last connection to
        close copies the WAL back and removes it, as SQLite does)."""
        if self.checkpointer is not None:
            self.checkpointer.wait(timeout_s=10.0)
        with self._lock:
            self._conn.close()
