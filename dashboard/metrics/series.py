"""One series in memory: a small open head, compressed sealed chunks, exact rollups (pure).

Every accepted point is kept at millisecond resolution, in time order; a point with the
timestamp of one held replaces it. A point is accepted when it is at most the raw retention
(one day) older than the newest point of the series, counting the batch it comes in.

- The head holds the newest points in two small growable numpy arrays. It is sealed into a
  chunk (``chunks.encode``) when it holds ``HEAD_POINTS`` points or when a point of a later
  one-hour window arrives, so a chunk never spans two windows (a 1h or 1d bucket over a chunk
  is read from the chunk's header alone). A sealed head joins the previous chunk when that is
  of the same window and the two hold at most ``MAX_CHUNK_POINTS``: pcodec's cost per call
  makes decoding 4,096 points about 4 times faster a point than 512, so a fast series (1 s)
  keeps one chunk an hour while its head stays at most 8 KiB.
- A late point newer than every sealed chunk joins the head, out of order. An older one goes
  into the chunk of its window where it falls (decompress, merge, recompress: the rare path),
  or into a new chunk in the gap.
- Rollups inside the raw window are not stored: they are computed from the raw points on read
  (from chunk headers where a chunk lies in one bucket), so a replaced or late point can never
  leave a stale aggregate behind, and the write path does no rollup work at all.
- A chunk whose newest point is older than the raw retention is dropped whole; before that it
  is folded into per-step rollup rows (``rollup`` module), kept for each step's retention. No
  accepted point can be older than a dropped chunk, so those rows never change again, except
  the last one of each step (its bucket may go on in the raw points), which a read merges with
  the rest of its bucket.
"""

from __future__ import annotations

import sys
from bisect import bisect_left, bisect_right

import numpy as np

from dashboard.metrics import chunks
from dashboard.metrics.rollup import (
    START,
    Buckets,
    bucket_rows,
    chunk_rows,
    empty_rows,
    merge_rows,
    to_buckets,
)
from dashboard.metrics.steps import HOUR, RAW, ROLLUPS, Step

WINDOW_MS = HOUR
HEAD_POINTS = 512
MAX_CHUNK_POINTS = 4096
RAW_RETENTION_MS = RAW.retention_ms
_HEAD_START = 2
_STEP_INDEX = {step.name: i for i, step in enumerate(ROLLUPS)}
_BLOB_OVERHEAD = sys.getsizeof(b"") + 8  # a bytes object and its list slot
_INT = 32  # a Python int held in a slot
_ARRAY_OVERHEAD = sys.getsizeof(np.empty(0))
_ROLLUPS_FIXED = sys.getsizeof([None] * len(ROLLUPS)) + len(ROLLUPS) * _ARRAY_OVERHEAD


def _last_wins(ts: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sort points by time (stable) and keep the last of each timestamp."""
    if ts.size > 1 and not bool(np.all(ts[1:] > ts[:-1])):
        order = np.argsort(ts, kind="stable")
        ts, values = ts[order], values[order]
        keep = np.ones(ts.size, dtype=bool)
        keep[:-1] = ts[1:] != ts[:-1]
        ts, values = ts[keep], values[keep]
    return ts, values


def _pieces(ts: np.ndarray) -> list[tuple[int, int]]:
    """Index ranges of sorted ``ts`` cut at window boundaries and every MAX_CHUNK_POINTS."""
    win = ts // WINDOW_MS
    bounds = [0, *(np.flatnonzero(win[1:] != win[:-1]) + 1).tolist(), int(ts.size)]
    out: list[tuple[int, int]] = []
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):
        out.extend((s, min(s + MAX_CHUNK_POINTS, b)) for s in range(a, b, MAX_CHUNK_POINTS))
    return out


def _encode_all(ts: np.ndarray, values: np.ndarray) -> list[bytes]:
    """Sorted points sealed into as many chunks as windows and the size limit ask for."""
    return [chunks.encode(ts[a:b], values[a:b]) for a, b in _pieces(ts)]


class Series:
    """The points of one series: open head, sealed chunks, rollup rows beyond the raw window."""

    __slots__ = (
        "_chunks",
        "_chunk_bytes",
        "_chunk_points",
        "_hts",
        "_hv",
        "_hn",
        "_hwin",
        "_expire_after",
        "_rollups",
        "newest_ts",
    )

    def __init__(self) -> None:
        """An empty series."""
        self._chunks: list[bytes] = []
        self._chunk_bytes = 0
        self._chunk_points = 0
        self._hts = np.empty(_HEAD_START, dtype=np.int64)
        self._hv = np.empty(_HEAD_START)
        self._hn = 0
        self._hwin = -1
        self._expire_after: int | None = None  # drop chunks once newest_ts passes this
        self._rollups: list[np.ndarray] | None = None  # rows per ROLLUPS step, beyond raw
        self.newest_ts = -1

    # ---- writes -------------------------------------------------------------------------

    def write_one(self, t: int, v: float) -> int:
        """``write`` of one point given as Python numbers (a sender's batch: one point a
        series, most often newer than everything held)."""
        if t > self.newest_ts:
            self._append(t, v)
            return 1
        return self.write(np.array([t], dtype=np.int64), np.array([v], dtype=np.float64))

    def write(self, ts: np.ndarray, values: np.ndarray) -> int:
        """Store points in any order (the last of equal timestamps wins); return how many
        were accepted (stored or replacing one held)."""
        if ts.size == 1 and int(ts[0]) > self.newest_ts:
            self._append(int(ts[0]), float(values[0]))
            return 1
        if ts.size == 0:
            return 0
        ts, values = _last_wins(
            np.asarray(ts, dtype=np.int64), np.asarray(values, dtype=np.float64)
        )
        newest = max(self.newest_ts, int(ts[-1]))
        oldest_ok = newest - RAW_RETENTION_MS
        if int(ts[0]) < oldest_ok:
            cut = int(np.searchsorted(ts, oldest_ok, side="left"))
            ts, values = ts[cut:], values[cut:]
            if ts.size == 0:
                return 0
        accepted = int(ts.size)
        if self._chunks and int(ts[0]) <= (boundary := chunks.last_ts(self._chunks[-1])):
            k = int(np.searchsorted(ts, boundary, side="right"))
            self._merge_chunks(ts[:k], values[:k])
            ts, values = ts[k:], values[k:]
        if ts.size:
            self._merge_head(ts, values)
        self.newest_ts = newest
        if self._expire_after is not None and newest > self._expire_after:
            self._expire()
        return accepted

    def _append(self, t: int, v: float) -> None:
        """The live case: one point newer than everything held."""
        win = t // WINDOW_MS
        n = self._hn
        if n and (win != self._hwin or n >= HEAD_POINTS):
            self._seal_head()
            n = 0
        if n == 0:
            self._hwin = win
        if n == self._hts.size:
            self._hts = np.concatenate((self._hts, np.empty(n, dtype=np.int64)))
            self._hv = np.concatenate((self._hv, np.empty(n)))
        self._hts[n] = t
        self._hv[n] = v
        self._hn = n + 1
        self.newest_ts = t
        if self._expire_after is not None and t > self._expire_after:
            self._expire()

    def _seal_head(self) -> None:
        """Seal the whole head and empty it."""
        self._seal(self._hts[: self._hn], self._hv[: self._hn])
        self._hn = 0
        if self._hts.size > HEAD_POINTS:
            self._hts = np.empty(HEAD_POINTS, dtype=np.int64)
            self._hv = np.empty(HEAD_POINTS)

    def _seal(self, ts: np.ndarray, values: np.ndarray) -> None:
        """Seal points of one window, newer than every chunk, joining the last chunk when it
        is of the same window and the two hold at most MAX_CHUNK_POINTS."""
        last = self._chunks[-1] if self._chunks else None
        if (
            last is not None
            and chunks.last_ts(last) // WINDOW_MS == int(ts[0]) // WINDOW_MS
            and chunks.count(last) + ts.size <= MAX_CHUNK_POINTS
        ):
            self._chunks.pop()
            self._chunk_bytes -= len(last)
            self._chunk_points -= chunks.count(last)
            old_ts, old_values = chunks.decode(last)
            ts, values = np.concatenate((old_ts, ts)), np.concatenate((old_values, values))
        self._add_chunk(chunks.encode(ts, values))

    def _add_chunk(self, blob: bytes) -> None:
        """Append a chunk newer than every chunk held."""
        if not self._chunks:
            self._expire_after = chunks.last_ts(blob) + RAW_RETENTION_MS
        self._chunks.append(blob)
        self._chunk_bytes += len(blob)
        self._chunk_points += chunks.count(blob)

    def _merge_head(self, ts: np.ndarray, values: np.ndarray) -> None:
        """Merge sorted unique points newer than every chunk into the head; seal what fills."""
        n = self._hn
        if n:
            ts, values = _last_wins(
                np.concatenate((self._hts[:n], ts)), np.concatenate((self._hv[:n], values))
            )
        pieces = _pieces(ts)
        for a, b in pieces[:-1]:
            self._seal(ts[a:b], values[a:b])
        a, b = pieces[-1]
        n = b - a
        if self._hts.size < n or self._hts.size > max(HEAD_POINTS, 2 * n):
            cap = max(_HEAD_START, 1 << (n - 1).bit_length())
            self._hts = np.empty(cap, dtype=np.int64)
            self._hv = np.empty(cap)
        self._hts[:n] = ts[a:b]
        self._hv[:n] = values[a:b]
        self._hn = n
        self._hwin = int(ts[a]) // WINDOW_MS
        if n >= HEAD_POINTS:
            self._seal_head()

    def _merge_chunks(self, ts: np.ndarray, values: np.ndarray) -> None:
        """Merge sorted unique points no newer than the last chunk into the chunks."""
        held = self._chunks
        firsts = np.array([chunks.first_ts(b) for b in held], dtype=np.int64)
        lasts = np.array([chunks.last_ts(b) for b in held], dtype=np.int64)
        idx = np.searchsorted(firsts, ts, side="right") - 1  # the chunk starting at or before
        win = ts // WINDOW_MS
        prev = np.maximum(idx, 0)
        inside = (idx >= 0) & (ts <= lasts[prev])
        # in a gap: the chunk before if of the same window, else the one after, else a new one
        join_prev = ~inside & (idx >= 0) & (firsts[prev] // WINDOW_MS == win)
        nxt = np.minimum(idx + 1, len(held) - 1)
        join_next = ~inside & ~join_prev & (firsts[nxt] // WINDOW_MS == win)
        target = np.where(inside | join_prev, idx, np.where(join_next, nxt, -1))
        touched = set(np.unique(target[target >= 0]).tolist())
        out = [b for j, b in enumerate(held) if j not in touched]
        for j in touched:
            sel = target == j
            cts, cv = chunks.decode(held[j])
            merged = _last_wins(np.concatenate((cts, ts[sel])), np.concatenate((cv, values[sel])))
            out.extend(_encode_all(*merged))
        new = target < 0
        if new.any():
            out.extend(_encode_all(ts[new], values[new]))
        out.sort(key=chunks.first_ts)
        self._chunks = out
        self._chunk_bytes = sum(len(b) for b in out)
        self._chunk_points = sum(chunks.count(b) for b in out)
        self._expire_after = chunks.last_ts(out[0]) + RAW_RETENTION_MS

    def _expire(self) -> None:
        """Drop the chunks older than the raw retention, folding them into rollup rows."""
        limit = self.newest_ts - RAW_RETENTION_MS
        while self._chunks and chunks.last_ts(self._chunks[0]) < limit:
            blob = self._chunks.pop(0)
            self._chunk_bytes -= len(blob)
            self._chunk_points -= chunks.count(blob)
            self._fold(blob)
        self._expire_after = (
            chunks.last_ts(self._chunks[0]) + RAW_RETENTION_MS if self._chunks else None
        )

    def _fold(self, blob: bytes) -> None:
        """Add a dropped chunk's points to each step's rollup rows and trim them to retention."""
        if self._rollups is None:
            self._rollups = [empty_rows() for _ in ROLLUPS]
        head = chunks.header(blob)
        decoded: tuple[np.ndarray, np.ndarray] | None = None
        for i, step in enumerate(ROLLUPS):
            w = step.width_ms
            if head.first_ts // w == head.last_ts // w:
                rows = chunk_rows(blob, w)
            else:
                decoded = decoded or chunks.decode(blob)
                rows = bucket_rows(*decoded, w)
            held = self._rollups[i]
            rows = np.vstack((held[:-1], merge_rows(np.vstack((held[-1:], rows)))))
            keep_from = int(
                np.searchsorted(rows[:, START], self.newest_ts - step.retention_ms - w, "right")
            )
            self._rollups[i] = rows[keep_from:].copy() if keep_from else rows

    # ---- reads --------------------------------------------------------------------------

    def _overlapping(self, start_ms: int, end_ms: int) -> list[bytes]:
        """The chunks with a point in ``[start_ms, end_ms]`` (by their span), oldest first."""
        lo = bisect_left(self._chunks, start_ms, key=chunks.last_ts)
        hi = bisect_right(self._chunks, end_ms, key=chunks.first_ts)
        return self._chunks[lo:hi]

    def read_raw(self, start_ms: int, end_ms: int) -> tuple[np.ndarray, np.ndarray]:
        """Timestamps (int64) and values (float64) in ``[start_ms, end_ms]``, oldest first."""
        blobs = self._overlapping(start_ms, end_ms)
        hn = self._hn if self._hn and int(self._hts[self._hn - 1]) >= start_ms else 0
        n = sum(chunks.count(b) for b in blobs) + hn
        ts = np.empty(n, dtype=np.int64)
        values = np.empty(n)
        pos = 0
        for blob in blobs:  # straight into one array each: no per-chunk arrays to join
            pos += chunks.decode_into(blob, ts[pos:], values[pos:])
        ts[pos:] = self._hts[:hn]
        values[pos:] = self._hv[:hn]
        a = int(np.searchsorted(ts, start_ms, side="left"))
        b = int(np.searchsorted(ts, end_ms, side="right"))
        return ts[a:b], values[a:b]

    def raw_parts(self, start_ms: int, end_ms: int) -> tuple[list[bytes], np.ndarray, np.ndarray]:
        """What :meth:`read_raw` decodes, undecoded: the chunks overlapping ``[start_ms,
        end_ms]`` (whole: their points outside it are the caller's to drop) and copies of the
        head's points in it, for a batched read that decodes many series outside the store's
        lock."""
        blobs = self._overlapping(start_ms, end_ms) if self._chunks else []
        n = self._hn
        if not n or int(self._hts[n - 1]) < start_ms or int(self._hts[0]) > end_ms:
            return blobs, np.empty(0, dtype=np.int64), np.empty(0)
        a, b = 0, n
        if int(self._hts[0]) < start_ms or int(self._hts[n - 1]) > end_ms:
            a = int(np.searchsorted(self._hts[:n], start_ms, side="left"))
            b = int(np.searchsorted(self._hts[:n], end_ms, side="right"))
        return blobs, self._hts[a:b].copy(), self._hv[a:b].copy()

    def newest_in(self, start_ms: int, end_ms: int) -> tuple[int, float] | bytes | None:
        """The newest point in ``[start_ms, end_ms]``: ``(ts, value)`` when the head or a
        chunk's header holds it (no decoding), the chunk to decode when ``end_ms`` falls
        inside one, None when the range holds no point (an instant selector's read)."""
        n = self._hn
        if n and int(self._hts[0]) <= end_ms:  # the head is newer than every chunk
            i = n - 1
            if int(self._hts[i]) > end_ms:
                i = int(np.searchsorted(self._hts[:n], end_ms, side="right")) - 1
            t = int(self._hts[i])
            return (t, float(self._hv[i])) if t >= start_ms else None
        hi = bisect_right(self._chunks, end_ms, key=chunks.first_ts) if self._chunks else 0
        if not hi:
            return None
        blob = self._chunks[hi - 1]
        last = chunks.last_ts(blob)
        if last < start_ms:
            return None
        return (last, chunks.last_value(blob)) if last <= end_ms else blob

    def read_buckets(self, step: Step, start_ms: int, end_ms: int) -> Buckets:
        """Buckets of ``step`` whose start lies in ``[floor(start/width)*width, end]``, within
        the step's retention (buckets that end more than it before the newest point are gone)."""
        i = _STEP_INDEX.get(step.name)
        if i is None:
            raise ValueError(f"not a rollup step: {step.name}")
        w = step.width_ms
        # a bucket that ended before the step's retention is gone, even if raw points remain
        b0 = max(start_ms, self.newest_ts - step.retention_ms) // w * w
        b1 = end_ms // w * w
        parts: list[np.ndarray] = []
        if self._rollups is not None:
            starts = self._rollups[i][:, START]
            a = int(np.searchsorted(starts, b0, side="left"))
            b = int(np.searchsorted(starts, b1, side="right"))
            parts.append(self._rollups[i][a:b])
        if w % WINDOW_MS == 0:  # each chunk lies in one bucket: its header is enough
            parts.extend(chunk_rows(blob, w) for blob in self._overlapping(b0, b1 + w - 1))
            if self._hn:
                parts.append(bucket_rows(self._hts[: self._hn], self._hv[: self._hn], w))
        else:  # decode the whole buckets' points at once, then one vectorised pass
            parts.append(bucket_rows(*self.read_raw(b0, b1 + w - 1), w))
        rows = merge_rows(np.vstack(parts)) if parts else empty_rows()
        rows = rows[(rows[:, START] >= b0) & (rows[:, START] <= b1)]
        return to_buckets(rows)

    # ---- size ---------------------------------------------------------------------------

    @property
    def points(self) -> int:
        """Raw points held."""
        return self._chunk_points + self._hn

    @property
    def chunk_count(self) -> int:
        """Sealed chunks held."""
        return len(self._chunks)

    @property
    def first_ts(self) -> int:
        """The oldest timestamp held as a raw point or a rollup bucket start, or -1."""
        found = []
        if self._chunks:
            found.append(chunks.first_ts(self._chunks[0]))
        elif self._hn:
            found.append(int(self._hts[0]))
        found.extend(int(r[0, START]) for r in self._rollups or () if r.shape[0])
        return min(found, default=-1)

    @property
    def nbytes(self) -> int:
        """Memory held: compressed chunks, head, rollup rows and the Python objects around."""
        total = (
            _FIXED_BYTES
            + len(self._chunks) * _BLOB_OVERHEAD
            + self._chunk_bytes
            + 16 * self._hts.size  # int64 + float64 a slot
        )
        if self._rollups is not None:
            total += _ROLLUPS_FIXED + sum(r.nbytes for r in self._rollups)
        return total

    def sealed(self) -> list[bytes]:
        """The sealed chunks, oldest first (immutable bytes, the stored format)."""
        return list(self._chunks)


# a series object with its slots' ints, its (empty) chunk list and its two head array objects
_FIXED_BYTES = sys.getsizeof(Series()) + 5 * _INT + sys.getsizeof([]) + 2 * _ARRAY_OVERHEAD
