"""The history cache's block planning (pure): which spans a read caches, where its fresh part
begins, which blocks a late batch changes, and how frames are cut and merged."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest

from dashboard.metrics.frame import SeriesFrame
from dashboard.metrics.history_plan import (
    MAX_BLOCKS,
    block_key,
    block_width,
    concat_frames,
    first_wanted,
    late_blocks,
    open_bucket_start,
    plan,
    runs,
    slice_frame,
    split_spans,
)
from dashboard.metrics.model import Batch, SeriesKey, SeriesPoints
from dashboard.metrics.steps import BY_NAME, HOUR, MINUTE, RAW, SECOND, STEPS, Step

KEY = SeriesKey.of("plan.metric", {"host": "a"})
OTHER = SeriesKey.of("plan.other")
T0 = 1_700_006_400_000  # a UTC day start: block and bucket edges fall on it
M1 = BY_NAME["1m"]


def points(key: SeriesKey, *ts: int) -> SeriesPoints:
    """Points of ``key`` at the given times (values do not matter here)."""
    return SeriesPoints(key, np.array(ts, dtype=np.int64), np.ones(len(ts)))


def rollup_frame(ts: list[int], step: Step = M1) -> SeriesFrame:
    """A rollup frame with every column, the values being the timestamps' offsets."""
    t = np.array(ts, dtype=np.int64)
    v = (t - T0).astype(float)
    return SeriesFrame(KEY, step, t, v, v - 1, v + 1, np.ones(t.size, dtype=np.int64), v, v)


def test_blocks_hold_whole_buckets() -> None:
    """Blocks are whole numbers of buckets, so no bucket straddles two blocks."""
    for step in STEPS:
        assert block_width(step) % step.width_ms == 0 and block_width(step) > step.width_ms


def test_the_open_bucket_and_the_first_wanted_millisecond() -> None:
    """The open bucket starts at now floored to the step; a rollup read starts at its bucket."""
    assert open_bucket_start(M1, T0 + 90 * SECOND) == T0 + MINUTE
    assert open_bucket_start(RAW, T0 + 1500) == T0 + SECOND
    assert first_wanted(T0 + 90 * SECOND, M1) == T0 + MINUTE
    assert first_wanted(T0 + 90 * SECOND, RAW) == T0 + 90 * SECOND


def test_a_rollup_read_caches_closed_blocks_and_the_closed_prefix_of_the_open_block() -> None:
    """Whole closed blocks, then the open block up to the open bucket; the rest is fresh."""
    width = block_width(M1)
    now = T0 + 2 * width + 5 * MINUTE + 20 * SECOND
    spans, fresh = plan(T0 + 30 * MINUTE, now, M1, now)
    assert spans == [(T0, T0 + width), (T0 + width, T0 + 2 * width), (T0 + 2 * width, now - 20_000)]
    assert fresh == T0 + 2 * width + 5 * MINUTE


def test_a_read_that_ends_before_the_open_bucket_has_no_fresh_part() -> None:
    """History alone is all cacheable: closed blocks (and a closed prefix) and nothing fresh."""
    width = block_width(M1)
    now = T0 + 3 * width
    assert plan(T0, T0 + width - 1, M1, now) == ([(T0, T0 + width)], None)
    now = T0 + width + 30 * MINUTE
    assert plan(T0, T0 + width + 10 * MINUTE, M1, now) == (
        [(T0, T0 + width), (T0 + width, T0 + width + 30 * MINUTE)],
        None,
    )


def test_raw_caches_only_whole_closed_blocks() -> None:
    """Raw reads its open block fresh, from the later of the block start and the read's start."""
    width = block_width(RAW)
    now = T0 + width + 20 * MINUTE
    assert plan(T0 + 5 * SECOND, now, RAW, now) == ([(T0, T0 + width)], T0 + width)
    assert plan(T0 + width + MINUTE, now, RAW, now) == ([], T0 + width + MINUTE)


def test_a_long_fine_read_plans_more_blocks_than_the_cache_takes() -> None:
    """The cache bypasses reads spanning more than MAX_BLOCKS blocks; the plan shows it."""
    now = T0 + 200 * block_width(RAW)
    spans, fresh = plan(T0, now, RAW, now)
    assert len(spans) > MAX_BLOCKS and fresh == now


def test_adjacent_spans_form_runs() -> None:
    """Each run of adjacent spans is one store read."""
    assert runs([]) == []
    assert runs([(0, 10), (10, 20), (30, 40), (40, 45), (50, 60)]) == [
        [(0, 10), (10, 20)],
        [(30, 40), (40, 45)],
        [(50, 60)],
    ]


def test_block_keys_name_series_step_and_span() -> None:
    """Two reads of the same block share a key; another step or span does not."""
    span = (T0, T0 + block_width(M1))
    assert block_key(str(KEY), M1, span) == block_key(str(KEY), BY_NAME["1m"], span)
    assert block_key(str(KEY), M1, span) != block_key(str(KEY), BY_NAME["5m"], span)
    assert block_key(str(KEY), M1, span) != block_key(str(OTHER), M1, span)


def test_live_points_change_no_cached_block() -> None:
    """Points in the open bucket of every step (or later) invalidate nothing."""
    now = T0 + 3 * block_width(RAW) + 10 * SECOND
    live = Batch([points(KEY, now - 500, now, now + SECOND), points(OTHER)])
    assert late_blocks(live, now) == []


def test_a_late_point_names_each_step_s_block_it_falls_into() -> None:
    """For each step whose open bucket is later, the block (or closed prefix) holding the point."""
    now = T0 + 2 * HOUR + 30 * MINUTE
    late = T0 + 30 * MINUTE + 1
    got = late_blocks(Batch([points(KEY, late, late + SECOND)]), now)
    assert (KEY, RAW, (T0, T0 + HOUR)) in got
    assert (KEY, M1, (T0, now)) in got  # the closed prefix of the 1m open block
    assert (KEY, BY_NAME["5m"], (T0, now)) in got
    week = T0 // block_width(BY_NAME["1h"]) * block_width(BY_NAME["1h"])  # blocks align to epoch
    assert (KEY, BY_NAME["1h"], (week, T0 + 2 * HOUR)) in got
    assert len(got) == 4  # one block per step, however many points fall in it; 1d is open


def test_a_late_point_in_the_open_raw_block_changes_no_raw_block() -> None:
    """Raw caches no prefix of its open block, so a late raw point there names nothing raw."""
    now = T0 + HOUR + 30 * MINUTE
    got = late_blocks(Batch([points(KEY, T0 + HOUR + MINUTE)]), now)
    assert all(step != RAW for _, step, _ in got)
    assert (KEY, M1, (T0, now)) in got


def test_split_then_concat_gives_the_frame_back() -> None:
    """A frame cut at span edges, empty spans included, merges back to itself."""
    frame = rollup_frame([T0, T0 + MINUTE, T0 + 5 * MINUTE, T0 + 6 * MINUTE])
    cuts = [T0, T0 + 2 * MINUTE, T0 + 4 * MINUTE, T0 + HOUR]
    spans = list(pairwise(cuts))
    parts = split_spans(frame, spans)
    assert [len(p) for p in parts] == [2, 0, 2]
    back = concat_frames(KEY, M1, parts)
    for name in ("ts", "value", "min", "max", "count", "sum", "last"):
        np.testing.assert_array_equal(getattr(back, name), getattr(frame, name))


def test_concat_of_nothing_is_empty_and_a_missing_column_stays_missing() -> None:
    """No frames give an empty frame; a column absent from one part is absent from the whole."""
    empty = concat_frames(KEY, M1, [])
    assert len(empty) == 0 and empty.ts.dtype == np.int64
    raw = SeriesFrame(KEY, M1, np.array([T0 + 2 * MINUTE]), np.array([7.0]))
    merged = concat_frames(KEY, M1, [rollup_frame([T0]), raw])
    assert merged.ts.tolist() == [T0, T0 + 2 * MINUTE] and merged.min is None


@pytest.mark.parametrize(
    ("lo", "hi", "expected"),
    [(T0, T0 + 2 * MINUTE, 3), (T0 + 1, T0 + 2 * MINUTE - 1, 1), (T0 + 3 * MINUTE, T0 + HOUR, 0)],
)
def test_slice_keeps_rows_within_both_edges(lo: int, hi: int, expected: int) -> None:
    """Rows at ``lo`` and at ``hi`` are kept; the whole frame comes back as it is."""
    frame = rollup_frame([T0, T0 + MINUTE, T0 + 2 * MINUTE])
    assert len(slice_frame(frame, lo, hi)) == expected
    assert slice_frame(frame, T0 - 1, T0 + HOUR) is frame
