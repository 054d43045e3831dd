"""Exact rollup arithmetic over points and partial buckets (pure: numpy only).

A bucket aggregate is a row ``[start, min, max, sum, count, last]`` of float64 (start and count
are whole numbers, exact in float64 up to 2**53). Rows of the same bucket computed over
disjoint, time-ordered parts of its points merge exactly: min of mins, max of maxes, sum of
sums, count of counts, and the last row's last.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dashboard.metrics import chunks

START, MIN, MAX, SUM, COUNT, LAST = range(6)
NCOLS = 6


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


def empty_rows() -> np.ndarray:
    """No rows: shape (0, 6)."""
    return np.empty((0, NCOLS))


def bucket_rows(ts: np.ndarray, values: np.ndarray, width: int) -> np.ndarray:
    """Aggregate sorted points into buckets of ``width`` ms aligned to the epoch.

    Parameters
    ----------
    ts : ndarray of int64, shape (n,), sorted
    values : ndarray of float64, shape (n,)

    Returns
    -------
    ndarray of float64, shape (k, 6): one row per non-empty bucket, in time order.
    """
    if ts.size == 0:
        return empty_rows()
    b0, b1 = int(ts[0]) // width, int(ts[-1]) // width
    if (b1 - b0 + 1) * 4 <= ts.size:
        # dense (many points a bucket): find each bucket's first point by binary search over
        # the bucket edges instead of dividing every timestamp (about 3x faster at 300 a bucket)
        edges = np.arange(b0, b1 + 1, dtype=np.int64) * width
        first = np.searchsorted(ts, edges, "left")
        end = np.append(first[1:], ts.size)
        held = end > first
        first, end = first[held], end[held]
        rows = np.empty((first.size, NCOLS))
        rows[:, START] = edges[held]
        rows[:, MIN] = np.minimum.reduceat(values, first)
        rows[:, MAX] = np.maximum.reduceat(values, first)
        rows[:, SUM] = np.add.reduceat(values, first)
        rows[:, COUNT] = end - first
        rows[:, LAST] = values[end - 1]
        return rows
    keys = ts // width
    cut = np.flatnonzero(keys[1:] != keys[:-1]) + 1
    first = np.concatenate(([0], cut))
    end = np.concatenate((cut, [ts.size]))
    rows = np.empty((first.size, NCOLS))
    rows[:, START] = keys[first] * width
    rows[:, MIN] = np.minimum.reduceat(values, first)
    rows[:, MAX] = np.maximum.reduceat(values, first)
    rows[:, SUM] = np.add.reduceat(values, first)
    rows[:, COUNT] = end - first
    rows[:, LAST] = values[end - 1]
    return rows


def merge_rows(rows: np.ndarray) -> np.ndarray:
    """Merge rows of the same bucket start; ``rows`` sorted by start, parts in time order."""
    if rows.shape[0] < 2:
        return rows
    starts = rows[:, START]
    cut = np.flatnonzero(starts[1:] != starts[:-1]) + 1
    if cut.size == rows.shape[0] - 1:
        return rows
    first = np.concatenate(([0], cut))
    end = np.concatenate((cut, [rows.shape[0]]))
    out = np.empty((first.size, NCOLS))
    out[:, START] = starts[first]
    out[:, MIN] = np.minimum.reduceat(rows[:, MIN], first)
    out[:, MAX] = np.maximum.reduceat(rows[:, MAX], first)
    out[:, SUM] = np.add.reduceat(rows[:, SUM], first)
    out[:, COUNT] = np.add.reduceat(rows[:, COUNT], first)
    out[:, LAST] = rows[end - 1, LAST]
    return out


def chunk_rows(blob: bytes, width: int) -> np.ndarray:
    """Bucket rows of a sealed chunk; from its header alone when it lies in one bucket."""
    head = chunks.header(blob)
    if head.first_ts // width == head.last_ts // width:
        row = [head.first_ts // width * width, head.min, head.max, head.sum, head.count, head.last]
        return np.array([row], dtype=np.float64)
    ts, values = chunks.decode(blob)
    return bucket_rows(ts, values, width)


def to_buckets(rows: np.ndarray) -> Buckets:
    """Rows as Buckets (start and count as int64)."""
    return Buckets(
        rows[:, START].astype(np.int64),
        rows[:, MIN].copy(),
        rows[:, MAX].copy(),
        rows[:, SUM].copy(),
        rows[:, COUNT].astype(np.int64),
        rows[:, LAST].copy(),
    )
