"""PromQL queries over a SeriesReader (the node's runtime): selection, limits, the API's data.

The querier keeps the known series whose labels (the metric name as ``__name__``) pass every
matcher and reads their RAW points in the asked range: all at once from a reader with
``query_many`` (the hot store). A reader that tells its series' version (``series_version()``)
has its series' labels indexed once per version instead of listed per query.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import promql_parser as pp

from dashboard.metrics.frame import SeriesInfo
from dashboard.metrics.model import SeriesKey
from dashboard.metrics.service import MetadataReader, SeriesReader, metadata_data
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

    def picked(
        self, matchers: Sequence[Matcher], start_ms: int, end_ms: int
    ) -> tuple[list[SeriesKey], list[Labels]]:
        """The keys and labels (copies) of the series a selection reads.

        A reader that tells its series' version (``series_version()``) is indexed once per
        version, and a selector's picks are remembered; its reads skip series without points
        in the range. Any other reader is listed per querier and filtered by its spans.
        """
        version_of = getattr(self.reader, "series_version", None)
        if version_of is None:
            pairs = self.matching(matchers, start_ms, end_ms)
            return [info.key for info, _ in pairs], [labels for _, labels in pairs]
        index = _index(self.reader, version_of())
        rows = index.pick(matchers)
        return [index.keys[i] for i in rows], [dict(index.labels[i]) for i in rows]

    def select_flat(
        self, matchers: Sequence[Matcher], start_ms: int, end_ms: int, newest: bool = False
    ) -> tuple[list[Labels], np.ndarray, np.ndarray, np.ndarray]:
        """The picked series with RAW points in ``[start_ms, end_ms]``: labels, and their
        points one series after another (timestamps, values, offsets as in ``Samples``).

        A reader with ``query_many`` (the hot store) reads them all in one call; any other
        one series at a time. ``newest``: only each series' newest point is needed (an
        instant selector at one time), which a reader with ``newest_many`` reads without
        the rest; another reader may return more.
        """
        keys, labels = self.picked(matchers, start_ms, end_ms)
        self._check_deadline()
        read_many = getattr(self.reader, "query_many", None)
        if newest:
            read_many = getattr(self.reader, "newest_many", read_many)
        if read_many is not None:
            ts, values, offsets = read_many(keys, start_ms, end_ms)
            self._check_deadline()
        else:
            ts_parts, value_parts = [], []
            offsets = np.zeros(len(keys) + 1, dtype=np.int64)
            for n, key in enumerate(keys):
                if n % 64 == 63:
                    self._check_deadline()
                frame = self.reader.query(key, start_ms, end_ms, RAW)
                ts_parts.append(frame.ts)
                value_parts.append(frame.value)
                offsets[n + 1] = offsets[n] + frame.ts.size
            ts = np.concatenate(ts_parts) if ts_parts else np.zeros(0, np.int64)
            values = np.concatenate(value_parts) if value_parts else np.zeros(0)
        sizes = np.diff(offsets)
        if sizes.size and not sizes.all():  # series without points in the range are left out
            held = np.flatnonzero(sizes)
            labels = [labels[i] for i in held.tolist()]
            offsets = np.concatenate(([0], offsets[1:][held]))
        return (
            labels,
            np.asarray(ts, dtype=np.int64),
            np.asarray(values, dtype=np.float64),
            np.asarray(offsets, dtype=np.int64),
        )

    def select(self, matchers: Sequence[Matcher], start_ms: int, end_ms: int) -> list[RawSeries]:
        """The picked series' RAW points in ``[start_ms, end_ms]``."""
        labels, ts, values, offsets = self.select_flat(matchers, start_ms, end_ms)
        bounds = offsets.tolist()
        return [
            RawSeries(lab, ts[bounds[i] : bounds[i + 1]], values[bounds[i] : bounds[i + 1]])
            for i, lab in enumerate(labels)
        ]

    def select_hours(
        self, matchers: Sequence[Matcher], start_ms: int, end_ms: int
    ) -> tuple[list[Labels], np.ndarray, np.ndarray] | None:
        """One-hour rollup rows of the picked series' RAW points in ``[start_ms, end_ms]``
        (labels, rows, offsets: see ``HotStore.hour_buckets_many``), or None when the reader
        cannot give them exactly (the caller reads RAW points then)."""
        read = getattr(self.reader, "hour_buckets_many", None)
        if read is None:
            return None
        keys, labels = self.picked(matchers, start_ms, end_ms)
        self._check_deadline()
        got = read(keys, start_ms, end_ms)
        if got is None:
            return None
        rows, offsets = got
        sizes = np.diff(offsets)
        if sizes.size and not sizes.all():
            held = np.flatnonzero(sizes)
            labels = [labels[i] for i in held.tolist()]
            offsets = np.concatenate(([0], offsets[1:][held]))
        return labels, rows, offsets

    def _check_deadline(self) -> None:
        """QueryTimeout once the deadline has passed."""
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise QueryTimeout("query queue")


class _Index:
    """A reader's series at one version: keys, labels, rows by metric name, picks by selector."""

    def __init__(self, version: Hashable, infos: list[SeriesInfo]) -> None:
        """Index ``infos`` (the reader's list at ``version``)."""
        self.version = version
        self.keys = [info.key for info in infos]
        self.labels = [series_labels(info) for info in infos]
        self.by_name: dict[str, list[int]] = {}
        for i, key in enumerate(self.keys):
            self.by_name.setdefault(key.name, []).append(i)
        self.picks: dict[tuple[Matcher, ...], list[int]] = {}

    def pick(self, matchers: Sequence[Matcher]) -> list[int]:
        """The rows every matcher picks, in the list's order (remembered per selector)."""
        key = tuple(matchers)
        rows = self.picks.get(key)
        if rows is None:
            rows = _pick(self.by_name, self.labels, matchers)
            if len(self.picks) >= _MAX_PICKS:
                self.picks.clear()
            self.picks[key] = rows
        return rows


_MAX_PICKS = 512
# The index of each reader that tells its series' version: id -> (weak reference, index)
_INDEXES: dict[int, tuple[weakref.ref[Any], _Index]] = {}
_INDEX_LOCK = threading.Lock()


def _pick(
    by_name: dict[str, list[int]], labels: list[Labels], matchers: Sequence[Matcher]
) -> list[int]:
    """The rows of ``labels`` every matcher picks (an equality on the name narrows first)."""
    named = next((m for m in matchers if m.name == NAME and m.op == "="), None)
    rows: Iterable[int] = by_name.get(named.value, []) if named else range(len(labels))
    rest = [m for m in matchers if m is not named]
    return [i for i in rows if all(m.matches(labels[i].get(m.name, "")) for m in rest)]


def _index(reader: Any, version: Hashable) -> _Index:
    """The reader's cached index, rebuilt when its series' version has changed."""
    with _INDEX_LOCK:
        held = _INDEXES.get(id(reader))
    if held is not None and held[0]() is reader and held[1].version == version:
        return held[1]
    index = _Index(version, reader.series_list())
    ident = id(reader)
    try:
        ref = weakref.ref(reader, lambda _r: _INDEXES.pop(ident, None))
    except TypeError:  # no weak references to it: nothing is kept
        return index
    with _INDEX_LOCK:
        _INDEXES[ident] = (ref, index)
    return index


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


def metadata(
    *, reader: MetadataReader, metric: str | None, limit: str | None
) -> dict[str, list[dict[str, str]]]:
    """``/metadata``: type, help and unit by metric family (``metric``: that one only;
    ``limit``: at most that many families; a negative or no limit lists all)."""
    count: int | None = None
    if limit:
        try:
            count = int(limit)
        except ValueError:
            raise QueryError(f'invalid parameter "limit": cannot parse {limit!r}') from None
    return metadata_data(metadata=reader, metric=metric or None, limit=count)
