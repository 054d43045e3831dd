"""Raw samples of many series in flat arrays, and their windows per evaluation step (pure).

Every series' samples sit one after another in ``ts``/``v``; a composite int64 key (series
index in the high bits, time in the low bits) finds every window of every series with one
``searchsorted``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from dashboard.query.values import Labels

_SHIFT = 42
_TIME_MAX = (1 << _SHIFT) - 1
_LOOP_FROM = 16  # steps from which a per-series search beats the composite key


@dataclass
class RawSeries:
    """One series as a querier returns it: labels (with ``__name__``) and sorted samples."""

    labels: Labels
    ts: np.ndarray
    values: np.ndarray


@dataclass
class Samples:
    """Raw samples of S series, flattened.

    Attributes
    ----------
    labels : list of dict, length S
    ts : int64 array, shape (N,), milliseconds, sorted within each series
    v : float64 array, shape (N,)
    offsets : int64 array, shape (S + 1,); series i holds ``[offsets[i], offsets[i + 1])``
    base : int, a time before every sample (keys hold ``ts - base``)
    """

    labels: list[Labels]
    ts: np.ndarray
    v: np.ndarray
    offsets: np.ndarray
    base: int

    @classmethod
    def of(cls, series: Sequence[RawSeries], base: int) -> Samples:
        """Flatten querier results; ``base`` is earlier than every sample."""
        sizes = np.array([s.ts.size for s in series], dtype=np.int64)
        offsets = np.zeros(len(series) + 1, dtype=np.int64)
        np.cumsum(sizes, out=offsets[1:])
        ts = np.concatenate([s.ts for s in series]) if series else np.zeros(0, np.int64)
        v = np.concatenate([s.values for s in series]) if series else np.zeros(0)
        return cls(
            [s.labels for s in series],
            ts.astype(np.int64, copy=False),
            v.astype(np.float64, copy=False),
            offsets,
            base,
        )

    def __len__(self) -> int:
        """The number of series."""
        return len(self.labels)

    def _sid(self) -> np.ndarray:
        """The series index of every sample, shape (N,) (computed once)."""
        sid = getattr(self, "_cached_sid", None)
        if sid is None:
            sid = np.repeat(np.arange(len(self.labels), dtype=np.int64), np.diff(self.offsets))
            self._cached_sid = sid
        return sid

    def positions(self, times: np.ndarray) -> np.ndarray:
        """For each series and time, the index after its last sample at or before that time.

        Many times (a range query's steps): one ``searchsorted`` per series; few (an instant
        query over many series): one over a composite key of all samples.

        Parameters
        ----------
        times : int64 array, shape (T,)

        Returns
        -------
        int64 array, shape (S, T): indexes into the flat arrays
        """
        times = np.asarray(times, dtype=np.int64)
        if times.size >= _LOOP_FROM:
            return self._positions_per_series(times)
        sid = self._sid()
        keys = (sid << _SHIFT) | (self.ts - self.base)
        rel = np.clip(times - self.base, 0, _TIME_MAX)
        rows = np.arange(len(self.labels), dtype=np.int64)[:, None] << _SHIFT
        return np.searchsorted(keys, rows | rel[None, :], side="right")

    def _positions_per_series(self, times: np.ndarray) -> np.ndarray:
        """:meth:`positions` with one ``searchsorted`` per series (many steps)."""
        out = np.empty((len(self.labels), times.size), dtype=np.int64)
        bounds = self.offsets.tolist()
        for i in range(len(self.labels)):
            a, b = bounds[i], bounds[i + 1]
            np.add(np.searchsorted(self.ts[a:b], times, side="right"), a, out=out[i])
        return out

    def windows(self, starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The samples of each series in ``(start, end]`` per step, as ``[lo, hi)`` (S, T).

        When the range is a multiple of the step most starts are also ends: the positions
        are searched once for the distinct times and gathered for both.
        """
        starts, ends = np.asarray(starts, dtype=np.int64), np.asarray(ends, dtype=np.int64)
        both = np.concatenate((starts, ends))
        if both.size < 2 * _LOOP_FROM:
            return self.positions(starts), self.positions(ends)
        distinct, where = np.unique(both, return_inverse=True)
        if distinct.size > 0.75 * both.size:
            return self.positions(starts), self.positions(ends)
        at = self.positions(distinct)
        return _columns(at, where[: starts.size]), _columns(at, where[starts.size :])

    def instant(self, times: np.ndarray, lookback_ms: int) -> tuple[np.ndarray, np.ndarray]:
        """The latest sample in ``(t - lookback, t]`` per series and step: values and mask."""
        hi = self.positions(times)
        idx = hi - 1
        first = self.offsets[:-1, None]
        mask = idx >= first
        safe = np.where(mask, idx, 0)
        if self.ts.size == 0:
            return np.zeros(hi.shape), np.zeros(hi.shape, dtype=bool)
        mask &= self.ts[safe] > (np.asarray(times, dtype=np.int64)[None, :] - lookback_ms)
        return np.where(mask, self.v[safe], 0.0), mask

    def series_samples(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """The timestamps and values of series ``i``."""
        a, b = int(self.offsets[i]), int(self.offsets[i + 1])
        return self.ts[a:b], self.v[a:b]


def _columns(at: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """``at[:, cols]``: a view when ``cols`` are consecutive, as the steps of a range query
    are, else a copy."""
    if cols.size and bool((np.diff(cols) == 1).all()):
        return at[:, int(cols[0]) : int(cols[-1]) + 1]
    return at[:, cols]
