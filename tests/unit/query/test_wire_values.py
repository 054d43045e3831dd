"""Sample values as the Prometheus HTTP API writes them (Go's ``FormatFloat(v, 'f', -1, 64)``)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dashboard.query.aggregate import format_value, format_values

CASES = [
    (0.0, "0"),
    (-0.0, "-0"),
    (1.0, "1"),
    (-42.0, "-42"),
    (0.1 + 0.2, "0.30000000000000004"),
    (1.5, "1.5"),
    (1e-05, "0.00001"),
    (2.5e-07, "0.00000025"),
    (1e16, "10000000000000000"),
    (1.2345e21, "1234500000000000000000"),
    (math.nan, "NaN"),
    (math.inf, "+Inf"),
    (-math.inf, "-Inf"),
]


@pytest.mark.parametrize(("value", "text"), CASES)
def test_one_value_is_written_as_go_writes_it(value, text):
    assert format_value(value) == text


def test_many_values_are_written_as_one_at_a_time():
    rng = np.random.default_rng(5)
    values = [v for v, _ in CASES] + [
        *rng.normal(0, 1e3, 500).tolist(),
        *rng.integers(-(10**6), 10**6, 500).astype(float).tolist(),
        *(10.0 ** rng.integers(-30, 30, 200) * rng.random(200)).tolist(),
    ]
    assert format_values(values) == [format_value(v) for v in values]
    assert format_values([v for v, _ in CASES]) == [t for _, t in CASES]
