"""Window bounds per series and step: shared searches for starts and ends give the same
bounds as searching each time, whatever the steps and range."""

from __future__ import annotations

import numpy as np
import pytest

from dashboard.query.samples import RawSeries, Samples


@pytest.mark.parametrize(
    ("times", "range_ms"),
    [
        (np.arange(600_000, 3_600_000, 60_000), 300_000),  # range a multiple of the step
        (np.arange(600_000, 3_600_000, 15_000), 300_000),
        (np.arange(600_000, 3_600_000, 60_000), 90_000),  # starts between the ends
        (np.full(40, 1_800_000), 300_000),  # every step at one time (``@``)
        (np.repeat(np.arange(600_000, 1_200_000, 60_000), 2), 120_000),  # repeated steps
    ],
)
def test_windows_equal_a_search_per_time(times: np.ndarray, range_ms: int) -> None:
    """``windows`` gives each series' ``[lo, hi)`` of ``(t - range, t]`` at every step."""
    rng = np.random.default_rng(5)
    series = [
        RawSeries(
            {"i": str(i)}, np.sort(rng.choice(3_600_000, 200, replace=False)), rng.random(200)
        )
        for i in range(7)
    ]
    samples = Samples.of(series, -1)
    times = times.astype(np.int64)
    lo, hi = samples.windows(times - range_ms, times)
    np.testing.assert_array_equal(lo, samples.positions(times - range_ms))
    np.testing.assert_array_equal(hi, samples.positions(times))
    for i, s in enumerate(series):  # and the bounds hold exactly the window's samples
        base = int(samples.offsets[i])
        j = times.size // 2
        inside = (s.ts > times[j] - range_ms) & (s.ts <= times[j])
        assert hi[i, j] - lo[i, j] == inside.sum()
        assert (samples.ts[lo[i, j] : hi[i, j]] == s.ts[inside]).all() and lo[i, j] >= base
