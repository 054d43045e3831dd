"""The history cache: store reads by series, step and aligned block; in process (L1), Redis (L2).

Which blocks a read needs, which are closed, and which a late batch changes is planned in
``dashboard.metrics.history_plan`` (pure). Here are the two levels that hold closed blocks: a
closed block is read from the store once, whole, and cached; the open part is read fresh from
the store on every call. A late point deletes the blocks it falls into (``invalidate``, fed by
the bus); the TTLs bound what an invalidation cannot reach (a read in flight that re-caches the
old block, a node that missed the batch). L1 is a bounded LRU with a TTL; L2 is Redis when
``DASHBOARD_REDIS_URL`` is set, shared by the nodes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import struct
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from typing import Any

import numpy as np

from dashboard.metrics.frame import SeriesFrame
from dashboard.metrics.history_plan import (
    COLUMNS,
    MAX_BLOCKS,
    BlockKey,
    Span,
    block_key,
    block_width,
    concat_frames,
    first_wanted,
    late_blocks,
    plan,
    runs,
    slice_frame,
    split_spans,
)
from dashboard.metrics.model import Batch, SeriesKey
from dashboard.metrics.steps import STEPS, Step

log = logging.getLogger(__name__)

L1_TTL_S = 60.0
L1_MAX_ENTRIES = 2048
L1_MAX_BYTES = 64 * 1024 * 1024
L2_TTL_S = 300
# After a Redis failure, L2 is skipped for this long (a down Redis must not slow every read).
L2_PAUSE_S = 10.0
_FORMAT = 1

Loader = Callable[[SeriesKey, int, int, Step], SeriesFrame]


# --- the stored form of a block ---------------------------------------------------------


def frame_nbytes(frame: SeriesFrame) -> int:
    """Bytes held by a frame's arrays."""
    arrays = [frame.ts, frame.value, *(getattr(frame, c) for c in COLUMNS)]
    return sum(a.nbytes for a in arrays if a is not None) + 200


def encode_frame(frame: SeriesFrame) -> bytes:
    """A compact binary form: a JSON header, then each column's little-endian bytes."""
    present = [c for c in COLUMNS if getattr(frame, c) is not None]
    header = json.dumps({"v": _FORMAT, "step": frame.step.name, "n": len(frame), "cols": present})
    head = header.encode()
    parts = [struct.pack("<I", len(head)), head]
    parts.append(np.ascontiguousarray(frame.ts, dtype="<i8").tobytes())
    parts.append(np.ascontiguousarray(frame.value, dtype="<f8").tobytes())
    for name in present:
        dtype = "<i8" if name == "count" else "<f8"
        parts.append(np.ascontiguousarray(getattr(frame, name), dtype=dtype).tobytes())
    return b"".join(parts)


def decode_frame(key: SeriesKey, data: bytes) -> SeriesFrame:
    """The frame ``encode_frame`` wrote (ValueError when the bytes are not one)."""
    (size,) = struct.unpack_from("<I", data, 0)
    header = json.loads(data[4 : 4 + size])
    if header.get("v") != _FORMAT:
        raise ValueError("unknown cache format")
    n = int(header["n"])
    step = next(s for s in STEPS if s.name == header["step"])
    offset = 4 + size
    if len(data) != offset + n * 8 * (2 + len(header["cols"])):
        raise ValueError("truncated cache entry")

    def column(dtype: str) -> np.ndarray:
        """The next column of ``n`` values, as native ``dtype``."""
        nonlocal offset
        arr = np.frombuffer(data, dtype=dtype, count=n, offset=offset).astype(dtype[1:])
        offset += n * 8
        return arr

    ts, value = column("<i8"), column("<f8")
    cols = {name: column("<i8" if name == "count" else "<f8") for name in header["cols"]}
    return SeriesFrame(key, step, ts, value, **cols)


# --- L1: a bounded LRU with a TTL ---------------------------------------------------------


class LRUCache:
    """At most ``max_entries`` values and ``max_bytes`` bytes, each for ``ttl_s`` seconds."""

    def __init__(
        self,
        max_entries: int = L1_MAX_ENTRIES,
        ttl_s: float = L1_TTL_S,
        *,
        max_bytes: int = L1_MAX_BYTES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """An empty cache; ``clock`` gives seconds (monotonic)."""
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.ttl_s = ttl_s
        self._clock = clock
        self._items: OrderedDict[Hashable, tuple[float, int, Any]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Any | None:
        """The value, or None when absent or expired (an expired entry is removed)."""
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            if item[0] <= self._clock():
                self._remove(key)
                return None
            self._items.move_to_end(key)
            return item[2]

    def put(self, key: Hashable, value: Any, nbytes: int = 0) -> None:
        """Store a value of ``nbytes`` bytes, evicting the least recently used beyond the bounds."""
        with self._lock:
            if key in self._items:
                self._remove(key)
            self._items[key] = (self._clock() + self.ttl_s, nbytes, value)
            self._bytes += nbytes
            while self._items and (
                len(self._items) > self.max_entries or self._bytes > self.max_bytes
            ):
                self._remove(next(iter(self._items)))

    def delete(self, key: Hashable) -> None:
        """Forget a key (nothing when absent)."""
        with self._lock:
            if key in self._items:
                self._remove(key)

    def delete_many(self, keys: Iterable[Hashable]) -> None:
        """Forget keys (those absent are skipped), under one lock."""
        with self._lock:
            items = self._items
            for key in keys:
                if key in items:
                    self._remove(key)

    def _remove(self, key: Hashable) -> None:
        """Drop an entry (caller holds the lock)."""
        _, nbytes, _ = self._items.pop(key)
        self._bytes -= nbytes

    def __len__(self) -> int:
        """Entries held (expired ones included until touched)."""
        return len(self._items)

    @property
    def nbytes(self) -> int:
        """Bytes held, as declared by ``put``."""
        return self._bytes


# --- L2: Redis (the thin edge) ------------------------------------------------------------


class RedisL2:
    """Encoded frames in Redis under ``prefix``, with a TTL.

    A Redis failure is a miss, and pauses L2 for ``pause_s`` so an outage costs one timeout,
    not one per read (invalidations skipped meanwhile are bounded by the TTL).
    """

    def __init__(
        self,
        client: Any,
        prefix: str,
        ttl_s: int = L2_TTL_S,
        *,
        pause_s: float = L2_PAUSE_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Use ``client`` (a ``redis.Redis``) and keys starting with ``prefix``."""
        self.client = client
        self.prefix = prefix
        self.ttl_s = ttl_s
        self.pause_s = pause_s
        self._clock = clock
        self._paused_until = 0.0
        self._warned = -1e9

    @property
    def available(self) -> bool:
        """False while paused after a failure."""
        return self._clock() >= self._paused_until

    def key(self, series: str, step: Step, span: Span) -> str:
        """The Redis key of one span (the series text is hashed: labels may hold anything)."""
        digest = hashlib.blake2b(series.encode(), digest_size=16).hexdigest()
        return f"{self.prefix}hist:v{_FORMAT}:{step.name}:{span[0]}:{span[1]}:{digest}"

    def get(self, key: str) -> bytes | None:
        """The stored bytes, or None."""
        if not self.available:
            return None
        try:
            value = self.client.get(key)
        except Exception as exc:  # noqa: BLE001 - the cache must never break a read
            self._warn(exc)
            return None
        return bytes(value) if value is not None else None

    def put(self, key: str, data: bytes) -> None:
        """Store bytes for the TTL."""
        if not self.available:
            return
        try:
            self.client.set(key, data, ex=self.ttl_s)
        except Exception as exc:  # noqa: BLE001
            self._warn(exc)

    def delete(self, keys: list[str]) -> None:
        """Forget keys."""
        if not keys or not self.available:
            return
        try:
            self.client.delete(*keys)
        except Exception as exc:  # noqa: BLE001
            self._warn(exc)

    def close(self) -> None:
        """Close the client's connections."""
        try:
            self.client.close()
        except Exception:  # noqa: BLE001 # nosec B110 # closing a broken client: best effort
            pass

    def _warn(self, exc: Exception) -> None:
        """Pause L2, and log the failure at most once a minute."""
        now = self._clock()
        self._paused_until = now + self.pause_s
        if now - self._warned > 60:
            self._warned = now
            log.warning("history cache: Redis unavailable (%s); reading the store", exc)


# --- the two levels together --------------------------------------------------------------


class HistoryCache:
    """Store reads through L1 (and L2 when given), block by block; the open part always fresh."""

    def __init__(self, l1: LRUCache | None = None, l2: RedisL2 | None = None) -> None:
        """A cache with an L1 (a default one when not given) and an optional L2."""
        self.l1 = l1 if l1 is not None else LRUCache()
        self.l2 = l2
        self.stats = {"l1_hits": 0, "l2_hits": 0, "misses": 0, "fresh_reads": 0}

    def read(
        self, key: SeriesKey, start_ms: int, end_ms: int, step: Step, *, now: int, load: Loader
    ) -> SeriesFrame:
        """What ``load(key, start_ms, end_ms, step)`` returns, with closed spans from the cache."""
        if (min(end_ms, now) - start_ms) // block_width(step) > MAX_BLOCKS + 1:
            # bypassed anyway, and planning a range of years block by block takes seconds
            self.stats["fresh_reads"] += 1
            return load(key, start_ms, end_ms, step)
        spans, fresh_from = plan(start_ms, end_ms, step, now)
        if not spans or len(spans) > MAX_BLOCKS:
            self.stats["fresh_reads"] += 1
            return load(key, start_ms, end_ms, step)
        text = str(key)
        found: dict[Span, SeriesFrame] = {}
        for span in spans:
            frame = self._lookup(key, text, step, span)
            if frame is not None:
                found[span] = frame
        missing = [s for s in spans if s not in found]
        for run in runs(missing):
            loaded = load(key, run[0][0], run[-1][1] - 1, step)
            for span, part in zip(run, split_spans(loaded, run), strict=True):
                found[span] = part
                self._store(text, step, span, part)
            self.stats["misses"] += len(run)
        parts = [found[s] for s in spans]
        if fresh_from is not None:
            self.stats["fresh_reads"] += 1
            parts.append(load(key, fresh_from, end_ms, step))
        whole = concat_frames(key, step, parts)
        return slice_frame(whole, first_wanted(start_ms, step), end_ms)

    def _lookup(self, key: SeriesKey, text: str, step: Step, span: Span) -> SeriesFrame | None:
        """A cached span from L1, else from L2 (then kept in L1 too), else None."""
        frame = self.l1.get(block_key(text, step, span))
        if frame is not None:
            self.stats["l1_hits"] += 1
            return frame
        if self.l2 is None:
            return None
        data = self.l2.get(self.l2.key(text, step, span))
        if data is None:
            return None
        try:
            frame = decode_frame(key, data)
        except (ValueError, KeyError, StopIteration, struct.error):
            return None
        self.stats["l2_hits"] += 1
        self.l1.put(block_key(text, step, span), frame, frame_nbytes(frame))
        return frame

    def _store(self, text: str, step: Step, span: Span, frame: SeriesFrame) -> None:
        """Keep a closed span in both levels."""
        self.l1.put(block_key(text, step, span), frame, frame_nbytes(frame))
        if self.l2 is not None:
            self.l2.put(self.l2.key(text, step, span), encode_frame(frame))

    def invalidate(self, batch: Batch, now: int) -> int:
        """Forget the cached spans that the batch's points fall into; return how many keys."""
        blocks = late_blocks(batch, now)
        if not blocks or (self.l2 is None and not len(self.l1)):
            return len(blocks)  # nothing is cached: nothing to forget
        texts: dict[SeriesKey, str] = {}
        l1_keys: list[BlockKey] = []
        l2_keys: list[str] = []
        for key, step, span in blocks:
            text = texts.get(key)
            if text is None:
                text = texts[key] = str(key)
            l1_keys.append(block_key(text, step, span))
            if self.l2 is not None:
                l2_keys.append(self.l2.key(text, step, span))
        self.l1.delete_many(l1_keys)
        if self.l2 is not None:
            self.l2.delete(l2_keys)
        return len(blocks)

    def close(self) -> None:
        """Release the L2 connection."""
        if self.l2 is not None:
            self.l2.close()


def open_history_cache(redis_url: str = "", prefix: str = "dashboard") -> HistoryCache:
    """A history cache with an L2 on ``redis_url`` when it is set."""
    if not redis_url:
        return HistoryCache()
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    client = redis.Redis.from_url(
        redis_url, socket_timeout=1, socket_connect_timeout=1, retry=Retry(NoBackoff(), 0)
    )
    return HistoryCache(l2=RedisL2(client, f"{prefix}:"))
