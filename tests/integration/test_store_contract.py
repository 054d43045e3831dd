"""One contract for every MetricStore: memory (the hot store), SQLite, and PostgreSQL.

Points in the contract are at least a second apart (the hot store keeps one point a second) and
within the last day of real time. A new store joins by adding its factory to ``FACTORIES``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import numpy as np
import pandas as pd
import pytest

from dashboard.model import Batch, SeriesKey, make_points
from dashboard.steps import BY_NAME, RAW
from dashboard.store.base import MetricStore
from dashboard.store.memory import MemoryStore
from dashboard.store.sqlite import SQLiteStore


def _memory(request: pytest.FixtureRequest, tmp_path) -> MetricStore:
    """The in-memory hot store."""
    return MemoryStore()


def _sqlite(request: pytest.FixtureRequest, tmp_path) -> MetricStore:
    """SQLite on a file."""
    return SQLiteStore(tmp_path / "contract.db")


def _postgres(request: pytest.FixtureRequest, tmp_path) -> MetricStore:
    """PostgreSQL in a schema of this test's own (the server on 127.0.0.1)."""
    url, schema = request.getfixturevalue("postgres_schema")
    from dashboard.store.postgres import PostgresStore

    return PostgresStore(url, schema=schema)


FACTORIES: dict[str, Callable[[pytest.FixtureRequest, object], MetricStore]] = {
    "memory": _memory,
    "sqlite": _sqlite,
    "postgres": _postgres,
}

CPU = SeriesKey.of("host.cpu", {"host": "a"})
CPU_B = SeriesKey.of("host.cpu", {"host": "b"})
MEM = SeriesKey.of("host.mem")


@pytest.fixture(params=list(FACTORIES))
def store(request: pytest.FixtureRequest, tmp_path) -> Iterator[MetricStore]:
    """Each store in turn."""
    instance = FACTORIES[request.param](request, tmp_path)
    yield instance
    instance.close()


def _base() -> int:
    """A start two hours ago, on a whole hour (so rollup buckets are whole)."""
    now = int(time.time() * 1000)
    return (now - 2 * 3_600_000) // 3_600_000 * 3_600_000


def _series(key: SeriesKey, t0: int, n: int, every_s: int = 1, seed: int = 0, unit: str = ""):
    """``n`` points ``every_s`` seconds apart with random values."""
    ts = t0 + np.arange(n, dtype=np.int64) * every_s * 1000
    values = np.round(np.random.default_rng(seed).normal(50, 10, n), 3)
    return make_points(key, ts, values, unit)


def test_raw_read_returns_the_points_in_range_in_order(store):
    """Inclusive bounds, time order, exact values."""
    t0 = _base()
    s = _series(CPU, t0, 600, unit="%")
    store.write(Batch([s]))
    frame = store.query(CPU, t0 + 10_000, t0 + 20_000, RAW)
    assert frame.ts.tolist() == s.ts[10:21].tolist()
    assert frame.value.tolist() == s.values[10:21].tolist()
    assert store.query(CPU, t0 - 10_000, t0 - 1, RAW).ts.size == 0


def test_series_and_labels_are_kept_apart_and_listed(store):
    """Two label sets of a name and another name stay separate; list_series knows them."""
    t0 = _base()
    store.write(
        Batch(
            [
                _series(CPU, t0, 30, unit="%"),
                _series(CPU_B, t0, 10, seed=1),
                _series(MEM, t0 + 5000, 5, seed=2, unit="B"),
            ]
        )
    )
    assert len(store.query(CPU_B, t0, t0 + 3_600_000, RAW)) == 10
    infos = {i.key: i for i in store.list_series()}
    assert set(infos) == {CPU, CPU_B, MEM}
    assert infos[CPU].unit == "%" and infos[MEM].unit == "B"
    assert (infos[MEM].first_ts, infos[MEM].last_ts) == (t0 + 5000, t0 + 9000)


def test_replays_add_nothing_and_the_first_value_is_kept(store):
    """Idempotent on series and timestamp: a replay stores nothing twice."""
    t0 = _base()
    s = _series(CPU, t0, 120)
    store.write(Batch([s]))
    store.write(Batch([s]))
    changed = make_points(CPU, s.ts[:5], s.values[:5] + 1000)
    store.write(Batch([changed]))
    frame = store.query(CPU, t0, t0 + 200_000, RAW)
    assert frame.ts.tolist() == s.ts.tolist()
    assert frame.value.tolist() == s.values.tolist()
    rollup = store.query(CPU, t0, t0 + 119_000, BY_NAME["1m"])
    assert rollup.count.tolist() == [60, 60]


@pytest.mark.parametrize("step", ["1m", "5m", "1h"])
def test_rollups_match_a_pandas_resample(store, step):
    """min, max, sum, count, last and mean per bucket, against pandas on the same points."""
    t0 = _base()
    s = _series(CPU, t0, 3 * 3600 // 7, every_s=7, seed=4)  # uneven buckets on purpose
    store.write(Batch([s]))
    end = int(s.ts[-1])
    frame = store.query(CPU, t0, end, BY_NAME[step])
    width = BY_NAME[step].width_ms
    df = pd.DataFrame({"ts": s.ts, "v": s.values})
    df = df[df.ts <= end]
    g = df.groupby(df.ts // width * width)["v"]
    expected = pd.DataFrame(
        {"min": g.min(), "max": g.max(), "sum": g.sum(), "count": g.count(), "last": g.last()}
    )
    assert frame.ts.tolist() == expected.index.tolist()
    assert frame.count.tolist() == expected["count"].tolist()
    np.testing.assert_allclose(frame.min, expected["min"])
    np.testing.assert_allclose(frame.max, expected["max"])
    np.testing.assert_allclose(frame.sum, expected["sum"], rtol=1e-9)
    np.testing.assert_allclose(frame.last, expected["last"])
    np.testing.assert_allclose(frame.value, expected["sum"] / expected["count"], rtol=1e-9)


def test_rollup_buckets_are_whole_from_the_bucket_of_start(store):
    """A range starting mid-bucket gets that whole bucket; the last bucket is whole too."""
    t0 = _base()
    store.write(Batch([_series(CPU, t0, 600)]))
    frame = store.query(CPU, t0 + 90_000, t0 + 150_000, BY_NAME["1m"])
    assert frame.ts.tolist() == [t0 + 60_000, t0 + 120_000]
    assert frame.count.tolist() == [60, 60]


def test_unknown_series_is_empty_and_ping_answers(store):
    """Reading a series nobody wrote gives an empty frame; the store answers a ping."""
    assert len(store.query(SeriesKey.of("nothing.here"), 0, 2**62, RAW)) == 0
    assert len(store.query(SeriesKey.of("nothing.here"), 0, 2**62, BY_NAME["5m"])) == 0
    assert store.ping()


def test_sqlite_keeps_data_across_reopening(tmp_path):
    """The embedded database is on disk: closing and opening again loses nothing."""
    t0 = _base()
    first = SQLiteStore(tmp_path / "reopen.db")
    first.write(Batch([_series(CPU, t0, 50)]))
    first.close()
    again = SQLiteStore(tmp_path / "reopen.db")
    assert len(again.query(CPU, t0, t0 + 100_000, RAW)) == 50
    assert [i.key for i in again.list_series()] == [CPU]
    again.close()
