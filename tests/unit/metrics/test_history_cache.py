"""The history cache: bounded LRU with TTL, block reads equal to store reads, the open bucket
always fresh, late points invalidating, and the compact encoding (no servers: the store behind
the cache is the embedded SQLite store, in memory, which keeps history of any age). The block
planning itself is tested in test_history_plan.py."""

from __future__ import annotations

import numpy as np
import pytest

from dashboard.metrics.frame import SeriesFrame
from dashboard.metrics.history_plan import block_width
from dashboard.metrics.model import Batch, SeriesKey, SeriesPoints
from dashboard.metrics.steps import BY_NAME, MINUTE, RAW, SECOND, STEPS, Step
from dashboard.metrics.stores.history_cache import (
    HistoryCache,
    LRUCache,
    decode_frame,
    encode_frame,
)
from dashboard.metrics.stores.sqlite import SQLiteStore

KEY = SeriesKey.of("cache.metric", {"host": "a"})
# A day start (UTC), so block and bucket edges are easy to reason about.
T0 = 1_700_006_400_000


class Clock:
    """A settable monotonic clock in seconds."""

    def __init__(self) -> None:
        """Start at zero."""
        self.now = 0.0

    def __call__(self) -> float:
        """The current reading."""
        return self.now


class CountingStore:
    """A real (embedded) store that counts the reads reaching it."""

    def __init__(self) -> None:
        """An empty store."""
        self.store = SQLiteStore(":memory:")
        self.reads: list[tuple[int, int, str]] = []

    def write(self, ts: list[int] | np.ndarray, values: list[float] | np.ndarray) -> None:
        """Write points of the one test series."""
        ts_arr = np.asarray(ts, dtype=np.int64)
        self.store.write(Batch([SeriesPoints(KEY, ts_arr, np.asarray(values, dtype=float))]))

    def query(self, key: SeriesKey, start: int, end: int, step: Step) -> SeriesFrame:
        """The store's answer, counted."""
        self.reads.append((start, end, step.name))
        return self.store.query(key, start, end, step)


def assert_same(a: SeriesFrame, b: SeriesFrame) -> None:
    """Two frames hold the same rows and columns."""
    np.testing.assert_array_equal(a.ts, b.ts)
    np.testing.assert_array_equal(a.value, b.value)
    for name in ("min", "max", "count", "sum", "last"):
        x, y = getattr(a, name), getattr(b, name)
        if len(a) and (x is not None or y is not None):
            np.testing.assert_array_equal(x, y)


def filled_store(hours: int = 6) -> CountingStore:
    """A store with a point every 7 s for ``hours`` hours from T0."""
    store = CountingStore()
    ts = T0 + np.arange(0, hours * 3600, 7, dtype=np.int64) * SECOND
    store.write(ts, np.sin(np.arange(ts.size) / 50.0) * 100)
    return store


def test_lru_keeps_at_most_max_entries_and_evicts_least_recently_used() -> None:
    """Beyond the bound the least recently used entry goes; a read counts as a use."""
    cache = LRUCache(max_entries=3, ttl_s=60)
    for k in "abc":
        cache.put(k, k.upper())
    assert cache.get("a") == "A"  # a is now the most recently used
    cache.put("d", "D")
    assert len(cache) == 3
    assert cache.get("b") is None
    assert [cache.get(k) for k in "acd"] == ["A", "C", "D"]


def test_lru_bounds_bytes_too() -> None:
    """Entries are evicted until the declared bytes fit the budget."""
    cache = LRUCache(max_entries=100, ttl_s=60, max_bytes=1000)
    for i in range(5):
        cache.put(i, i, nbytes=300)
    assert cache.nbytes <= 1000
    assert [cache.get(i) for i in range(5)] == [None, None, 2, 3, 4]


def test_lru_entries_expire_after_their_ttl() -> None:
    """An entry is served until its TTL passes, then it is gone."""
    clock = Clock()
    cache = LRUCache(max_entries=10, ttl_s=30, clock=clock)
    cache.put("k", 1)
    clock.now = 29.9
    assert cache.get("k") == 1
    clock.now = 30.0
    assert cache.get("k") is None
    assert len(cache) == 0


@pytest.mark.parametrize("step", STEPS, ids=lambda s: s.name)
def test_cached_reads_equal_store_reads(step: Step) -> None:
    """Any range, edges included, reads the same through the cache as from the store, twice."""
    store = filled_store()
    cache = HistoryCache(LRUCache(ttl_s=600))
    now = T0 + 6 * 3600 * SECOND + 12_345
    rng = np.random.default_rng(3)
    w = step.width_ms
    edges = [T0, T0 + w, T0 + 3 * w - 1, T0 + block_width(step), now - 1, now]
    ranges = [
        (T0 - w, now),
        (T0 + 1, T0 + 2 * 3600 * SECOND),
        *zip(edges, edges[::-1], strict=True),
    ]
    ranges += [tuple(sorted(rng.integers(T0 - MINUTE, now + MINUTE, 2))) for _ in range(20)]
    for start, end in ranges:
        for _ in range(2):
            got = cache.read(KEY, int(start), int(end), step, now=now, load=store.query)
            assert_same(got, store.store.query(KEY, int(start), int(end), step))


def test_closed_history_is_read_from_the_store_once() -> None:
    """A second read of the same history is served from memory: only the open bucket is re-read."""
    store = filled_store(hours=13)
    cache = HistoryCache(LRUCache(ttl_s=600))
    step = BY_NAME["1m"]
    now = T0 + 2 * block_width(step) + 5 * MINUTE + 20 * SECOND  # two closed blocks, a prefix
    start, end = T0 + 30 * MINUTE, now
    first = cache.read(KEY, start, end, step, now=now, load=store.query)
    reads_after_first = len(store.reads)
    again = cache.read(KEY, start, end, step, now=now, load=store.query)
    assert_same(first, again)
    assert cache.stats["l1_hits"] == 3
    open_bucket = now // MINUTE * MINUTE
    assert store.reads[reads_after_first:] == [(open_bucket, end, "1m")]


def test_the_closed_part_of_the_open_block_is_cached_until_the_next_bucket() -> None:
    """Within one bucket the closed prefix is reused; a new bucket closes the last one, which is
    then read complete."""
    store = CountingStore()
    cache = HistoryCache(LRUCache(ttl_s=600))
    step = BY_NAME["5m"]
    now = T0 + block_width(step) + 12 * MINUTE  # the open block is 12 minutes old
    store.write([T0, now - 3 * MINUTE, now + 30 * SECOND], [1.0, 2.0, 3.0])
    cache.read(KEY, T0, now + MINUTE, step, now=now, load=store.query)
    reads = len(store.reads)
    got = cache.read(KEY, T0, now + MINUTE, step, now=now + 40 * SECOND, load=store.query)
    assert len(store.reads) == reads + 1  # the open bucket only
    assert got.count.tolist() == [1, 1, 1]
    store.write([now + 2 * MINUTE], [4.0])  # still the bucket that was open
    later = now + 5 * MINUTE  # a new bucket: the previous one is closed now
    got = cache.read(KEY, T0, later, step, now=later, load=store.query)
    assert got.count.tolist() == [1, 1, 2]
    assert_same(got, store.store.query(KEY, T0, later, step))


def test_the_open_bucket_is_never_served_stale() -> None:
    """Points that arrive in the current bucket after a read show in the next read."""
    store = CountingStore()
    cache = HistoryCache(LRUCache(ttl_s=600))
    step = BY_NAME["5m"]
    now = T0 + block_width(step) + 7 * MINUTE + 30 * SECOND  # T0's block is closed
    open_bucket = now // step.width_ms * step.width_ms
    store.write([T0, open_bucket + SECOND], [1.0, 10.0])
    before = cache.read(KEY, T0, now, step, now=now, load=store.query)
    assert before.count.tolist() == [1, 1] and before.value[-1] == 10.0
    store.write([open_bucket + 2 * SECOND, now], [20.0, 30.0])
    after = cache.read(KEY, T0, now, step, now=now, load=store.query)
    assert after.count.tolist() == [1, 3]
    assert after.value[-1] == pytest.approx(20.0)
    assert after.last[-1] == 30.0


def test_a_block_is_cached_only_once_it_has_closed() -> None:
    """The block holding the open bucket is not cached; once time moves past it, it is."""
    store = filled_store(hours=1)
    cache = HistoryCache(LRUCache(ttl_s=600))
    width = block_width(RAW)
    now = T0 + width // 2
    cache.read(KEY, T0, now, RAW, now=now, load=store.query)
    assert len(cache.l1) == 0
    store.write([T0 + width - SECOND], [99.0])
    later = T0 + width + 1
    got = cache.read(KEY, T0, T0 + width - 1, RAW, now=later, load=store.query)
    assert got.value[-1] == 99.0
    assert len(cache.l1) == 1


def test_a_late_point_invalidates_the_closed_blocks_it_falls_into() -> None:
    """A point for an already cached block is seen at once when the batch is passed on."""
    store = filled_store(hours=3)
    cache = HistoryCache(LRUCache(ttl_s=600))
    step = BY_NAME["1m"]
    now = T0 + block_width(step) + MINUTE
    cached = cache.read(KEY, T0, T0 + 3600 * SECOND, step, now=now, load=store.query)
    late = Batch([SeriesPoints(KEY, np.array([T0 + 30 * MINUTE + 1]), np.array([1e6]))])
    store.store.write(late)
    stale = cache.read(KEY, T0, T0 + 3600 * SECOND, step, now=now, load=store.query)
    assert_same(stale, cached)  # without invalidation, the TTL would be the only bound
    assert cache.invalidate(late, now) >= 1
    fresh = cache.read(KEY, T0, T0 + 3600 * SECOND, step, now=now, load=store.query)
    assert fresh.max.max() == 1e6
    assert_same(fresh, store.store.query(KEY, T0, T0 + 3600 * SECOND, step))


def test_live_points_invalidate_nothing() -> None:
    """Points in blocks that are still open leave the cache alone."""
    store = filled_store(hours=2)
    cache = HistoryCache(LRUCache(ttl_s=600))
    now = T0 + 2 * block_width(RAW) + 10 * SECOND
    cache.read(KEY, T0, now, RAW, now=now, load=store.query)
    held = len(cache.l1)
    live = Batch([SeriesPoints(KEY, np.array([now - 500, now]), np.array([1.0, 2.0]))])
    assert cache.invalidate(live, now) == 0
    assert len(cache.l1) == held == 2


def test_expired_blocks_are_read_again() -> None:
    """After the TTL a closed block is read from the store again."""
    clock = Clock()
    store = filled_store(hours=1)
    cache = HistoryCache(LRUCache(ttl_s=30, clock=clock))
    now = T0 + 2 * block_width(RAW)
    cache.read(KEY, T0, now - 1, RAW, now=now, load=store.query)
    reads = len(store.reads)
    cache.read(KEY, T0, now - 1, RAW, now=now, load=store.query)
    assert len(store.reads) == reads
    clock.now = 31
    cache.read(KEY, T0, now - 1, RAW, now=now, load=store.query)
    assert len(store.reads) == reads + 1


def test_very_long_fine_reads_bypass_the_cache() -> None:
    """A read over more blocks than the cache takes goes straight to the store."""
    store = filled_store(hours=1)
    cache = HistoryCache(LRUCache(ttl_s=600))
    now = T0 + 200 * block_width(RAW)
    got = cache.read(KEY, T0, now, RAW, now=now, load=store.query)
    assert len(cache.l1) == 0 and store.reads == [(T0, now, "raw")]
    assert_same(got, store.store.query(KEY, T0, now, RAW))


@pytest.mark.parametrize("step", [RAW, BY_NAME["1h"]], ids=lambda s: s.name)
def test_encoded_frames_decode_to_the_same_frame(step: Step) -> None:
    """The L2 encoding keeps every column, dtype and the step."""
    store = filled_store(hours=2)
    frame = store.query(KEY, T0, T0 + 2 * 3600 * SECOND, step)
    back = decode_frame(KEY, encode_frame(frame))
    assert back.step == step and back.ts.dtype == np.int64
    assert_same(back, frame)
    if step != RAW:
        assert back.count.dtype == np.int64
    with pytest.raises(ValueError):
        decode_frame(KEY, encode_frame(frame)[:-8])
