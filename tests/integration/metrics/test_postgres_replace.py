"""The PostgreSQL store's resolution rule on the real server: a replay writes nothing, a
rewrite replaces the value (the last of a batch winning) and every rollup tier follows it, also
while other writers rewrite the same points, and after the head is sealed into chunks."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from dashboard.metrics.model import Batch
from dashboard.metrics.steps import DAY, HOUR, RAW, ROLLUPS, SECOND
from dashboard.metrics.stores.postgres import PostgresStore
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
    """Every head and chunk row with its creating transaction (``xmin``), in a stable order."""
    with connect(url, schema) as conn:
        rows = conn.execute(
            "SELECT xmin::text, ctid::text, series_id, ts FROM points ORDER BY series_id, ts"
        ).fetchall()
        rows += conn.execute(
            "SELECT xmin::text, ctid::text, series_id, start FROM chunks ORDER BY 3, 4"
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

    # sealed into chunks: the same answers; a replay of sealed points is not new, and once
    # sealed again it leaves every chunk's points as they were
    store.seal()
    held = store.stats()
    assert (held["head_points"], held["chunk_points"]) == (0, all_ts.size)
    before = _versions(url, schema)
    for step in (RAW, *ROLLUPS):
        got = store.query(CPU, D, D + DAY, step)
        if step == RAW:
            np.testing.assert_array_equal(got.value, all_values)
        else:
            assert_matches(got, expected_rollup(all_ts, all_values, step))
    assert store.write_counted(batch(CPU, all_ts, all_values)) == 0
    store.seal()
    np.testing.assert_array_equal(store.query(CPU, D, D + DAY, RAW).value, all_values)
    assert _versions(url, schema) == before  # no chunk was rewritten


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
