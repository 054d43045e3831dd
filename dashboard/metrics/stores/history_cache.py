"""The history cache: store reads by series, step and aligned block; in process (L1), Redis (L2).

A read of ``[start, end]`` at a step is cut into blocks (``BLOCK_MS``, a whole number of the
step's buckets) aligned to multiples of the block width, so any range over the same data shares
blocks. A block that ends at or before the start of the step's current (still growing) bucket is
closed: it is read from the store once, whole, and cached. The rest of the range (the block
holding the open bucket, and anything after it) is read fresh from the store on every call, so
the newest bucket is never served stale.

A late point (for a block already closed) deletes the blocks it falls into (``invalidate``, fed
by the bus); the TTLs bound what an invalidation cannot reach (a read in flight that re-caches the
old block, a node that missed the batch). L1 is a bounded LRU with a TTL; L2 is Redis when
``DASHBOARD_REDIS_URL`` is set, shared by the nodes. Everything but ``RedisL2`` and
``open_history_cache`` is pure (numpy and the standard library).
"""

from __future__ import annotations

import hashlib
import json
import logging
import struct
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

import numpy as np

from dashboard.metrics.frame import SeriesFrame
from dashboard.metrics.model import Batch, SeriesKey
from dashboard.metrics.steps import DAY, HOUR, RAW, STEPS, Step

log = logging.getLogger(__name__)

# Block width per step: small enough that the open block, read fresh each time, stays cheap,
# large enough that a chart's range is a handful of blocks.
BLOCK_MS = {"raw": HOUR, "1m": 6 * HOUR, "5m": DAY, "1h": 7 * DAY, "1d": 28 * DAY}
# A read spanning more blocks than this bypasses the cache (an unusual explicit fine step).
MAX_BLOCKS = 128
L1_TTL_S = 60.0
L1_MAX_ENTRIES = 2048
L1_MAX_BYTES = 64 * 1024 * 1024
L2_TTL_S = 300
# After a Redis failure, L2 is skipped for this long (a down Redis must not slow every read).
L2_PAUSE_S = 10.0
_FORMAT = 1
_COLUMNS = ("min", "max", "count", "sum", "last")

Loader = Callable[[SeriesKey, int, int, Step], SeriesFrame]


# --- pure: block arithmetic and frames ----------------------------------------------------


def block_width(step: Step) -> int:
    """Milliseconds covered by one cache block of ``step``."""
    return BLOCK_MS[step.name]


def open_bucket_start(step: Step, now_ms: int) -> int:
    """The start of the step's bucket that is still growing at ``now_ms``."""
    return now_ms // step.width_ms * step.width_ms


def first_wanted(start_ms: int, step: Step) -> int:
    """The first millisecond a read returns: ``start`` for raw, its bucket's start for rollups."""
    return start_ms if step == RAW else start_ms // step.width_ms * step.width_ms


Span = tuple[int, int]


def plan(start_ms: int, end_ms: int, step: Step, now_ms: int) -> tuple[list[Span], int | None]:
    """The cacheable spans ``[lo, hi)`` a read covers, in order, and where its fresh part begins.

    Spans are whole closed blocks and, for rollups, the closed prefix of the open block (up to
    the open bucket's start, so its key changes with every new bucket); none reaches past the
    open bucket's start. The fresh part (None when there is none) is read from the store.
    """
    width = block_width(step)
    closed_until = open_bucket_start(step, now_ms)
    wanted = first_wanted(start_ms, step)
    block = wanted // width * width
    spans = []
    while block <= end_ms and block + width <= closed_until:
        spans.append((block, block + width))
        block += width
    if block > end_ms:
        return spans, None
    if step != RAW and closed_until > max(block, wanted):
        spans.append((block, closed_until))
        return spans, (max(closed_until, start_ms) if end_ms >= closed_until else None)
    return spans, max(block, start_ms)


def slice_frame(frame: SeriesFrame, lo: int, hi: int) -> SeriesFrame:
    """The rows of a frame whose time lies in ``[lo, hi]``."""
    a = int(np.searchsorted(frame.ts, lo, side="left"))
    b = int(np.searchsorted(frame.ts, hi, side="right"))
    if a == 0 and b == len(frame):
        return frame
    return frame.take(np.arange(a, b))


def concat_frames(key: SeriesKey, step: Step, frames: list[SeriesFrame]) -> SeriesFrame:
    """One frame of consecutive frames (in time order) of one series and step."""
    if not frames:
        return SeriesFrame(key, step, np.empty(0, dtype=np.int64), np.empty(0))
    frames = [f for f in frames if len(f)] or frames[:1]
    if len(frames) == 1:
        return frames[0]
    cols: dict[str, Any] = {}
    for name in _COLUMNS:
        parts = [getattr(f, name) for f in frames]
        cols[name] = None if any(p is None for p in parts) else np.concatenate(parts)
    return SeriesFrame(
        key,
        step,
        np.concatenate([f.ts for f in frames]),
        np.concatenate([f.value for f in frames]),
        **cols,
    )


def split_spans(frame: SeriesFrame, spans: list[Span]) -> list[SeriesFrame]:
    """A frame cut into consecutive spans: one frame per span (empty where nothing fell)."""
    edges = np.searchsorted(frame.ts, [lo for lo, _ in spans] + [spans[-1][1]], side="left")
    return [frame.take(np.arange(edges[i], edges[i + 1])) for i in range(len(spans))]


def frame_nbytes(frame: SeriesFrame) -> int:
    """Bytes held by a frame's arrays."""
    arrays = [frame.ts, frame.value, *(getattr(frame, c) for c in _COLUMNS)]
    return sum(a.nbytes for a in arrays if a is not None) + 200


def encode_frame(frame: SeriesFrame) -> bytes:
    """A compact binary form: a JSON header, then each column's little-endian bytes."""
    present = [c for c in _COLUMNS if getattr(frame, c) is not None]
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
        except Exception:  # noqa: BLE001 - closing a broken client is best effort
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
        for run in _runs(missing):
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
        frame = self.l1.get((text, step.name, span))
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
        self.l1.put((text, step.name, span), frame, frame_nbytes(frame))
        return frame

    def _store(self, text: str, step: Step, span: Span, frame: SeriesFrame) -> None:
        """Keep a closed span in both levels."""
        self.l1.put((text, step.name, span), frame, frame_nbytes(frame))
        if self.l2 is not None:
            self.l2.put(self.l2.key(text, step, span), encode_frame(frame))

    def invalidate(self, batch: Batch, now: int) -> int:
        """Forget the cached spans that the batch's points fall into; return how many keys."""
        l2_keys: list[str] = []
        forgotten = 0
        for series in batch.series:
            if len(series) == 0:
                continue
            text = ""
            oldest = int(series.ts.min())
            for step in STEPS:
                width = block_width(step)
                closed_until = open_bucket_start(step, now)
                if oldest >= closed_until:
                    continue  # every point is in the open bucket or later: nothing cached there
                text = text or str(series.key)
                late = series.ts[series.ts < closed_until]
                for block in np.unique(late // width * width).tolist():
                    if step == RAW and block + width > closed_until:
                        continue  # raw caches no prefix of its open block
                    span = (block, min(block + width, closed_until))
                    self.l1.delete((text, step.name, span))
                    forgotten += 1
                    if self.l2 is not None:
                        l2_keys.append(self.l2.key(text, step, span))
        if self.l2 is not None:
            self.l2.delete(l2_keys)
        return forgotten

    def close(self) -> None:
        """Release the L2 connection."""
        if self.l2 is not None:
            self.l2.close()


def _runs(spans: list[Span]) -> list[list[Span]]:
    """Adjacent spans grouped into runs (each run is one store read)."""
    runs: list[list[Span]] = []
    for span in spans:
        if runs and runs[-1][-1][1] == span[0]:
            runs[-1].append(span)
        else:
            runs.append([span])
    return runs


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
