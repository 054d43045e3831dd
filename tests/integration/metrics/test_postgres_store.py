"""The PostgreSQL store on the real server: rollups against pandas, replays, concurrency,
retention, migrations, reopening, gevent, and the node's wiring (a server restart under
writes is in tests/faults)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import psycopg
import pytest
from psycopg import sql

from dashboard.cli import main as cli_main
from dashboard.db import migrate
from dashboard.metrics.frame import SeriesFrame
from dashboard.metrics.model import Batch, SeriesKey, SeriesPoints
from dashboard.metrics.retention import retention_once, run_retention
from dashboard.metrics.steps import BY_NAME, DAY, HOUR, MINUTE, RAW, ROLLUPS, SECOND, STEPS, Step
from dashboard.metrics.stores import open_store
from dashboard.metrics.stores.postgres import PostgresStore
from dashboard.metrics.stores.postgres_sql import partition_day, partition_name
from dashboard.runtime import Runtime
from dashboard.telemetry import Metrics

ROOT = Path(__file__).resolve().parents[3]
D = 1_700_006_400_000  # 2023-11-15 00:00 UTC
CPU = SeriesKey.of("host.cpu", {"host": "a", "dc": "eu"})
MEM = SeriesKey.of("host.mem", {"host": "a"})


@pytest.fixture
def store(postgres_schema):
    """A store in this test's own schema."""
    url, schema = postgres_schema
    s = PostgresStore(url, schema=schema, max_size=4, timeout=5)
    yield s
    s.close()


def connect(url: str, schema: str) -> psycopg.Connection:
    """An autocommit connection working in ``schema``."""
    conn = psycopg.connect(url, autocommit=True)
    conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
    return conn


def url_with_schema(url: str, schema: str) -> str:
    """The URL with ``search_path`` set through libpq's ``options``."""
    return f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"


def batch(key: SeriesKey, ts, values, unit: str = "") -> Batch:
    """A batch of one series (timestamps as given, not re-sorted)."""
    return Batch(
        [SeriesPoints(key, np.asarray(ts, dtype=np.int64), np.asarray(values, float), unit)]
    )


def expected_rollup(ts: np.ndarray, values: np.ndarray, step: Step) -> pd.DataFrame:
    """min, max, mean, count, sum and last per bucket, by pandas resampling the raw points."""
    order = np.argsort(ts, kind="stable")
    s = pd.Series(values[order], index=pd.to_datetime(ts[order], unit="ms"))
    r = s.resample(pd.Timedelta(milliseconds=step.width_ms), origin="epoch")
    out = pd.DataFrame(
        {
            "min": r.min(),
            "max": r.max(),
            "mean": r.mean(),
            "count": r.count(),
            "sum": r.sum(),
            "last": r.last(),
        }
    )
    out = out[out["count"] > 0]
    out.index = (out.index - pd.Timestamp(0)) // pd.Timedelta(milliseconds=1)
    return out


def assert_matches(frame: SeriesFrame, want: pd.DataFrame) -> None:
    """A rollup frame equals pandas' buckets: exact extremes, counts and last; the mean to 1e-9."""
    np.testing.assert_array_equal(frame.ts, want.index.to_numpy())
    np.testing.assert_array_equal(frame.count, want["count"].to_numpy())
    np.testing.assert_array_equal(frame.min, want["min"].to_numpy())
    np.testing.assert_array_equal(frame.max, want["max"].to_numpy())
    np.testing.assert_array_equal(frame.last, want["last"].to_numpy())
    np.testing.assert_allclose(frame.value, want["mean"].to_numpy(), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(frame.sum, want["sum"].to_numpy(), rtol=1e-9, atol=1e-9)


def edge_dataset(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Points from 3 h before a UTC midnight to 3 h after: random milliseconds plus every
    minute, 5-minute, hour and day edge and the millisecond either side of it."""
    lo, hi = D - 3 * HOUR, D + 3 * HOUR
    edges = np.arange(lo, hi, MINUTE, dtype=np.int64)
    ts = np.concatenate([rng.integers(lo, hi, 3000), edges, edges - 1, edges + 1, [D - 1, D]])
    ts = np.unique(ts)
    return ts, np.round(rng.normal(50, 20, ts.size), 3)


def test_rollups_match_a_pandas_resample_across_bucket_edges_and_partitions(store, postgres_schema):
    """Written out of order in batches, with a rewrite, every rollup equals pandas' resample of
    the last-written raw points; rollup reads keep working once retention dropped raw."""
    rng = np.random.default_rng(11)
    ts, values = edge_dataset(rng)
    parts = np.array_split(rng.permutation(ts.size), 6)
    for idx in parts:
        store.write(batch(CPU, ts[idx], values[idx], "%"))
    replay = parts[2]
    values[replay] += 1000
    store.write(batch(CPU, ts[replay], values[replay]))  # a rewrite replaces the values
    store.write(batch(MEM, ts[:50], -values[:50]))

    assert {partition_name(D - DAY), partition_name(D)} <= set(store.partitions())
    raw = store.query(CPU, int(ts[0]), int(ts[-1]), RAW)
    np.testing.assert_array_equal(raw.ts, ts)
    np.testing.assert_array_equal(raw.value, values)
    full = {}
    for step in ROLLUPS:
        full[step.name] = store.query(CPU, int(ts[0]), int(ts[-1]), step)
        assert_matches(full[step.name], expected_rollup(ts, values, step))

    # Ranges select buckets starting in [floor(start / width) * width, end].
    start, end = D - 2 * HOUR + 90_500, D + 5 * MINUTE
    for step in ROLLUPS:
        want = expected_rollup(ts, values, step)
        want = want[(want.index >= start // step.width_ms * step.width_ms) & (want.index <= end)]
        assert_matches(store.query(CPU, start, end, step), want)
    exact = store.query(CPU, D - 1, D, RAW)
    assert exact.ts.tolist() == [D - 1, D]

    info = {i.key: i for i in store.list_series()}
    assert info[CPU].unit == "%" and (info[CPU].first_ts, info[CPU].last_ts) == (ts[0], ts[-1])
    assert info[MEM].first_ts == ts[0] and info[MEM].last_ts == ts[49]

    # retention drops both raw days (the head sealed first, each day's buckets sealed into
    # rollup chunks): raw is gone, and the tiers kept longer than raw read as before
    assert store.retention(D + 2 * DAY + HOUR)["raw"] == ts.size + 50
    assert len(store.query(CPU, int(ts[0]), int(ts[-1]), RAW)) == 0
    assert len(store.query(CPU, int(ts[0]), int(ts[-1]), ROLLUPS[0])) == 0
    for step in ROLLUPS[1:]:
        again = store.query(CPU, int(ts[0]), int(ts[-1]), step)
        np.testing.assert_array_equal(again.ts, full[step.name].ts)
        np.testing.assert_array_equal(again.value, full[step.name].value)
        np.testing.assert_array_equal(again.count, full[step.name].count)


def test_concurrent_writers_of_the_same_buckets_count_each_point_once(store):
    """Four threads writing overlapping batches of the same series agree with pandas."""
    rng = np.random.default_rng(5)
    universe = D + np.unique(rng.integers(0, 2 * HOUR, 4000))
    value_of = {int(t): float(t % 9973) for t in universe}  # any writer writes the same value
    keys = [CPU, MEM]
    errors: list[BaseException] = []

    def writer(seed: int) -> None:
        r = np.random.default_rng(seed)
        try:
            for _ in range(12):
                pick = r.choice(universe, 600, replace=False)
                store.write(
                    Batch(
                        [
                            SeriesPoints(k, pick, np.array([value_of[int(t)] for t in pick]))
                            for k in keys
                        ]
                    )
                )
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    raw = store.query(CPU, D, D + DAY, RAW)
    for key in keys:
        raw = store.query(key, D, D + DAY, RAW)
        for step in ROLLUPS:
            assert_matches(
                store.query(key, D, D + DAY, step), expected_rollup(raw.ts, raw.value, step)
            )


def test_retention_drops_exactly_what_is_past_its_tier(store, postgres_schema):
    """Each tier loses the units (raw days, rollup buckets) that ended before now minus its
    retention, nothing else; the counts are reported, and a replay cannot bring data back."""
    now = D + 10 * DAY + 12 * HOUR + 34 * MINUTE + 56_789
    marks = [now - 400 * DAY, now - 40 * DAY, now - 8 * DAY, now - 2 * DAY, now - HOUR]
    for step in STEPS:
        unit = DAY if step == RAW else step.width_ms
        edge = (now - step.retention_ms) // unit * unit  # the first unit still inside retention
        marks += [edge - 1, edge, edge + 1, edge - unit, edge + unit - 1]
    ts = np.unique(np.array(marks, dtype=np.int64))
    values = np.arange(ts.size, dtype=float)
    store.write(batch(CPU, ts, values))
    before = {s.name: store.query(CPU, 0, now, s) for s in STEPS}

    def kept(step: Step, starts: np.ndarray) -> np.ndarray:
        unit = DAY if step == RAW else step.width_ms
        return starts // unit * unit + unit > now - step.retention_ms

    metrics = Metrics()
    dropped = retention_once(store=store, metrics=metrics, now_ms=now)
    for step in STEPS:
        frame = before[step.name]
        keep = kept(step, frame.ts)
        assert (~keep).any()
        after = store.query(CPU, 0, now, step)
        # what is kept reads as before: buckets of dropped raw days come from rollup chunks
        np.testing.assert_array_equal(after.ts, frame.ts[keep])
        np.testing.assert_array_equal(after.value, frame.value[keep])
        counted = metrics.registry.get_sample_value(
            "dashboard_retention_dropped_total", {"tier": step.name}
        )
        assert (counted or 0) == dropped[step.name]
    # raw: the points dropped; rollup tiers: the rollup chunks deleted (1m is computed from raw)
    assert dropped["raw"] == int((~kept(RAW, ts)).sum())
    assert dropped["1m"] == 0 and dropped["1d"] > 0
    days = [partition_day(n) for n in store.partitions()]
    assert min(days) == (now - DAY) // DAY * DAY
    assert {partition_name(now // DAY * DAY + i * DAY) for i in range(-1, 3)} <= set(
        store.partitions()
    )

    remaining = {s.name: store.query(CPU, 0, now, s) for s in STEPS}
    store.write(batch(CPU, ts, values))  # a late replay of everything
    for step in STEPS:
        again = store.query(CPU, 0, now, step)
        np.testing.assert_array_equal(again.ts, remaining[step.name].ts)
        np.testing.assert_array_equal(again.value, remaining[step.name].value)
    assert all(v == 0 for v in store.retention(now).values())

    url, schema = postgres_schema
    with connect(url, schema) as conn:  # another node is running retention: this one skips
        conn.execute(
            "SELECT pg_advisory_lock(%s, hashtext(current_schema()))", (0x64627274,)
        ).fetchone()
        assert store.retention(now + DAY) == {}


def test_the_retention_task_runs_at_once_then_every_hour(store):
    """``run_retention`` applies retention, counts it, then sleeps an hour between runs."""
    store.write(batch(CPU, [D, D + 1], [1.0, 2.0]))
    metrics = Metrics()
    sleeps: list[float] = []

    class Stop(Exception):
        """Ends the loop."""

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        if len(sleeps) == 2:
            raise Stop

    with pytest.raises(Stop):
        run_retention(store=store, metrics=metrics, sleep=sleep, clock=lambda: D + 3 * DAY)
    assert sleeps == [3600.0, 3600.0]
    assert (
        metrics.registry.get_sample_value("dashboard_retention_dropped_total", {"tier": "raw"})
        == 2.0
    )
    assert len(store.query(CPU, 0, D + DAY, RAW)) == 0


def test_nodes_starting_together_apply_each_migration_once(postgres_schema):
    """Stores opened at once on an empty schema all start; the migrations run exactly once."""
    url, schema = postgres_schema
    barrier = threading.Barrier(3)
    stores: list[PostgresStore] = []
    errors: list[BaseException] = []

    def start() -> None:
        barrier.wait()
        try:
            stores.append(PostgresStore(url, schema=schema, max_size=2))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert errors == [] and len(stores) == 3
        with connect(url, schema) as conn:
            rows = conn.execute("SELECT version, name FROM schema_migrations ORDER BY 1").fetchall()
            shipped = [(m.version, m.name) for m in migrate.available_migrations()]
            assert rows[:3] == [
                ("0001", "metrics"),
                ("0002", "app_tables"),
                ("0003", "app_tables_in_use"),
            ]
            assert rows == shipped
            assert migrate.upgrade(conn) == []
            with pytest.raises(psycopg.errors.CheckViolation):
                conn.execute(
                    "INSERT INTO users (username, password_hash, role, created_at)"
                    " VALUES ('x', 'h', 'root', 0)"
                )
            conn.execute(
                "INSERT INTO alert_events (rule_id, state, value, ts) VALUES ('r', 'firing', 1, 5)"
            )
            with pytest.raises(psycopg.errors.UniqueViolation):
                conn.execute(
                    "INSERT INTO alert_events (rule_id, state, ts) VALUES ('r', 'firing', 5)"
                )
            tables = {
                r[0]
                for r in conn.execute(
                    "SELECT tablename FROM pg_tables WHERE schemaname = %s", (schema,)
                )
            }
        assert {"users", "ingest_tokens", "revoked_tokens", "dashboards", "alert_rules"} <= tables
        stores[0].write(batch(CPU, [D], [1.0]))
        assert stores[1].query(CPU, D, D, RAW).value.tolist() == [1.0]
    finally:
        for s in stores:
            s.close()


def test_db_upgrade_command_applies_then_reports_up_to_date(postgres_schema, monkeypatch, capsys):
    """``dashboard db upgrade`` prints each migration it applied, then that nothing is pending."""
    url, schema = postgres_schema
    monkeypatch.setenv("DASHBOARD_DATABASE_URL", url_with_schema(url, schema))
    assert cli_main(["db", "upgrade"]) == 0
    out = capsys.readouterr().out
    assert "applied 0001_metrics" in out and "applied 0003_app_tables_in_use" in out
    assert cli_main(["db", "upgrade"]) == 0
    latest = migrate.available_migrations()[-1].version
    assert f"schema at version {latest} (up to date)" in capsys.readouterr().out


def test_data_survives_reopening_the_store(store, postgres_schema):
    """Series, points and rollups are there for a store opened later on the same schema."""
    ts = D + np.arange(100) * SECOND
    store.write(batch(CPU, ts, np.arange(100.0), "%"))
    store.close()
    url, schema = postgres_schema
    reopened = PostgresStore(url, schema=schema)
    try:
        assert [(i.key, i.unit) for i in reopened.list_series()] == [(CPU, "%")]
        assert reopened.query(CPU, D, D + DAY, RAW).value.tolist() == list(np.arange(100.0))
        assert reopened.query(CPU, D, D + DAY, BY_NAME["1h"]).count.tolist() == [100]
        assert reopened.write_counted(batch(CPU, ts, np.zeros(100))) == 0
    finally:
        reopened.close()


def test_a_node_on_postgres_warms_its_hot_store_and_caches_history(settings, postgres_schema):
    """The database URL selects PostgreSQL; a starting node loads the last 24 h into its hot
    store, and reads older history from PostgreSQL through the cache."""
    url, schema = postgres_schema
    settings.database_url = url_with_schema(url, schema)
    now = time.time_ns() // 1_000_000 // SECOND * SECOND
    recent = now - np.arange(600, 0, -1) * SECOND
    old = now - 3 * DAY + np.arange(0, 6 * HOUR, MINUTE)
    first = open_store(settings)
    assert first.kind == "postgres"
    first.write(
        batch(CPU, np.concatenate([old, recent]), np.arange(old.size + recent.size, dtype=float))
    )
    first.close()
    rt = Runtime.open(settings)
    try:
        hot = rt.hot.query(CPU, now - HOUR, now, RAW)
        np.testing.assert_array_equal(hot.ts, recent)
        step = BY_NAME["5m"]
        start, end = now - 4 * DAY, now - 2 * DAY
        got = rt.query(CPU, start, end, step)
        assert int(got.count.sum()) == old.size
        rt.query(CPU, start, end, step)
        assert rt.history.stats["l1_hits"] >= 1
    finally:
        rt.close()


def test_greenlets_share_the_pool_without_blocking_the_loop(postgres_schema):
    """In a gevent-patched process, concurrent writes through a small pool all land, and other
    greenlets keep running while a query waits on the server."""
    url, schema = postgres_schema
    script = textwrap.dedent(
        f"""
        from gevent import monkey
        monkey.patch_all()
        import gevent, numpy as np, psycopg
        from dashboard.metrics.model import Batch, SeriesKey, SeriesPoints
        from dashboard.metrics.steps import RAW
        from dashboard.metrics.stores.postgres import PostgresStore

        store = PostgresStore({url!r}, schema={schema!r}, max_size=2)
        key = SeriesKey.of("gevent.metric")
        ticks = [0]

        def ticker():
            while True:
                gevent.sleep(0.01)
                ticks[0] += 1

        def slow():
            with psycopg.connect({url!r}) as conn:
                before = ticks[0]
                conn.execute("SELECT pg_sleep(0.5)")
                return ticks[0] - before

        def write(i):
            ts = {D} + np.arange(i * 100, i * 100 + 100, dtype=np.int64) * 1000
            store.write(Batch([SeriesPoints(key, ts, np.full(100, float(i)))]))

        tick = gevent.spawn(ticker)
        sleeper = gevent.spawn(slow)
        gevent.joinall([gevent.spawn(write, i) for i in range(12)], raise_error=True)
        sleeper.join()
        tick.kill()
        print(sleeper.value, len(store.query(key, {D}, {D} + 86_400_000, RAW)))
        store.close()
        """
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, env=env
    )
    assert done.returncode == 0, done.stderr
    ticks_during_sleep, stored = map(int, done.stdout.split())
    assert stored == 1200
    assert ticks_during_sleep >= 10  # ~50 expected; a blocked loop gives 0


def test_raw_retention_is_a_setting(postgres_schema, monkeypatch):
    """``DASHBOARD_RAW_RETENTION_DAYS=3`` keeps three days of raw points (whole UTC days);
    older days leave only their rollups."""
    url, schema = postgres_schema
    monkeypatch.setenv("DASHBOARD_DATABASE_URL", url_with_schema(url, schema))
    monkeypatch.setenv("DASHBOARD_RAW_RETENTION_DAYS", "3")
    from dashboard.settings import Settings

    store = open_store(Settings())
    try:
        ts = D + np.arange(0, 6 * DAY, HOUR, dtype=np.int64)
        store.write(batch(CPU, ts, np.arange(ts.size, dtype=float)))
        now = D + 6 * DAY + HOUR
        store.retention(now)  # type: ignore[attr-defined]
        raw = store.query(CPU, D, now, RAW)
        assert raw.ts[0] == D + 3 * DAY and raw.ts[-1] == ts[-1]  # three days back, and today
        hourly = store.query(CPU, D, now, BY_NAME["1h"])
        np.testing.assert_array_equal(hourly.ts, ts)  # the older days' buckets remain
    finally:
        store.close()
