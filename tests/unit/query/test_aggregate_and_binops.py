"""Aggregations and binary operators: hand-computed cases and hypothesis invariants."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard.query.values import ExecutionError
from tests.unit.query.helpers import instant, one, series

REQ = [
    series("req", [(1, 1)], route="/a", code="200"),
    series("req", [(1, 3)], route="/a", code="500"),
    series("req", [(1, 6)], route="/b", code="200"),
]
TOTAL = [series("total", [(1, 10)], route="/a"), series("total", [(1, 20)], route="/b")]


def test_aggregations_by_and_without():
    """sum/avg/min/max/count/stddev/quantile/group with grouping."""
    assert instant(REQ, "sum by (route) (req)", 1) == {(("route", "/a"),): 4, (("route", "/b"),): 6}
    assert instant(REQ, "sum without (code) (req)", 1) == instant(REQ, "sum by (route) (req)", 1)
    assert one(REQ, "avg(req)", 1) == pytest.approx(10 / 3)
    assert one(REQ, "min(req)", 1) == 1 and one(REQ, "max(req)", 1) == 6
    assert one(REQ, "count(req)", 1) == 3
    assert one(REQ, "stddev(req)", 1) == pytest.approx(
        math.sqrt(((1 - 10 / 3) ** 2 + (3 - 10 / 3) ** 2 + (6 - 10 / 3) ** 2) / 3)
    )
    assert one(REQ, "quantile(0.5, req)", 1) == 3
    assert one(REQ, "group(req)", 1) == 1


def test_topk_bottomk_and_count_values():
    """topk keeps the series' labels; count_values counts each distinct value."""
    assert list(instant(REQ, "topk(1, req)", 1).values()) == [6]
    got = instant(REQ, "bottomk by (route) (1, req)", 1)
    assert sorted(got.values()) == [1, 6]
    data = [series("v", [(1, x)], i=str(i)) for i, x in enumerate([1, 1, 2.5])]
    assert instant(data, 'count_values("val", v)', 1) == {
        (("val", "1"),): 2,
        (("val", "2.5"),): 1,
    }


def test_arithmetic_and_comparisons():
    """Scalars, vector-scalar, filters and bool."""
    assert one(REQ, "1 + 2 * 3 ^ 2", 1) == 19
    assert instant(REQ, 'req{code="500"} * 2', 1) == {(("code", "500"), ("route", "/a")): 6}
    assert sorted(instant(REQ, "req > 2", 1).values()) == [3, 6]
    assert len(instant(REQ, "req > 2", 1)) == 2
    assert sorted(instant(REQ, "req > bool 2", 1).values()) == [0, 1, 1]
    assert sorted(instant(REQ, "2 < req", 1).values()) == [3, 6]


def test_vector_matching_with_group_left_and_right():
    """Each request series over its route's total; labels from the many side."""
    got = instant(REQ + TOTAL, "req / on(route) group_left total", 1)
    assert got == {
        (("code", "200"), ("route", "/a")): 0.1,
        (("code", "500"), ("route", "/a")): 0.3,
        (("code", "200"), ("route", "/b")): 0.3,
    }
    right = instant(REQ + TOTAL, "total / on(route) group_right req", 1)
    assert right[(("code", "500"), ("route", "/a"))] == pytest.approx(10 / 3)


def test_one_to_one_needs_unique_matches():
    """Two series on one side of a one-to-one match are an error."""
    with pytest.raises(ExecutionError, match="many-to-one matching must be explicit"):
        instant(REQ + TOTAL, "req / on(route) total", 1)
    with pytest.raises(ExecutionError, match="duplicate series"):
        instant(REQ + TOTAL, "total / on(route) req", 1)


def test_set_operators():
    """and, or, unless with on()."""
    assert len(instant(REQ, 'req and on(route) req{code="500"}', 1)) == 2
    assert len(instant(REQ, 'req unless on(route) req{code="500"}', 1)) == 1
    assert len(instant(REQ + TOTAL, "total or on(route) req", 1)) == 2
    assert len(instant(REQ + TOTAL, "total or req", 1)) == 5


# --- invariants --------------------------------------------------------------------------

values = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)
rows = st.lists(
    st.tuples(st.sampled_from(["a", "b", "c"]), st.sampled_from(["x", "y"]), values),
    min_size=1,
    max_size=12,
    unique_by=lambda r: (r[0], r[1]),
)


def _data(spec: list[tuple[str, str, float]]) -> list:
    """Series from (g, h, value) rows at t = 1 s."""
    return [series("m", [(1, v)], g=g, h=h) for g, h, v in spec]


@settings(max_examples=60, deadline=None)
@given(rows)
def test_grouped_aggregations_add_up(spec):
    """Group sums add up to the total; counts to the series; min <= avg <= max per group."""
    data = _data(spec)
    assert sum(instant(data, "sum by (g) (m)", 1).values()) == pytest.approx(
        one(data, "sum(m)", 1), abs=1e-6
    )
    assert sum(instant(data, "count by (g) (m)", 1).values()) == len(spec)
    lows, avgs, highs = (instant(data, f"{op} by (g) (m)", 1) for op in ("min", "avg", "max"))
    for key, avg in avgs.items():
        assert lows[key] - 1e-6 <= avg <= highs[key] + 1e-6


@settings(max_examples=60, deadline=None)
@given(rows, st.integers(min_value=0, max_value=5))
def test_topk_keeps_k_per_group_and_the_largest(spec, k):
    """topk by (g) keeps min(k, n) series per group, none smaller than one it dropped."""
    data = _data(spec)
    kept = instant(data, f"topk by (g) ({k}, m)", 1)
    for g in {r[0] for r in spec}:
        members = sorted((v for gg, _, v in spec if gg == g), reverse=True)
        mine = sorted((v for key, v in kept.items() if dict(key)["g"] == g), reverse=True)
        assert mine == members[: min(k, len(members))]


@settings(max_examples=60, deadline=None)
@given(rows)
def test_matching_identities(spec):
    """m + m is 2m per series; m and m is m; m unless m is empty; m / on(g) group_left sum."""
    data = _data(spec)
    doubled = instant(data, "m + m", 1)
    assert doubled == instant(data, "2 * m", 1)
    assert instant(data, "m and m", 1) == instant(data, "m", 1)
    assert instant(data, "m unless m", 1) == {}
    shares = instant(data, "m - on(g) group_left sum by (g) (m)", 1)
    assert len(shares) == len(spec)
