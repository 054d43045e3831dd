"""Block planning for the history cache (pure: numpy and the standard library).

A read of ``[start, end]`` at a step is cut into blocks (``BLOCK_MS``, a whole number of the
step's buckets) aligned to multiples of the block width, so any range over the same data shares
blocks. A block that ends at or before the start of the step's current (still growing) bucket is
closed and may be cached whole; the rest of the range (the block holding the open bucket, and
anything after it) is read fresh, so the newest bucket is never served stale. A late point (one
for a block already closed) changes the blocks it falls into: ``late_blocks`` names them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dashboard.metrics.frame import SeriesFrame, empty_frame
from dashboard.metrics.model import Batch, SeriesKey
from dashboard.metrics.steps import DAY, HOUR, RAW, STEPS, Step

# Block width per step: small enough that the open block, read fresh each time, stays cheap,
# large enough that a chart's range is a handful of blocks.
BLOCK_MS = {"raw": HOUR, "1m": 6 * HOUR, "5m": DAY, "1h": 7 * DAY, "1d": 28 * DAY}
# A read spanning more blocks than this bypasses the cache (an unusual explicit fine step).
MAX_BLOCKS = 128
# Series of at most this many points are planned with Python ints (numpy's per-call cost
# dominates a one-point series: 500 of them took 2 ms through np.unique).
_FEW = 8
# The optional columns of a frame, in the order the cache keeps them.
COLUMNS = ("min", "max", "count", "sum", "last")

Span = tuple[int, int]
BlockKey = tuple[str, str, Span]


def block_width(step: Step) -> int:
    """Milliseconds covered by one cache block of ``step``."""
    return BLOCK_MS[step.name]


def block_key(series: str, step: Step, span: Span) -> BlockKey:
    """The identity of one cached span: the series text, the step's name and the span."""
    return (series, step.name, span)


def open_bucket_start(step: Step, now_ms: int) -> int:
    """The start of the step's bucket that is still growing at ``now_ms``."""
    return now_ms // step.width_ms * step.width_ms


def first_wanted(start_ms: int, step: Step) -> int:
    """The first millisecond a read returns: ``start`` for raw, its bucket's start for rollups."""
    return start_ms if step == RAW else start_ms // step.width_ms * step.width_ms


def plan(start_ms: int, end_ms: int, step: Step, now_ms: int) -> tuple[list[Span], int | None]:
    """The cacheable spans ``[lo, hi)`` a read covers, in order, and where its fresh part begins.

    Spans are whole closed blocks and, for rollups, the closed prefix of the open block (up to
    the open bucket's start, so its key changes with every new bucket); none reaches past the
    open bucket's start. The fresh part (None when there is none) is read from the store.
    """
    width = block_width(step)
    closed_until = open_bucket_start(step, now_ms)
    wanted = first_wanted(start_ms, step)
    block = wanted // width * width
    spans = []
    while block <= end_ms and block + width <= closed_until:
        spans.append((block, block + width))
        block += width
    if block > end_ms:
        return spans, None
    if step != RAW and closed_until > max(block, wanted):
        spans.append((block, closed_until))
        return spans, (max(closed_until, start_ms) if end_ms >= closed_until else None)
    return spans, max(block, start_ms)


def runs(spans: list[Span]) -> list[list[Span]]:
    """Adjacent spans grouped into runs (each run is one store read)."""
    out: list[list[Span]] = []
    for span in spans:
        if out and out[-1][-1][1] == span[0]:
            out[-1].append(span)
        else:
            out.append([span])
    return out


def late_blocks(batch: Batch, now_ms: int) -> list[tuple[SeriesKey, Step, Span]]:
    """The cached spans (series, step, span) that a batch's points change, as of ``now_ms``.

    Points in a step's open bucket or later change nothing cached; raw caches no prefix of its
    open block, so only whole closed raw blocks are named. A live batch (every point in the open
    buckets) costs a comparison a series.
    """
    steps = []
    for step in STEPS:
        width = block_width(step)
        closed_until = open_bucket_start(step, now_ms)
        # raw: only whole blocks before the one holding ``closed_until`` are cached
        limit = closed_until // width * width if step == RAW else closed_until
        steps.append((step, width, closed_until, limit))
    latest = max(limit for *_, limit in steps)
    out: list[tuple[SeriesKey, Step, Span]] = []
    append = out.append
    for series in batch.series:
        ts = series.ts
        n = ts.size
        if n == 0:
            continue
        if n == 1:
            # a sender's batch: a point a series, cheaper as ints than numpy calls
            t = ts.item(0)
            if t >= latest:
                continue
            for step, width, closed_until, limit in steps:
                if t < limit:
                    block = t // width * width
                    append((series.key, step, (block, min(block + width, closed_until))))
            continue
        if n <= _FEW:
            times = ts.tolist()
            if min(times) >= latest:
                continue
            for step, width, closed_until, limit in steps:
                blocks = {t // width * width for t in times if t < limit}
                for block in sorted(blocks):
                    append((series.key, step, (block, min(block + width, closed_until))))
            continue
        oldest = int(ts.min())
        if oldest >= latest:
            continue
        for step, width, closed_until, limit in steps:
            if oldest >= limit:
                continue
            late = ts[ts < limit]
            for block in np.unique(late // width * width).tolist():
                append((series.key, step, (block, min(block + width, closed_until))))
    return out


# --- merging frames -------------------------------------------------------------------------


def slice_frame(frame: SeriesFrame, lo: int, hi: int) -> SeriesFrame:
    """The rows of a frame whose time lies in ``[lo, hi]``."""
    a = int(np.searchsorted(frame.ts, lo, side="left"))
    b = int(np.searchsorted(frame.ts, hi, side="right"))
    if a == 0 and b == len(frame):
        return frame
    return frame.take(np.arange(a, b))


def concat_frames(key: SeriesKey, step: Step, frames: list[SeriesFrame]) -> SeriesFrame:
    """One frame of consecutive frames (in time order) of one series and step."""
    if not frames:
        return empty_frame(key, step)
    frames = [f for f in frames if len(f)] or frames[:1]
    if len(frames) == 1:
        return frames[0]
    cols: dict[str, Any] = {}
    for name in COLUMNS:
        parts = [getattr(f, name) for f in frames]
        cols[name] = None if any(p is None for p in parts) else np.concatenate(parts)
    return SeriesFrame(
        key,
        step,
        np.concatenate([f.ts for f in frames]),
        np.concatenate([f.value for f in frames]),
        **cols,
    )


def split_spans(frame: SeriesFrame, spans: list[Span]) -> list[SeriesFrame]:
    """A frame cut into consecutive spans: one frame per span (empty where nothing fell)."""
    edges = np.searchsorted(frame.ts, [lo for lo, _ in spans] + [spans[-1][1]], side="left")
    return [frame.take(np.arange(edges[i], edges[i + 1])) for i in range(len(spans))]
