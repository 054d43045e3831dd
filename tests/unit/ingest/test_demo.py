"""Demo data (``ingest.demo_data``) and time expressions (``dashboard.metrics.timerange``)."""

from __future__ import annotations

import numpy as np
import pytest

from dashboard.metrics.steps import DAY, HOUR, MINUTE, SECOND
from dashboard.metrics.timerange import resolve, resolve_range
from ingest import demo_data as demo
from ingest.demo_data import DemoSource

DAY0 = 1_704_067_200_000  # 2024-01-01 00:00 UTC
NOW = DAY0 + 15 * HOUR + 1234


def _by_key(batch) -> dict:
    """Series of a batch keyed by their SeriesKey."""
    return {s.key: s for s in batch.series}


@pytest.fixture(scope="module")
def day_of_points() -> dict:
    """24 h of demo points every 10 s."""
    ts = np.arange(DAY0, DAY0 + DAY, 10 * SECOND, dtype=np.int64)
    return _by_key(DemoSource(seed=7).generate(ts))


# --------------------------------------------------------------------------- demo


@pytest.mark.parametrize("n", [1, 3, 500])
def test_generate_gives_every_key_with_finite_values(n: int) -> None:
    """Each series listed by keys() gets one finite value per timestamp, in time order."""
    source = DemoSource()
    ts = np.sort(np.random.default_rng(n).integers(DAY0, DAY0 + 2 * DAY, size=n))
    ts = np.unique(ts)
    series = _by_key(source.generate(ts))
    assert set(series) == set(source.keys())
    assert len(source.keys()) == len(set(source.keys()))
    for s in series.values():
        assert s.ts.tolist() == ts.tolist(), s.key
        assert np.all(np.isfinite(s.values)), s.key


def test_every_demo_series_has_points_over_a_day(day_of_points: dict) -> None:
    """A day of generation fills all eleven series (3 KPIs, 4 services, 4 routes)."""
    assert len(day_of_points) == 3 + len(demo.SERVICES) + len(demo.ROUTES)
    for s in day_of_points.values():
        assert len(s) == DAY // (10 * SECOND)
        assert np.all(np.isfinite(s.values))


def test_health_is_up_degraded_or_down(day_of_points: dict) -> None:
    """Service health only takes the values 1 (up), 0.5 (degraded) and 0 (down), mostly up."""
    health = [s for k, s in day_of_points.items() if k.name == "demo.health"]
    assert sorted(s.key.label_dict["service"] for s in health) == sorted(demo.SERVICES)
    for s in health:
        assert set(np.unique(s.values).tolist()) <= {0.0, 0.5, 1.0}, s.key
        assert np.mean(s.values == 1.0) > 0.5, s.key
    every = np.concatenate([s.values for s in health])
    assert 0.5 in every.tolist()  # the status widget has something to show over a day


def test_error_rate_is_a_ratio_that_spikes_over_the_threshold(day_of_points: dict) -> None:
    """The error rate stays in [0, 1], crosses the 5 % threshold, and is under it >90 %."""
    rate = day_of_points[demo.ERROR_RATE].values
    assert rate.min() >= 0.0 and rate.max() <= 1.0
    over = rate > demo.ERROR_THRESHOLD
    assert over.any()
    assert np.count_nonzero(np.diff(over.astype(int)) == 1) >= 1  # goes from under to over
    assert over.mean() < 0.10


@pytest.mark.parametrize("day", range(3))
def test_error_rate_crosses_the_threshold_every_day(day: int) -> None:
    """On any day the threshold is crossed at least once but the rate is mostly below it."""
    ts = np.arange(DAY0 + day * DAY, DAY0 + (day + 1) * DAY, 10 * SECOND, dtype=np.int64)
    rate = _by_key(DemoSource(seed=day).generate(ts))[demo.ERROR_RATE].values
    assert (rate > demo.ERROR_THRESHOLD).any()
    assert (rate <= demo.ERROR_THRESHOLD).mean() > 0.9


def test_active_users_swing_daily(day_of_points: dict) -> None:
    """Hourly means of active users vary at least two-fold over a day."""
    users = day_of_points[demo.ACTIVE_USERS]
    hours = users.ts // HOUR
    means = [users.values[hours == h].mean() for h in np.unique(hours)]
    assert len(means) == 24
    assert max(means) >= 2 * min(means)
    assert users.values.min() >= 0
    assert np.all(users.values == np.round(users.values))  # whole users


def test_revenue_and_requests_are_not_negative(day_of_points: dict) -> None:
    """Revenue and request rates are never negative."""
    for k, s in day_of_points.items():
        if k.name in ("demo.revenue_usd", "demo.requests"):
            assert s.values.min() >= 0, k


@pytest.mark.parametrize(
    ("start", "end", "step"),
    [
        (DAY0, DAY0 + HOUR, 10 * SECOND),
        (DAY0 + 1, DAY0 + HOUR - 1, 10 * SECOND),
        (NOW - DAY, NOW, MINUTE),
        (NOW - 7 * SECOND, NOW, 3 * SECOND),
        (DAY0 + 5 * SECOND, DAY0 + 5 * SECOND, 5 * SECOND),
    ],
)
def test_backfill_timestamps_are_aligned_and_inside_the_range(
    start: int, end: int, step: int
) -> None:
    """Backfill points fall on multiples of the step, within [start, end], one per step."""
    batch = DemoSource().backfill(start, end, step)
    assert {s.key for s in batch.series} == set(DemoSource().keys())
    ts = batch.series[0].ts
    assert ts.size > 0
    assert np.all(ts % step == 0)
    assert ts.min() >= start and ts.max() <= end
    assert np.all(np.diff(ts) == step)
    # nothing aligned is missed at either end
    assert ts.min() - step < start and ts.max() + step > end
    for s in batch.series:
        assert s.ts.tolist() == ts.tolist()


def test_backfill_of_a_range_without_an_aligned_instant_is_empty() -> None:
    """A range shorter than a step with no multiple of it inside yields no points."""
    batch = DemoSource().backfill(DAY0 + 1, DAY0 + 999, SECOND)
    assert batch.point_count == 0


# --------------------------------------------------------------------------- timerange


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("now", NOW),
        (" now ", NOW),
        ("now-24h", NOW - 24 * 3_600_000),
        ("now-1h", NOW - 3_600_000),
        ("now-30s", NOW - 30_000),
        ("now-15m", NOW - 15 * 60_000),
        ("now-7d", NOW - 7 * 86_400_000),
        ("now-2w", NOW - 14 * 86_400_000),
        ("now-0m", NOW),
        ("1700000000000", 1_700_000_000_000),
        ("0", 0),
        (1_700_000_000_000, 1_700_000_000_000),
        (0, 0),
    ],
)
def test_resolve_understands_now_relative_and_absolute_times(expr, expected: int) -> None:
    """now, now-<n><unit> and Unix milliseconds (text or int) resolve to Unix milliseconds."""
    assert resolve(expr, NOW) == expected


@pytest.mark.parametrize(
    "expr",
    [
        "yesterday",
        "",
        "now-24",
        "now+1h",
        "now-1y",
        "now-h",
        "now - 1h",
        "NOW",
        "-5",
        "1.5",
        "1e12",
        "now-1h-1m",
        True,
        None,
        1.5,
    ],
)
def test_resolve_rejects_anything_else(expr) -> None:
    """Anything that is not now, now-<n><s|m|h|d|w> or whole milliseconds raises ValueError."""
    with pytest.raises(ValueError):
        resolve(expr, NOW)


def test_resolve_range_defaults_to_the_last_day() -> None:
    """An empty range means the 24 h ending now."""
    assert resolve_range({}, NOW) == (NOW - DAY, NOW)


def test_resolve_range_mixes_relative_and_absolute() -> None:
    """from/to may each be relative or absolute."""
    assert resolve_range({"from": "now-1h", "to": str(NOW - 60_000)}, NOW) == (
        NOW - HOUR,
        NOW - 60_000,
    )
    assert resolve_range({"from": NOW - 5000, "to": "now"}, NOW) == (NOW - 5000, NOW)


@pytest.mark.parametrize(
    "rng",
    [
        {"from": "now", "to": "now"},
        {"from": "now", "to": "now-1h"},
        {"from": NOW + 1, "to": "now"},
        {"to": "now-2d"},
    ],
)
def test_resolve_range_refuses_from_not_before_to(rng: dict) -> None:
    """A range whose start is not before its end raises ValueError."""
    with pytest.raises(ValueError, match="before"):
        resolve_range(rng, NOW)


def test_resolve_range_refuses_bad_expressions() -> None:
    """A bad from or to expression raises ValueError."""
    with pytest.raises(ValueError):
        resolve_range({"from": "last tuesday", "to": "now"}, NOW)
    with pytest.raises(ValueError):
        resolve_range({"from": "now-1h", "to": "soon"}, NOW)
