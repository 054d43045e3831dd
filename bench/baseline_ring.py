"""The hot store as it was until 2026-12 (bench baseline only): one-second numpy rings.

Kept so the benchmarks can compare the chunked engine (``dashboard.metrics.stores.hot``) with
it in one process; nothing in the product imports it. Its own description follows.

Time-indexed numpy ring buffers for one series, with 1m/5m/1h/1d rollups.

The raw ring has one slot per second (slot = second mod capacity), so a range read is a
contiguous slice already in time order, a replayed point lands on itself, and a late point
finds its place without a sort. Rollup levels are rings of buckets holding min, max, sum,
count and last; a write recomputes only the buckets it touched, each from the level below
(1m from raw, 5m from 1m, 1h from 5m, 1d from 1h), so rollups stay exact under replays,
late points and overwrites.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import numpy as np

from dashboard.metrics.frame import SeriesFrame, SeriesInfo, empty_frame
from dashboard.metrics.model import Batch, SeriesKey
from dashboard.metrics.steps import DAY, RAW, ROLLUPS, SECOND, Step

EMPTY = np.int64(-1)
# Up to this many in-order points a write updates rollups point by point instead of recomputing.
FAST_PATH_POINTS = 16


@dataclass
class Buckets:
    """Aggregated buckets of one step, in time order (numpy arrays of equal length)."""

    start: np.ndarray
    min: np.ndarray
    max: np.ndarray
    sum: np.ndarray
    count: np.ndarray
    last: np.ndarray

    @property
    def avg(self) -> np.ndarray:
        """Mean value per bucket."""
        return self.sum / np.maximum(self.count, 1)

    def __len__(self) -> int:
        """Number of buckets."""
        return int(self.start.size)


class Level:
    """A ring of aggregated buckets of one width."""

    def __init__(self, step: Step, capacity: int) -> None:
        """Allocate ``capacity`` empty buckets of ``step.width_ms``."""
        self.step = step
        self.width = step.width_ms
        self.capacity = capacity
        self.start = np.full(capacity, EMPTY, dtype=np.int64)
        self.min = np.zeros(capacity)
        self.max = np.zeros(capacity)
        self.sum = np.zeros(capacity)
        self.count = np.zeros(capacity, dtype=np.int64)
        self.last = np.zeros(capacity)
        self.last_ts = np.zeros(capacity, dtype=np.int64)
        # The bucket live points are folded into, in Python numbers while they come (a numpy
        # element read or write costs several times a Python one): [start, slot, min, max, sum,
        # count, last, last_ts]. Written into the arrays before anything reads or rewrites them.
        self.open: list[Any] | None = None

    def flush(self) -> None:
        """Write the open bucket into the arrays."""
        o = self.open
        if o is None:
            return
        self.open = None
        slot = o[1]
        self.start[slot] = o[0]
        self.min[slot] = o[2]
        self.max[slot] = o[3]
        self.sum[slot] = o[4]
        self.count[slot] = o[5]
        self.last[slot] = o[6]
        self.last_ts[slot] = o[7]

    def gather(self, starts: np.ndarray) -> tuple[np.ndarray, ...]:
        """Aggregates at bucket ``starts`` (any shape) and a mask of which are present."""
        self.flush()
        slots = (starts // self.width) % self.capacity
        valid = self.start[slots] == starts
        return (
            valid,
            self.min[slots],
            self.max[slots],
            self.sum[slots],
            np.where(valid, self.count[slots], 0),
            self.last[slots],
            self.last_ts[slots],
        )

    def read(self, start_ms: int, end_ms: int) -> Buckets:
        """Buckets whose start lies in ``[floor(start/width)*width, end]``, oldest first."""
        b1 = end_ms // self.width
        b0 = max(start_ms // self.width, b1 - self.capacity + 1)
        if b1 < b0:
            return _empty_buckets()
        starts = np.arange(b0, b1 + 1, dtype=np.int64) * self.width
        valid, mn, mx, sm, cnt, last, _ = self.gather(starts)
        return Buckets(starts[valid], mn[valid], mx[valid], sm[valid], cnt[valid], last[valid])


class RawRing:
    """One slot a second for ``capacity`` seconds, holding the exact timestamp and value."""

    step = RAW

    def __init__(self, capacity: int) -> None:
        """Allocate ``capacity`` empty one-second slots."""
        self.width = SECOND
        self.capacity = capacity
        # a timestamp kept as its Unix second + 1 (0: empty slot) and its millisecond: 6 bytes
        # instead of 8, which keeps 100 series x 24 h under 150 MB (seconds fit until 2106)
        self.sec1 = np.zeros(capacity, dtype=np.uint32)
        self.ms = np.zeros(capacity, dtype=np.uint16)
        self.value = np.zeros(capacity)

    @property
    def nbytes(self) -> int:
        """Memory held by the ring's arrays."""
        return self.sec1.nbytes + self.ms.nbytes + self.value.nbytes

    def stamps(self, slots: np.ndarray) -> np.ndarray:
        """The timestamps (Unix ms, int64) in ``slots``; ``EMPTY`` where a slot is empty."""
        sec1 = self.sec1[slots].astype(np.int64)
        return np.where(sec1 > 0, (sec1 - 1) * SECOND + self.ms[slots], EMPTY)

    def put(self, slots: np.ndarray, ts: np.ndarray, values: np.ndarray) -> None:
        """Store points (timestamps in Unix ms, 0 to 2**32 - 2 seconds) in ``slots``."""
        self.sec1[slots] = ts // SECOND + 1
        self.ms[slots] = ts % SECOND
        self.value[slots] = values

    def gather(self, starts: np.ndarray) -> tuple[np.ndarray, ...]:
        """The point in each one-second bucket at ``starts``, shaped like a Level's gather."""
        slots = (starts // SECOND) % self.capacity
        ts = self.stamps(slots)
        valid = (ts >= 0) & (ts // SECOND * SECOND == starts)
        v = self.value[slots]
        return valid, v, v, v, valid.astype(np.int64), v, ts

    def read(self, start_ms: int, end_ms: int) -> tuple[np.ndarray, np.ndarray]:
        """Timestamps and values in ``[start_ms, end_ms]``, oldest first."""
        s1 = end_ms // SECOND
        s0 = max(start_ms // SECOND, s1 - self.capacity + 1)
        if s1 < s0:
            return np.empty(0, dtype=np.int64), np.empty(0)
        secs = np.arange(s0, s1 + 1, dtype=np.int64)
        slots = secs % self.capacity
        ts = self.stamps(slots)
        mask = (ts >= start_ms) & (ts <= end_ms) & (ts // SECOND == secs)
        return ts[mask], self.value[slots][mask]


def _empty_buckets() -> Buckets:
    """No buckets."""
    f = np.empty(0)
    return Buckets(np.empty(0, dtype=np.int64), f, f, f, np.empty(0, dtype=np.int64), f)


class SeriesRing:
    """Raw points for 24 h at 1 s plus rollups, for one series."""

    def __init__(self, raw_seconds: int = DAY // SECOND) -> None:
        """Allocate the raw ring and one ring per rollup step, each sized to its retention.

        Each ring holds one bucket of the next coarser step beyond its window, so a late point
        at the edge of the raw window recomputes its buckets from complete data.
        """
        self.window = raw_seconds
        self.raw = RawRing(raw_seconds + ROLLUPS[0].width_ms // SECOND)
        self.levels: dict[str, Level] = {}
        for i, step in enumerate(ROLLUPS):
            spare = ROLLUPS[i + 1].width_ms // step.width_ms if i + 1 < len(ROLLUPS) else 0
            self.levels[step.name] = Level(step, step.retention_ms // step.width_ms + 1 + spare)
        self.newest_ts = -1
        self.oldest_ts = -1

    @property
    def nbytes(self) -> int:
        """Memory held by the arrays of this series."""
        total = self.raw.nbytes
        for lv in self.levels.values():
            total += sum(
                a.nbytes for a in (lv.start, lv.min, lv.max, lv.sum, lv.count, lv.last, lv.last_ts)
            )
        return total

    def write(self, ts: np.ndarray, values: np.ndarray) -> int:
        """Store sorted, unique-timestamp points; return how many changed the ring.

        A point already stored with the same timestamp is kept (idempotent replay). Points
        older than the raw window (relative to the newest point seen) are ignored here.
        """
        if ts.size == 0:
            return 0
        previous = self.newest_ts
        if ts.size == 1 and int(ts[0]) // SECOND > previous // SECOND:
            return self._write_next(int(ts[0]), float(values[0]))
        newest = max(previous, int(ts[-1]))
        secs = ts // SECOND
        keep = secs > newest // SECOND - self.window
        # one point per second: the last one of each second wins
        if secs.size > 1:
            keep[:-1] &= secs[1:] != secs[:-1]
        ts, values, secs = ts[keep], values[keep], secs[keep]
        slots = secs % self.raw.capacity
        fresh = self.raw.stamps(slots) != ts
        if not fresh.any():
            return 0
        ts, values, slots = ts[fresh], values[fresh], slots[fresh]
        self.raw.put(slots, ts, values)
        self.newest_ts = newest
        first = int(ts[0])
        self.oldest_ts = first if self.oldest_ts < 0 else min(self.oldest_ts, first)
        if ts.size <= FAST_PATH_POINTS and int(ts[0]) // SECOND > previous // SECOND:
            # the live case: a few points, each in a second after everything held
            for t, v in zip(ts.tolist(), values.tolist(), strict=True):
                for level in self.levels.values():
                    _append(level, t, v)
            return int(ts.size)
        touched = np.unique(ts // SECOND * SECOND)
        source: RawRing | Level = self.raw
        for level in self.levels.values():
            touched = np.unique(touched // level.width * level.width)
            _recompute(level, touched, source)
            source = level
        return int(ts.size)

    def _write_next(self, t: int, v: float) -> int:
        """The live case in scalars: one point in a second after everything held."""
        raw = self.raw
        sec = t // SECOND
        slot = sec % raw.capacity
        raw.sec1[slot] = sec + 1
        raw.ms[slot] = t % SECOND
        raw.value[slot] = v
        self.newest_ts = t
        if self.oldest_ts < 0:
            self.oldest_ts = t
        for level in self.levels.values():
            _append(level, t, v)
        return 1

    def read_raw(self, start_ms: int, end_ms: int) -> tuple[np.ndarray, np.ndarray]:
        """Raw points in the range, within its last ``window`` seconds."""
        floor = (end_ms // SECOND - self.window + 1) * SECOND
        return self.raw.read(max(start_ms, floor), end_ms)

    def read_buckets(self, step: Step, start_ms: int, end_ms: int) -> Buckets:
        """Rollup buckets of ``step`` in the range."""
        return self.levels[step.name].read(start_ms, end_ms)


def _append(level: Level, t: int, v: float) -> None:
    """Fold a point newer than everything in its bucket into the bucket (or start the bucket),
    as the level's open bucket (see ``Level.open``)."""
    start = t // level.width * level.width
    o = level.open
    if o is not None and o[0] == start:  # the usual case: the bucket of the previous point
        if v < o[2]:
            o[2] = v
        if v > o[3]:
            o[3] = v
        o[4] += v
        o[5] += 1
        o[6] = v
        o[7] = t
        return
    level.flush()
    slot = (t // level.width) % level.capacity
    if level.start[slot] != start:  # a new bucket (in place of the one a window ago)
        level.open = [start, slot, v, v, v, 1, v, t]
        return
    count = int(level.count[slot])  # a stored bucket goes on
    level.open = [
        start,
        slot,
        min(float(level.min[slot]), v),
        max(float(level.max[slot]), v),
        float(level.sum[slot]) + v,
        count + 1,
        v,
        t,
    ]


def _recompute(level: Level, starts: np.ndarray, source: RawRing | Level) -> None:
    """Recompute the buckets of ``level`` at ``starts`` from the finer ``source`` level."""
    level.flush()  # its open bucket first, or a later flush would undo what is written here
    ratio = level.width // source.width
    sub = starts[:, None] + np.arange(ratio, dtype=np.int64)[None, :] * source.width
    valid, mn, mx, sm, cnt, last, last_ts = source.gather(sub)
    present = valid & (cnt > 0)
    count = cnt.sum(axis=1)
    # the last present sub-bucket of each row
    rev = present[:, ::-1]
    last_idx = ratio - 1 - rev.argmax(axis=1)
    rows = np.arange(starts.size)
    slots = (starts // level.width) % level.capacity
    level.start[slots] = np.where(count > 0, starts, EMPTY)
    level.min[slots] = np.where(present, mn, np.inf).min(axis=1)
    level.max[slots] = np.where(present, mx, -np.inf).max(axis=1)
    level.sum[slots] = np.where(present, sm, 0.0).sum(axis=1)
    level.count[slots] = count
    level.last[slots] = last[rows, last_idx]
    level.last_ts[slots] = last_ts[rows, last_idx]


class MemoryStore:
    """Numpy ring buffers per series; the first place a live query looks."""

    kind = "memory"

    def __init__(self, raw_seconds: int = DAY // SECOND) -> None:
        """An empty store keeping ``raw_seconds`` of one-second raw slots per series."""
        self._raw_seconds = raw_seconds
        self._rings: dict[SeriesKey, SeriesRing] = {}
        self._units: dict[SeriesKey, str] = {}
        self._lock = threading.Lock()

    def write(self, batch: Batch) -> int:
        """Write every series of the batch into its ring."""
        with self._lock:
            for series in batch.series:
                ring = self._rings.get(series.key)
                if ring is None:
                    ring = self._rings[series.key] = SeriesRing(self._raw_seconds)
                if series.unit or series.key not in self._units:
                    self._units[series.key] = series.unit
                ring.write(series.ts, series.values)
        return batch.point_count

    def list_series(self) -> list[SeriesInfo]:
        """Series with at least one point held."""
        with self._lock:
            return [
                SeriesInfo(key, self._units.get(key, ""), ring.oldest_ts, ring.newest_ts)
                for key, ring in sorted(self._rings.items())
                if ring.newest_ts >= 0
            ]

    def query(self, key: SeriesKey, start_ms: int, end_ms: int, step: Step) -> SeriesFrame:
        """Raw points or rollup buckets of one series."""
        with self._lock:
            ring = self._rings.get(key)
            if ring is None:
                return empty_frame(key, step)
            if step == RAW:
                ts, values = ring.read_raw(start_ms, end_ms)
                return SeriesFrame(key, step, ts, values)
            b = ring.read_buckets(step, start_ms, end_ms)
        return SeriesFrame(key, step, b.start, b.avg, b.min, b.max, b.count, b.sum, b.last)

    def memory_bytes(self) -> int:
        """Bytes held by all rings."""
        with self._lock:
            return sum(r.nbytes for r in self._rings.values())

    def newest_ts(self) -> int:
        """The newest timestamp held, or -1."""
        with self._lock:
            return max((r.newest_ts for r in self._rings.values()), default=-1)

    def ping(self) -> bool:
        """Memory always answers."""
        return True

    def close(self) -> None:
        """Nothing to release."""
