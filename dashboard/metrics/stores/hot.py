"""The hot store: every point of the series a node serves, compressed, within a memory budget.

Each series is a ``Series`` (open head, sealed pcodec chunks, rollup rows beyond the raw
window). With a ``loader`` (a read from the database), a series is loaded the first time it is
read, and a read reaching before what is held loads the missing stretch (within the raw
retention); without one, the store holds exactly what was written to it. Over ``max_bytes`` the
series read least recently (never-read ones first) are evicted down to 90 % of the budget.
"""

from __future__ import annotations

import sys
import threading
from collections import OrderedDict
from collections.abc import Callable

from dashboard.metrics.frame import SeriesFrame, SeriesInfo, empty_frame
from dashboard.metrics.model import Batch, SeriesKey
from dashboard.metrics.series import RAW_RETENTION_MS, Series
from dashboard.metrics.steps import RAW, Step

Loader = Callable[[SeriesKey, int, int], SeriesFrame]
LOAD_THROUGH = 2**62  # a first load reads a series up to its newest point, whatever the range
LOW_WATER = 0.9  # eviction frees down to this share of the budget, so it does not run per write
_ENTRY_OVERHEAD = 64 + 3 * 32 + 104  # an _Entry, its ints, and an OrderedDict slot


def _key_bytes(key: SeriesKey) -> int:
    """Estimated bytes of a key object with its name and labels."""
    size = sys.getsizeof(key) + sys.getsizeof(key.name) + sys.getsizeof(key.labels)
    for pair in key.labels:
        size += sys.getsizeof(pair) + sys.getsizeof(pair[0]) + sys.getsizeof(pair[1])
    return size


class _Entry:
    """A held series and what the store knows about it."""

    __slots__ = ("series", "unit", "held_from", "overhead", "size")

    def __init__(self, key: SeriesKey, unit: str, held_from: int) -> None:
        """A new empty series; complete from ``held_from`` (ms) on."""
        self.series = Series()
        self.unit = unit
        self.held_from = held_from
        self.overhead = _key_bytes(key) + _ENTRY_OVERHEAD + sys.getsizeof(unit)
        self.size = 0


class HotStore:
    """Compressed in-memory series under a byte budget; the first place a query looks."""

    kind = "memory"

    def __init__(self, max_bytes: int | None = None, loader: Loader | None = None) -> None:
        """An empty store; ``max_bytes`` None means no budget, ``loader`` reads the database."""
        self._max_bytes = max_bytes
        self._loader = loader
        self._entries: OrderedDict[SeriesKey, _Entry] = OrderedDict()  # least recently read first
        self._lock = threading.Lock()
        self._bytes = 0
        self.hits = 0
        self.misses = 0
        self.evictions = 0
        self.loads = 0
        self.refused = 0  # points older than the raw retention (or repeated within a write)

    # ---- writes -------------------------------------------------------------------------

    def write(self, batch: Batch) -> int:
        """Write every series of the batch (the last of equal timestamps wins)."""
        given = 0
        with self._lock:
            for points in batch.series:
                given += points.ts.size
                if not points.ts.size:
                    continue
                entry = self._entries.get(points.key)
                if entry is None:
                    held_from = int(points.ts.min()) if self._loader else -(2**63)
                    entry = self._entries[points.key] = _Entry(points.key, "", held_from)
                    self._entries.move_to_end(points.key, last=False)  # never read: goes first
                if points.unit:
                    entry.unit = points.unit
                self.refused += points.ts.size - entry.series.write(points.ts, points.values)
                self._resize(entry)
            self._enforce_budget()
        return given

    def _resize(self, entry: _Entry) -> None:
        """Recount an entry's bytes into the total."""
        size = entry.overhead + entry.series.nbytes
        self._bytes += size - entry.size
        entry.size = size

    def _enforce_budget(self) -> None:
        """Evict the least recently read series while over budget, down to the low water."""
        if self._max_bytes is None or self._bytes <= self._max_bytes:
            return
        target = int(self._max_bytes * LOW_WATER)
        while self._entries and self._bytes > target:
            _, entry = self._entries.popitem(last=False)
            self._bytes -= entry.size
            self.evictions += 1

    def drop(self, key: SeriesKey) -> bool:
        """Forget a series (a loader brings it back on its next read); False if not held."""
        with self._lock:
            entry = self._entries.pop(key, None)
            if entry is None:
                return False
            self._bytes -= entry.size
            return True

    # ---- reads --------------------------------------------------------------------------

    def query(self, key: SeriesKey, start_ms: int, end_ms: int, step: Step) -> SeriesFrame:
        """Raw points or rollup buckets of one series, loading what is missing first."""
        # a rollup read answers whole buckets: what is loaded starts where the first one does
        load_from = start_ms if step == RAW else start_ms // step.width_ms * step.width_ms
        for _ in range(3):  # again only when the series is evicted while a load runs
            with self._lock:
                gap = self._gap(key, load_from, end_ms)
                entry = self._entries.get(key)
                if gap is None:
                    if entry is None:
                        self.misses += 1
                        return empty_frame(key, step)
                    self.hits += 1
                    self._entries.move_to_end(key)
                    return self._read(entry, key, start_ms, end_ms, step)
                was_held = entry is not None
            assert self._loader is not None
            loaded = self._loader(key, *gap)  # outside the lock: a database read
            with self._lock:
                self.misses += 1
                self.loads += 1
                if was_held and key not in self._entries:
                    continue  # the load was of a gap before data that is gone now
                entry = self._merge_load(key, loaded, *gap)
                if entry is None:
                    return empty_frame(key, step)
                self._entries.move_to_end(key)
                frame = self._read(entry, key, start_ms, end_ms, step)
                self._enforce_budget()
                return frame
        return empty_frame(key, step)

    def _gap(self, key: SeriesKey, start_ms: int, end_ms: int) -> tuple[int, int] | None:
        """The stretch to load before answering, within the raw retention, or None."""
        if self._loader is None or end_ms < start_ms:
            return None
        entry = self._entries.get(key)
        if entry is None:
            # through the newest point, not only to end_ms: what is held runs from held_from on
            return max(start_ms, end_ms - RAW_RETENTION_MS), LOAD_THROUGH
        lo = max(start_ms, entry.series.newest_ts - RAW_RETENTION_MS)
        return (lo, entry.held_from - 1) if lo < entry.held_from else None

    def _merge_load(self, key: SeriesKey, frame: SeriesFrame, lo: int, hi: int) -> _Entry | None:
        """Add loaded points older than what is held; None when there is nothing to hold."""
        entry = self._entries.get(key)
        if entry is None:
            if not len(frame):
                return None
            entry = self._entries[key] = _Entry(key, "", lo)
            entry.series.write(frame.ts, frame.value)
        else:
            older = frame.ts < entry.held_from  # what was written meanwhile is newer: kept
            entry.series.write(frame.ts[older], frame.value[older])
            if hi + 1 >= entry.held_from:
                entry.held_from = min(entry.held_from, lo)
        self._resize(entry)
        return entry

    @staticmethod
    def _read(entry: _Entry, key: SeriesKey, start_ms: int, end_ms: int, step: Step) -> SeriesFrame:
        """A frame of one held series."""
        if step == RAW:
            ts, values = entry.series.read_raw(start_ms, end_ms)
            return SeriesFrame(key, step, ts, values)
        b = entry.series.read_buckets(step, start_ms, end_ms)
        return SeriesFrame(key, step, b.start, b.avg, b.min, b.max, b.count, b.sum, b.last)

    def held_from(self, key: SeriesKey) -> int | None:
        """From when (ms) the series is held complete, or None when it is not held."""
        with self._lock:
            entry = self._entries.get(key)
            return None if entry is None else entry.held_from

    def list_series(self) -> list[SeriesInfo]:
        """Held series with at least one point."""
        with self._lock:
            return [
                SeriesInfo(key, e.unit, e.series.first_ts, e.series.newest_ts)
                for key, e in sorted(self._entries.items())
                if e.series.newest_ts >= 0
            ]

    # ---- accounting ---------------------------------------------------------------------

    def memory_bytes(self) -> int:
        """Bytes held by all series (compressed chunks, heads, rollups and overheads)."""
        with self._lock:
            return self._bytes

    def newest_ts(self) -> int:
        """The newest timestamp held, or -1."""
        with self._lock:
            return max((e.series.newest_ts for e in self._entries.values()), default=-1)

    def stats(self) -> dict[str, int]:
        """Series held, points, bytes, budget (0: none), hits, misses, evictions, loads, refused."""
        with self._lock:
            return {
                "series": len(self._entries),
                "points": sum(e.series.points for e in self._entries.values()),
                "bytes": self._bytes,
                "max_bytes": self._max_bytes or 0,
                "hits": self.hits,
                "misses": self.misses,
                "evictions": self.evictions,
                "loads": self.loads,
                "refused": self.refused,
            }

    def ping(self) -> bool:
        """Memory always answers."""
        return True

    def close(self) -> None:
        """Nothing to release."""
