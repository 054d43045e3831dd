"""What a store read returns: series frames and series info (pure)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dashboard.metrics.model import SeriesKey
from dashboard.metrics.steps import Step


@dataclass(frozen=True)
class SeriesInfo:
    """A known series with its unit and the time span of its stored points."""

    key: SeriesKey
    unit: str
    first_ts: int
    last_ts: int

    def to_json(self) -> dict[str, object]:
        """The API form."""
        return {
            "key": str(self.key),
            "name": self.key.name,
            "labels": self.key.label_dict,
            "unit": self.unit,
            "first_ts": self.first_ts,
            "last_ts": self.last_ts,
        }


@dataclass
class SeriesFrame:
    """A series read at one step: ``value`` is the point (raw) or the bucket mean (rollups)."""

    key: SeriesKey
    step: Step
    ts: np.ndarray
    value: np.ndarray
    min: np.ndarray | None = None
    max: np.ndarray | None = None
    count: np.ndarray | None = None
    sum: np.ndarray | None = None
    last: np.ndarray | None = None

    def __len__(self) -> int:
        """Number of points or buckets."""
        return int(self.ts.size)

    def take(self, idx: np.ndarray) -> SeriesFrame:
        """The frame restricted to the rows at ``idx``."""

        def pick(a: np.ndarray | None) -> np.ndarray | None:
            return None if a is None else a[idx]

        return SeriesFrame(
            self.key,
            self.step,
            self.ts[idx],
            self.value[idx],
            pick(self.min),
            pick(self.max),
            pick(self.count),
            pick(self.sum),
            pick(self.last),
        )

    def aggregate(self, how: str) -> np.ndarray:
        """Values by aggregation: avg, min, max, sum or last (raw points are their own)."""
        if how == "avg" or self.min is None:
            return self.value
        column = {"min": self.min, "max": self.max, "sum": self.sum, "last": self.last}.get(how)
        if column is None:
            raise ValueError(f"unknown aggregation {how!r}")
        return column


def empty_frame(key: SeriesKey, step: Step) -> SeriesFrame:
    """A frame with no rows."""
    return SeriesFrame(key, step, np.empty(0, dtype=np.int64), np.empty(0))


def frame_points(frame: SeriesFrame) -> list[list[float]]:
    """``[[ts, value], ...]`` for JSON."""
    return [[int(t), float(v)] for t, v in zip(frame.ts, frame.value, strict=True)]
