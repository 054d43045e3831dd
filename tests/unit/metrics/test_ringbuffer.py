"""The hot store's ring buffers (``metrics.ringbuffer``) against a brute-force reference."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dashboard.metrics.ringbuffer import SeriesRing
from dashboard.metrics.steps import DAY, HOUR, MINUTE, ROLLUPS, SECOND

# 2023-11-14 22:13:20 UTC: not aligned to a minute, and three hours later is the next day.
BASE = 1_700_000_000_000
DAY_S = DAY // SECOND


class ReferenceRing:
    """The ring's contract, by brute force: one point per second, the last written wins.

    A point whose exact timestamp is already held changes nothing; a point in a second more
    than ``capacity`` seconds before the newest point seen is ignored. Raw reads see only the
    last ``capacity`` seconds; rollups keep every point ever accepted.
    """

    def __init__(self, capacity: int = DAY_S) -> None:
        """An empty reference with a raw window of ``capacity`` seconds."""
        self.capacity = capacity
        self.by_second: dict[int, tuple[int, float]] = {}
        self.newest = -1

    def write(self, ts: list[int], values: list[float]) -> int:
        """Apply a batch point by point; return how many seconds now hold a different point."""
        if not ts:
            return 0
        newest = max(self.newest, max(ts))
        floor = newest // SECOND - self.capacity
        before = dict(self.by_second)
        for t, v in zip(ts, values, strict=True):
            sec = t // SECOND
            if sec <= floor:
                continue
            held = self.by_second.get(sec)
            if held is None or held[0] != t:
                self.by_second[sec] = (t, v)
        self.newest = newest
        return sum(1 for s, p in self.by_second.items() if before.get(s, (None,))[0] != p[0])

    def points(self, start: int = -1, end: int = 2**62) -> list[tuple[int, float]]:
        """The points in the raw window that lie in ``[start, end]``, oldest first."""
        floor = self.newest // SECOND - self.capacity
        return sorted(p for s, p in self.by_second.items() if s > floor and start <= p[0] <= end)

    def all_points(self) -> list[tuple[int, float]]:
        """Every point accepted and not replaced since, oldest first."""
        return sorted(self.by_second.values())


def group(points: list[tuple[int, float]], width: int) -> dict[int, tuple]:
    """Plain-Python group-by: bucket start -> (min, max, sum, count, last)."""
    rows: dict[int, list[float]] = {}
    for t, v in sorted(points):
        rows.setdefault(t // width * width, []).append(v)
    return {b: (min(vs), max(vs), math.fsum(vs), len(vs), vs[-1]) for b, vs in rows.items()}


def assert_raw_equal(ring: SeriesRing, ref: ReferenceRing, start: int, end: int) -> None:
    """The ring's raw read of ``[start, end]`` is exactly the reference's points there."""
    ts, values = ring.read_raw(start, end)
    expected = ref.points(start, end)
    assert ts.dtype == np.int64 and values.dtype == np.float64
    assert ts.tolist() == [t for t, _ in expected]
    assert values.tolist() == [v for _, v in expected]


def assert_buckets_equal(
    ring: SeriesRing, ref: ReferenceRing, start: int, end: int, steps: tuple = ROLLUPS
) -> None:
    """Every rollup read of ``[start, end]`` equals a group-by of all points accepted."""
    for step in steps:
        b = ring.read_buckets(step, start, end)
        first = start // step.width_ms * step.width_ms
        expected = {
            k: row for k, row in group(ref.all_points(), step.width_ms).items() if first <= k <= end
        }
        assert b.start.tolist() == sorted(expected), step.name
        for i, k in enumerate(b.start.tolist()):
            mn, mx, sm, c, last = expected[k]
            got = (float(b.min[i]), float(b.max[i]), int(b.count[i]), float(b.last[i]))
            assert got == (mn, mx, c, last), (step.name, k)
            assert float(b.sum[i]) == pytest.approx(sm, rel=1e-12, abs=1e-9), (step.name, k)
        np.testing.assert_allclose(b.avg, b.sum / np.maximum(b.count, 1))


def snapshot(ring: SeriesRing, start: int, end: int) -> list:
    """Everything a reader can see in ``[start, end]``."""
    raw = [a.tolist() for a in ring.read_raw(start, end)]
    levels = []
    for step in ROLLUPS:
        b = ring.read_buckets(step, start, end)
        levels.append([a.tolist() for a in (b.start, b.min, b.max, b.sum, b.count, b.last)])
    return [raw, levels]


def random_batches(seed: int) -> tuple[list[tuple[list[int], list[float]]], dict[int, float]]:
    """Out-of-order batches over ~3 h: second-aligned and sub-second stamps, some seconds twice.

    Every timestamp has one value for the whole run, so a replay is an exact replay.
    """
    rng = np.random.default_rng(seed)
    n = 6000
    secs = rng.integers(0, 3 * 3600, size=n)
    sub_ms = np.where(rng.random(n) < 0.5, 0, rng.integers(1, 1000, size=n))
    ts = np.unique(BASE + secs * SECOND + sub_ms)
    values = np.round(rng.normal(50.0, 20.0, size=ts.size), 3)
    value_of = dict(zip(ts.tolist(), values.tolist(), strict=True))
    order = rng.permutation(ts.size)
    batches = []
    for chunk in np.array_split(order, 5):
        picked = np.sort(ts[chunk])
        batches.append((picked.tolist(), [value_of[t] for t in picked.tolist()]))
    # a late, small batch of old points (fewer than the fast-path limit, but not after the newest)
    late = np.sort(rng.choice(ts, size=7, replace=False))
    batches.append((late.tolist(), [value_of[t] for t in late.tolist()]))
    # exact replays of earlier batches, some of whose seconds were overwritten since
    batches.append(batches[1])
    batches.append(batches[4])
    return batches, value_of


def live_tail(start_ms: int, seed: int) -> list[tuple[list[int], list[float]]]:
    """Small in-order batches after ``start_ms``, like a live feed (some seconds get two points)."""
    rng = np.random.default_rng(seed)
    t = start_ms
    out = []
    for _ in range(150):
        ts = []
        for _ in range(int(rng.integers(1, 5))):
            t += int(rng.choice([1, 250, 1000, 1000, 1500, 61_000]))
            ts.append(t)
        out.append((ts, [round(float(v), 3) for v in rng.normal(10.0, 3.0, size=len(ts))]))
    return out


def write(ring: SeriesRing, ts: list[int], values: list[float]) -> int:
    """Write plain lists to the ring as the store does (numpy arrays)."""
    return ring.write(np.asarray(ts, dtype=np.int64), np.asarray(values, dtype=np.float64))


def check_against_reference(ring: SeriesRing, ref: ReferenceRing, capacity: int) -> None:
    """Raw reads and rollups agree with the reference over the whole ring and a sub-range."""
    newest = ref.newest
    held_from = (newest // SECOND - capacity + 1) * SECOND
    assert len(ref.points()) > 50
    assert_raw_equal(ring, ref, BASE - DAY, newest)
    assert_raw_equal(ring, ref, held_from, newest)
    assert_buckets_equal(ring, ref, BASE - DAY, newest)
    # ranges with bounds on exact held timestamps are inclusive
    inner = ref.points()
    lo, hi = inner[len(inner) // 4][0], inner[3 * len(inner) // 4][0]
    assert_raw_equal(ring, ref, lo, hi)
    assert_raw_equal(ring, ref, lo + 1, hi - 1)
    assert_buckets_equal(ring, ref, lo, hi)


def write_checked(ring: SeriesRing, ref: ReferenceRing, batches: list, replay_every: int) -> None:
    """Write batches to both; the counts agree and an immediate replay is a no-op."""
    for i, (ts, values) in enumerate(batches):
        assert write(ring, ts, values) == ref.write(ts, values), f"batch {i}"
        if i % replay_every == 0:
            before = snapshot(ring, BASE - DAY, ref.newest)
            assert write(ring, ts, values) == 0, f"replay of batch {i}"
            assert snapshot(ring, BASE - DAY, ref.newest) == before


@pytest.mark.parametrize("raw_seconds", [None, 900], ids=["24h-ring", "900s-ring"])
def test_ring_matches_brute_force_reference(raw_seconds: int | None) -> None:
    """Out-of-order batches, replays and a live tail leave raw and rollups as the reference says."""
    # The 900 s ring drops most of the out-of-order points as too old and evicts the rest from
    # raw while its rollups keep them: every bucket must still be exact.
    ring = SeriesRing() if raw_seconds is None else SeriesRing(raw_seconds=raw_seconds)
    capacity = raw_seconds or DAY_S
    ref = ReferenceRing(capacity)

    batches, _ = random_batches(seed=1234)
    write_checked(ring, ref, batches, replay_every=1)
    check_against_reference(ring, ref, capacity)

    tail = live_tail(ref.newest, seed=99)
    # a live point in the same second as the newest, after it (not a fast-path append)
    tail.append(([tail[-1][0][-1] + 1], [-5.0]))
    write_checked(ring, ref, tail, replay_every=10)
    check_against_reference(ring, ref, capacity)

    # late points into the buckets the live tail is filling (recomputed, not appended), then
    # live points again: the buckets being appended to take both
    newest = ref.newest
    late = [newest - 90_500, newest - 30_250, newest - 1_750]
    write_checked(ring, ref, [(late, [1e6, -1e6, 7.0])], replay_every=1)
    write_checked(ring, ref, live_tail(ref.newest, seed=7), replay_every=3)
    check_against_reference(ring, ref, capacity)


def test_default_ring_rollups_match_every_bucket_of_three_hours() -> None:
    """With the 24 h default ring every 1m/5m/1h/1d bucket of 3 h of data is exact."""
    ring, ref = SeriesRing(), ReferenceRing()
    batches, _ = random_batches(seed=7)
    for ts, values in batches:
        write(ring, ts, values)
        ref.write(ts, values)
    assert min(t for t, _ in ref.points()) < BASE + MINUTE
    assert_raw_equal(ring, ref, 0, ref.newest)
    assert_buckets_equal(ring, ref, 0, ref.newest)
    assert len(ring.read_buckets(ROLLUPS[-1], 0, ref.newest)) == 2  # the 3 h cross midnight


def test_one_point_per_second_last_written_wins() -> None:
    """Within a second, the point written last is the one kept, whatever its millisecond."""
    ring = SeriesRing(raw_seconds=60)
    t0 = BASE // SECOND * SECOND
    assert write(ring, [t0 + 100, t0 + 900], [1.0, 2.0]) == 1
    assert ring.read_raw(t0, t0 + 999)[1].tolist() == [2.0]
    assert write(ring, [t0 + 300], [3.0]) == 1
    ts, values = ring.read_raw(t0, t0 + 999)
    assert (ts.tolist(), values.tolist()) == ([t0 + 300], [3.0])
    minute = ring.read_buckets(ROLLUPS[0], t0, t0)
    assert (minute.count.tolist(), minute.sum.tolist()) == ([1], [3.0])


def test_exact_timestamp_already_held_is_kept() -> None:
    """Writing a timestamp the ring holds is a no-op that returns 0, even with another value."""
    ring = SeriesRing(raw_seconds=60)
    assert write(ring, [BASE], [1.0]) == 1
    assert write(ring, [BASE], [1.0]) == 0
    assert write(ring, [BASE], [7.0]) == 0
    assert ring.read_raw(BASE, BASE)[1].tolist() == [1.0]


def test_replaying_a_batch_changes_nothing() -> None:
    """A batch written twice returns 0 the second time and leaves raw and rollups unchanged."""
    ring = SeriesRing()
    ts = list(range(BASE, BASE + 2 * HOUR, 7_300))
    values = [float(i % 13) for i in range(len(ts))]
    assert write(ring, ts, values) == len(ts)
    before = snapshot(ring, BASE - DAY, BASE + DAY)
    assert write(ring, ts, values) == 0
    assert write(ring, ts[-3:], values[-3:]) == 0
    assert snapshot(ring, BASE - DAY, BASE + DAY) == before


def test_point_older_than_a_day_before_newest_is_ignored() -> None:
    """A point 24 h before the newest is dropped and does not overwrite the slot it maps to."""
    ring = SeriesRing()
    newest = BASE + 500
    assert write(ring, [newest], [42.0]) == 1
    before = snapshot(ring, newest - 2 * DAY, newest)

    assert write(ring, [newest - DAY], [-1.0]) == 0  # the very same slot, one lap earlier
    assert write(ring, [newest - DAY - 5 * SECOND], [-1.0]) == 0
    assert snapshot(ring, newest - 2 * DAY, newest) == before
    assert ring.read_raw(newest, newest)[1].tolist() == [42.0]
    assert ring.read_raw(newest - DAY - MINUTE, newest - DAY + SECOND)[0].size == 0

    # one second later than that is still inside the window and is kept
    inside = newest - DAY + SECOND
    assert write(ring, [inside], [5.0]) == 1
    ts, values = ring.read_raw(newest - 2 * DAY, newest)
    assert (ts.tolist(), values.tolist()) == ([inside, newest], [5.0, 42.0])


def test_old_points_in_a_batch_with_newer_ones_are_dropped() -> None:
    """Within one batch, points more than the window before the batch's newest are ignored."""
    ring = SeriesRing(raw_seconds=100)
    ts = [BASE, BASE + 60 * SECOND, BASE + 150 * SECOND]
    assert write(ring, ts, [1.0, 2.0, 3.0]) == 2
    got = ring.read_raw(BASE - HOUR, ts[-1])
    assert got[0].tolist() == ts[1:]
    assert int(ring.read_buckets(ROLLUPS[-1], BASE - DAY, BASE + DAY).count.sum()) == 2


def test_ranges_wider_than_the_ring_are_clamped() -> None:
    """A read far wider than the ring returns at most its capacity, equal to the held points."""
    capacity = 600
    ring, ref = SeriesRing(raw_seconds=capacity), ReferenceRing(capacity)
    ts = list(range(BASE, BASE + 1800 * SECOND, SECOND))
    values = [float(i) for i in range(len(ts))]
    assert write(ring, ts, values) == ref.write(ts, values) == capacity
    newest = ts[-1]
    got_ts, got_values = ring.read_raw(0, newest)
    assert got_ts.size == capacity
    assert got_ts.tolist() == ts[-capacity:]
    assert got_values.tolist() == values[-capacity:]
    assert_buckets_equal(ring, ref, 0, newest)


def test_read_up_to_the_newest_excludes_points_that_left_the_window() -> None:
    """A read ending at the newest point covers only the ring's window, not an evicted point."""
    ring = SeriesRing(raw_seconds=60)
    t = BASE
    write(ring, [t], [1.0])
    write(ring, [t + 61 * SECOND], [2.0])  # the window is now (t + 1 s, t + 61 s]
    for end in (t + 60 * SECOND, t + 61 * SECOND, t + 61 * SECOND + 999):
        ts, values = ring.read_raw(t - HOUR, end)
        assert t not in ts.tolist(), end
    assert ring.read_raw(t - HOUR, t + 61 * SECOND)[1].tolist() == [2.0]


def test_reading_since_the_epoch_on_the_default_ring_is_cheap() -> None:
    """A [0, now] read touches at most a day of slots instead of allocating 50 years of them."""
    ring = SeriesRing()
    assert write(ring, [BASE - HOUR, BASE], [1.0, 2.0]) == 2
    ts, values = ring.read_raw(0, BASE)
    assert (ts.tolist(), values.tolist()) == ([BASE - HOUR, BASE], [1.0, 2.0])
    assert ring.read_raw(0, BASE + 2 * DAY)[0].size == 0  # the window ends at `end`
    for step in ROLLUPS:
        assert int(ring.read_buckets(step, 0, BASE).count.sum()) == 2


def test_empty_ring_reads_empty_arrays() -> None:
    """A ring with nothing written returns empty arrays of the right types for every read."""
    ring = SeriesRing(raw_seconds=120)
    assert write(ring, [], []) == 0
    ts, values = ring.read_raw(BASE - HOUR, BASE)
    assert ts.size == 0 and values.size == 0
    assert ts.dtype == np.int64 and values.dtype == np.float64
    for step in ROLLUPS:
        b = ring.read_buckets(step, BASE - DAY, BASE)
        assert len(b) == 0
        assert all(a.size == 0 for a in (b.start, b.min, b.max, b.sum, b.count, b.last, b.avg))


def test_reversed_range_reads_nothing() -> None:
    """A range whose end precedes its start returns nothing rather than failing."""
    ring = SeriesRing(raw_seconds=120)
    write(ring, [BASE], [1.0])
    assert ring.read_raw(BASE + SECOND, BASE - SECOND)[0].size == 0
    for step in ROLLUPS:
        assert len(ring.read_buckets(step, BASE + DAY, BASE - DAY)) == 0


def test_default_ring_holds_a_day_in_under_one_and_a_half_megabytes() -> None:
    """A series' arrays for 24 h at 1 s plus rollups take less than 1.5 MB (100 series: under
    the 160 MB the brief allows), and a timestamp from 1970 to 2106 reads back exactly."""
    ring = SeriesRing()
    assert ring.nbytes < 1_500_000
    assert ring.nbytes > DAY_S * 14  # at least the raw slots: 6-byte time + float64 value
    for edge in (0, 999, (2**32 - 2) * SECOND + 999):
        solo = SeriesRing()
        assert write(solo, [edge], [7.0]) == 1
        assert solo.read_raw(edge, edge)[0].tolist() == [edge]
    newest = BASE
    oldest = newest - DAY + SECOND
    assert write(ring, [oldest, newest], [1.0, 2.0]) == 2
    assert ring.read_raw(newest - DAY, newest)[0].tolist() == [oldest, newest]


@pytest.mark.parametrize(
    "late_offset_ms",
    [SECOND, 3 * SECOND, 10 * SECOND + 500, 59 * SECOND, 299 * SECOND, 3599 * SECOND],
    ids=["1s", "3s", "overwrite-10.5s", "next-minute", "next-5m", "an-hour-in"],
)
def test_late_point_at_the_edge_of_the_window_keeps_rollups_exact(late_offset_ms: int) -> None:
    """A late point just inside the 24 h window joins the rollups without erasing older points."""
    # 30 h of points every 10 s, then one late point `late_offset_ms` after the second that just
    # left the raw window, which lies 8 s into a minute and 128 s into a 5-minute bucket: every
    # 1m/5m/1h/1d bucket must still equal a group-by of all points.
    midnight = BASE // DAY * DAY
    ring, ref = SeriesRing(), ReferenceRing()
    first = midnight + 137 * SECOND
    ts = list(range(first, first + 30 * HOUR, 10 * SECOND))
    values = [float(i % 97) for i in range(len(ts))]
    per_batch = 360  # an hour a batch, so every point is inside the window when written
    for i in range(0, len(ts), per_batch):
        chunk_ts, chunk_values = ts[i : i + per_batch], values[i : i + per_batch]
        assert write(ring, chunk_ts, chunk_values) == ref.write(chunk_ts, chunk_values)
    newest = ts[-1]
    late = (newest // SECOND - DAY_S) * SECOND + late_offset_ms
    assert write(ring, [late], [500.0]) == ref.write([late], [500.0]) == 1
    assert_raw_equal(ring, ref, newest - DAY, newest)
    assert_buckets_equal(ring, ref, newest - DAY, newest)
    assert_buckets_equal(ring, ref, midnight - DAY, newest, steps=ROLLUPS[1:])  # 5m, 1h, 1d
    total = int(ring.read_buckets(ROLLUPS[-1], midnight - DAY, newest).count.sum())
    replaced_a_point = late // SECOND * SECOND in set(ts)
    assert total == len(ts) + (0 if replaced_a_point else 1)
