"""The one summary of a series over a range: plain statistics of raw points, exact statistics
of rollup buckets, and nothing without data."""

from __future__ import annotations

import math

import numpy as np

from dashboard.metrics.frame import SeriesFrame, empty_frame
from dashboard.metrics.model import SeriesKey
from dashboard.metrics.steps import BY_NAME, RAW
from dashboard.metrics.summary import FIELDS, Summary, frame_stats, frame_summary, summarize

KEY = SeriesKey.of("summary.metric", {"host": "a"})


def test_a_summary_reads_raw_points_or_rollup_buckets() -> None:
    """Raw: plain statistics; rollups: min/max of the buckets, avg weighted by their counts."""
    raw = summarize([3.0, 1.0, math.nan, 5.0])
    assert raw is not None
    assert raw.to_dict() == {"last": 5.0, "min": 1.0, "max": 5.0, "avg": 3.0, "sum": 9.0}
    rolled = summarize(
        [2.0, 10.0],
        mins=[1.0, 8.0],
        maxs=[3.0, 12.0],
        sums=[6.0, 10.0],
        counts=[3, 1],
        lasts=[2.5, 9.0],
    )
    assert rolled == Summary(last=9.0, min=1.0, max=12.0, avg=4.0, sum=16.0)
    assert summarize([]) is None and summarize([math.nan]) is None


def test_buckets_without_counts_are_read_as_points() -> None:
    """Rollup columns without a positive count fall back to the values themselves."""
    got = summarize([2.0, 4.0], sums=[0.0, 0.0], counts=[0, 0])
    assert got == Summary(last=4.0, min=2.0, max=4.0, avg=3.0, sum=6.0)


def test_a_raw_frame_is_summarised_from_its_points() -> None:
    """A raw frame's summary is that of its values, equal to numpy's statistics."""
    values = np.array([4.0, -1.5, 7.25, 0.5])
    frame = SeriesFrame(KEY, RAW, np.arange(4, dtype=np.int64), values)
    stats = frame_stats(frame)
    assert stats is not None
    assert (stats.min, stats.max, stats.last) == (-1.5, 7.25, 0.5)
    assert stats.avg == float(values.mean()) and stats.sum == float(values.sum())


def test_a_rollup_frame_is_summarised_exactly_from_its_buckets() -> None:
    """Extremes of the bucket extremes, the count-weighted mean, the last bucket's last point."""
    frame = SeriesFrame(
        KEY,
        BY_NAME["1m"],
        np.array([0, 60_000], dtype=np.int64),
        np.array([2.0, 10.0]),
        min=np.array([1.0, 8.0]),
        max=np.array([3.0, 12.0]),
        count=np.array([3, 1], dtype=np.int64),
        sum=np.array([6.0, 10.0]),
        last=np.array([2.5, 9.0]),
    )
    assert frame_summary(frame) == {"last": 9.0, "min": 1.0, "max": 12.0, "avg": 4.0, "sum": 16.0}


def test_a_frame_without_data_has_every_field_empty() -> None:
    """No rows: no summary, and the dict form holds None for every field."""
    frame = empty_frame(KEY, BY_NAME["5m"])
    assert frame_stats(frame) is None
    assert frame_summary(frame) == dict.fromkeys(FIELDS)
    assert list(frame_summary(frame)) == ["last", "min", "max", "avg", "sum"]
