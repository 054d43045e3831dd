"""The querier's batched reads and one-hour rollups against the plain per-series RAW path."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from dashboard.metrics import chunks
from dashboard.metrics.frame import SeriesFrame, SeriesInfo
from dashboard.metrics.model import Batch, SeriesKey, SeriesPoints
from dashboard.metrics.steps import HOUR, RAW, Step
from dashboard.metrics.stores.hot import HotStore
from dashboard.query import rangefns
from dashboard.query.engine import Engine
from dashboard.query.parse import Matcher
from dashboard.query.samples import RawSeries, Samples
from dashboard.query.service import StoreQuerier
from dashboard.query.values import Block

T0 = 1_700_000_000_000 // HOUR * HOUR


class PlainReader:
    """The store read one series at a time (no batched read, no rollups, no index)."""

    def __init__(self, store: HotStore) -> None:
        """Wrap ``store``."""
        self.store = store

    def series_list(self) -> list[SeriesInfo]:
        """Every series held."""
        return self.store.list_series()

    def query(self, key: SeriesKey, start_ms: int, end_ms: int, step: Step) -> SeriesFrame:
        """One series' points."""
        return self.store.query(key, start_ms, end_ms, step)


class FastReader(PlainReader):
    """The store with its batched read, rollups and series version."""

    def query_many(
        self, keys: Sequence[SeriesKey], start_ms: int, end_ms: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Many series' RAW points."""
        return self.store.query_many(keys, start_ms, end_ms)

    def newest_many(
        self, keys: Sequence[SeriesKey], start_ms: int, end_ms: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Many series' newest RAW point in the range."""
        self.newest_reads = getattr(self, "newest_reads", 0) + 1
        return self.store.newest_many(keys, start_ms, end_ms)

    def hour_buckets_many(
        self, keys: Sequence[SeriesKey], start_ms: int, end_ms: int
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """Many series' hour buckets, or None."""
        self.bucket_reads = getattr(self, "bucket_reads", 0) + 1
        got = self.store.hour_buckets_many(keys, start_ms, end_ms)
        self.bucket_answers = getattr(self, "bucket_answers", 0) + (got is not None)
        return got

    def series_version(self) -> object:
        """Changes when a series is added or removed."""
        return self.store.series_version()


def _write_random(store: HotStore, rng: np.random.Generator, series: int, hours: int) -> None:
    """Gauges and counters (with resets), written out of order, with repeated timestamps, in
    several batches; timestamps jittered to the millisecond, never on an hour boundary."""
    for i in range(series):
        n = int(rng.integers(0, 400))
        ts = T0 + rng.integers(0, hours * HOUR, n)
        ts = ts[ts % HOUR != 0]
        if i % 2:
            values = np.cumsum(rng.integers(0, 5, ts.size)).astype(float)
            values[rng.random(ts.size) < 0.02] = 0.0  # resets
        else:
            values = rng.normal(0, 100, ts.size).round(int(rng.integers(0, 3)))
        if ts.size:  # a few repeated timestamps with other values
            ts = np.concatenate((ts, ts[: ts.size // 10]))
            values = np.concatenate((values, values[: values.size // 10] + 1))
        key = SeriesKey.of("m", {"i": str(i), "kind": "counter" if i % 2 else "gauge"})
        for part in np.array_split(rng.permutation(ts.size), 3):
            store.write(Batch([SeriesPoints(key, ts[part], values[part])]))


def _labelled(value: object) -> dict[tuple, np.ndarray]:
    """A Block's rows by sorted labels, masked entries as NaN."""
    assert isinstance(value, Block)
    return {
        tuple(sorted(lab.items())): np.where(m, v, np.nan)
        for lab, v, m in zip(value.labels, value.values, value.mask, strict=True)
    }


def test_query_many_equals_one_series_at_a_time() -> None:
    rng = np.random.default_rng(7)
    store = HotStore()
    _write_random(store, rng, 40, 5)
    keys = [i.key for i in store.list_series()] + [SeriesKey.of("absent")]
    for _ in range(30):
        a, b = sorted(int(x) for x in T0 + rng.integers(-HOUR, 6 * HOUR, 2))
        ts, values, offsets = store.query_many(keys, a, b)
        assert offsets.size == len(keys) + 1
        for i, key in enumerate(keys):
            frame = store.query(key, a, b, RAW)
            lo, hi = int(offsets[i]), int(offsets[i + 1])
            np.testing.assert_array_equal(ts[lo:hi], frame.ts)
            np.testing.assert_array_equal(values[lo:hi], frame.value)


def test_newest_many_is_the_last_point_of_query_many() -> None:
    rng = np.random.default_rng(11)
    store = HotStore()
    _write_random(store, rng, 40, 5)  # heads, several chunks, late points merged in
    keys = [i.key for i in store.list_series()] + [SeriesKey.of("absent")]
    chunk_edges = [
        int(t)
        for e in store._entries.values()
        for blob in e.series.sealed()
        for t in (chunks.first_ts(blob), chunks.last_ts(blob))
    ]
    ends = [int(x) for x in T0 + rng.integers(-HOUR, 6 * HOUR, 40)] + chunk_edges[:40]
    for end in ends:
        for start in (end - 5 * 60_000, end - 7 * HOUR, end, end + 1):
            ts, values, offsets = store.newest_many(keys, start, end)
            all_ts, all_values, all_offsets = store.query_many(keys, start, end)
            for i in range(len(keys)):
                lo, hi = int(all_offsets[i]), int(all_offsets[i + 1])
                want = [(all_ts[hi - 1], all_values[hi - 1])] if hi > lo else []
                a, b = int(offsets[i]), int(offsets[i + 1])
                got = list(zip(ts[a:b], values[a:b], strict=True))
                assert got == want, (keys[i], start, end)


@pytest.mark.parametrize("seed", [1, 2])
def test_instant_queries_equal_through_either_reader(seed: int) -> None:
    rng = np.random.default_rng(seed)
    store = HotStore()
    _write_random(store, rng, 30, 6)
    fast, plain = FastReader(store), PlainReader(store)
    queries = ["m", 'sum by (kind) (m{kind="gauge"})', "max by (kind) (m)", "m offset 7m"]
    for at in [int(x) for x in T0 + rng.integers(0, 7 * HOUR, 25)]:
        for query in queries:
            got = _labelled(Engine(StoreQuerier(fast)).instant(query, at))
            want = _labelled(Engine(StoreQuerier(plain)).instant(query, at))
            assert got.keys() == want.keys()
            for k in want:
                np.testing.assert_array_equal(got[k], want[k])
    assert fast.newest_reads >= 25 * 4  # the instant selectors read only the newest points


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_range_queries_equal_through_either_reader(seed: int) -> None:
    rng = np.random.default_rng(seed)
    store = HotStore()
    _write_random(store, rng, 30, 6)
    fast, plain = FastReader(store), PlainReader(store)
    queries = [
        'rate(m{kind="counter"}[5m])',
        "sum by (kind) (increase(m[10m]))",
        "m",
        "resets(m[15m])",
        "max_over_time(m[7m])",
    ]
    for query in queries:
        args = (query, T0 + 17_000, T0 + 6 * HOUR, 60_000)
        got = _labelled(Engine(StoreQuerier(fast)).range(*args))
        want = _labelled(Engine(StoreQuerier(plain)).range(*args))
        assert got.keys() == want.keys()
        for k in want:
            np.testing.assert_array_equal(got[k], want[k])


@pytest.mark.parametrize("seed", [4, 5, 6, 7])
@pytest.mark.parametrize("fn", ["sum", "count", "avg", "min", "max", "last"])
def test_over_time_from_hour_rollups_equals_raw(seed: int, fn: str) -> None:
    rng = np.random.default_rng(seed)
    store = HotStore()
    _write_random(store, rng, 20, 8)
    fast, plain = FastReader(store), PlainReader(store)
    for hours, step_h in ((1, 1), (2, 1), (3, 2), (1, 3)):
        query = f"{fn}_over_time(m[{hours}h])"
        args = (query, T0 + HOUR, T0 + 9 * HOUR, step_h * HOUR)
        got = _labelled(Engine(StoreQuerier(fast)).range(*args))
        want = _labelled(Engine(StoreQuerier(plain)).range(*args))
        assert got.keys() == want.keys()
        for k in want:
            np.testing.assert_allclose(got[k], want[k], rtol=1e-12, atol=1e-9)
    assert fast.bucket_answers == fast.bucket_reads == 4  # every query used the rollups


def test_hours_of_several_chunks_and_the_head_merge() -> None:
    rng = np.random.default_rng(9)
    store = HotStore()
    for i in range(3):  # 9,000 points an hour: more than one chunk, and the head, an hour
        ts = np.sort(rng.choice(np.arange(1, 3 * HOUR, 100), 9_000 * 3, replace=False))
        key = SeriesKey.of("m", {"i": str(i)})
        for part in np.array_split(np.arange(ts.size), 7):
            store.write(Batch([SeriesPoints(key, T0 + ts[part], rng.normal(0, 9, part.size))]))
    assert max(e.series.chunk_count for e in store._entries.values()) > 3
    fast, plain = FastReader(store), PlainReader(store)
    for fn in ("sum", "count", "avg", "min", "max", "last"):
        args = (f"{fn}_over_time(m[1h])", T0 + HOUR, T0 + 3 * HOUR, HOUR)
        got = _labelled(Engine(StoreQuerier(fast)).range(*args))
        want = _labelled(Engine(StoreQuerier(plain)).range(*args))
        assert got.keys() == want.keys()
        for k in want:
            np.testing.assert_allclose(got[k], want[k], rtol=1e-9, atol=1e-9)
    assert fast.bucket_answers == fast.bucket_reads == 6


def test_a_point_on_an_hour_boundary_reads_raw_points() -> None:
    store = HotStore()
    key = SeriesKey.of("m")
    ts = np.array([T0 + HOUR - 5, T0 + HOUR, T0 + HOUR + 5, T0 + 2 * HOUR + 1], dtype=np.int64)
    store.write(Batch([SeriesPoints(key, ts, np.array([1.0, 2.0, 4.0, 8.0]))]))
    fast, plain = FastReader(store), PlainReader(store)
    for fn in ("sum", "count", "max", "last"):
        args = (f"{fn}_over_time(m[1h])", T0 + HOUR, T0 + 3 * HOUR, HOUR)
        got = _labelled(Engine(StoreQuerier(fast)).range(*args))
        want = _labelled(Engine(StoreQuerier(plain)).range(*args))
        assert got.keys() == want.keys()
        for k in want:
            np.testing.assert_array_equal(got[k], want[k])
    assert fast.bucket_answers == 0 and fast.bucket_reads == 4
    # at T0 + 1h the window (T0, T0 + 1h] holds the boundary point, the bucket [T0, +1h) not
    assert _labelled(Engine(StoreQuerier(plain)).instant("sum_over_time(m[1h])", T0 + HOUR))[
        ()
    ].tolist() == [3.0]


def test_the_series_index_follows_added_and_dropped_series() -> None:
    store = HotStore()
    reader = FastReader(store)
    one, two = SeriesKey.of("m", {"a": "1"}), SeriesKey.of("m", {"a": "2"})
    store.write(Batch([SeriesPoints(one, np.array([T0]), np.array([1.0]))]))
    first = StoreQuerier(reader).select([Matcher("__name__", "=", "m")], T0 - 1, T0 + 10)
    assert [s.labels for s in first] == [{"__name__": "m", "a": "1"}]
    first[0].labels["a"] = "changed"  # callers get copies: the index is not touched
    store.write(Batch([SeriesPoints(two, np.array([T0 + 1]), np.array([2.0]))]))
    both = StoreQuerier(reader).select([Matcher("__name__", "=", "m")], T0 - 1, T0 + 10)
    assert [s.labels["a"] for s in both] == ["1", "2"]
    store.drop(one)
    left = StoreQuerier(reader).select([Matcher("a", "=~", ".+")], T0 - 1, T0 + 10)
    assert [s.labels["a"] for s in left] == ["2"]


def test_rate_in_blocks_equals_rate_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(11)
    series = []
    for i in range(25):
        ts = np.sort(rng.choice(np.arange(0, 3_600_000, 1000), 300, replace=False))
        v = np.cumsum(rng.integers(0, 9, ts.size)).astype(float)
        v[rng.random(ts.size) < 0.05] = 0.0
        series.append(RawSeries({"i": str(i)}, ts.astype(np.int64), v))
    samples = Samples.of(series, -1)
    times = np.arange(300_000, 3_600_000, 15_000, dtype=np.int64)
    lo, hi = samples.windows(times - 300_000, times)
    np.testing.assert_array_equal(lo, samples.positions(times - 300_000))
    np.testing.assert_array_equal(hi, samples.positions(times))
    w = rangefns.Windows(samples, lo, hi, times - 300_000, times, 300.0)
    whole = rangefns.extrapolated_rate(w, True, True)
    monkeypatch.setattr(rangefns, "_BLOCK", 500)
    blocked = rangefns.extrapolated_rate(w, True, True)
    np.testing.assert_array_equal(whole[0], blocked[0])
    np.testing.assert_array_equal(whole[1], blocked[1])
