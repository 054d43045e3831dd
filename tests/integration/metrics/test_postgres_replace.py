"""The PostgreSQL store's resolution rule on the real server: a replay writes nothing, a
rewrite replaces the value (the last of a batch winning) and every rollup tier follows it, also
while other writers fold into or rewrite the same buckets."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from psycopg import sql

from dashboard.metrics.model import Batch
from dashboard.metrics.steps import DAY, HOUR, RAW, ROLLUPS, SECOND
from dashboard.metrics.stores.postgres import PostgresStore
from dashboard.metrics.stores.postgres_sql import (
    COPY_STAGING_SQL,
    STAGING_DDL,
    WRITE_SQL,
    encode_copy,
)
from tests.integration.metrics.test_postgres_store import (
    CPU,
    D,
    assert_matches,
    batch,
    connect,
    expected_rollup,
)


@pytest.fixture
def store(postgres_schema):
    """A store in this test's own schema."""
    url, schema = postgres_schema
    s = PostgresStore(url, schema=schema, max_size=4, timeout=5)
    yield s
    s.close()


def _versions(url: str, schema: str) -> list[tuple]:
    """Every raw and rollup row with its creating transaction (``xmin``), in a stable order."""
    with connect(url, schema) as conn:
        rows = conn.execute(
            "SELECT xmin::text, ctid::text, series_id, ts FROM points ORDER BY series_id, ts"
        ).fetchall()
        for step in ROLLUPS:
            rows += conn.execute(
                sql.SQL(
                    "SELECT xmin::text, ctid::text, series_id, bucket FROM {} ORDER BY 3, 4"
                ).format(sql.Identifier(f"rollup_{step.name}"))
            ).fetchall()
    return rows


def test_a_replay_changes_nothing_and_a_rewrite_replaces_the_value(store, postgres_schema):
    """Writing the same points again writes no row at all; other values replace the stored
    ones (the last of a batch winning) and every rollup tier follows them exactly."""
    url, schema = postgres_schema
    ts = D + np.arange(0, 2 * HOUR, 7 * SECOND)
    values = np.arange(ts.size, dtype=float)
    store.write(batch(CPU, ts, values))
    before = _versions(url, schema)
    assert store.write_counted(batch(CPU, ts, values)) == 0
    assert _versions(url, schema) == before  # no row was rewritten, not even locked anew
    # the first 10 points get two new values in one batch (the later wins), plus 3 new points
    more = np.concatenate([ts[:10], ts[:10], ts[-1] + np.arange(1, 4) * SECOND])
    given = np.concatenate([np.full(10, 50.0), np.full(10, -5.0), np.full(3, 99.0)])
    assert store.write_counted(batch(CPU, more, given)) == 3
    values[:10] = -5.0
    all_ts, all_values = np.concatenate([ts, more[-3:]]), np.concatenate([values, given[-3:]])
    raw = store.query(CPU, D, D + DAY, RAW)
    np.testing.assert_array_equal(raw.ts, all_ts)
    np.testing.assert_array_equal(raw.value, all_values)
    # a rewrite of the middle and the last point of a bucket moves its max, min and last
    mid = ts.size // 2
    store.write(batch(CPU, ts[[mid, mid + 1]], [1e6, -1e6]))
    all_values[[mid, mid + 1]] = [1e6, -1e6]
    store.write(batch(CPU, all_ts[-1:], [123.0]))
    all_values[-1] = 123.0
    for step in ROLLUPS:
        assert_matches(
            store.query(CPU, D, D + DAY, step), expected_rollup(all_ts, all_values, step)
        )
    info = {i.key: i for i in store.list_series()}[CPU]
    assert (info.first_ts, info.last_ts) == (all_ts[0], all_ts[-1])
    assert store.write(Batch()) == 0


def test_concurrent_rewrites_of_the_same_buckets_leave_rollups_equal_to_raw(store):
    """Four threads writing other values for the same timestamps, with new points mixed in:
    whichever value each point ends with, every rollup tier equals pandas over the raw points."""
    rng = np.random.default_rng(9)
    universe = D + np.unique(rng.integers(0, 3 * HOUR, 3000))
    store.write(batch(CPU, universe[::2], np.zeros(universe[::2].size)))
    errors: list[BaseException] = []

    def writer(seed: int) -> None:
        r = np.random.default_rng(seed)
        try:
            for _ in range(10):
                pick = r.choice(universe, 400, replace=False)
                store.write(batch(CPU, pick, r.integers(-1000, 1000, pick.size) / 8.0))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    raw = store.query(CPU, D, D + DAY, RAW)
    for step in ROLLUPS:
        assert_matches(store.query(CPU, D, D + DAY, step), expected_rollup(raw.ts, raw.value, step))


def test_a_rewrite_waits_for_a_writer_folding_into_its_bucket(store, postgres_schema):
    """A rewrite recomputes its buckets only after a writer folding a new point into them has
    committed, so the recomputed rollups include that point."""
    url, schema = postgres_schema
    ts = D + np.arange(0, 50) * SECOND
    store.write(batch(CPU, ts, np.arange(50.0)))
    with connect(url, schema) as other:
        sid = other.execute("SELECT id FROM series").fetchone()[0]  # type: ignore[index]
        other.execute(STAGING_DDL)
        with other.transaction():  # another writer: a new point folded, not yet committed
            with other.cursor().copy(COPY_STAGING_SQL) as copy:
                copy.write(encode_copy(np.array([sid], np.int32), ts[-1:] + 1, np.array([-7.0])))
            other.execute(WRITE_SQL, {"ids": [], "units": []})
            rewrite = threading.Thread(target=store.write, args=(batch(CPU, ts[:1], [99.0]),))
            rewrite.start()
            rewrite.join(0.5)
            assert rewrite.is_alive()  # waiting for the rollup rows the other writer holds
        rewrite.join(10)
    raw = store.query(CPU, D, D + DAY, RAW)
    assert raw.value[0] == 99.0 and raw.value[-1] == -7.0 and raw.ts.size == 51
    for step in ROLLUPS:
        assert_matches(store.query(CPU, D, D + DAY, step), expected_rollup(raw.ts, raw.value, step))
