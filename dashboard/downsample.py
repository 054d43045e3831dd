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
    if n <= max(n_out, 3):
        return np.arange(n)
    n_out = max(int(n_out), 4)
    x = np.ascontiguousarray(ts, dtype=np.int64)
    y = np.ascontiguousarray(values, dtype=np.float64)
    return np.asarray(_DOWNSAMPLER.downsample(x, y, n_out=n_out), dtype=np.int64)


def downsample(ts: np.ndarray, values: np.ndarray, n_out: int) -> tuple[np.ndarray, np.ndarray]:
    """The series reduced to at most ``n_out`` points with MinMaxLTTB."""
    idx = downsample_indices(ts, values, n_out)
    return ts[idx], values[idx]
