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
from collections.abc import Callable, Sequence
from typing import TypeVar

import numpy as np

from dashboard.metrics import chunks
from dashboard.metrics.frame import SeriesFrame, SeriesInfo, empty_frame
from dashboard.metrics.model import Batch, SeriesKey
from dashboard.metrics.rollup import COUNT, LAST, MAX, MIN, START, SUM, bucket_rows, empty_rows
from dashboard.metrics.series import RAW_RETENTION_MS, Series
from dashboard.metrics.steps import HOUR, RAW, Step

Loader = Callable[[SeriesKey, int, int], SeriesFrame]
_T = TypeVar("_T")
LOAD_THROUGH = 2**62  # a first load reads a series up to its newest point, whatever the range
LOW_WATER = 0.9  # eviction frees down to this share of the budget, so it does not run per write
_ENTRY_OVERHEAD = 64 + 3 * 32 + 104  # an _Entry, its ints, and an OrderedDict slot


def _key_bytes(key: SeriesKey) -> int:
    """Estimated bytes of a key object with its name and labels."""
    size = sys.getsizeof(key) + sys.getsizeof(key.name) + sys.getsizeof(key.labels)
    for pair in key.labels:
        size += sys.getsizeof(pair) + sys.getsizeof(pair[0]) + sys.getsizeof(pair[1])
    return size


def _decode_clipped(
    blobs: list[bytes], ts: np.ndarray, values: np.ndarray, at: int, start_ms: int, end_ms: int
) -> int:
    """Decode one series' chunks (oldest first) into ``ts``/``values`` from index ``at``,
    keeping only their points in ``[start_ms, end_ms]``; return the index after the last."""
    pos = at + chunks.decode_run_into(blobs, ts[at:], values[at:], trusted=True)  # its own
    first = blobs[0]
    if chunks.first_ts(first) < start_ms:  # the first chunk's points before start_ms go
        a = int(np.searchsorted(ts[at : at + chunks.count(first)], start_ms, side="left"))
        if a:
            ts[at : pos - a] = ts[at + a : pos]
            values[at : pos - a] = values[at + a : pos]
            pos -= a
    if pos > at and int(ts[pos - 1]) > end_ms:
        pos = at + int(np.searchsorted(ts[at:pos], end_ms, side="right"))
    return pos


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
        self._drops = 0

    # ---- writes -------------------------------------------------------------------------

    def write(self, batch: Batch) -> int:
        """Write every series of the batch (the last of equal timestamps wins)."""
        given = 0
        with self._lock:
            entries = self._entries
            for points in batch.series:
                ts = points.ts
                n = ts.size
                given += n
                if not n:
                    continue
                entry = entries.get(points.key)
                if entry is None:
                    held_from = int(ts.min()) if self._loader else -(2**63)
                    entry = entries[points.key] = _Entry(points.key, "", held_from)
                    entries.move_to_end(points.key, last=False)  # never read: goes first
                if points.unit:
                    entry.unit = points.unit
                if n == 1:  # a sender's batch: no array call for its one point
                    written = entry.series.write_one(int(ts[0]), float(points.values[0]))
                else:
                    written = entry.series.write(ts, points.values)
                self.refused += n - written
                size = entry.overhead + entry.series.nbytes  # as _resize, without the call
                self._bytes += size - entry.size
                entry.size = size
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
            self._drops += 1
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

    def query_many(
        self, keys: Sequence[SeriesKey], start_ms: int, end_ms: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """RAW points of many series in ``[start_ms, end_ms]`` with one call, as :meth:`query`
        would read each (loading what is missing first).

        The held chunks are picked under the lock and decoded after it (sealed chunks never
        change), straight into one array.

        Returns
        -------
        ts : int64 array, shape (N,), sorted within each series
        values : float64 array, shape (N,)
        offsets : int64 array, shape (len(keys) + 1,); series i holds ``[offsets[i],
            offsets[i + 1])``
        """
        parts, missing = self._held_many(
            keys,
            start_ms,
            end_ms,
            lambda series: (
                None if series.newest_ts < start_ms else series.raw_parts(start_ms, end_ms)
            ),
        )
        for i in missing:
            frame = self.query(keys[i], start_ms, end_ms, RAW)
            parts[i] = ([], frame.ts, frame.value)
        room = sum(sum(map(chunks.count, p[0])) + p[1].size for p in parts if p is not None)
        ts = np.empty(room, dtype=np.int64)
        values = np.empty(room)
        offsets = [0] * (len(keys) + 1)
        pos = 0
        for i, part in enumerate(parts):
            if part is not None:
                blobs, head_ts, head_v = part
                if blobs:
                    pos = _decode_clipped(blobs, ts, values, pos, start_ms, end_ms)
                if head_ts.size:
                    ts[pos : pos + head_ts.size] = head_ts
                    values[pos : pos + head_ts.size] = head_v
                    pos += head_ts.size
            offsets[i + 1] = pos
        return ts[:pos], values[:pos], np.array(offsets, dtype=np.int64)

    def _held_many(
        self,
        keys: Sequence[SeriesKey],
        start_ms: int,
        end_ms: int,
        read: Callable[[Series], _T | None],
    ) -> tuple[list[_T | None], list[int]]:
        """``read`` of each held series of ``keys`` under the lock (counted as hits and misses,
        and marked as read), and the indexes of the series to load from the database first
        (the caller reads those outside the lock, through :meth:`query`)."""
        out: list[_T | None] = [None] * len(keys)
        missing: list[int] = []
        with self._lock:
            entries = self._entries
            for i, key in enumerate(keys):
                if self._loader is not None and self._gap(key, start_ms, end_ms) is not None:
                    missing.append(i)
                    continue
                entry = entries.get(key)
                if entry is None:
                    self.misses += 1
                    continue
                self.hits += 1
                entries.move_to_end(key)
                out[i] = read(entry.series)
        return out, missing

    def newest_many(
        self, keys: Sequence[SeriesKey], start_ms: int, end_ms: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`query_many` cut to each series' newest point in ``[start_ms, end_ms]`` (at
        most one a series: what an instant selector reads), mostly without decoding: a
        series' head or the header of its newest chunk holds that point unless ``end_ms``
        falls inside a chunk."""
        got, missing = self._held_many(
            keys, start_ms, end_ms, lambda series: series.newest_in(start_ms, end_ms)
        )
        for i in missing:
            frame = self.query(keys[i], start_ms, end_ms, RAW)
            got[i] = (int(frame.ts[-1]), float(frame.value[-1])) if len(frame) else None
        ts = np.empty(len(keys), dtype=np.int64)
        values = np.empty(len(keys))
        offsets = [0] * (len(keys) + 1)
        pos = 0
        for i, one in enumerate(got):
            if isinstance(one, bytes):  # end_ms inside a chunk: decode that one
                cts, cv = chunks.decode(one)
                k = int(np.searchsorted(cts, end_ms, side="right")) - 1
                one = (int(cts[k]), float(cv[k])) if k >= 0 and cts[k] >= start_ms else None
            if one is not None:
                ts[pos], values[pos] = one
                pos += 1
            offsets[i + 1] = pos
        return ts[:pos], values[:pos], np.array(offsets, dtype=np.int64)

    def hour_buckets_many(
        self, keys: Sequence[SeriesKey], start_ms: int, end_ms: int
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """One-hour buckets of the RAW points of many series in ``[start_ms, end_ms]`` (both
        whole hours), mostly from chunk headers (a chunk never spans two hours), or None.

        None unless the buckets hold exactly the points a RAW read of the range returns and
        no point lies on an hour boundary (where a PromQL window ``(t - range, t]`` and the
        buckets ``[b, b + 1h)`` would disagree): a series to load first, or any such point.

        Returns
        -------
        rows : float64 array, shape (B, 6): ``rollup`` rows (start, min, max, sum, count,
            last), each series' in time order
        offsets : int64 array, shape (len(keys) + 1,); series i holds rows
            ``[offsets[i], offsets[i + 1])``
        """
        if start_ms % HOUR or end_ms % HOUR:
            return None
        parts: list[tuple[list[bytes], np.ndarray, np.ndarray] | None] = []
        with self._lock:
            for key in keys:
                if self._loader is not None and self._gap(key, start_ms, end_ms) is not None:
                    return None
                entry = self._entries.get(key)
                if entry is None or entry.series.newest_ts < start_ms:
                    parts.append(None)
                    continue
                self._entries.move_to_end(key)
                parts.append(entry.series.raw_parts(start_ms, end_ms))
        # one row per chunk (from its header) and per hour of a head, tagged with the series
        found: list[tuple[float, ...]] = []
        series_of: list[int] = []
        unpack = chunks.HEADER.unpack_from
        for i, part in enumerate(parts):
            if part is None:
                continue
            blobs, head_ts, head_v = part
            for blob in blobs:
                _, count, first, _, low, high, total, last, _ = unpack(blob)
                if first % HOUR == 0:
                    return None
                found.append((first // HOUR * HOUR, low, high, total, count, last))
            if head_ts.size:
                if int(head_ts[0]) % HOUR == 0:
                    return None
                found.extend(map(tuple, bucket_rows(head_ts, head_v, HOUR).tolist()))
            series_of.extend([i] * (len(found) - len(series_of)))
        if not found:
            return empty_rows(), np.zeros(len(keys) + 1, dtype=np.int64)
        rows, sid = np.array(found, dtype=np.float64), np.array(series_of, dtype=np.int64)
        # merge the rows of one series and hour (several chunks, or chunks and the head)
        cut = np.flatnonzero((sid[1:] != sid[:-1]) | (rows[1:, START] != rows[:-1, START])) + 1
        if cut.size < rows.shape[0] - 1:
            first_row = np.concatenate(([0], cut))
            last_row = np.concatenate((cut, [rows.shape[0]])) - 1
            merged = np.empty((first_row.size, rows.shape[1]))
            merged[:, START] = rows[first_row, START]
            merged[:, MIN] = np.minimum.reduceat(rows[:, MIN], first_row)
            merged[:, MAX] = np.maximum.reduceat(rows[:, MAX], first_row)
            merged[:, SUM] = np.add.reduceat(rows[:, SUM], first_row)
            merged[:, COUNT] = np.add.reduceat(rows[:, COUNT], first_row)
            merged[:, LAST] = rows[last_row, LAST]
            rows, sid = merged, sid[first_row]
        offsets = np.searchsorted(sid, np.arange(len(keys) + 1), side="left")
        return rows, offsets.astype(np.int64)

    def series_version(self) -> tuple[int, int, int]:
        """Changes whenever a series is added or removed (held, evicted, dropped), so a
        cache of the series' labels can tell when to rebuild."""
        with self._lock:
            return len(self._entries), self.evictions, self._drops

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
