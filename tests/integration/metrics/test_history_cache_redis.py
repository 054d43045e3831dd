"""The history cache's L2 on a real Redis: shared by nodes, invalidated by late points, and a
Redis outage only costs cache hits."""

from __future__ import annotations

import numpy as np
import redis

from dashboard.metrics.history_plan import block_width
from dashboard.metrics.model import Batch, SeriesKey, SeriesPoints
from dashboard.metrics.steps import BY_NAME, MINUTE, SECOND
from dashboard.metrics.stores.history_cache import (
    HistoryCache,
    LRUCache,
    RedisL2,
    open_history_cache,
)
from dashboard.metrics.stores.sqlite import SQLiteStore

KEY = SeriesKey.of("l2.metric", {"host": 'a"b'})
T0 = 1_700_006_400_000
STEP = BY_NAME["1m"]
NOW = T0 + 2 * block_width(STEP) + 5 * MINUTE


def history_store() -> SQLiteStore:
    """An embedded store with two days of a point every 10 s."""
    store = SQLiteStore(":memory:")
    ts = T0 + np.arange(0, 2 * 86_400, 10, dtype=np.int64) * SECOND
    store.write(Batch([SeriesPoints(KEY, ts, np.cos(np.arange(ts.size) / 90.0))]))
    return store


def node(client: redis.Redis, prefix: str) -> HistoryCache:
    """One node's cache: its own L1, the shared L2."""
    return HistoryCache(LRUCache(ttl_s=600), RedisL2(client, prefix, ttl_s=60))


def test_a_block_cached_by_one_node_is_served_to_another(redis_prefix) -> None:
    """Node B reads from Redis what node A loaded, without touching the store for closed blocks."""
    client, prefix = redis_prefix
    store = history_store()
    reads: list[tuple[int, int]] = []

    def load(key, start, end, step):
        reads.append((start, end))
        return store.query(key, start, end, step)

    a, b = node(client, prefix), node(client, prefix)
    first = a.read(KEY, T0, NOW, STEP, now=NOW, load=load)
    assert len(list(client.scan_iter(match=prefix + "*"))) == 3  # 2 blocks, 1 closed prefix
    reads.clear()
    second = b.read(KEY, T0, NOW, STEP, now=NOW, load=load)
    assert b.stats["l2_hits"] == 3 and reads == [(NOW, NOW)]  # only the open bucket
    np.testing.assert_array_equal(first.ts, second.ts)
    np.testing.assert_array_equal(first.value, second.value)
    np.testing.assert_array_equal(first.count, second.count)
    assert 0 < client.ttl(next(client.scan_iter(match=prefix + "*"))) <= 60


def test_a_late_point_removes_the_shared_block(redis_prefix) -> None:
    """Invalidation on one node deletes the Redis copy, so a fresh node reads the new value."""
    client, prefix = redis_prefix
    store = history_store()
    a = node(client, prefix)
    a.read(KEY, T0, NOW, STEP, now=NOW, load=store.query)
    late = Batch([SeriesPoints(KEY, np.array([T0 + 3 * MINUTE + 1]), np.array([500.0]))])
    store.write(late)
    a.invalidate(late, NOW)
    fresh = node(client, prefix).read(KEY, T0, NOW, STEP, now=NOW, load=store.query)
    assert fresh.max[3] == 500.0
    np.testing.assert_array_equal(fresh.count, store.query(KEY, T0, NOW, STEP).count)


def test_reads_work_when_redis_is_down() -> None:
    """With Redis unreachable every read still answers, from the store."""
    store = history_store()
    cache = open_history_cache("redis://127.0.0.1:1/0", prefix="nowhere")
    assert cache.l2 is not None
    got = cache.read(KEY, T0, NOW, STEP, now=NOW, load=store.query)
    np.testing.assert_array_equal(got.value, store.query(KEY, T0, NOW, STEP).value)
    assert not cache.l2.available  # paused after the first failure: no timeout per block
    cache.invalidate(Batch([SeriesPoints(KEY, np.array([T0]), np.array([1.0]))]), NOW)
    cache.close()
