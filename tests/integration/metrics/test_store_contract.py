"""One contract for every MetricStore: the hot store, SQLite, and PostgreSQL.

The resolution rule: every point is kept at millisecond resolution, in time order; a point
given again for a stored (series, timestamp) replaces it (the last of a batch winning), and
every rollup follows. Points are within the last day of real time (``dashboard.clock.now_ms``).
A new store joins the contract by adding its factory to ``FACTORIES``; the ``store`` fixture is
parametrised over its keys. PostgreSQL uses the server on 127.0.0.1 (skipped, and reported,
when it is absent).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dashboard.clock import now_ms
from dashboard.metrics.frame import SeriesFrame
from dashboard.metrics.model import Batch, SeriesKey, SeriesPoints, make_points
from dashboard.metrics.steps import BY_NAME, HOUR, MINUTE, RAW, ROLLUPS, SECOND
from dashboard.metrics.store_interface import MetricStore
from dashboard.metrics.stores.hot import HotStore
from dashboard.metrics.stores.sqlite import SQLiteStore
from tests.integration.metrics.sealing import Sealed

Factory = Callable[[pytest.FixtureRequest, Path], MetricStore]


def _hot(request: pytest.FixtureRequest, tmp_path: Path) -> MetricStore:
    """The hot store: compressed in-memory series, every point at ms resolution."""
    return HotStore()


def _sqlite(request: pytest.FixtureRequest, tmp_path: Path) -> MetricStore:
    """SQLite on a file under the test's folder."""
    return SQLiteStore(tmp_path / "contract.db")


def _postgres(request: pytest.FixtureRequest, tmp_path: Path) -> MetricStore:
    """PostgreSQL in a schema of this test's own (the server on 127.0.0.1)."""
    url, schema = request.getfixturevalue("postgres_schema")
    from dashboard.metrics.stores.postgres import PostgresStore

    return PostgresStore(url, schema=schema)


def _sqlite_sealed(request: pytest.FixtureRequest, tmp_path: Path) -> MetricStore:
    """SQLite with its head sealed into chunks after every write."""
    return Sealed(_sqlite(request, tmp_path))  # type: ignore[return-value]


def _postgres_sealed(request: pytest.FixtureRequest, tmp_path: Path) -> MetricStore:
    """PostgreSQL with its head sealed into chunks after every write."""
    return Sealed(_postgres(request, tmp_path))  # type: ignore[return-value]


FACTORIES: dict[str, Factory] = {
    "hot": _hot,
    "sqlite": _sqlite,
    "sqlite-sealed": _sqlite_sealed,
    "postgres": _postgres,
    "postgres-sealed": _postgres_sealed,
}

CPU = SeriesKey.of("host.cpu", {"host": "a"})
CPU_B = SeriesKey.of("host.cpu", {"host": "b"})
CPU_AB = SeriesKey.of("host.cpu", {"host": "a", "dc": "x"})
MEM = SeriesKey.of("host.mem")


@pytest.fixture(params=list(FACTORIES))
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MetricStore]:
    """Each store in turn, closed after the test."""
    instance = FACTORIES[request.param](request, tmp_path)
    yield instance
    instance.close()


def _base(hours_back: int = 5) -> int:
    """A whole hour ``hours_back``..``hours_back + 1`` hours before real now (whole buckets)."""
    return (now_ms() - hours_back * HOUR) // HOUR * HOUR


def _series(
    key: SeriesKey, t0: int, n: int, every_s: int = 1, seed: int = 0, unit: str = ""
) -> SeriesPoints:
    """``n`` points ``every_s`` seconds apart from ``t0``, with random values."""
    ts = t0 + np.arange(n, dtype=np.int64) * every_s * SECOND
    values = np.round(np.random.default_rng(seed).normal(50, 10, n), 3)
    return make_points(key, ts, values, unit)


def _part(s: SeriesPoints, idx: np.ndarray | slice) -> SeriesPoints:
    """Some of a series' points, as a series of their own."""
    return make_points(s.key, s.ts[idx], s.values[idx], s.unit)


def _expected_rollup(s: SeriesPoints, start: int, end: int, width: int) -> pd.DataFrame:
    """Buckets whose start lies in ``[floor(start/width)*width, end]``, each one whole (pandas)."""
    df = pd.DataFrame({"ts": s.ts, "v": s.values})
    df["bucket"] = df.ts // width * width
    df = df[(df.bucket >= start // width * width) & (df.bucket <= end)]
    g = df.groupby("bucket")["v"]
    out = pd.DataFrame(
        {
            "min": g.min(),
            "max": g.max(),
            "sum": g.sum(),
            "count": g.count(),
            "last": g.last(),
            "mean": g.mean(),
        }
    )
    return out.sort_index()


def _assert_rollup(frame: SeriesFrame, expected: pd.DataFrame) -> None:
    """Every column of a rollup frame equals the pandas buckets."""
    assert frame.ts.tolist() == expected.index.tolist()
    assert frame.count is not None and frame.min is not None and frame.max is not None
    assert frame.sum is not None and frame.last is not None
    assert np.asarray(frame.count).tolist() == expected["count"].tolist()
    np.testing.assert_allclose(frame.min, expected["min"])
    np.testing.assert_allclose(frame.max, expected["max"])
    np.testing.assert_allclose(frame.sum, expected["sum"], rtol=1e-9)
    np.testing.assert_allclose(frame.last, expected["last"])
    np.testing.assert_allclose(frame.value, expected["mean"], rtol=1e-9)


# --- raw reads --------------------------------------------------------------------------


def test_raw_read_returns_exactly_the_points_in_range_in_time_order(store):
    """Inclusive bounds on both ends, time order, exact values, whatever the write order."""
    t0 = _base()
    s = _series(CPU, t0, 600, every_s=3, unit="%")
    # written newest half first, then the older half: reads are in time order all the same
    store.write(Batch([_part(s, slice(300, None))]))
    store.write(Batch([_part(s, slice(0, 300))]))
    ts = s.ts
    ranges = [
        (int(ts[10]), int(ts[20])),  # both bounds on points: both included
        (int(ts[10]) + 1, int(ts[20]) - 1),  # both bounds just inside: both excluded
        (int(ts[42]), int(ts[42])),  # a single instant
        (int(ts[0]) - 60_000, int(ts[-1]) + 60_000),  # everything
        (int(ts[0]) - 60_000, int(ts[0]) - 1),  # before the first point
        (int(ts[-1]) + 1, int(ts[-1]) + 60_000),  # after the last point
        (int(ts[5]) + 1, int(ts[6]) - 1),  # between two points
    ]
    for start, end in ranges:
        frame = store.query(CPU, start, end, RAW)
        mask = (ts >= start) & (ts <= end)
        assert frame.step == RAW
        assert frame.ts.tolist() == ts[mask].tolist(), (start - t0, end - t0)
        assert frame.value.tolist() == s.values[mask].tolist(), (start - t0, end - t0)
        assert np.all(np.diff(frame.ts) > 0)


def test_series_and_labels_are_kept_apart(store):
    """Label sets of one name and another name never mix; a label subset is another series."""
    t0 = _base()
    cpu, cpu_b, cpu_ab = (
        _series(CPU, t0, 30, seed=1),
        _series(CPU_B, t0, 30, seed=2),
        _series(CPU_AB, t0, 30, seed=3),
    )
    mem = _series(MEM, t0 + 5 * SECOND, 5, seed=4, unit="B")
    store.write(Batch([cpu, cpu_b, cpu_ab, mem]))
    end = t0 + HOUR
    for s in (cpu, cpu_b, cpu_ab, mem):
        frame = store.query(s.key, t0, end, RAW)
        assert frame.ts.tolist() == s.ts.tolist(), s.key
        assert frame.value.tolist() == s.values.tolist(), s.key
        minute = store.query(s.key, t0, end, BY_NAME["1m"])
        assert np.asarray(minute.count).tolist() == [len(s)], s.key
        np.testing.assert_allclose(minute.sum, [s.values.sum()])
    # the bare name is a series of its own (never the union of its label sets)
    assert len(store.query(SeriesKey.of("host.cpu"), t0, end, RAW)) == 0
    assert len(store.query(SeriesKey.of("host.cpu", {"host": "c"}), t0, end, RAW)) == 0


def test_list_series_gives_keys_units_and_time_spans(store):
    """Every written series once, with its unit and its first and last timestamps."""
    t0 = _base()
    store.write(
        Batch(
            [
                _series(CPU, t0 + 60 * SECOND, 30, unit="%"),
                _series(CPU_B, t0, 10, seed=1),
                _series(MEM, t0 + 5 * SECOND, 5, seed=2, unit="B"),
            ]
        )
    )
    # later and earlier points of CPU widen its span
    store.write(Batch([_series(CPU, t0 + 200 * SECOND, 3, seed=5, unit="%")]))
    store.write(Batch([_series(CPU, t0 + 10 * SECOND, 2, seed=6, unit="%")]))
    infos = store.list_series()
    assert [i.key for i in infos] == sorted({CPU, CPU_B, MEM})
    by_key = {i.key: i for i in infos}
    assert (by_key[CPU].unit, by_key[CPU_B].unit, by_key[MEM].unit) == ("%", "", "B")
    assert (by_key[CPU].first_ts, by_key[CPU].last_ts) == (t0 + 10 * SECOND, t0 + 202 * SECOND)
    assert (by_key[CPU_B].first_ts, by_key[CPU_B].last_ts) == (t0, t0 + 9 * SECOND)
    assert (by_key[MEM].first_ts, by_key[MEM].last_ts) == (t0 + 5 * SECOND, t0 + 9 * SECOND)
    assert by_key[CPU].to_json() == {
        "key": 'host.cpu{host="a"}',
        "name": "host.cpu",
        "labels": {"host": "a"},
        "unit": "%",
        "first_ts": t0 + 10 * SECOND,
        "last_ts": t0 + 202 * SECOND,
    }


# --- the resolution rule -------------------------------------------------------------------


def _assert_all_rollups(store: MetricStore, s: SeriesPoints, start: int, end: int) -> None:
    """Every rollup step over ``[start, end]`` equals the pandas buckets of ``s``."""
    for step in ROLLUPS:
        _assert_rollup(
            store.query(s.key, start, end, step), _expected_rollup(s, start, end, step.width_ms)
        )


def test_replays_add_nothing_and_a_rewrite_replaces_the_value(store):
    """Idempotent on (series, timestamp): replays store nothing twice; a rewrite replaces the
    stored value, and every rollup (min, max, sum, count, last) follows the new value."""
    t0 = _base()
    s = _series(CPU, t0, 120, seed=7)
    store.write(Batch([s]))
    store.write(Batch([s]))  # the same batch again
    store.write(Batch([_part(s, slice(30, 90))]))  # a part of it again
    frame = store.query(CPU, t0, t0 + HOUR, RAW)
    assert (frame.ts.tolist(), frame.value.tolist()) == (s.ts.tolist(), s.values.tolist())
    _assert_all_rollups(store, s, t0, t0 + HOUR)
    # the first 5 timestamps (a bucket's min and max among them) and the last one again with
    # other values, together with 5 new points
    new_ts = s.ts[-1] + np.arange(1, 6) * SECOND
    values = s.values.copy()
    values[:5] = [1000.0, -1000.0, 0.5, 0.25, 3.0]
    values[-1] = -3.0
    rewrite = make_points(
        CPU,
        np.concatenate([s.ts[:5], s.ts[-1:], new_ts]),
        np.concatenate([values[:5], values[-1:], np.arange(5, dtype=float)]),
    )
    store.write(Batch([rewrite]))
    want = make_points(
        CPU, np.concatenate([s.ts, new_ts]), np.concatenate([values, np.arange(5, dtype=float)])
    )
    frame = store.query(CPU, t0, t0 + HOUR, RAW)
    assert frame.ts.tolist() == want.ts.tolist()
    assert frame.value.tolist() == want.values.tolist()
    _assert_all_rollups(store, want, t0, t0 + HOUR)
    store.write(Batch([rewrite]))  # replaying the rewrite changes nothing more
    assert store.query(CPU, t0, t0 + HOUR, RAW).value.tolist() == want.values.tolist()
    _assert_all_rollups(store, want, t0, t0 + HOUR)
    info = {i.key: i for i in store.list_series()}[CPU]
    assert (info.first_ts, info.last_ts) == (t0, int(new_ts[-1]))


def test_the_last_of_equal_timestamps_in_one_batch_wins(store):
    """Within a batch, a timestamp given twice keeps the value given last, in raw and rollups,
    whether the points come in one series entry, unsorted, or in two entries of one series."""
    t0 = _base()
    ts = t0 + np.array([3, 1, 2, 1, 3, 1], dtype=np.int64) * SECOND
    store.write(Batch([SeriesPoints(CPU, ts, np.array([30.0, 10, 20, 11, 31, 12]))]))
    store.write(
        Batch(
            [
                SeriesPoints(CPU, ts[:3], np.array([40.0, 5, 6])),
                SeriesPoints(CPU, ts[:1], np.array([41.0])),
            ]
        )
    )
    frame = store.query(CPU, t0, t0 + MINUTE, RAW)
    assert frame.ts.tolist() == [t0 + SECOND, t0 + 2 * SECOND, t0 + 3 * SECOND]
    assert frame.value.tolist() == [5.0, 6.0, 41.0]
    _assert_all_rollups(store, make_points(CPU, frame.ts, [5.0, 6.0, 41.0]), t0, t0 + MINUTE)


def test_every_point_is_kept_at_millisecond_resolution(store):
    """Points a millisecond apart (every millisecond of one second, and either side of it),
    written out of order, are all kept in time order; replaced ones keep their place; rollups
    fold every point."""
    t0 = _base() + 30 * SECOND
    rng = np.random.default_rng(3)
    burst = t0 + np.arange(SECOND, dtype=np.int64)
    edges = t0 + np.array([-1, SECOND - 1, SECOND, SECOND + 1], dtype=np.int64)
    ts = np.concatenate([burst, edges])
    values = np.round(rng.normal(0, 100, ts.size), 2)
    order = rng.permutation(ts.size)
    for part in np.array_split(order, 7):  # out of order, in batches
        store.write(Batch([make_points(CPU, ts[part], values[part])]))
    values[[5, 1001]] = [1e6, -1e6]  # two of them again, with other values
    store.write(Batch([make_points(CPU, ts[[5, 1001]], values[[5, 1001]])]))
    want = make_points(CPU, ts, values)
    frame = store.query(CPU, t0 - SECOND, t0 + 2 * SECOND, RAW)
    assert frame.ts.tolist() == want.ts.tolist()
    assert frame.value.tolist() == want.values.tolist()
    _assert_all_rollups(store, want, t0 - HOUR, t0 + HOUR)
    info = {i.key: i for i in store.list_series()}[CPU]
    assert (info.first_ts, info.last_ts) == (int(want.ts[0]), int(want.ts[-1]))


# --- rollups ----------------------------------------------------------------------------


def _write_in_pieces(store: MetricStore, s: SeriesPoints) -> None:
    """Write a series the ways points arrive: a backfill, live trickles, then a late chunk."""
    n = len(s)
    late = np.arange(n // 5, n // 5 + 40)
    rest = np.setdiff1d(np.arange(n), late)
    head, tail = rest[: 2 * rest.size // 3], rest[2 * rest.size // 3 :]
    store.write(Batch([_part(s, head)]))  # a backfill
    for chunk in np.array_split(tail, max(1, tail.size // 10)):  # live: a few points at a time
        store.write(Batch([_part(s, chunk)]))
    store.write(Batch([_part(s, late)]))  # late points inside buckets already rolled up


RANGES = {
    # offsets from t0 (a whole hour); data covers t0 .. t0 + 3 h
    "all": (0, 3 * HOUR),
    "mid-bucket bounds": (37 * MINUTE + 13 * SECOND, 2 * HOUR + 11 * MINUTE + 7 * SECOND),
    "bucket-start bounds": (HOUR, 2 * HOUR),
    "inside one bucket": (HOUR + 61 * SECOND, HOUR + 62 * SECOND),
}


@pytest.mark.parametrize("span", list(RANGES))
@pytest.mark.parametrize("step", ["1m", "5m", "1h"])
def test_rollups_match_a_pandas_groupby(store, step, span):
    """min, max, sum, count, last and mean (``value``) of each bucket equal pandas', for the
    buckets whose start lies in ``[floor(start/width)*width, end]``, each bucket whole."""
    t0 = _base()
    s = _series(CPU, t0, 3 * 3600 // 7, every_s=7, seed=4)  # uneven buckets on purpose
    _write_in_pieces(store, s)
    start, end = (t0 + offset for offset in RANGES[span])
    frame = store.query(CPU, start, end, BY_NAME[step])
    assert frame.step == BY_NAME[step]
    expected = _expected_rollup(s, start, end, BY_NAME[step].width_ms)
    assert len(expected) > 0
    _assert_rollup(frame, expected)


def test_rollup_buckets_start_at_the_bucket_of_start_and_are_whole(store):
    """A range from mid-bucket to mid-bucket gets both whole buckets; past the data, none."""
    t0 = _base()
    store.write(Batch([_series(CPU, t0, 600)]))  # one point a second for 10 minutes
    minute = BY_NAME["1m"]
    frame = store.query(CPU, t0 + 90 * SECOND, t0 + 150 * SECOND, minute)
    assert frame.ts.tolist() == [t0 + MINUTE, t0 + 2 * MINUTE]
    assert np.asarray(frame.count).tolist() == [60, 60]
    # an end exactly on a bucket's start takes that whole bucket
    frame = store.query(CPU, t0 + 2 * MINUTE, t0 + 2 * MINUTE, minute)
    assert (frame.ts.tolist(), np.asarray(frame.count).tolist()) == ([t0 + 2 * MINUTE], [60])
    # a range inside the last bucket gives that whole bucket
    frame = store.query(CPU, t0 + 590 * SECOND, t0 + 595 * SECOND, minute)
    assert (frame.ts.tolist(), np.asarray(frame.count).tolist()) == ([t0 + 9 * MINUTE], [60])
    # a range ending one millisecond before a bucket does not reach into it
    frame = store.query(CPU, t0, t0 + MINUTE - 1, minute)
    assert frame.ts.tolist() == [t0]
    assert len(store.query(CPU, t0 + 11 * MINUTE, t0 + 20 * MINUTE, minute)) == 0
    assert len(store.query(CPU, t0 - 20 * MINUTE, t0 - 1, minute)) == 0


# --- the rest of the protocol -----------------------------------------------------------


def test_unknown_series_is_empty_and_ping_answers(store):
    """Reading a series nobody wrote gives an empty frame at every step; ping is True."""
    t0 = _base()
    store.write(Batch([_series(CPU, t0, 10)]))
    nobody = SeriesKey.of("nothing.here")
    for step in (RAW, *ROLLUPS):
        frame = store.query(nobody, t0 - HOUR, now_ms(), step)
        assert len(frame) == 0 and frame.ts.size == 0 and frame.value.size == 0
        assert frame.key == nobody and frame.step == step
    assert store.ping() is True


def test_sqlite_keeps_data_across_reopening(tmp_path):
    """The embedded database is on disk: closing and opening again loses nothing, and a
    replay after reopening still adds nothing."""
    t0 = _base()
    s = _series(CPU, t0, 50, unit="%")
    first = SQLiteStore(tmp_path / "reopen.db")
    first.write(Batch([s, _series(MEM, t0, 5, seed=1)]))
    first.close()
    again = SQLiteStore(tmp_path / "reopen.db")
    try:
        frame = again.query(CPU, t0, t0 + HOUR, RAW)
        assert (frame.ts.tolist(), frame.value.tolist()) == (s.ts.tolist(), s.values.tolist())
        infos = again.list_series()
        assert [i.key for i in infos] == [CPU, MEM]
        assert (infos[0].unit, infos[0].first_ts, infos[0].last_ts) == ("%", t0, t0 + 49_000)
        again.write(Batch([s]))
        assert len(again.query(CPU, t0, t0 + HOUR, RAW)) == 50
        assert np.asarray(again.query(CPU, t0, t0 + HOUR, BY_NAME["1m"]).count).tolist() == [50]
    finally:
        again.close()


def test_a_unit_given_later_is_kept_whichever_way_the_points_come(store):
    """A series first written without a unit takes the unit a later write gives, whether that
    write goes through the head (a few points) or straight into chunks (a bulk write)."""
    few, many = SeriesKey.of("unit.few"), SeriesKey.of("unit.many")
    d = _base()
    store.write(Batch([SeriesPoints(k, np.array([d]), np.array([1.0])) for k in (few, many)]))
    ts = d + SECOND + np.arange(2000, dtype=np.int64) * SECOND
    store.write(
        Batch(
            [
                SeriesPoints(few, ts[:3], np.ones(3), "ms"),
                SeriesPoints(many, ts, np.ones(ts.size), "bytes"),
            ]
        )
    )
    units = {i.key: i.unit for i in store.list_series()}
    assert units == {few: "ms", many: "bytes"}
    spans = {i.key: (i.first_ts, i.last_ts) for i in store.list_series()}
    assert spans[many] == (d, int(ts[-1])) and spans[few] == (d, int(ts[2]))
