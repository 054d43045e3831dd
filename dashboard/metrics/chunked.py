"""History in compressed chunks: what the database stores keep and how (pure: numpy, pcodec).

The database stores (SQLite and PostgreSQL) keep a series' raw points in three places:

- **the head**: recent points as rows ``(series_id, ts, value)``, where every write lands; a
  point written again for a held timestamp replaces the row (the last value given wins);
- **raw chunks**: one row ``(series_id, start, count, data)`` per series and window of
  ``RAW_WINDOW`` (one hour, epoch-aligned), ``data`` a sealed chunk in the format of
  :mod:`dashboard.metrics.chunks` (the one the hot store keeps in memory);
- **rollup chunks** (PostgreSQL, past the raw retention): one row ``(series_id, tier, start,
  data)`` per series, tier and window of ``ROLLUP_WINDOWS[tier]``, ``data`` the tier's buckets
  in :func:`encode_rows`' format.

The seal moves the head into chunks: the head's points of a window are merged into that
window's chunk (head values win on equal timestamps) and the chunk is re-encoded, in the same
transaction that deletes the head rows. A read merges the head over the chunks the same way,
so what a reader sees never depends on whether a point has been sealed yet. Rollups of the
retained raw days are computed from the raw points at read time; when retention drops a raw
day its 5m, 1h and 1d buckets are sealed into rollup chunks first.

Why one hour (measured on this machine, pcodec 1.1, ``bench/storage.py``): a row costs about 60
bytes in PostgreSQL besides its chunk (tuple header, key, index entry) and a chunk's header 60;
an hour of 15-s points (240) spreads that over 0.5 B a point, and pcodec's ratio at 240 points
is within 5 % of its ratio at 3,600; longer windows save little at 15 s and cost more at 1 s,
where the open window's chunk is re-encoded at every seal. The hot store seals by the same hour.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
from pcodec import ChunkConfig, standalone

from dashboard.metrics import chunks
from dashboard.metrics.rollup import NCOLS, bucket_rows, empty_rows
from dashboard.metrics.steps import BY_NAME, DAY, HOUR

RAW_WINDOW = HOUR
# A write's series with at least this many points are sealed straight into chunks (a backfill,
# a copy, a bulk import); fewer go through the head (live writes: a point or a few a series).
BULK_POINTS = 64
# Rollup tiers kept as chunks once their raw day is dropped, and the window of one chunk row.
ROLLUP_WINDOWS: dict[str, int] = {"5m": DAY, "1h": DAY, "1d": 28 * DAY}
ROWS_VERSION = 2
# version, reserved, bucket count, first bucket start, last bucket start, then the byte length of
# each column but the last (start, min, max, sum, count); the last column runs to the end
ROWS_HEADER = struct.Struct("<B3xIqq5I")
_CONFIG = ChunkConfig(compression_level=4)


@dataclass(frozen=True, slots=True)
class ChunkFault:
    """A stored chunk that did not decode: which series and time it covers, and why."""

    series: str
    start: int
    end: int
    reason: str

    def describe(self) -> str:
        """One line for the log."""
        return f"chunk of {self.series} at [{self.start}, {self.end}) is unreadable: {self.reason}"


# --- windows and merging ----------------------------------------------------------------


def window_of(ts: int, width: int = RAW_WINDOW) -> int:
    """The start of the epoch-aligned window holding ``ts``."""
    return ts // width * width


def windows(ts: np.ndarray, width: int = RAW_WINDOW) -> Iterator[tuple[int, slice]]:
    """``(window start, slice)`` runs of sorted timestamps, one per window they touch."""
    if ts.size == 0:
        return
    keys = ts // width
    cut = np.flatnonzero(keys[1:] != keys[:-1]) + 1
    bounds = [0, *cut.tolist(), int(ts.size)]
    for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
        yield int(keys[lo]) * width, slice(lo, hi)


def merge_points(
    old_ts: np.ndarray, old_v: np.ndarray, new_ts: np.ndarray, new_v: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Two runs of sorted, unique-timestamp points as one; ``new`` wins on equal timestamps."""
    if old_ts.size == 0:
        return new_ts, new_v
    if new_ts.size == 0:
        return old_ts, old_v
    ts = np.concatenate((old_ts, new_ts))
    v = np.concatenate((old_v, new_v))
    order = np.argsort(ts, kind="stable")  # stable: an old point sorts before a new equal one
    ts, v = ts[order], v[order]
    keep = np.ones(ts.size, dtype=bool)
    keep[:-1] = ts[1:] != ts[:-1]
    return ts[keep], v[keep]


def last_per_ts(ts: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Points sorted by time, each timestamp's later rows after its earlier ones, with only the
    last row of each timestamp (the head keeps every row written; the newest wins)."""
    if ts.size < 2:
        return ts, v
    keep = np.ones(ts.size, dtype=bool)
    keep[:-1] = ts[1:] != ts[:-1]
    return ts[keep], v[keep]


def seal(
    old: dict[int, bytes], ts: np.ndarray, v: np.ndarray, width: int = RAW_WINDOW
) -> list[tuple[int, int, bytes]]:
    """The chunks that sealing one series' head points gives: ``(start, count, data)`` per
    window the points touch, each merged with that window's stored chunk in ``old`` (by start).

    A chunk in ``old`` that does not decode is replaced by the head's points (the fault is
    raised by reads; sealing must not stop on it).
    """
    out: list[tuple[int, int, bytes]] = []
    if ts.size == 0:
        return out
    first, last = int(ts[0]) // width, int(ts[-1]) // width
    runs = [(first * width, slice(0, ts.size))] if first == last else windows(ts, width)
    for start, part in runs:
        nts, nv = ts[part], v[part]
        blob = old.get(start)
        if blob is not None:
            try:
                ots, ov = chunks.decode(blob)
            except chunks.ChunkError:
                ots, ov = np.empty(0, np.int64), np.empty(0)
            nts, nv = merge_points(ots, ov, nts, nv)
        out.append((start, int(nts.size), chunks.encode(nts, nv)))
    return out


def bulk_runs(
    sid: np.ndarray, ts: np.ndarray, value: np.ndarray, min_points: int
) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """The points of each series with at least ``min_points`` of them, from columns sorted by
    series and time: what a store seals straight into chunks instead of through its head."""
    if ts.size < min_points:
        return {}
    cut = np.flatnonzero(sid[1:] != sid[:-1]) + 1
    bounds = [0, *cut.tolist(), int(sid.size)]
    return {
        int(sid[lo]): (ts[lo:hi], value[lo:hi])
        for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)
        if hi - lo >= min_points
    }


def decode_run(
    series: str, run: Sequence[tuple[int, bytes]], width: int = RAW_WINDOW
) -> tuple[np.ndarray, np.ndarray, list[ChunkFault]]:
    """Points of a series' chunks ``(start, data)`` in start order, as one sorted run; a chunk
    that does not decode is left out and reported."""
    blobs = [bytes(blob) for _, blob in run]
    try:  # the common case: every chunk decodes, straight into one pair of arrays
        counts = [chunks.count(b) for b in blobs]
        if all(0 < c <= width for c in counts):  # at most a point a millisecond
            n = sum(counts)
            ts_out, v_out = np.empty(n, dtype=np.int64), np.empty(n, dtype=np.float64)
            if chunks.decode_run_into(blobs, ts_out, v_out) == n:
                return ts_out, v_out, []
    except (chunks.ChunkError, struct.error):
        pass
    parts_ts, parts_v, faults = [], [], []
    for start, blob in run:
        try:
            ts, v = chunks.decode(bytes(blob))
        except chunks.ChunkError as exc:
            faults.append(ChunkFault(series, start, start + width, str(exc)))
            continue
        parts_ts.append(ts)
        parts_v.append(v)
    if not parts_ts:
        return np.empty(0, np.int64), np.empty(0), faults
    return np.concatenate(parts_ts), np.concatenate(parts_v), faults


def clip(ts: np.ndarray, v: np.ndarray, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
    """The points of a sorted run in ``[lo, hi]``."""
    a, b = np.searchsorted(ts, lo, "left"), np.searchsorted(ts, hi, "right")
    return ts[a:b], v[a:b]


# --- rollups ------------------------------------------------------------------------------


def day_rollups(ts: np.ndarray, v: np.ndarray) -> dict[str, np.ndarray]:
    """Bucket rows of each tier kept as chunks, from a sorted run of raw points."""
    return {tier: bucket_rows(ts, v, BY_NAME[tier].width_ms) for tier in ROLLUP_WINDOWS}


def rows_windows(rows: np.ndarray, width: int) -> Iterator[tuple[int, np.ndarray]]:
    """``(window start, rows)`` runs of bucket rows sorted by start."""
    starts = rows[:, 0].astype(np.int64)
    for start, part in windows(starts, width):
        yield start, rows[part]


def replace_rows(old: np.ndarray, new: np.ndarray) -> np.ndarray:
    """Bucket rows of ``old`` and ``new`` by start; ``new``'s row wins for a start in both."""
    if old.shape[0] == 0:
        return new
    keep = ~np.isin(old[:, 0], new[:, 0])
    rows = np.concatenate((old[keep], new))
    return rows[np.argsort(rows[:, 0], kind="stable")]


def encode_rows(rows: np.ndarray) -> bytes:
    """Bucket rows ``[start, min, max, sum, count, last]`` (sorted by start, at least one) as
    bytes: a header, then each column compressed with pcodec (start and count as int64)."""
    if rows.shape[0] == 0 or rows.shape[1] != NCOLS:
        raise ValueError("a rollup chunk holds at least one bucket row of six columns")
    columns = [np.ascontiguousarray(rows[:, i]) for i in range(NCOLS)]
    columns[0] = columns[0].astype(np.int64)
    columns[4] = columns[4].astype(np.int64)
    parts = [standalone.simple_compress(c, _CONFIG) for c in columns]
    head = ROWS_HEADER.pack(
        ROWS_VERSION,
        rows.shape[0],
        int(columns[0][0]),
        int(columns[0][-1]),
        *(len(p) for p in parts[:-1]),
    )
    return b"".join((head, *parts))


def decode_rows(blob: bytes) -> np.ndarray:
    """Bucket rows, shape (k, 6), from :func:`encode_rows`' bytes; ChunkError if they are not."""
    if len(blob) < ROWS_HEADER.size or blob[0] != ROWS_VERSION:
        raise chunks.ChunkError(f"not a version-{ROWS_VERSION} rollup chunk")
    _, n, _, _, *lengths = ROWS_HEADER.unpack_from(blob)
    rows = np.empty((n, NCOLS))
    pos = ROWS_HEADER.size
    try:
        for i in range(NCOLS):
            end = pos + lengths[i] if i < NCOLS - 1 else len(blob)
            col = standalone.simple_decompress(blob[pos:end])
            if col is None or col.size != n:
                raise chunks.ChunkError("corrupt rollup chunk: row count does not match")
            rows[:, i] = col
            pos = end
    except (RuntimeError, TypeError) as exc:
        raise chunks.ChunkError(f"corrupt rollup chunk: {exc}") from None
    return rows


def decode_rows_run(
    series: str, run: Sequence[tuple[int, bytes]], width: int
) -> tuple[np.ndarray, list[ChunkFault]]:
    """Bucket rows of a series' rollup chunks ``(start, data)`` in start order; a chunk that
    does not decode is left out and reported."""
    parts, faults = [], []
    for start, blob in run:
        try:
            parts.append(decode_rows(bytes(blob)))
        except chunks.ChunkError as exc:
            faults.append(ChunkFault(series, start, start + width, str(exc)))
    return (np.concatenate(parts) if parts else empty_rows()), faults


def clip_rows(rows: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """Bucket rows whose start is in ``[lo, hi]`` (rows sorted by start)."""
    starts = rows[:, 0]
    return rows[np.searchsorted(starts, lo, "left") : np.searchsorted(starts, hi, "right")]
