"""The series core: chunk format, every point kept, replacements, late points, exact rollups."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from dashboard.metrics import chunks, series
from dashboard.metrics.chunks import Chunk, ChunkError
from dashboard.metrics.series import MAX_CHUNK_POINTS, WINDOW_MS, Series
from dashboard.metrics.steps import DAY, HOUR, MINUTE, ROLLUPS, SECOND, step_named
from tests.unit.metrics.streams import STREAMS, T0, Reference, batches, check_buckets, check_raw

M1, M5, H1, D1 = ROLLUPS
ALL = (0, 2**62)


def _write(s: Series, ts: list[int], values: list[float]) -> int:
    """Write Python lists into a series."""
    return s.write(np.array(ts, dtype=np.int64), np.array(values, dtype=np.float64))


def _columns(s: Series, step) -> dict[str, np.ndarray]:
    """All buckets of a step as a dict of columns."""
    b = s.read_buckets(step, *ALL)
    return {"start": b.start, "count": b.count, "sum": b.sum, "min": b.min, "max": b.max,
            "last": b.last}  # fmt: skip


def _filled(hours: float, interval_ms: int = SECOND) -> tuple[Series, np.ndarray, np.ndarray]:
    """A series fed ``hours`` of points in time order, and those points."""
    ts = T0 + np.arange(int(hours * HOUR // interval_ms), dtype=np.int64) * interval_ms
    values = np.sin(np.arange(ts.size) / 50.0).round(3)
    s = Series()
    per_batch = max(1, 10 * MINUTE // interval_ms)  # as a live feed: ten minutes a batch
    for i in range(0, ts.size, per_batch):
        s.write(ts[i : i + per_batch], values[i : i + per_batch])
    return s, ts, values


# ---- chunk format ---------------------------------------------------------------------------


def test_chunk_round_trip_and_header() -> None:
    """A chunk gives back its points exactly and its header the aggregates."""
    ts = T0 + np.array([0, 5, 9, 1000, 1001], dtype=np.int64)
    values = np.array([3.0, -1.5, 7.25, 0.0, 2.0])
    chunk = Chunk.from_bytes(Chunk.seal(ts, values).to_bytes())
    got_ts, got_values = chunk.points()
    np.testing.assert_array_equal(got_ts, ts)
    np.testing.assert_array_equal(got_values, values)
    head = chunk.header
    assert (head.count, head.first_ts, head.last_ts) == (5, T0, T0 + 1001)
    assert (head.min, head.max, head.sum, head.last) == (-1.5, 7.25, 10.75, 2.0)
    assert len(chunk) == 5 and chunk.to_bytes()[0] == chunks.VERSION


def test_chunk_decodes_into_a_slice_of_a_larger_array() -> None:
    """Points decode straight into place; an array without room is refused."""
    ts = T0 + np.arange(100, dtype=np.int64) * 15
    values = np.arange(100) / 8.0
    blob = chunks.encode(ts, values)
    out_ts, out_values = np.zeros(250, dtype=np.int64), np.zeros(250)
    assert chunks.decode_into(blob, out_ts[50:], out_values[50:]) == 100
    np.testing.assert_array_equal(out_ts[50:150], ts)
    np.testing.assert_array_equal(out_values[50:150], values)
    assert not out_ts[150:].any() and not out_ts[:50].any()
    with pytest.raises(ChunkError):
        chunks.decode_into(blob, out_ts[:99], out_values[:99])


def test_chunk_refuses_foreign_bytes() -> None:
    """Bytes of another version, truncated or empty chunks are refused with ChunkError."""
    blob = chunks.encode(np.array([T0], dtype=np.int64), np.array([1.0]))
    with pytest.raises(ChunkError):
        Chunk.from_bytes(b"\x02" + blob[1:])
    with pytest.raises(ChunkError):
        Chunk.from_bytes(blob[:20])
    with pytest.raises(ChunkError):
        chunks.decode(blob[:-3])
    with pytest.raises(ValueError):
        chunks.encode(np.empty(0, dtype=np.int64), np.empty(0))


# ---- every point, replace, late -------------------------------------------------------------


def test_five_points_within_one_second_are_all_kept() -> None:
    """Sub-second points are kept at ms resolution and every rollup counts them."""
    s = Series()
    for i, v in enumerate([4.0, 1.0, 5.0, 3.0, 9.0]):
        _write(s, [T0 + 100 * i + 7], [v])
    ts, values = s.read_raw(*ALL)
    assert ts.tolist() == [T0 + 7, T0 + 107, T0 + 207, T0 + 307, T0 + 407]
    assert values.tolist() == [4.0, 1.0, 5.0, 3.0, 9.0]
    for step in ROLLUPS:
        b = s.read_buckets(step, *ALL)
        assert (b.count.tolist(), b.min.tolist(), b.max.tolist()) == ([5], [1.0], [9.0])
        assert (b.sum.tolist(), b.last.tolist(), b.avg.tolist()) == ([22.0], [9.0], [4.4])


def test_same_timestamp_replaces_and_rollups_follow() -> None:
    """A second point at a timestamp replaces the first; the replaced minimum is gone."""
    s = Series()
    assert _write(s, [T0, T0 + 10, T0 + 20], [1.0, 5.0, 6.0]) == 3
    assert _write(s, [T0], [4.0]) == 1
    assert _write(s, [T0 + 20, T0 + 20], [0.0, 7.0]) == 1  # within a batch the last wins
    assert s.read_raw(*ALL)[1].tolist() == [4.0, 5.0, 7.0]
    b = s.read_buckets(M1, *ALL)
    assert (b.count[0], b.min[0], b.max[0], b.sum[0], b.last[0]) == (3, 4.0, 7.0, 16.0, 7.0)


def test_replace_and_late_point_in_a_sealed_chunk() -> None:
    """An old point lands inside its sealed chunk: the chunk is rewritten, rollups exact."""
    s, ts, values = _filled(3)
    assert s.chunk_count >= 3
    old = int(ts[100])
    _write(s, [old, old + 1], [1000.0, -1000.0])  # a replacement and a new late point
    got_ts, got_values = s.read_raw(old - 1, old + 1)
    assert got_ts.tolist() == [old, old + 1]
    assert got_values.tolist() == [1000.0, -1000.0]
    b = s.read_buckets(H1, old, old)
    hour = (ts // HOUR * HOUR) == old // HOUR * HOUR
    expected = np.where(ts == old, 1000.0, values)[hour]
    assert b.count[0] == hour.sum() + 1
    assert b.max[0] == 1000.0 and b.min[0] == -1000.0
    assert b.sum[0] == pytest.approx(expected.sum() - 1000.0)
    assert s.points == ts.size + 1


def test_late_points_in_gaps_keep_chunks_in_one_window() -> None:
    """Late points into gaps between chunks keep chunks sorted, in one window, size-capped."""
    s = Series()
    for hour in (0, 3, 6):
        _write(s, [T0 + hour * HOUR + i for i in range(0, 3000, 3)], [1.0] * 1000)
    _write(s, [T0 + 5 * HOUR, T0 + HOUR + 5, T0 + 2, T0 + 4 * HOUR], [2.0, 3.0, 4.0, 5.0])
    blobs = s.sealed()
    for blob in blobs:
        head = chunks.header(blob)
        assert head.first_ts // WINDOW_MS == head.last_ts // WINDOW_MS
        assert head.count <= MAX_CHUNK_POINTS
    spans = [(chunks.first_ts(b), chunks.last_ts(b)) for b in blobs]
    assert all(a[1] < b[0] for a, b in zip(spans, spans[1:], strict=False))
    ts, values = s.read_raw(*ALL)
    assert ts.size == 3004 and np.all(ts[1:] > ts[:-1])
    assert values[ts == T0 + 2].tolist() == [4.0]


def test_points_older_than_the_raw_retention_are_refused() -> None:
    """A point more than a day older than the newest is not accepted."""
    s = Series()
    _write(s, [T0 + DAY], [1.0])
    assert _write(s, [T0 - 1, T0], [5.0, 6.0]) == 1
    assert s.read_raw(*ALL)[0].tolist() == [T0, T0 + DAY]


# ---- retention, rollups beyond raw ----------------------------------------------------------


def test_raw_expires_whole_chunks_but_rollups_outlive_it() -> None:
    """After more than a day, old chunks are dropped; 5m/1h/1d buckets stay exact."""
    s, ts, values = _filled(30, 15 * SECOND)
    raw_ts, _ = s.read_raw(*ALL)
    assert raw_ts[0] >= ts[-1] - DAY - HOUR and raw_ts[0] > ts[0]
    day = s.read_buckets(D1, *ALL)
    assert day.count.sum() == ts.size
    assert day.sum.sum() == pytest.approx(values.sum())
    hours = s.read_buckets(H1, *ALL)
    assert hours.count.sum() == ts.size and len(hours) == np.unique(ts // HOUR).size
    minutes = s.read_buckets(M1, *ALL)
    assert minutes.start[0] + MINUTE > ts[-1] - DAY
    assert s.first_ts == int(ts[0]) // DAY * DAY


def test_reads_decompress_only_overlapping_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """A raw read decodes only the chunks it overlaps; 1h buckets come from headers."""
    s, ts, _ = _filled(6)
    calls: list[int] = []
    decode, decode_into = chunks.decode, chunks.decode_into
    monkeypatch.setattr(chunks, "decode", lambda blob: calls.append(1) or decode(blob))
    monkeypatch.setattr(
        chunks, "decode_into", lambda blob, *out: calls.append(1) or decode_into(blob, *out)
    )
    got, _ = s.read_raw(int(ts[10]), int(ts[20]))
    assert got.size == 11 and len(calls) == 1
    calls.clear()
    assert s.read_buckets(H1, *ALL).count.sum() == ts.size
    assert s.read_buckets(D1, *ALL).count.sum() == ts.size
    assert calls == []


def test_one_point_series_costs_at_most_4_kib() -> None:
    """The fixed cost of a series is small: rollups and head grow with the data."""
    s = Series()
    _write(s, [T0], [1.0])
    assert s.nbytes <= 4096
    s, ts, _ = _filled(24, 15 * SECOND)
    assert s.nbytes < 16 * ts.size  # far below an uncompressed (ts, value) pair a point


def test_nbytes_is_what_the_series_allocates() -> None:
    """The byte count a series reports matches what tracemalloc sees it allocate."""
    _filled(0.1)  # imports and caches first
    tracemalloc.start()
    try:
        s = _filled(6)[0]  # the points given are freed: only the series stays
        traced = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert 0.8 < s.nbytes / traced < 1.25, (s.nbytes, traced)


def test_read_buckets_refuses_raw() -> None:
    """Raw is not a rollup step."""
    with pytest.raises(ValueError):
        Series().read_buckets(step_named("raw"), *ALL)


# ---- the contract against a pandas reference --------------------------------------------------


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(STREAMS)
def test_random_streams_match_the_pandas_reference(stream) -> None:
    """Sub-second, out-of-order, replayed, late, gapped and bursty streams: raw and every
    rollup match pandas (dedupe keeping the last, resample from the epoch, aggregate)."""
    s = Series()
    ref = Reference()
    for ts, values, single in batches(stream):
        if single:
            for i in range(ts.size):
                s.write(ts[i : i + 1], values[i : i + 1])
                ref.write(ts[i : i + 1], values[i : i + 1])
        else:
            s.write(ts, values)
            ref.write(ts, values)
    check_raw(*s.read_raw(*ALL), ref)
    assert s.newest_ts == ref.newest
    for step in ROLLUPS:
        check_buckets(step, _columns(s, step), ref)
    held = s.read_raw(*ALL)[0]
    assert s.points == held.size
    lo = ref.newest - 3 * HOUR
    part_ts, _ = s.read_raw(lo, ref.newest - HOUR)
    np.testing.assert_array_equal(part_ts, held[(held >= lo) & (held <= ref.newest - HOUR)])
    b = s.read_buckets(M5, lo, ref.newest)
    full = s.read_buckets(M5, *ALL)
    np.testing.assert_array_equal(
        b.start, full.start[full.start >= lo // M5.width_ms * M5.width_ms]
    )
    assert series.Series().read_raw(*ALL)[0].size == 0
