"""The database stores' chunk logic, without a database: windows, merging the head over
chunks, sealing, rollup chunks, and faults reported by series and time."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard.metrics import chunked, chunks
from dashboard.metrics.rollup import bucket_rows
from dashboard.metrics.steps import DAY, HOUR, MINUTE

T0 = 1_700_006_400_000  # a whole day (UTC)


def test_windows_split_sorted_points_by_epoch_aligned_hour() -> None:
    """Each window the points touch, once, with its slice."""
    ts = np.array([T0 + 5, T0 + HOUR - 1, T0 + HOUR, T0 + 3 * HOUR + 7], dtype=np.int64)
    got = [(start, ts[part].tolist()) for start, part in chunked.windows(ts)]
    assert got == [
        (T0, [T0 + 5, T0 + HOUR - 1]),
        (T0 + HOUR, [T0 + HOUR]),
        (T0 + 3 * HOUR, [T0 + 3 * HOUR + 7]),
    ]
    assert list(chunked.windows(np.empty(0, np.int64))) == []


def test_the_newer_point_wins_on_equal_timestamps() -> None:
    """Merging keeps every timestamp once, in order, the new value where both have one."""
    old_ts, old_v = np.array([1, 3, 5], np.int64), np.array([10.0, 30.0, 50.0])
    new_ts, new_v = np.array([2, 3, 6], np.int64), np.array([2.0, -3.0, 6.0])
    ts, v = chunked.merge_points(old_ts, old_v, new_ts, new_v)
    assert ts.tolist() == [1, 2, 3, 5, 6] and v.tolist() == [10.0, 2.0, -3.0, 50.0, 6.0]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 3 * HOUR), st.floats(-1e6, 1e6)), max_size=80),
    st.lists(st.tuples(st.integers(0, 3 * HOUR), st.floats(-1e6, 1e6)), min_size=1, max_size=80),
)
def test_sealing_twice_equals_sealing_everything_once(first, second) -> None:
    """A head sealed over chunks sealed earlier gives the chunks of all the points, the later
    write winning on equal timestamps: what a read of head over chunks gives too."""

    def unique(pairs):
        d = {}
        for t, v in pairs:
            d[T0 + t] = v
        ts = np.array(sorted(d), dtype=np.int64)
        return ts, np.array([d[t] for t in ts.tolist()])

    a_ts, a_v = unique(first)
    b_ts, b_v = unique(second)
    stored = {start: data for start, _, data in chunked.seal({}, a_ts, a_v)}
    for start, count, data in chunked.seal(stored, b_ts, b_v):
        assert chunks.count(data) == count
        stored[start] = data
    run = sorted(stored.items())
    ts, v, faults = chunked.decode_run("s", run)
    want_ts, want_v = unique(first + second)
    assert faults == [] and ts.tolist() == want_ts.tolist() and v.tolist() == want_v.tolist()


def test_a_corrupt_stored_chunk_is_reported_and_sealing_goes_on() -> None:
    """Reads leave out a chunk that does not decode and name its series and window; a seal
    over it keeps the head's points."""
    ts = T0 + np.arange(0, 2 * HOUR, MINUTE, dtype=np.int64)
    sealed = chunked.seal({}, ts, np.arange(ts.size, dtype=np.float64))
    run = [(start, data) for start, _, data in sealed]
    run[0] = (run[0][0], b"\x01garbage")
    got_ts, _, faults = chunked.decode_run('cpu{host="a"}', run)
    assert got_ts.tolist() == ts[ts >= T0 + HOUR].tolist()
    assert [f.describe() for f in faults] == [
        f'chunk of cpu{{host="a"}} at [{T0}, {T0 + HOUR}) is unreadable: not a version-1 chunk'
    ]
    # a header claiming four billion points is reported, never allocated
    lying = bytearray(run[1][1])
    lying[4:8] = b"\xff\xff\xff\xff"
    got_ts, _, faults = chunked.decode_run("s", [run[0], (run[1][0], bytes(lying))])
    assert got_ts.size == 0 and [f.start for f in faults] == [T0, T0 + HOUR]
    resealed = chunked.seal({T0: b"\x01garbage"}, ts[:3], np.zeros(3))
    assert chunks.decode(resealed[0][2])[0].tolist() == ts[:3].tolist()


def test_rollup_chunks_round_trip_and_newer_buckets_replace_older() -> None:
    """Bucket rows survive encoding exactly; a day's rows replace that day's in a wider window."""
    rng = np.random.default_rng(3)
    ts = T0 + np.unique(rng.integers(0, 2 * DAY, 5000)).astype(np.int64)
    values = rng.normal(0, 1, ts.size)
    rows = chunked.day_rollups(ts, values)
    for tier, want in rows.items():
        assert tier in chunked.ROLLUP_WINDOWS
        np.testing.assert_array_equal(chunked.decode_rows(chunked.encode_rows(want)), want)
    daily = bucket_rows(ts, values, DAY)
    newer = daily[1:].copy()
    newer[:, 3] += 1.0
    merged = chunked.replace_rows(daily, newer)
    assert merged[:, 0].tolist() == daily[:, 0].tolist()
    assert merged[1:, 3].tolist() == newer[:, 3].tolist() and merged[0, 3] == daily[0, 3]
    with pytest.raises(chunks.ChunkError):
        chunked.decode_rows(b"\x02" + b"\x00" * 10)
    with pytest.raises(ValueError):
        chunked.encode_rows(np.empty((0, 6)))


def test_series_with_many_points_in_a_write_go_straight_to_chunks() -> None:
    """Columns sorted by series: the runs of at least ``min_points`` points, by series id."""
    sid = np.array([1, 1, 1, 2, 3, 3, 3, 3], dtype=np.int32)
    ts = np.array([1, 2, 3, 1, 1, 2, 3, 4], dtype=np.int64)
    value = np.arange(8, dtype=np.float64)
    runs = chunked.bulk_runs(sid, ts, value, 3)
    assert sorted(runs) == [1, 3]
    assert runs[3][0].tolist() == [1, 2, 3, 4] and runs[3][1].tolist() == [4, 5, 6, 7]
    assert chunked.bulk_runs(sid, ts, value, 9) == {}


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.integers(-2 * DAY, 2 * DAY), min_size=1, max_size=400, unique=True),
    st.sampled_from([1000, MINUTE, 5 * MINUTE, HOUR, DAY]),
)
def test_bucket_rows_equal_a_plain_groupby_sparse_or_dense(offsets, width) -> None:
    """Buckets (start, min, max, sum, count, last) of sorted points, whether the buckets hold
    many points (found by binary search over the edges) or few, equal a plain group-by."""
    ts = np.array(sorted(T0 + o for o in offsets), dtype=np.int64)
    values = np.sin(ts.astype(np.float64))
    rows = bucket_rows(ts, values, width)
    groups: dict[int, list[float]] = {}
    for t, v in zip(ts.tolist(), values.tolist(), strict=True):
        groups.setdefault(t // width * width, []).append(v)
    want = [[s, min(g), max(g), sum(g), len(g), g[-1]] for s, g in sorted(groups.items())]
    np.testing.assert_allclose(rows, np.array(want), rtol=1e-12, atol=1e-9)
