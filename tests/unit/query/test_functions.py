"""Instant-vector functions: histogram_quantile, labels, clamps, rounding, absent, scalar."""

from __future__ import annotations

import math

import pytest

from dashboard.query.values import QueryError
from tests.unit.query.helpers import instant, one, series


def _buckets(counts: dict[str, float], **labels: str) -> list:
    """Classic histogram buckets at t = 10 s."""
    return [series("h_bucket", [(10, c)], le=le, **labels) for le, c in counts.items()]


def test_histogram_quantile_interpolates_inside_the_bucket():
    """Buckets 1:10, 2:20, +Inf:20; rank q * 20 falls in a bucket, linearly."""
    data = _buckets({"1": 10, "2": 20, "+Inf": 20})
    assert one(data, "histogram_quantile(0.5, h_bucket)", 10) == pytest.approx(1.0)
    assert one(data, "histogram_quantile(0.75, h_bucket)", 10) == pytest.approx(1.5)
    assert one(data, "histogram_quantile(0.99, h_bucket)", 10) == pytest.approx(1.98)


def test_histogram_quantile_edges():
    """In the +Inf bucket: the highest finite bound; no +Inf bucket: NaN; q out of [0, 1]."""
    assert one(_buckets({"1": 0, "+Inf": 10}), "histogram_quantile(0.5, h_bucket)", 10) == 1
    assert math.isnan(one(_buckets({"1": 5, "2": 10}), "histogram_quantile(0.5, h_bucket)", 10))
    data = _buckets({"1": 5, "+Inf": 10})
    assert one(data, "histogram_quantile(2, h_bucket)", 10) == math.inf
    assert one(data, "histogram_quantile(-1, h_bucket)", 10) == -math.inf


def test_histogram_quantile_groups_by_labels_without_le():
    """One result per label set; the name and le are gone."""
    data = _buckets({"1": 10, "+Inf": 10}, route="a") + _buckets({"1": 0, "+Inf": 4}, route="b")
    got = instant(data, "histogram_quantile(0.5, h_bucket)", 10)
    assert got == {(("route", "a"),): 0.5, (("route", "b"),): 1.0}


def test_label_replace_and_label_join():
    """Groups expand with $1 / ${1}; no match leaves labels; join in the given order."""
    data = [series("x", [(1, 1)], host="web-1", dc="eu")]
    got = instant(data, 'label_replace(x, "n", "${1}:$2", "host", "(\\\\w+)-(\\\\d)")', 1)
    assert list(got) == [(("__name__", "x"), ("dc", "eu"), ("host", "web-1"), ("n", "web:1"))]
    same = instant(data, 'label_replace(x, "n", "$1", "host", "nomatch")', 1)
    assert list(same) == [(("__name__", "x"), ("dc", "eu"), ("host", "web-1"))]
    joined = instant(data, 'label_join(x, "k", "/", "dc", "host")', 1)
    assert dict(next(iter(joined)))["k"] == "eu/web-1"
    with pytest.raises(QueryError, match="invalid destination label"):
        instant(data, 'label_replace(x, "1bad", "$1", "host", "(.*)")', 1)


def test_clamps_rounding_and_math():
    """clamp, clamp_min, clamp_max, round to a multiple (half up), abs, ceil, floor."""
    data = [series("x", [(1, -2.5)])]
    assert one(data, "clamp(x, -1, 1)", 1) == -1
    assert instant(data, "clamp(x, 1, -1)", 1) == {}
    assert one(data, "clamp_min(x, 0)", 1) == 0
    assert one(data, "clamp_max(x, -3)", 1) == -3
    assert one(data, "round(x)", 1) == -2
    assert one(data, "round(x, 2)", 1) == -2
    assert one(data, "abs(x)", 1) == 2.5
    assert one(data, "ceil(x)", 1) == -2
    assert one(data, "floor(x)", 1) == -3


def test_absent_scalar_vector_time_sort():
    """absent takes the equality matchers' labels; scalar needs exactly one sample."""
    data = [series("x", [(1, 3)], a="1"), series("x", [(1, 1)], a="2")]
    assert instant(data, 'absent(nope{job="j", a=~"x"})', 1) == {(("job", "j"),): 1}
    assert instant(data, "absent(x)", 1) == {}
    assert instant(data, "absent_over_time(nope[1m])", 1) == {(): 1}
    assert math.isnan(one(data, "scalar(x)", 1))
    assert one(data, 'scalar(x{a="1"})', 1) == 3
    assert one(data, "vector(2)", 1) == 2
    assert one(data, "time()", 7) == 7
    from dashboard.query.engine import Engine
    from tests.unit.query.helpers import MemQuerier

    block = Engine(MemQuerier(data)).instant("sort(x)", 1000)
    assert [lab["a"] for lab in block.labels] == ["2", "1"]
    block = Engine(MemQuerier(data)).instant("sort_desc(x)", 1000)
    assert [lab["a"] for lab in block.labels] == ["1", "2"]
