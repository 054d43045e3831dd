"""The hot store: the store surface, the budget, eviction, loading from the database."""

from __future__ import annotations

import threading

import numpy as np
from hypothesis import HealthCheck, given, settings

from dashboard.metrics.frame import SeriesFrame, empty_frame
from dashboard.metrics.model import Batch, SeriesKey, make_points
from dashboard.metrics.steps import DAY, HOUR, MINUTE, RAW, ROLLUPS, SECOND
from dashboard.metrics.stores.hot import LOAD_THROUGH, HotStore
from tests.unit.metrics.streams import STREAMS, T0, Reference, batches, check_buckets, check_raw

KEY = SeriesKey.of("cpu", {"host": "a"})
M1 = ROLLUPS[0]
ALL = (0, 2**62)


def _batch(key: SeriesKey, ts: list[int] | np.ndarray, values: list[float] | np.ndarray) -> Batch:
    """One series' points as a batch."""
    return Batch([make_points(key, ts, values, unit="%")])


def _hour(store: HotStore, key: SeriesKey, start: int = T0) -> None:
    """An hour of one-second points for ``key``."""
    ts = start + np.arange(3600, dtype=np.int64) * SECOND
    store.write(_batch(key, ts, np.arange(3600) % 97 * 1.5))


class FakeDatabase:
    """A loader over points kept here, recording what it was asked."""

    def __init__(self, points: dict[SeriesKey, tuple[np.ndarray, np.ndarray]]) -> None:
        """The database's points by series."""
        self.points = points
        self.calls: list[tuple[SeriesKey, int, int]] = []

    def __call__(self, key: SeriesKey, start_ms: int, end_ms: int) -> SeriesFrame:
        """Raw points of ``key`` in ``[start_ms, end_ms]``."""
        self.calls.append((key, start_ms, end_ms))
        if key not in self.points:
            return empty_frame(key, RAW)
        ts, values = self.points[key]
        mask = (ts >= start_ms) & (ts <= end_ms)
        return SeriesFrame(key, RAW, ts[mask], values[mask])


def test_store_surface_and_frames() -> None:
    """Raw frames hold every point; rollup frames hold avg, min, max, count, sum and last."""
    store = HotStore()
    assert store.kind == "memory" and store.ping() and store.newest_ts() == -1
    assert store.write(_batch(KEY, [T0 + 1, T0 + 2, T0 + 3, T0 + 4, T0 + 5], [4, 1, 5, 3, 7])) == 5
    raw = store.query(KEY, *ALL, RAW)
    assert raw.ts.tolist() == [T0 + 1, T0 + 2, T0 + 3, T0 + 4, T0 + 5]
    assert raw.value.tolist() == [4, 1, 5, 3, 7]
    frame = store.query(KEY, *ALL, M1)
    assert frame.ts.tolist() == [T0 // MINUTE * MINUTE]
    assert (frame.value[0], frame.min[0], frame.max[0]) == (4.0, 1.0, 7.0)
    assert (frame.count[0], frame.sum[0], frame.last[0]) == (5, 20.0, 7.0)
    [info] = store.list_series()
    assert (info.key, info.unit, info.first_ts, info.last_ts) == (KEY, "%", T0 + 1, T0 + 5)
    assert store.newest_ts() == T0 + 5
    assert len(store.query(SeriesKey.of("nothing"), *ALL, RAW)) == 0
    assert store.stats()["hits"] == 2 and store.stats()["misses"] == 1
    store.write(_batch(KEY, [T0 + 5 + DAY, T0, T0 + 6], [1, 2, 3]))  # T0 is now too old
    assert store.stats()["refused"] == 1
    store.close()


def test_one_point_series_costs_at_most_4_kib() -> None:
    """A series with one point, key and bookkeeping included, fits in 4 KiB."""
    store = HotStore()
    key = SeriesKey.of("node_cpu_seconds_total", {"cpu": "0", "mode": "idle"})
    store.write(_batch(key, [T0], [1]))
    assert 0 < store.memory_bytes() <= 4096
    assert store.stats()["points"] == 1


def test_budget_evicts_the_least_recently_read() -> None:
    """Over budget, never-read and then least recently read series go first."""
    keys = [SeriesKey.of("m", {"i": str(i)}) for i in range(4)]
    probe = HotStore()
    _hour(probe, keys[0])
    one = probe.memory_bytes()
    store = HotStore(max_bytes=int(one * 3.5))
    for key in keys[:3]:
        _hour(store, key)
    store.query(keys[0], *ALL, RAW)
    store.query(keys[1], *ALL, RAW)
    store.query(keys[0], *ALL, RAW)  # keys[1] is now the least recently read
    _hour(store, keys[3])  # never read: it is evicted first, then keys[2] was never read either
    held = {info.key for info in store.list_series()}
    assert keys[0] in held and keys[1] in held and keys[3] not in held
    stats = store.stats()
    assert stats["evictions"] >= 1 and stats["bytes"] <= int(one * 3.5)
    assert stats["series"] == len(held) and stats["max_bytes"] == int(one * 3.5)
    assert store.memory_bytes() == stats["bytes"]


def test_budget_accounting_follows_the_series() -> None:
    """The byte total is the sum of what the series hold, and drops when they are evicted."""
    store = HotStore(max_bytes=1)
    _hour(store, KEY)
    assert store.memory_bytes() == 0 and store.stats()["series"] == 0
    assert store.stats()["evictions"] == 1


def test_first_read_loads_from_the_database() -> None:
    """A series not held is loaded on its first read, then served from memory."""
    ts = T0 + np.arange(0, 2 * HOUR, 500, dtype=np.int64)
    db = FakeDatabase({KEY: (ts, np.arange(ts.size, dtype=np.float64))})
    store = HotStore(loader=db)
    end = int(ts[-1])
    frame = store.query(KEY, end - HOUR, end, RAW)
    assert frame.ts.tolist() == ts[ts >= end - HOUR].tolist()
    assert db.calls == [(KEY, end - HOUR, LOAD_THROUGH)]
    again = store.query(KEY, end - 30 * MINUTE, end, M1)
    assert again.count.sum() == (ts >= (end - 30 * MINUTE) // MINUTE * MINUTE).sum()
    assert len(db.calls) == 1
    wider = store.query(KEY, int(ts[0]), end, RAW)  # reaches before what is held: the gap only
    assert db.calls[-1] == (KEY, int(ts[0]), end - HOUR - 1)
    np.testing.assert_array_equal(wider.ts, ts)
    assert store.held_from(KEY) == int(ts[0])
    stats = store.stats()
    assert (stats["loads"], stats["misses"], stats["hits"]) == (2, 2, 1)
    assert len(store.query(SeriesKey.of("unknown"), *ALL, RAW)) == 0
    assert store.held_from(SeriesKey.of("unknown")) is None


def test_a_first_read_of_an_older_stretch_holds_what_follows_it() -> None:
    """A first read of an hour in the past loads through the newest point: a later read of
    what came after that hour is whole (a zoom, then back to live)."""
    ts = T0 + np.arange(0, 3 * HOUR, SECOND, dtype=np.int64)
    db = FakeDatabase({KEY: (ts, np.ones(ts.size))})
    store = HotStore(loader=db)
    assert len(store.query(KEY, T0, T0 + HOUR, RAW)) == HOUR // SECOND + 1
    later = store.query(KEY, T0 + HOUR, int(ts[-1]), RAW)
    np.testing.assert_array_equal(later.ts, ts[ts >= T0 + HOUR])
    assert len(db.calls) == 1


def test_a_first_rollup_read_from_mid_bucket_answers_whole_buckets() -> None:
    """A rollup read loads from the start of its first bucket, so that bucket is whole."""
    minute = T0 // MINUTE * MINUTE
    ts = np.array([minute + 10 * SECOND, minute + 50 * SECOND], dtype=np.int64)
    db = FakeDatabase({KEY: (ts, np.array([1.0, 3.0]))})
    store = HotStore(loader=db)
    frame = store.query(KEY, minute + 30 * SECOND, minute + 59 * SECOND, M1)
    assert (frame.count.tolist(), frame.min.tolist(), frame.max.tolist()) == ([2], [1.0], [3.0])
    assert db.calls == [(KEY, minute, LOAD_THROUGH)]


def test_loaded_points_never_override_newer_writes() -> None:
    """A series written first is completed from the database only before its first write."""
    ts = T0 + np.arange(0, HOUR, SECOND, dtype=np.int64)
    db = FakeDatabase({KEY: (ts, np.zeros(ts.size))})
    store = HotStore(loader=db)
    live = int(ts[-10])
    store.write(_batch(KEY, [live, live + SECOND], [42.0, 43.0]))
    assert store.held_from(KEY) == live
    frame = store.query(KEY, int(ts[0]), live + SECOND, RAW)
    assert db.calls == [(KEY, int(ts[0]), live - 1)]
    assert frame.value[frame.ts == live].tolist() == [42.0]
    assert frame.ts.size == ts.size - 9 + 1
    assert store.query(KEY, int(ts[0]), live, RAW).ts.size == ts.size - 9
    assert len(db.calls) == 1


def test_a_series_dropped_while_its_gap_loads_is_loaded_whole() -> None:
    """If the series goes while the gap before it loads, the read loads the whole range."""
    ts = T0 + np.arange(0, HOUR, SECOND, dtype=np.int64)
    db = FakeDatabase({KEY: (ts, np.ones(ts.size))})

    def dropping(key: SeriesKey, start_ms: int, end_ms: int) -> SeriesFrame:
        """The database, with the series dropped from the store during the first load."""
        if not db.calls:
            assert store.drop(key) and not store.drop(key)
        return db(key, start_ms, end_ms)

    store = HotStore(loader=dropping)
    store.write(_batch(KEY, [int(ts[-1])], [1.0]))
    frame = store.query(KEY, int(ts[0]), int(ts[-1]), RAW)
    np.testing.assert_array_equal(frame.ts, ts)
    assert db.calls == [(KEY, int(ts[0]), int(ts[-1]) - 1), (KEY, int(ts[0]), LOAD_THROUGH)]
    assert store.memory_bytes() == store.stats()["bytes"] > 0


def test_loads_stay_within_the_raw_retention() -> None:
    """A long read loads at most the raw retention; older history is the database's."""
    db = FakeDatabase({})
    store = HotStore(loader=db)
    store.query(KEY, T0 - 30 * DAY, T0, ROLLUPS[3])
    assert db.calls == [(KEY, T0 - DAY, LOAD_THROUGH)]


def test_concurrent_writers_and_readers() -> None:
    """Writes and reads from several threads keep every point."""
    store = HotStore(max_bytes=50_000_000)
    keys = [SeriesKey.of("t", {"i": str(i)}) for i in range(8)]
    errors: list[BaseException] = []

    def writer(k: int) -> None:
        """Write 500 live points of one series."""
        try:
            for s in range(500):
                store.write(_batch(keys[k], [T0 + s * 100], [float(s)]))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    def reader() -> None:
        """Read every series' 1m buckets, over and over."""
        try:
            for _ in range(200):
                for key in keys:
                    store.query(key, *ALL, M1)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(8)]
    threads.append(threading.Thread(target=reader))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert all(len(store.query(key, *ALL, RAW)) == 500 for key in keys)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(STREAMS)
def test_random_streams_match_the_pandas_reference(stream) -> None:
    """Random streams written as batches: raw and every rollup match the pandas reference."""
    store = HotStore()
    other = SeriesKey.of("other")
    ref = Reference()
    for ts, values, single in batches(stream):
        if single:
            for i in range(ts.size):
                store.write(_batch(KEY, ts[i : i + 1], values[i : i + 1]))
                ref.write(ts[i : i + 1], values[i : i + 1])
        else:
            store.write(Batch([make_points(KEY, ts, values), make_points(other, ts, -values)]))
            ref.write(ts, values)
    raw = store.query(KEY, *ALL, RAW)
    if not ref.points:  # a stream of gaps only
        assert len(raw) == 0 and len(store.query(KEY, *ALL, M1)) == 0
        return
    check_raw(raw.ts, raw.value, ref)
    for step in ROLLUPS:
        f = store.query(KEY, *ALL, step)
        got = {"start": f.ts, "count": f.count, "sum": f.sum, "min": f.min, "max": f.max}
        check_buckets(step, {**got, "last": f.last}, ref)
        np.testing.assert_allclose(f.value, f.sum / f.count)
    assert store.stats()["points"] >= len(raw)
