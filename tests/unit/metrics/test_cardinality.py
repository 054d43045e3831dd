"""The cardinality guard: new series beyond the limit are refused whole, known ones flow."""

from __future__ import annotations

import pytest

from dashboard.metrics.cardinality import SeriesLimit, SeriesLimitExceeded
from dashboard.metrics.model import Batch, SeriesKey, make_points


def batch(*names: str) -> Batch:
    """One point for each named series."""
    return Batch([make_points(SeriesKey.of(n, {"host": "a"}), [1], [1.0]) for n in names])


def test_new_series_are_admitted_up_to_the_limit() -> None:
    """Series are counted once, however many batches carry them."""
    limit = SeriesLimit(3)
    assert limit.admit(batch("a", "b")) == 2
    assert limit.admit(batch("a", "b", "a")) == 0
    assert limit.admit(batch("c")) == 1
    assert len(limit) == 3


def test_a_batch_over_the_limit_is_refused_whole_and_names_the_series() -> None:
    """Nothing of a refused batch is taken in; the error names the first series over."""
    limit = SeriesLimit(3, known=[SeriesKey.of("a", {"host": "a"})])
    with pytest.raises(SeriesLimitExceeded) as refused:
        limit.admit(batch("a", "b", "c", "d"))
    assert refused.value.limit == 3
    assert refused.value.key == SeriesKey.of("d", {"host": "a"})
    assert refused.value.new == 3
    assert "3" in str(refused.value) and "d{host" in str(refused.value)
    assert len(limit) == 1
    assert limit.admit(batch("a")) == 0  # known series keep flowing
    assert limit.admit(batch("b", "c")) == 2


def test_when_full_the_first_new_series_is_named() -> None:
    """At the limit, any new series is refused and named."""
    limit = SeriesLimit(1, known=[SeriesKey.of("a", {"host": "a"})])
    with pytest.raises(SeriesLimitExceeded) as refused:
        limit.admit(batch("b"))
    assert refused.value.key.name == "b"


def test_zero_means_no_limit() -> None:
    """A limit of 0 admits everything."""
    limit = SeriesLimit(0)
    assert limit.admit(batch(*[f"s{i}" for i in range(500)])) == 500
