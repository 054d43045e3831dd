"""Range-vector functions against values computed by hand from ``promql/functions.go``."""

from __future__ import annotations

import math

import pytest

from tests.unit.query.helpers import instant, one, series

# 15 s apart; the counter resets from 110 to 5 at 35 s
COUNTER = [series("c", [(5, 100), (20, 110), (35, 5), (50, 15)])]
# starts late and near zero: the extrapolation stops at the counter's zero point
YOUNG = [series("c", [(30, 1), (45, 11), (60, 21)])]
LINE = [series("g", [(0, 1), (10, 3), (20, 5)])]


def test_rate_counts_the_reset_and_extrapolates_to_both_edges():
    """increase = (15 - 100 + 110) * (45 + 5 + 10) / 45; rate = that / 60."""
    assert one(COUNTER, "increase(c[1m])", 60) == pytest.approx(25 * 60 / 45)
    assert one(COUNTER, "rate(c[1m])", 60) == pytest.approx(25 * 60 / 45 / 60)


def test_delta_has_no_reset_handling():
    """delta = (15 - 100) * 60 / 45."""
    assert one(COUNTER, "delta(c[1m])", 60) == pytest.approx(-85 * 60 / 45)


def test_extrapolation_stops_at_the_zero_point_and_at_half_an_interval():
    """First sample 30 s in: start gap 30 s > 1.1 x 15 s, so avg/2 = 7.5 s, then capped by the
    zero point 30 * 1 / 20 = 1.5 s; increase = 20 * (30 + 1.5) / 30."""
    assert one(YOUNG, "increase(c[1m])", 60) == pytest.approx(21.0)


def test_rate_needs_two_samples_and_excludes_the_left_edge():
    """A window (t - range, t] with one sample gives nothing; the sample at t - range is out."""
    assert instant(COUNTER, "rate(c[10s])", 50) == {}
    data = [series("g", [(0, 1), (30, 2), (60, 3)])]
    assert one(data, "count_over_time(g[1m])", 60) == 2


def test_irate_and_idelta_use_the_last_two_samples():
    """irate after a reset is the last value over the gap; idelta is the plain difference."""
    assert one(COUNTER, "irate(c[1m])", 60) == pytest.approx(10 / 15)
    assert one(COUNTER, "irate(c[1m])", 40) == pytest.approx(5 / 15)
    assert one(COUNTER, "idelta(c[1m])", 40) == pytest.approx(-105)


def test_resets_and_changes():
    """One drop; two value changes."""
    assert one(COUNTER, "resets(c[1m])", 60) == 1
    data = [series("g", [(1, 1), (2, 1), (3, 2), (4, 2), (5, 1)])]
    assert one(data, "changes(g[1m])", 5) == 2


def test_deriv_and_predict_linear_use_least_squares():
    """Points on y = 1 + 0.2 x: slope 0.2; 10 s after t = 20 s the line is at 7."""
    assert one(LINE, "deriv(g[1m])", 20) == pytest.approx(0.2)
    assert one(LINE, "predict_linear(g[1m], 10)", 20) == pytest.approx(7.0)
    assert one(LINE, "predict_linear(g[1m], 0)", 30) == pytest.approx(7.0)


def test_over_time_functions():
    """avg, min, max, sum, count, last, stddev, stdvar and quantile of one window."""
    data = [series("g", [(i + 1, v) for i, v in enumerate([2, 4, 4, 4, 5, 5, 7, 9])])]
    expected = {"avg": 5, "min": 2, "max": 9, "sum": 40, "count": 8, "last": 9}
    for fn, value in expected.items():
        assert one(data, f"{fn}_over_time(g[1m])", 10) == value, fn
    assert one(data, "stddev_over_time(g[1m])", 10) == pytest.approx(2.0)
    assert one(data, "stdvar_over_time(g[1m])", 10) == pytest.approx(4.0)
    four = [series("g", [(1, 1), (2, 2), (3, 3), (4, 4)])]
    assert one(four, "quantile_over_time(0.5, g[1m])", 5) == pytest.approx(2.5)
    assert one(four, "quantile_over_time(0.9, g[1m])", 5) == pytest.approx(3.7)
    assert one(four, "quantile_over_time(2, g[1m])", 5) == math.inf


def test_names_are_dropped_except_by_last_over_time():
    """rate drops __name__; last_over_time keeps it."""
    assert list(instant(COUNTER, "rate(c[1m])", 60)) == [()]
    assert list(instant(COUNTER, "last_over_time(c[1m])", 60)) == [(("__name__", "c"),)]


def test_subquery_evaluates_the_inner_expression_at_aligned_steps():
    """max over 1 m of g sampled every 10 s."""
    data = [series("g", [(t, t) for t in range(0, 100, 5)])]
    assert one(data, "max_over_time(g[1m:10s])", 95) == 90
    assert one(data, "count_over_time(g[1m:10s])", 95) == 6
