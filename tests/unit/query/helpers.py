"""An in-memory querier and shortcuts for the engine's unit tests."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from dashboard.query.engine import Engine
from dashboard.query.parse import Matcher
from dashboard.query.samples import RawSeries
from dashboard.query.values import Block, Scalar


class MemQuerier:
    """Series held in memory, selected by matchers."""

    def __init__(self, series: Sequence[RawSeries]) -> None:
        """Hold ``series``."""
        self.series = list(series)

    def select(self, matchers: Sequence[Matcher], start_ms: int, end_ms: int) -> list[RawSeries]:
        """The matching series' samples in ``[start_ms, end_ms]``."""
        out = []
        for s in self.series:
            if all(m.matches(s.labels.get(m.name, "")) for m in matchers):
                keep = (s.ts >= start_ms) & (s.ts <= end_ms)
                out.append(RawSeries(s.labels, s.ts[keep], s.values[keep]))
        return out


def series(name: str, points: Sequence[tuple[float, float]], **labels: str) -> RawSeries:
    """A series from ``(seconds, value)`` pairs."""
    ts = np.array([int(round(t * 1000)) for t, _ in points], dtype=np.int64)
    return RawSeries({"__name__": name, **labels}, ts, np.array([v for _, v in points], float))


def instant(data: Sequence[RawSeries], query: str, at_s: float) -> dict[tuple, float]:
    """An instant query's samples keyed by sorted labels (a scalar under ``()``)."""
    value = Engine(MemQuerier(data)).instant(query, int(round(at_s * 1000)))
    if isinstance(value, Scalar):
        return {(): float(value.values[0])}
    assert isinstance(value, Block)
    return {
        tuple(sorted(lab.items())): float(v[0])
        for lab, v, m in zip(value.labels, value.values, value.mask, strict=True)
        if m[0]
    }


def one(data: Sequence[RawSeries], query: str, at_s: float) -> float:
    """The single value of an instant query."""
    got = instant(data, query, at_s)
    assert len(got) == 1, got
    return next(iter(got.values()))
