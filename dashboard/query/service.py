"""PromQL queries over a SeriesReader (the node's runtime): selection, limits, the API's data.

The querier lists the known series once per query, keeps those whose labels (the metric name
as ``__name__``) pass every matcher and reads their RAW points in the asked range.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import promql_parser as pp

from dashboard.metrics.frame import SeriesInfo
from dashboard.metrics.service import SeriesReader
from dashboard.metrics.steps import RAW
from dashboard.query import wire
from dashboard.query.engine import Engine
from dashboard.query.parse import Matcher, ParseError, matchers_of, parse
from dashboard.query.samples import RawSeries
from dashboard.query.values import NAME, Block, Labels, QueryError, QueryTimeout


@dataclass(frozen=True)
class QueryLimits:
    """The bounds of one query: samples read and seconds of work."""

    max_samples: int = 50_000_000
    timeout_s: float = 30.0


def series_labels(info: SeriesInfo) -> Labels:
    """A stored series' labels in PromQL's form (the name as ``__name__``)."""
    return {NAME: info.key.name, **info.key.label_dict}


class StoreQuerier:
    """Raw samples of the series picked by matchers, read through a SeriesReader."""

    def __init__(self, reader: SeriesReader, deadline: float | None = None) -> None:
        """A querier over ``reader``; reads stop with QueryTimeout after ``deadline``."""
        self.reader = reader
        self.deadline = deadline
        self._infos: list[tuple[SeriesInfo, Labels]] | None = None
        self._list: list[SeriesInfo] | None = None

    def infos(self) -> list[tuple[SeriesInfo, Labels]]:
        """Every known series with its labels (listed once per querier)."""
        if self._infos is None:
            self._infos = [(info, series_labels(info)) for info in self._listed()]
        return self._infos

    def _listed(self) -> list[SeriesInfo]:
        """The reader's series list (read once per querier)."""
        if self._list is None:
            self._list = self.reader.series_list()
        return self._list

    def matching(
        self, matchers: Sequence[Matcher], start_ms: int, end_ms: int
    ) -> list[tuple[SeriesInfo, Labels]]:
        """The series every matcher picks that have points in ``[start_ms, end_ms]``."""
        name = next((m.value for m in matchers if m.name == NAME and m.op == "="), None)
        picked = []
        for info in self._listed():
            if name is not None and info.key.name != name:
                continue
            if info.last_ts < start_ms or info.first_ts > end_ms:
                continue
            labels = series_labels(info)
            if all(m.matches(labels.get(m.name, "")) for m in matchers):
                picked.append((info, labels))
        return picked

    def select(self, matchers: Sequence[Matcher], start_ms: int, end_ms: int) -> list[RawSeries]:
        """The picked series' RAW points in ``[start_ms, end_ms]``."""
        out = []
        for n, (info, labels) in enumerate(self.matching(matchers, start_ms, end_ms)):
            if self.deadline is not None and n % 64 == 0 and time.monotonic() > self.deadline:
                raise QueryTimeout("query queue")
            frame = self.reader.query(info.key, start_ms, end_ms, RAW)
            if len(frame):
                out.append(RawSeries(labels, frame.ts, frame.value))
        return out


def _engine(reader: SeriesReader, limits: QueryLimits, timeout_s: float | None) -> Engine:
    """An engine with the query's deadline (the smaller of the limit and ``timeout_s``)."""
    seconds = min(limits.timeout_s, timeout_s) if timeout_s else limits.timeout_s
    deadline = time.monotonic() + seconds
    return Engine(StoreQuerier(reader, deadline), max_samples=limits.max_samples, deadline=deadline)


def instant_query(
    *,
    reader: SeriesReader,
    query: str,
    at_ms: int,
    limits: QueryLimits,
    timeout_s: float | None = None,
) -> dict[str, Any]:
    """The API ``data`` of ``query`` at ``at_ms``."""
    engine = _engine(reader, limits, timeout_s)
    return wire.instant_json(engine.instant(query, at_ms), at_ms)


def range_query(
    *,
    reader: SeriesReader,
    query: str,
    start_ms: int,
    end_ms: int,
    step_ms: int,
    limits: QueryLimits,
    timeout_s: float | None = None,
) -> dict[str, Any]:
    """The API ``data`` of ``query`` from ``start_ms`` to ``end_ms`` every ``step_ms``."""
    wire.check_range(start_ms, end_ms, step_ms)
    engine = _engine(reader, limits, timeout_s)
    value = engine.range(query, start_ms, end_ms, step_ms)
    if not isinstance(value, Block) and not hasattr(value, "values"):
        raise QueryError(
            "invalid expression type for range query, must be Scalar or instant Vector"
        )
    return wire.range_json(value, engine.times)  # type: ignore[arg-type]


def _selectors(match: Iterable[str]) -> list[list[Matcher]]:
    """The matchers of each ``match[]`` selector, or QueryError."""
    out = []
    for text in match:
        expr = parse(text)
        if not isinstance(expr, pp.VectorSelector):
            raise ParseError(f'invalid parameter "match[]": {text[:80]!r} is not a selector')
        out.append(matchers_of(expr))
    return out


def _picked(reader: SeriesReader, match: Iterable[str], start_ms: int, end_ms: int) -> list[Labels]:
    """The labels of the series any ``match[]`` selector picks (all series without any)."""
    querier = StoreQuerier(reader)
    selectors = _selectors(match)
    if not selectors:
        return [labels for info, labels in querier.infos() if _overlaps(info, start_ms, end_ms)]
    seen: dict[tuple[tuple[str, str], ...], Labels] = {}
    for matchers in selectors:
        for _info, labels in querier.matching(matchers, start_ms, end_ms):
            seen.setdefault(tuple(sorted(labels.items())), labels)
    return [seen[k] for k in sorted(seen)]


def _overlaps(info: SeriesInfo, start_ms: int, end_ms: int) -> bool:
    """True when the series has points in ``[start_ms, end_ms]``."""
    return info.last_ts >= start_ms and info.first_ts <= end_ms


def find_series(
    *, reader: SeriesReader, match: list[str], start_ms: int, end_ms: int
) -> list[Labels]:
    """``/series``: the label sets of the series ``match[]`` picks."""
    if not match:
        raise QueryError("no match[] parameter provided")
    return _picked(reader, match, start_ms, end_ms)


def label_names(*, reader: SeriesReader, match: list[str], start_ms: int, end_ms: int) -> list[str]:
    """``/labels``: every label name of the picked series, sorted."""
    names: set[str] = set()
    for labels in _picked(reader, match, start_ms, end_ms):
        names.update(labels)
    return sorted(names)


def label_values(
    *, reader: SeriesReader, name: str, match: list[str], start_ms: int, end_ms: int
) -> list[str]:
    """``/label/<name>/values``: the values of one label over the picked series, sorted."""
    values = {labels[name] for labels in _picked(reader, match, start_ms, end_ms) if name in labels}
    return sorted(values)
