"""A series summarised over a range (pure): last, min, max, mean and sum.

From raw points these are plain statistics of the finite values. From rollup buckets they are
exact: the extremes of the bucket extremes, the sum of the bucket sums, the mean weighted by the
bucket counts, and the last bucket's last point. The table widget, the stat tiles' periods and
the PDF report all read a summary from here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from dashboard.metrics.frame import SeriesFrame
from dashboard.metrics.steps import RAW

FIELDS = ("last", "min", "max", "avg", "sum")
Column = Sequence[float] | np.ndarray


@dataclass(frozen=True)
class Summary:
    """last, min, max, avg (the mean) and sum of a series over a range."""

    last: float
    min: float
    max: float
    avg: float
    sum: float

    def to_dict(self) -> dict[str, float | None]:
        """``{"last", "min", "max", "avg", "sum"}``, the form widgets look a value up in."""
        return asdict(self)


def summarize(
    values: Column,
    *,
    mins: Column | None = None,
    maxs: Column | None = None,
    sums: Column | None = None,
    counts: Column | None = None,
    lasts: Column | None = None,
) -> Summary | None:
    """The summary of raw points (``values``), or of rollup buckets (``values`` their means,
    with their min, max, sum, count and last columns); None when no value is finite."""
    points = np.asarray(values, dtype=np.float64)
    finite = points[np.isfinite(points)]
    if finite.size == 0:
        return None
    if counts is not None and sums is not None:
        n = float(np.sum(counts))
        if n > 0:
            total = float(np.sum(sums))
            return Summary(
                last=float((lasts if lasts is not None else points)[-1]),
                min=float(np.min(mins if mins is not None else finite)),
                max=float(np.max(maxs if maxs is not None else finite)),
                avg=total / n,
                sum=total,
            )
    total = float(np.sum(finite))
    return Summary(
        last=float(finite[-1]),
        min=float(finite.min()),
        max=float(finite.max()),
        avg=total / finite.size,
        sum=total,
    )


def frame_stats(frame: SeriesFrame) -> Summary | None:
    """The summary of a frame's points or buckets (None for a frame without data)."""
    if frame.step == RAW or frame.count is None:
        return summarize(frame.value)
    return summarize(
        frame.value,
        mins=frame.min,
        maxs=frame.max,
        sums=frame.sum,
        counts=frame.count,
        lasts=frame.last,
    )


def frame_summary(frame: SeriesFrame) -> dict[str, float | None]:
    """The summary of a frame as a dict by field name; every field None without data."""
    stats = frame_stats(frame)
    return stats.to_dict() if stats is not None else dict.fromkeys(FIELDS)
