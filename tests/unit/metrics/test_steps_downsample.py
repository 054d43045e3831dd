"""Choosing a step for a range (``metrics.steps``) and MinMaxLTTB (``metrics.downsample``)."""

from __future__ import annotations

import numpy as np
import pytest

from dashboard.metrics.downsample import downsample, downsample_indices
from dashboard.metrics.steps import (
    BY_NAME,
    DAY,
    HOUR,
    MINUTE,
    POINTS_PER_PIXEL,
    RAW,
    SECOND,
    STEPS,
    Step,
    choose_step,
    finer,
    step_named,
)

NOW = 1_700_000_000_000


def _choose(span_ms: int, px: int, ago_ms: int = 0) -> str:
    """The step chosen for a range of ``span_ms`` ending ``ago_ms`` before now, ``px`` wide."""
    end = NOW - ago_ms
    return choose_step(end - span_ms, end, NOW, px).name


# --------------------------------------------------------------------------- choose_step


@pytest.mark.parametrize(
    ("span_ms", "px", "expected"),
    [
        pytest.param(HOUR, 1000, "raw", id="1h-1000px"),
        pytest.param(DAY, 1000, "raw", id="24h-1000px"),
        pytest.param(HOUR, 10, "1m", id="1h-10px"),
        pytest.param(DAY, 100, "1m", id="24h-100px"),
        pytest.param(DAY, 10, "5m", id="24h-10px"),
        pytest.param(7 * DAY, 1000, "5m", id="7d-1000px"),
        pytest.param(30 * DAY, 1000, "1h", id="30d-1000px"),
        pytest.param(365 * DAY, 1000, "1d", id="1y-1000px"),
    ],
)
def test_choose_step_for_ranges_ending_now(span_ms: int, px: int, expected: str) -> None:
    """A range ending now gets the finest step that still holds it within ~100 points a pixel."""
    assert _choose(span_ms, px) == expected


def test_a_day_at_a_thousand_pixels_is_within_the_raw_budget() -> None:
    """24 h of 1 s points is 86,400 points, at most 100 per pixel of a 1000 px chart."""
    assert DAY // SECOND <= 1000 * POINTS_PER_PIXEL
    assert _choose(DAY, 1000) == "raw"
    assert _choose(DAY, 863) == "1m"  # 86,400 / 863 > 100 points a pixel


@pytest.mark.parametrize("px", [1000, 100, 10])
def test_choose_step_respects_retention(px: int) -> None:
    """An hour that started 3 days ago is past raw and 1m retention, so it comes at 5m."""
    chosen = choose_step(NOW - 3 * DAY, NOW - 3 * DAY + HOUR, NOW, px)
    assert chosen.name not in ("raw", "1m")
    assert chosen.retention_ms >= 3 * DAY
    assert chosen.name == "5m"


def test_choose_step_keeps_raw_up_to_exactly_a_day_old() -> None:
    """A range starting exactly 24 h ago may be raw; one starting 1 ms earlier may not."""
    assert choose_step(NOW - DAY, NOW - DAY + MINUTE, NOW, 1000) == RAW
    assert choose_step(NOW - DAY - 1, NOW - DAY + MINUTE, NOW, 1000).name == "5m"


def test_choose_step_past_all_retention_falls_back_to_the_coarsest() -> None:
    """A range older than every retention still gets an answer: the coarsest step."""
    assert choose_step(NOW - 2 * 365 * DAY, NOW - 2 * 365 * DAY + DAY, NOW, 1000) == STEPS[-1]


@pytest.mark.parametrize("px", [0, -5])
def test_choose_step_survives_non_positive_widths(px: int) -> None:
    """A zero or negative pixel budget is treated as one pixel rather than failing."""
    assert choose_step(NOW - HOUR, NOW, NOW, px) == choose_step(NOW - HOUR, NOW, NOW, 1)


def test_choose_step_is_the_finest_that_fits() -> None:
    """Over many random ranges, the step fits retention and budget and no finer step does."""
    rng = np.random.default_rng(5)
    for _ in range(500):
        span = int(rng.integers(1, 400 * DAY))
        ago = int(rng.integers(0, 30 * DAY)) if rng.random() < 0.5 else 0
        px = int(rng.integers(1, 4000))
        start, end = NOW - ago - span, NOW - ago

        def fits(step: Step, start: int = start, span: int = span, px: int = px) -> bool:
            """The step keeps data this old and reads no more than the budget."""
            return NOW - start <= step.retention_ms and span / step.width_ms <= px * 100

        chosen = choose_step(start, end, NOW, px)
        fitting = [s for s in STEPS if fits(s)]
        assert chosen == (fitting[0] if fitting else STEPS[-1]), (span, ago, px)


# --------------------------------------------------------------------------- step_named, finer


@pytest.mark.parametrize("name", ["raw", "1m", "5m", "1h", "1d"])
def test_step_named_finds_each_step(name: str) -> None:
    """Every documented step name resolves to the step of that name."""
    assert step_named(name).name == name


@pytest.mark.parametrize("name", ["2m", "", "RAW", "auto", "1 m"])
def test_step_named_rejects_unknown_names_listing_the_valid_ones(name: str) -> None:
    """An unknown name raises ValueError whose message names every valid step."""
    with pytest.raises(ValueError) as info:
        step_named(name)
    message = str(info.value)
    assert repr(name) in message
    for valid in ("raw", "1m", "5m", "1h", "1d"):
        assert valid in message


def test_steps_have_the_documented_widths_and_retentions() -> None:
    """raw 1 s for a day, 1m for a day, 5m for a week, 1h for 30 days, 1d for a year."""
    table = {s.name: (s.width_ms, s.retention_ms) for s in STEPS}
    assert table == {
        "raw": (SECOND, DAY),
        "1m": (MINUTE, DAY),
        "5m": (5 * MINUTE, 7 * DAY),
        "1h": (HOUR, 30 * DAY),
        "1d": (DAY, 365 * DAY),
    }
    assert set(BY_NAME) == set(table)


@pytest.mark.parametrize(
    ("name", "expected"),
    [("raw", None), ("1m", "raw"), ("5m", "1m"), ("1h", "5m"), ("1d", "1h")],
)
def test_finer_steps_down_one_level(name: str, expected: str | None) -> None:
    """Drill-down goes one step finer; raw has nothing finer."""
    got = finer(step_named(name))
    assert (got.name if got else None) == expected


# --------------------------------------------------------------------------- downsampling


def _series(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A noisy random walk of ``n`` points one second apart."""
    rng = np.random.default_rng(seed)
    ts = NOW + np.arange(n, dtype=np.int64) * SECOND
    return ts, np.cumsum(rng.standard_normal(n))


@pytest.mark.parametrize(("n", "n_out"), [(0, 10), (1, 10), (3, 3), (10, 10), (50, 1000)])
def test_small_series_come_back_whole(n: int, n_out: int) -> None:
    """A series no longer than the budget is returned as is."""
    ts, values = _series(n)
    assert downsample_indices(ts, values, n_out).tolist() == list(range(n))
    out_ts, out_values = downsample(ts, values, n_out)
    assert out_ts.tolist() == ts.tolist() and out_values.tolist() == values.tolist()


@pytest.mark.parametrize(
    ("n", "n_out"),
    [
        (n, n_out)
        for n in (2, 3, 5, 1001, 20_000)
        for n_out in (1, 2, 3, 4, 5, 17, 100, 1000)
        if n > n_out
    ],
)
def test_downsample_returns_at_most_n_out_sorted_indices(n: int, n_out: int) -> None:
    """A longer series comes back as at most n_out distinct points in time order (API allows 1)."""
    ts, values = _series(n, seed=n)
    idx = downsample_indices(ts, values, n_out)
    assert 0 < idx.size <= n_out
    assert np.all(np.diff(idx) > 0)
    assert idx[0] >= 0 and idx[-1] < n
    out_ts, out_values = downsample(ts, values, n_out)
    assert out_ts.tolist() == ts[idx].tolist() and out_values.tolist() == values[idx].tolist()


@pytest.mark.parametrize("n_out", [2, 4, 50, 1000])
def test_downsample_keeps_first_and_last_points(n_out: int) -> None:
    """The chart still starts and ends where the data does."""
    ts, values = _series(10_000, seed=3)
    idx = downsample_indices(ts, values, n_out)
    assert idx[0] == 0 and idx[-1] == ts.size - 1


@pytest.mark.parametrize("n_out", [10, 100, 1000])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_downsample_keeps_a_lone_spike_and_dip(n_out: int, seed: int) -> None:
    """A lone huge spike and a lone deep dip survive downsampling (MinMaxLTTB keeps extremes)."""
    rng = np.random.default_rng(seed)
    n = 50_000
    ts = NOW + np.arange(n, dtype=np.int64) * SECOND
    values = rng.normal(100.0, 1.0, n)
    spike, dip = (int(i) for i in rng.choice(np.arange(1, n - 1), size=2, replace=False))
    values[spike] = 10_000.0
    values[dip] = -10_000.0
    idx = downsample_indices(ts, values, n_out)
    assert spike in idx.tolist() and dip in idx.tolist()
    _, out_values = downsample(ts, values, n_out)
    assert out_values.max() == values.max() and out_values.min() == values.min()


def test_downsample_handles_irregular_timestamps() -> None:
    """Gaps in time (not evenly spaced points) still give sorted indices within the budget."""
    rng = np.random.default_rng(11)
    ts = NOW + np.cumsum(rng.integers(1, 60_000, size=5000)).astype(np.int64)
    values = rng.normal(size=5000)
    idx = downsample_indices(ts, values, 200)
    assert 0 < idx.size <= 200 and np.all(np.diff(idx) > 0)
    assert idx[0] == 0 and idx[-1] == ts.size - 1
