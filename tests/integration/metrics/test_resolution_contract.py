"""The resolution rule, proven on random streams in every store: the hot store, SQLite and
PostgreSQL keep every point at millisecond resolution, the last value written for a timestamp
winning, and answer raw reads and every rollup (count, sum, min, max, last, and the mean as
``value``) exactly as pandas does over the same points (dedupe keeping the last, ``resample``
from the epoch, aggregate); and a hot store rebuilt from the database answers the same.

The streams are those of ``tests.unit.metrics.streams`` (sub-second bursts of thousands of
points, out-of-order and late points, timestamps written again with new values, gaps), folded
into the window every store accepts: the last 23 hours of real time. Each write is cut into
random batches, some split over two entries of the same series, as the bus delivers them.
``DASHBOARD_FUZZ_SCALE`` multiplies the number of examples (``make fuzz`` runs 10x).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dashboard.clock import now_ms
from dashboard.metrics.frame import SeriesFrame
from dashboard.metrics.model import Batch, SeriesKey, SeriesPoints
from dashboard.metrics.steps import DAY, HOUR, MINUTE, RAW, ROLLUPS
from dashboard.metrics.store_interface import MetricStore
from dashboard.metrics.stores.hot import HotStore
from dashboard.metrics.stores.sqlite import SQLiteStore
from tests.integration.metrics.sealing import Sealed
from tests.unit.metrics.streams import STREAMS, T0, Reference, batches, check_buckets, check_raw

FUZZ_SCALE = float(os.environ.get("DASHBOARD_FUZZ_SCALE", "1"))
DEFAULT_EXAMPLES = {"hot": 40, "sqlite": 25, "postgres": 25, "restart": 15}
EXAMPLES = {name: max(1, int(n * FUZZ_SCALE)) for name, n in DEFAULT_EXAMPLES.items()}
WINDOW = 23 * HOUR - MINUTE  # streams are folded into [now - 23 h, now - 1 min)
FRACTIONS = st.tuples(st.floats(0, 1), st.floats(0, 1))
_keys = itertools.count()


def _settings(examples: int) -> Callable:
    """Hypothesis settings for a store test: no deadline, no example database."""
    return settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
        ],
    )


def _writes(stream: tuple, lo: int) -> Iterator[tuple[np.ndarray, np.ndarray, bool]]:
    """The stream's writes with their timestamps folded into ``[lo, lo + WINDOW)``."""
    for ts, values, single in batches(stream):
        yield lo + (ts - T0) % WINDOW, values, single


def _batches(
    key: SeriesKey, ts: np.ndarray, values: np.ndarray, single: bool, rng: np.random.Generator
) -> list[Batch]:
    """One write cut into consecutive random batches (many small ones for a live trickle),
    unsorted as given; some batches hold their points in two entries of the same series."""
    n = ts.size
    k = min(n, int(rng.integers(2, 9)) if single else int(rng.integers(1, 4)))
    cuts = [0, *np.sort(rng.choice(np.arange(1, n), k - 1, replace=False)).tolist(), n]
    out = []
    for a, b in itertools.pairwise(cuts):
        if b - a > 1 and rng.random() < 0.3:
            m = int(rng.integers(a + 1, b))
            parts = [(a, m), (m, b)]
        else:
            parts = [(a, b)]
        out.append(Batch([SeriesPoints(key, ts[i:j], values[i:j]) for i, j in parts]))
    return out


def _write_stream(stores: list[MetricStore], key: SeriesKey, stream: tuple) -> Reference:
    """Write the stream into every store, batch by batch; the pandas reference of it."""
    ref = Reference()
    rng = np.random.default_rng(stream[0])
    for ts, values, single in _writes(stream, now_ms() - 23 * HOUR):
        for batch in _batches(key, ts, values, single, rng):
            for store in stores:
                store.write(batch)
        ref.write(ts, values)
    return ref


def _columns(frame: SeriesFrame) -> dict[str, np.ndarray]:
    """A rollup frame's columns by the reference's names (an empty frame may have none)."""
    if len(frame) == 0 and frame.count is None:
        empty = np.empty(0)
        return {
            "start": frame.ts,
            "count": empty.astype(np.int64),
            "sum": empty,
            "min": empty,
            "max": empty,
            "last": empty,
        }
    assert frame.count is not None and frame.sum is not None and frame.last is not None
    assert frame.min is not None and frame.max is not None
    return {
        "start": frame.ts,
        "count": frame.count,
        "sum": frame.sum,
        "min": frame.min,
        "max": frame.max,
        "last": frame.last,
    }


def _check_rollup_range(frame: SeriesFrame, ref: Reference, start: int, end: int) -> None:
    """Buckets starting in ``[floor(start / width) * width, end]``, each exact and whole."""
    width = frame.step.width_ms
    want = ref.buckets(frame.step)
    want = want[(want.index >= start // width * width) & (want.index <= end)]
    got = _columns(frame)
    assert got["start"].tolist() == want.index.tolist(), (frame.step.name, start, end)
    for column in ("count", "min", "max", "last"):
        np.testing.assert_array_equal(got[column], want[column].to_numpy(), err_msg=column)
    np.testing.assert_allclose(got["sum"], want["sum"].to_numpy(), rtol=1e-12, atol=1e-9)
    mean = (want["sum"] / want["count"]).to_numpy()
    np.testing.assert_allclose(frame.value, mean, rtol=1e-12, atol=1e-9)


def _sub_range(ref: Reference, fractions: tuple[float, float]) -> tuple[int, int]:
    """A range inside the stream's span, at the given fractions of it."""
    first, last = min(ref.points), max(ref.points)
    a, b = sorted(first + int(f * (last - first)) for f in fractions)
    return a, b


def check_store(store: MetricStore, key: SeriesKey, ref: Reference, fractions: tuple) -> None:
    """Raw and every rollup, over everything and over a sub-range, equal the reference."""
    whole = (now_ms() - 2 * DAY, now_ms() + DAY)
    raw = store.query(key, *whole, RAW)
    if not ref.points:  # a stream of gaps only
        assert len(raw) == 0 and all(len(store.query(key, *whole, s)) == 0 for s in ROLLUPS)
        return
    check_raw(raw.ts, raw.value, ref)
    assert len(raw) == len(ref.points)
    start, end = _sub_range(ref, fractions)
    part = store.query(key, start, end, RAW)
    want = sorted(t for t in ref.points if start <= t <= end)
    assert part.ts.tolist() == want
    assert part.value.tolist() == [ref.points[t] for t in want]
    for step in ROLLUPS:
        frame = store.query(key, *whole, step)
        check_buckets(step, _columns(frame), ref)
        _check_rollup_range(frame, ref, *whole)
        _check_rollup_range(store.query(key, start, end, step), ref, start, end)
    info = {i.key: i for i in store.list_series()}[key]
    assert (info.first_ts, info.last_ts) == (min(ref.points), max(ref.points))


# --- every store against the reference ----------------------------------------------------


@_settings(EXAMPLES["hot"])
@given(STREAMS, FRACTIONS)
def test_the_hot_store_matches_the_reference(stream, fractions) -> None:
    """Random streams in the hot store: raw and every rollup equal pandas'."""
    store = HotStore()
    key = SeriesKey.of("fuzz.hot")
    check_store(store, key, _write_stream([store], key, stream), fractions)


@_settings(EXAMPLES["sqlite"])
@given(STREAMS, FRACTIONS)
def test_sqlite_matches_the_reference(stream, fractions) -> None:
    """Random streams in SQLite: raw and every rollup equal pandas'."""
    store = SQLiteStore(":memory:")
    key = SeriesKey.of("fuzz.sqlite")
    try:
        check_store(store, key, _write_stream([store], key, stream), fractions)
    finally:
        store.close()


@_settings(EXAMPLES["sqlite"])
@given(STREAMS, FRACTIONS)
def test_sealed_sqlite_matches_the_reference(stream, fractions) -> None:
    """Random streams in SQLite sealed into chunks after every write (so late, replaced and
    replayed points meet sealed chunks): raw and every rollup equal pandas'."""
    store = SQLiteStore(":memory:")
    key = SeriesKey.of("fuzz.sqlite.sealed")
    try:
        sealed = Sealed(store)
        check_store(store, key, _write_stream([sealed], key, stream), fractions)  # type: ignore[list-item]
    finally:
        store.close()


@pytest.fixture
def postgres_store(postgres_schema) -> Iterator[MetricStore]:
    """A PostgreSQL store in this test's own schema (each example writes its own series)."""
    from dashboard.metrics.stores.postgres import PostgresStore

    url, schema = postgres_schema
    store = PostgresStore(url, schema=schema, max_size=2)
    yield store
    store.close()


def test_postgres_matches_the_reference(postgres_store) -> None:
    """Random streams in PostgreSQL (read from its head): raw and every rollup equal pandas'."""

    @_settings(EXAMPLES["postgres"])
    @given(STREAMS, FRACTIONS)
    def run(stream: tuple, fractions: tuple) -> None:
        key = SeriesKey.of("fuzz.postgres", {"example": str(next(_keys))})
        check_store(postgres_store, key, _write_stream([postgres_store], key, stream), fractions)

    run()


def test_sealed_postgres_matches_the_reference(postgres_store) -> None:
    """Random streams in PostgreSQL sealed into chunks after every write: raw and every rollup
    equal pandas'."""
    sealed = Sealed(postgres_store)

    @_settings(EXAMPLES["postgres"])
    @given(STREAMS, FRACTIONS)
    def run(stream: tuple, fractions: tuple) -> None:
        key = SeriesKey.of("fuzz.postgres.sealed", {"example": str(next(_keys))})
        check_store(postgres_store, key, _write_stream([sealed], key, stream), fractions)  # type: ignore[list-item]

    run()


# --- a restart ------------------------------------------------------------------------------


def _answers(store: MetricStore, key: SeriesKey, ranges: list[tuple[int, int]]) -> list:
    """Raw and every rollup read over each range, as plain lists."""
    out = []
    for start, end in ranges:
        for step in (RAW, *ROLLUPS):
            f = store.query(key, start, end, step)
            columns = [f.ts, f.value, f.min, f.max, f.count, f.sum, f.last]
            out.append([None if c is None else np.asarray(c).tolist() for c in columns])
    return out


def _restart(stream: tuple, fractions: tuple, path: Path, sub_range_first: bool) -> None:
    """Write through SQLite and a hot store; a new hot store loading from SQLite answers the
    reads (the sub-range or the last day first) as the first one did, and as pandas does."""
    database = SQLiteStore(path)
    before = HotStore()
    key = SeriesKey.of("fuzz.restart")
    try:
        ref = _write_stream([database, before], key, stream)
        if not ref.points:
            return
        whole = (now_ms() - DAY + MINUTE, now_ms() + MINUTE)
        ranges = [_sub_range(ref, fractions), whole]
        if not sub_range_first:
            ranges.reverse()
        after = HotStore(loader=lambda k, lo, hi: database.query(k, lo, hi, RAW))
        assert _answers(after, key, ranges) == _answers(before, key, ranges)
        check_store(after, key, ref, fractions)
    finally:
        database.close()


def test_a_restart_rebuilds_the_hot_store_to_the_same_answers(tmp_path: Path) -> None:
    """A hot store rebuilt from the database (its first read: the last day) answers every raw
    and rollup read as the one written live did."""

    @_settings(EXAMPLES["restart"])
    @given(STREAMS, FRACTIONS)
    def run(stream: tuple, fractions: tuple) -> None:
        _restart(stream, fractions, tmp_path / f"restart-{next(_keys)}.db", False)

    run()


def test_a_rebuilt_hot_store_first_read_from_mid_bucket_answers_whole_buckets(
    tmp_path: Path,
) -> None:
    """Rebuilt from the database, a hot store whose first read is a rollup from mid-bucket
    answers that bucket whole (two points a second apart in one minute, read from the second)."""
    stream = (0, 0, [("burst", 2, False)])
    _restart(stream, (0.0, 0.0), tmp_path / "restart.db", True)
