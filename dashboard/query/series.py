"""PromQL expressions as the page, the live feed, the exports and the alerts use them: the series a
query gives over a range or at an instant, as plain arrays.

The HTTP API (``service``) answers in Prometheus' JSON; this module answers in numpy for code that
draws, exports or compares. Both go through the same engine, limits and deadline.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from dashboard.metrics.service import SeriesReader
from dashboard.query.engine import Engine
from dashboard.query.service import QueryLimits, StoreQuerier
from dashboard.query.values import Block, Labels, QueryError, Scalar

# Grafana's steps: a range query's step is the first of these that keeps it within its points
NICE_STEPS_S = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400)


@dataclass(frozen=True)
class ExprSeries:
    """One series of an expression's result: its labels and its samples (time order)."""

    labels: Labels
    ts: np.ndarray  # int64 ms
    values: np.ndarray  # float64


def step_for(start_ms: int, end_ms: int, max_points: int) -> int:
    """The step (ms) of a range query that gives at most ``max_points`` points (1 s at least)."""
    wanted_s = max(1.0, (end_ms - start_ms) / max(1, max_points) / 1000)
    for step in NICE_STEPS_S:
        if step >= wanted_s:
            return step * 1000
    return int(math.ceil(wanted_s / 86400)) * 86_400_000


def _engine(reader: SeriesReader, limits: QueryLimits) -> Engine:
    """An engine over ``reader`` whose reads and steps stop at the limits' deadline."""
    deadline = time.monotonic() + limits.timeout_s
    return Engine(StoreQuerier(reader, deadline), max_samples=limits.max_samples, deadline=deadline)


def _series(value: object, times: np.ndarray) -> list[ExprSeries]:
    """The series of an evaluated value at ``times``, sorted by labels (a scalar is one series)."""
    if isinstance(value, Scalar):
        keep = ~np.isnan(value.values)
        return [ExprSeries({}, times[keep], value.values[keep])] if keep.any() else []
    if not isinstance(value, Block):
        raise QueryError("the expression must give numbers: a scalar or an instant vector")
    out = []
    for i, labels in enumerate(value.labels):
        present = value.mask[i]
        if present.any():
            out.append(ExprSeries(dict(labels), times[present], value.values[i][present]))
    out.sort(key=lambda s: sorted(s.labels.items()))
    return out


def range_series(
    *,
    reader: SeriesReader,
    expr: str,
    start_ms: int,
    end_ms: int,
    step_ms: int,
    limits: QueryLimits,
) -> list[ExprSeries]:
    """``expr`` evaluated at ``start, start + step, ... <= end``: QueryError when it can't be."""
    if end_ms < start_ms:
        return []
    engine = _engine(reader, limits)
    value = engine.range(expr, start_ms, end_ms, step_ms)
    return _series(value, engine.times)


def instant_series(
    *, reader: SeriesReader, expr: str, at_ms: int, limits: QueryLimits
) -> list[ExprSeries]:
    """``expr`` evaluated at ``at_ms`` (one sample per series): QueryError when it can't be."""
    return range_series(
        reader=reader, expr=expr, start_ms=at_ms, end_ms=at_ms, step_ms=1000, limits=limits
    )
