"""The hot store: a SeriesRing per series, in memory (24 h at 1 s, rollups beyond)."""

from __future__ import annotations

import threading

from dashboard.metrics.frame import SeriesFrame, SeriesInfo, empty_frame
from dashboard.metrics.model import Batch, SeriesKey
from dashboard.metrics.ringbuffer import SeriesRing
from dashboard.metrics.steps import DAY, RAW, SECOND, Step


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
