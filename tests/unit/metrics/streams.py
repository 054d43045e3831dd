"""Random point streams (hypothesis) and a pandas reference for what a store must answer."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
from hypothesis import strategies as st

from dashboard.metrics.steps import DAY, HOUR, MINUTE, RAW, ROLLUPS, SECOND, Step

T0 = 1_700_000_000_000
RULES = {"1m": "1min", "5m": "5min", "1h": "1h", "1d": "1D"}

# A stream is a seed and a list of segments; numpy draws the points of each from the seed, so
# a segment may hold thousands of points while hypothesis shrinks only a few numbers.
SEGMENTS = st.one_of(
    st.tuples(st.just("burst"), st.integers(1, 6000), st.booleans()),  # within one second
    st.tuples(
        st.just("regular"),
        st.integers(1, 1500),
        st.sampled_from([1, 7, 250, 1000, 15 * SECOND, MINUTE, 7 * MINUTE]),
    ),
    st.tuples(st.just("late"), st.integers(1, 60), st.sampled_from([SECOND, HOUR, DAY + HOUR])),
    st.tuples(st.just("dup"), st.integers(1, 60), st.booleans()),  # replays, new values
    st.tuples(st.just("gap"), st.sampled_from([MINUTE, HOUR, 5 * HOUR, DAY, 3 * DAY]), st.just(0)),
)
STREAMS = st.tuples(
    st.integers(0, 2**32 - 1),
    st.integers(0, DAY - 1),
    st.lists(SEGMENTS, min_size=1, max_size=10),
)


def batches(stream: tuple[int, int, list[tuple]]) -> Iterator[tuple[np.ndarray, np.ndarray, bool]]:
    """The writes of a stream: (ts int64, values float64, write one point at a time)."""
    seed, offset, segments = stream
    rng = np.random.default_rng(seed)
    cursor = T0 + offset
    seen: list[np.ndarray] = [np.array([cursor], dtype=np.int64)]
    for kind, n, arg in segments:
        if kind == "gap":
            cursor += n
            continue
        if kind == "burst":
            ts = cursor + rng.integers(0, SECOND, n)
        elif kind == "regular":
            ts = cursor + np.arange(1, n + 1, dtype=np.int64) * arg
        elif kind == "late":
            ts = cursor - rng.integers(0, arg, n)
        else:
            pool = np.concatenate(seen)
            ts = rng.choice(pool, n)
        ts = ts.astype(np.int64)
        if kind != "regular":
            rng.shuffle(ts)
        # quarters sum exactly in float64 whatever the order, so sums compare exactly
        values = rng.integers(-400, 400, ts.size) / 4.0
        cursor = max(cursor, int(ts.max()))
        seen.append(ts)
        single = kind == "regular" or (kind == "dup" and arg)
        yield ts, values, single


class Reference:
    """What a store should hold: last write per timestamp, within the raw retention."""

    def __init__(self) -> None:
        """No points yet."""
        self.points: dict[int, float] = {}
        self.newest = -1

    def write(self, ts: np.ndarray, values: np.ndarray) -> None:
        """Apply one write (a batch): points older than newest - retention are refused."""
        self.newest = max(self.newest, int(ts.max()))
        oldest_ok = self.newest - RAW.retention_ms
        for t, v in zip(ts.tolist(), values.tolist(), strict=True):
            if t >= oldest_ok:
                self.points[t] = v

    def frame(self) -> pd.Series:
        """All accepted points as a time-indexed pandas Series."""
        ts = np.array(sorted(self.points), dtype=np.int64)
        values = np.array([self.points[t] for t in ts.tolist()], dtype=np.float64)
        return pd.Series(values, index=pd.to_datetime(ts, unit="ms"))

    def buckets(self, step: Step) -> pd.DataFrame:
        """Non-empty buckets of ``step``: count, sum, min, max, last, indexed by start ms."""
        frame = self.frame()
        agg = frame.resample(RULES[step.name], origin="epoch").agg(
            ["count", "sum", "min", "max", "last"]
        )
        agg = agg[agg["count"] > 0]
        start = (agg.index - pd.Timestamp(0)) // pd.Timedelta(milliseconds=1)
        agg.index = np.asarray(start, dtype=np.int64)
        return agg


def check_raw(ts: np.ndarray, values: np.ndarray, ref: Reference) -> None:
    """Raw points sorted, unique, each the last write of its timestamp, none missing."""
    assert ts.dtype == np.int64
    assert np.all(ts[1:] > ts[:-1])
    got = dict(zip(ts.tolist(), values.tolist(), strict=True))
    for t, v in got.items():
        assert ref.points.get(t) == v, (t, v, ref.points.get(t))
    oldest_kept = ref.newest - RAW.retention_ms
    missing = [t for t in ref.points if t >= oldest_kept and t not in got]
    assert not missing, missing[:5]


def check_buckets(step: Step, got: dict[str, np.ndarray], ref: Reference) -> None:
    """Every bucket returned is exact; every bucket within the step's retention is returned."""
    want = ref.buckets(step)
    starts = got["start"]
    assert np.all(starts[1:] > starts[:-1])
    assert set(starts.tolist()) <= set(want.index.tolist())
    sub = want.loc[starts]
    np.testing.assert_array_equal(got["count"], sub["count"].to_numpy())
    np.testing.assert_array_equal(got["min"], sub["min"].to_numpy())
    np.testing.assert_array_equal(got["max"], sub["max"].to_numpy())
    np.testing.assert_array_equal(got["last"], sub["last"].to_numpy())
    np.testing.assert_allclose(got["sum"], sub["sum"].to_numpy(), rtol=1e-12, atol=1e-9)
    kept = want.index[want.index + step.width_ms > ref.newest - step.retention_ms]
    assert set(kept.tolist()) <= set(starts.tolist())


ALL_STEPS = ROLLUPS
