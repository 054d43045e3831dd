"""Upgrading a row-per-point database to compressed chunks keeps every point once, is resumable
and frees the space; a chunk that does not decode costs only its own points (PostgreSQL and
SQLite, real servers and files)."""

from __future__ import annotations

import json
import logging
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from psycopg import sql

from dashboard.cli import main as cli_main
from dashboard.db import migrate
from dashboard.metrics.model import Batch, SeriesKey, SeriesPoints
from dashboard.metrics.steps import BY_NAME, DAY, HOUR, RAW, ROLLUPS, SECOND
from dashboard.metrics.stores.postgres import PostgresStore
from dashboard.metrics.stores.sqlite import SQLiteStore
from tests.integration.metrics.test_postgres_store import (
    assert_matches,
    connect,
    expected_rollup,
    url_with_schema,
)

D = 1_700_006_400_000  # 2023-11-15 00:00 UTC
KEYS = [SeriesKey.of("up.cpu", {"host": h}) for h in ("a", "b", "c")]


def _history() -> list[tuple[np.ndarray, np.ndarray]]:
    """Per key: two days of points at irregular times (bursts within a second included)."""
    rng = np.random.default_rng(28)
    out = []
    for _ in KEYS:
        ts = np.unique(D - DAY + rng.integers(0, 2 * DAY, 4000)).astype(np.int64)
        out.append((ts, np.round(rng.normal(50, 10, ts.size), 2)))
    return out


# --- PostgreSQL ---------------------------------------------------------------------------


def _old_postgres(url: str, schema: str, history: list) -> None:
    """A schema as the row-per-point versions left it: migrations up to 0006, day partitions of
    ``points`` holding every point, and rollup tables (the 5m, 1h and 1d rows of a day whose raw
    points retention already dropped, below a recorded raw horizon)."""
    with connect(url, schema) as conn:
        migrate.upgrade(conn, migrate.available_migrations()[:6])
        for day in (D - 2 * DAY, D - DAY, D):
            name = f"points_p{np.datetime64(day, 'ms').astype('datetime64[D]')}".replace("-", "")
            conn.execute(
                sql.SQL("CREATE TABLE {} PARTITION OF points FOR VALUES FROM ({}) TO ({})").format(
                    sql.Identifier(name), sql.Literal(day), sql.Literal(day + DAY)
                )
            )
        for i, (key, (ts, values)) in enumerate(zip(KEYS, history, strict=True), 1):
            conn.execute(
                "INSERT INTO series (id, key, name, labels, first_ts, last_ts)"
                " VALUES (%s, %s, %s, %s, %s, %s)",
                (i, str(key), key.name, json.dumps(key.label_dict), 0, 0),
            )
            with conn.cursor().copy("COPY points (series_id, ts, value) FROM STDIN") as copy:
                for t, v in zip(ts.tolist(), values.tolist(), strict=True):
                    copy.write_row((i, t, v))
            conn.execute(
                "UPDATE series SET first_ts = %s, last_ts = %s WHERE id = %s",
                (D - 3 * DAY, int(ts[-1]), i),
            )
            # the day before: only its rollups are left (5m, 1h, 1d), as retention left them
            old_ts = D - 3 * DAY + np.arange(0, DAY, 90 * SECOND, dtype=np.int64)
            old_values = np.arange(old_ts.size, dtype=np.float64) + i
            for step in ROLLUPS[1:]:
                frame = expected_rollup(old_ts, old_values, step)
                for start, row in frame.iterrows():
                    conn.execute(
                        sql.SQL("INSERT INTO {} VALUES (%s, %s, %s, %s, %s, %s, %s, %s)").format(
                            sql.Identifier(f"rollup_{step.name}")
                        ),
                        (
                            i,
                            int(start),
                            row["min"],
                            row["max"],
                            row["sum"],
                            int(row["count"]),
                            row["last"],
                            int(start),
                        ),
                    )
        conn.execute(
            "INSERT INTO retention_horizon VALUES ('raw', %s), ('1m', %s)",
            (D - 2 * DAY, D - 2 * DAY),
        )


def test_a_row_per_point_postgres_database_upgrades_to_chunks(postgres_schema, monkeypatch, capsys):
    """``dashboard db upgrade`` converts the rollup tables, seals every point into chunks with a
    progress line, frees the rows' space; every read answers as before; an interrupted seal
    resumes without losing or doubling a point."""
    url, schema = postgres_schema
    history = _history()
    _old_postgres(url, schema, history)
    with connect(url, schema) as conn:
        rows_before = conn.execute("SELECT count(*) FROM points").fetchone()[0]
        head_bytes_before = conn.execute(
            "SELECT sum(pg_total_relation_size(inhrelid)) FROM pg_inherits"
            " WHERE inhparent = 'points'::regclass"
        ).fetchone()[0]
    assert rows_before == sum(ts.size for ts, _ in history)

    # a first store opening applies 0007 and converts the rollup tables; then a seal is
    # interrupted after its first batch
    store = PostgresStore(url, schema=schema, max_size=2)
    calls = []

    def stop_after_one(done: dict) -> None:
        calls.append(dict(done))
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        store.seal(batch_series=1, progress=stop_after_one)
    assert calls[0]["series"] == 1
    store.close()

    monkeypatch.setenv("DASHBOARD_DATABASE_URL", url_with_schema(url, schema))
    assert cli_main(["db", "upgrade"]) == 0
    captured = capsys.readouterr()
    latest = migrate.available_migrations()[-1].version
    assert f"schema at version {latest}" in captured.out and "sealing" in captured.err
    assert "sealed" in captured.out and "compression ratio" in captured.out

    store = PostgresStore(url, schema=schema, max_size=2)
    try:
        stats = store.stats()
        assert stats["head_points"] == 0 and stats["chunk_points"] == rows_before
        assert stats["head_bytes"] < head_bytes_before / 10  # the rows' space is freed
        with connect(url, schema) as conn:
            assert conn.execute("SELECT to_regclass('rollup_5m')").fetchone()[0] is None
        for key, (ts, values) in zip(KEYS, history, strict=True):
            raw = store.query(key, D - 2 * DAY, D + 2 * DAY, RAW)
            np.testing.assert_array_equal(raw.ts, ts)
            np.testing.assert_array_equal(raw.value, values)
            for step in ROLLUPS:
                assert_matches(
                    store.query(key, D - 2 * DAY, D + 2 * DAY, step),
                    expected_rollup(ts, values, step),
                )
        # the day whose raw points were gone before the upgrade reads from its rollup chunks
        old_ts = D - 3 * DAY + np.arange(0, DAY, 90 * SECOND, dtype=np.int64)
        for i, key in enumerate(KEYS, 1):
            for step in ROLLUPS[1:]:
                assert_matches(
                    store.query(key, D - 3 * DAY, D - 2 * DAY - 1, step),
                    expected_rollup(old_ts, np.arange(old_ts.size, dtype=np.float64) + i, step),
                )
    finally:
        store.close()


def test_a_chunk_that_does_not_decode_costs_only_its_own_points(postgres_schema, caplog):
    """A corrupt chunk is logged with its series and time range and counted; the series' other
    chunks and every other series read as before."""
    url, schema = postgres_schema
    store = PostgresStore(url, schema=schema, max_size=2)
    try:
        ts = D + np.arange(0, 3 * HOUR, 10 * SECOND, dtype=np.int64)
        store.write(
            Batch([SeriesPoints(k, ts, np.arange(ts.size) + i) for i, k in enumerate(KEYS)])
        )
        store.seal()
        with connect(url, schema) as conn:
            conn.execute(
                "UPDATE chunks SET data = %s WHERE series_id = (SELECT id FROM series"
                " WHERE key = %s) AND start = %s",
                (b"\x01" + b"\x00" * 70, str(KEYS[0]), D + HOUR),
            )
        with caplog.at_level(logging.ERROR):
            raw = store.query(KEYS[0], D, D + DAY, RAW)
            hourly = store.query(KEYS[0], D, D + DAY, BY_NAME["1h"])
        kept = (ts < D + HOUR) | (ts >= D + 2 * HOUR)
        np.testing.assert_array_equal(raw.ts, ts[kept])
        assert hourly.ts.tolist() == [D, D + 2 * HOUR]
        assert store.chunk_faults == 2
        assert f"chunk of {KEYS[0]} at [{D + HOUR}, {D + 2 * HOUR})" in caplog.text
        for i, key in enumerate(KEYS[1:], 1):
            np.testing.assert_array_equal(
                store.query(key, D, D + DAY, RAW).value, np.arange(ts.size) + i
            )
    finally:
        store.close()


# --- SQLite ---------------------------------------------------------------------------------

OLD_SQLITE_SCHEMA = """
CREATE TABLE series (
    id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, name TEXT NOT NULL, labels TEXT NOT NULL,
    unit TEXT NOT NULL DEFAULT '', first_ts INTEGER, last_ts INTEGER
);
CREATE TABLE points (
    series_id INTEGER NOT NULL REFERENCES series(id), ts INTEGER NOT NULL, value REAL NOT NULL,
    PRIMARY KEY (series_id, ts)
) WITHOUT ROWID;
"""


def test_a_row_per_point_sqlite_file_upgrades_to_chunks(tmp_path: Path, monkeypatch, capsys):
    """The embedded file of earlier versions: ``dashboard db upgrade`` seals every point into
    chunks with a progress line and shrinks the file; reads answer as before."""
    path = tmp_path / "dashboard.db"
    history = _history()
    conn = sqlite3.connect(path)
    conn.executescript(OLD_SQLITE_SCHEMA)
    for i, (key, (ts, values)) in enumerate(zip(KEYS, history, strict=True), 1):
        conn.execute(
            "INSERT INTO series VALUES (?, ?, ?, ?, '', ?, ?)",
            (
                i,
                str(key),
                key.name,
                json.dumps(key.label_dict),
                int(ts[0]),
                int(ts[-1]),
            ),
        )
        conn.executemany(
            "INSERT INTO points VALUES (?, ?, ?)",
            [(i, t, v) for t, v in zip(ts.tolist(), values.tolist(), strict=True)],
        )
    conn.commit()
    conn.close()
    size_before = path.stat().st_size

    monkeypatch.setenv("DASHBOARD_DATABASE_URL", f"sqlite:///{path}")
    assert cli_main(["db", "upgrade"]) == 0
    captured = capsys.readouterr()
    assert "sealing" in captured.err and "sealed 12," in captured.out
    assert path.stat().st_size < size_before / 2

    store = SQLiteStore(path)
    try:
        assert store.stats()["head_points"] == 0
        for key, (ts, values) in zip(KEYS, history, strict=True):
            raw = store.query(key, D - 2 * DAY, D + 2 * DAY, RAW)
            np.testing.assert_array_equal(raw.ts, ts)
            np.testing.assert_array_equal(raw.value, values)
            for step in ROLLUPS:
                assert_matches(
                    store.query(key, D - 2 * DAY, D + 2 * DAY, step),
                    expected_rollup(ts, values, step),
                )
        # a corrupt chunk: counted, and only its own points are missing
        with sqlite3.connect(path) as raw_conn:
            raw_conn.execute(
                "UPDATE chunks SET data = x'0100' WHERE series_id = 2 AND start = ?", (D,)
            )
        ts, _ = history[1]
        got = store.query(KEYS[1], D - 2 * DAY, D + 2 * DAY, RAW)
        np.testing.assert_array_equal(got.ts, ts[(ts < D) | (ts >= D + HOUR)])
        assert store.chunk_faults == 1
        assert len(store.query(KEYS[0], D - 2 * DAY, D + 2 * DAY, RAW)) == history[0][0].size
    finally:
        store.close()


_SEALER = """
import sys, time
import numpy as np
from dashboard.metrics.model import Batch, SeriesKey, SeriesPoints
from dashboard.metrics.stores.postgres import PostgresStore

url, schema, d = sys.argv[1], sys.argv[2], int(sys.argv[3])
store = PostgresStore(url, schema=schema, max_size=2)
ts = d + np.arange(0, 300, dtype=np.int64) * 1000
store.write(Batch([SeriesPoints(SeriesKey.of("kill.me", {"i": str(i)}), ts, ts / 1e12 + i)
                   for i in range(12)]))
print("written", flush=True)

def slow(done):
    print("batch", done["series"], flush=True)
    time.sleep(0.5)

store.seal(batch_series=2, progress=slow)
print("sealed", flush=True)
"""


def test_a_sealer_killed_mid_seal_loses_and_doubles_nothing(postgres_schema, tmp_path: Path):
    """SIGKILL a process in the middle of sealing its head (some batches of series committed,
    one in flight): every acknowledged point is read back once, and the next seal finishes."""
    import signal
    import subprocess
    import sys

    url, schema = postgres_schema
    script = tmp_path / "sealer.py"
    script.write_text(_SEALER)
    proc = subprocess.Popen(
        [sys.executable, str(script), url, schema, str(D)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[3],
    )
    lines = []
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.append(line.strip())
        if line.startswith("batch 4"):  # two batches committed, the third under way
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait(timeout=30)
    assert lines[0] == "written" and "sealed" not in lines

    store = PostgresStore(url, schema=schema, max_size=2)
    try:
        held = store.stats()
        assert 0 < held["chunk_points"] < 12 * 300 and held["head_points"] > 0
        ts = D + np.arange(0, 300, dtype=np.int64) * 1000
        for i in range(12):
            frame = store.query(SeriesKey.of("kill.me", {"i": str(i)}), D, D + HOUR, RAW)
            np.testing.assert_array_equal(frame.ts, ts)
            np.testing.assert_allclose(frame.value, ts / 1e12 + i)
        store.seal()
        held = store.stats()
        assert (held["head_points"], held["chunk_points"]) == (0, 12 * 300)
    finally:
        store.close()
