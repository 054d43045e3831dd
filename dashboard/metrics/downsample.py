"""Server-side downsampling of a series to a chart's width with MinMaxLTTB (pure)."""

from __future__ import annotations

import numpy as np
from tsdownsample import MinMaxLTTBDownsampler

_DOWNSAMPLER = MinMaxLTTBDownsampler()


def downsample_indices(ts: np.ndarray, values: np.ndarray, n_out: int) -> np.ndarray:
    """Indices of at most ``n_out`` points that keep the shape (extremes included) of a series.

    ``ts`` must be sorted ascending. Returns all indices when the series is already small.
    """
    n = int(values.size)
    if n <= n_out:
        return np.arange(n)
    if n_out < 4:
        # MinMaxLTTB needs 4 points out: the newest alone, the two ends, or the ends and the middle
        return np.unique(np.linspace(n - 1, 0, max(int(n_out), 0)).round().astype(np.int64))
    x = np.ascontiguousarray(ts, dtype=np.int64)
    y = np.ascontiguousarray(values, dtype=np.float64)
    return np.asarray(_DOWNSAMPLER.downsample(x, y, n_out=int(n_out)), dtype=np.int64)


def downsample(ts: np.ndarray, values: np.ndarray, n_out: int) -> tuple[np.ndarray, np.ndarray]:
    """The series reduced to at most ``n_out`` points with MinMaxLTTB."""
    idx = downsample_indices(ts, values, n_out)
    return ts[idx], values[idx]
