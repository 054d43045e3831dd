"""A batch built from decoded samples, for the ecosystem receivers (pure: numpy only).

Remote write, OTLP and line protocol decode into flat samples; ``BatchBuilder`` checks them by the
same rules as ``validate_batch`` (names, labels, units, the time window, finite values, the point
limit) but a series at a time and the points as numpy arrays, so a batch of 500 one-sample series
costs far less than building and walking a JSON body. Any bad field refuses the whole batch.
"""

from __future__ import annotations

import re

import numpy as np

from dashboard.metrics.model import (
    CONTROL_RE,
    LABEL_KEY_RE,
    NAME_RE,
    Batch,
    Limits,
    SeriesKey,
    SeriesPoints,
    ValidationError,
    make_points,
)

Labels = tuple[tuple[str, str], ...]
_BAD_NAME_CHAR = re.compile(r"[^A-Za-z0-9_:]")
_BAD_LABEL_CHAR = re.compile(r"[^A-Za-z0-9_]")
_INT64 = 2**63


def sanitize_name(name: str) -> str:
    """A metric name as Prometheus makes one: other characters become ``_``, no leading digit."""
    name = _BAD_NAME_CHAR.sub("_", name)
    return "_" + name if name[:1].isdigit() else name


def sanitize_label(name: str) -> str:
    """A label name as Prometheus makes one: other characters become ``_``, no leading digit."""
    name = _BAD_LABEL_CHAR.sub("_", name)
    return "_" + name if name[:1].isdigit() else name


def series_text(name: str, labels: Labels) -> str:
    """A series as ``name{k="v"}``, shortened to stay readable in an error."""
    text = str(SeriesKey(name, labels))
    return text if len(text) <= 120 else text[:117] + "..."


_KEYS: dict[Limits, dict[tuple[str, Labels], SeriesKey]] = {}
_MAX_KEYS = 100_000


def known_keys(limits: Limits) -> dict[tuple[str, Labels], SeriesKey]:
    """The keys of series already found valid under ``limits`` (senders repeat their series)."""
    keys = _KEYS.setdefault(limits, {})
    if len(keys) > _MAX_KEYS:
        keys.clear()
    return keys


def series_key(name: str, labels: Labels, limits: Limits) -> SeriesKey:
    """The key of a valid series (labels sorted); ValidationError naming what is wrong."""
    where = series_text(name, labels)
    if not name or len(name) > limits.max_name_len or not NAME_RE.match(name):
        raise ValidationError(
            f"{where} name",
            f"must be 1 to {limits.max_name_len} letters, digits, '_', '.' and ':'",
        )
    if len(labels) > limits.max_labels:
        raise ValidationError(f"{where} labels", f"more than {limits.max_labels} labels")
    seen: set[str] = set()
    for key, value in labels:
        if not LABEL_KEY_RE.match(key) or len(key) > limits.max_label_key_len or key in seen:
            raise ValidationError(
                f"{where} labels.{key[:40]}", "label names are unique identifiers"
            )
        if len(value) > limits.max_label_value_len:
            raise ValidationError(
                f"{where} labels.{key}", f"longer than {limits.max_label_value_len} characters"
            )
        if CONTROL_RE.search(value):
            raise ValidationError(f"{where} labels.{key}", "control characters are not allowed")
        seen.add(key)
    return SeriesKey.of(name, dict(labels))


def clean_unit(unit: str, limits: Limits) -> str:
    """A unit the model can keep, or "" for one it cannot (a unit never refuses a batch)."""
    return unit if len(unit) <= limits.max_unit_len and not CONTROL_RE.search(unit) else ""


class BatchBuilder:
    """Collects series and their samples, then checks the points at once and builds the Batch."""

    def __init__(
        self, *, now_ms: int, limits: Limits | None = None, drop_non_finite: bool = False
    ) -> None:
        """An empty builder for a batch received at ``now_ms`` (``drop_non_finite``: leave NaN
        and infinite values out, counted in ``dropped``, instead of refusing the batch)."""
        self.now_ms = now_ms
        self.limits = limits or Limits()
        self.drop_non_finite = drop_non_finite
        self.dropped = 0
        self.rejected = 0
        self.error = ""
        self._keys = known_keys(self.limits)
        self._ts: list[int] = []
        self._values: list[float] = []
        self._series: list[tuple[SeriesKey, int, int, str]] = []
        self._one_each = True  # every series added has one point (nothing to sort in build)

    @property
    def point_count(self) -> int:
        """Points added so far."""
        return len(self._ts)

    def add(
        self, name: str, labels: Labels, ts: list[int], values: list[float], unit: str = ""
    ) -> None:
        """Add samples of one series (labels sorted or not); refuse past the point limit."""
        self.add_key(self.key(name, labels), ts, values, unit)

    def key(self, name: str, labels: Labels) -> SeriesKey:
        """The checked key of a series (labels sorted or not); ValidationError if invalid.
        The same object for the same series, however its labels were ordered."""
        key = self._keys.get((name, labels))
        if key is None:
            # one object per series, however its labels were ordered: build() merges by id
            key = series_key(name, tuple(sorted(labels)), self.limits)
            key = self._keys.setdefault((key.name, key.labels), key)
            self._keys[(name, labels)] = key
        return key

    def add_key(self, key: SeriesKey, ts: list[int], values: list[float], unit: str = "") -> None:
        """Add samples of a series whose key ``key`` gave; refuse past the point limit."""
        start = len(self._ts)
        self._ts += ts
        self._values += values
        if len(ts) != 1:
            self._one_each = False
        if len(self._ts) > self.limits.max_points:
            raise ValidationError("body", f"batch exceeds {self.limits.max_points} points")
        self._series.append(
            (key, start, len(self._ts), clean_unit(unit, self.limits) if unit else "")
        )

    def mark(self) -> tuple[int, int]:
        """Where the builder is now, to ``rollback`` to (a receiver dropping one metric)."""
        return len(self._ts), len(self._series)

    def rollback(self, mark: tuple[int, int]) -> None:
        """Forget what was added since ``mark``."""
        del self._ts[mark[0] :], self._values[mark[0] :], self._series[mark[1] :]

    def build(self, *, partial: bool = False) -> Batch:
        """The batch, once every timestamp is in the window and every value finite; with
        ``partial`` the bad points are left out and counted in ``rejected`` (``error`` says why
        the first was) instead of refusing the batch."""
        ts, values, keep = self._checked(partial)
        if keep is None and len({id(k) for k, _, _, _ in self._series}) == len(self._series):
            if self._one_each:  # one point a series: nothing to sort
                return Batch(
                    [SeriesPoints(k, ts[a:b], values[a:b], unit) for k, a, b, unit in self._series]
                )
            return Batch([self._part(k, ts, values, a, b, unit) for k, a, b, unit in self._series])
        merged: dict[int, list[SeriesPoints]] = {}
        for key, start, end, unit in self._series:
            part = SeriesPoints(key, ts[start:end], values[start:end], unit)
            if keep is not None and not keep[start:end].all():
                kept = keep[start:end]
                if not kept.any():
                    continue
                part = SeriesPoints(key, part.ts[kept], part.values[kept], unit)
            if len(part) > 1 and not bool(np.all(part.ts[1:] > part.ts[:-1])):
                part = make_points(key, part.ts, part.values, unit)
            merged.setdefault(id(key), []).append(part)
        batch = Batch()
        for parts in merged.values():
            if len(parts) == 1:
                batch.series.append(parts[0])
                continue
            batch.series.append(
                make_points(
                    parts[0].key,
                    np.concatenate([p.ts for p in parts]),
                    np.concatenate([p.values for p in parts]),
                    next((p.unit for p in reversed(parts) if p.unit), ""),
                )
            )
        return batch

    @staticmethod
    def _part(
        key: SeriesKey, ts: np.ndarray, values: np.ndarray, start: int, end: int, unit: str
    ) -> SeriesPoints:
        """The points ``start:end`` of a series, sorted by time, the last value winning."""
        part = SeriesPoints(key, ts[start:end], values[start:end], unit)
        if end - start > 1 and not bool(np.all(part.ts[1:] > part.ts[:-1])):
            return make_points(key, part.ts, part.values, unit)
        return part

    def _checked(self, partial: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Timestamps, values and the mask of points to keep (None: all of them)."""
        if self._ts and not -_INT64 <= min(self._ts) <= max(self._ts) < _INT64:
            index = next(i for i, t in enumerate(self._ts) if not -_INT64 <= t < _INT64)
            raise self._error(index, 0)
        ts = np.asarray(self._ts, dtype=np.int64)
        values = np.asarray(self._values, dtype=np.float64)
        finite = np.isfinite(values)
        window = (ts >= self.now_ms - self.limits.max_age_ms) & (
            ts <= self.now_ms + self.limits.max_future_ms
        )
        keep = finite & window
        if bool(keep.all()):
            return ts, values, None
        refused = ~window if self.drop_non_finite else ~keep
        if refused.any():
            first = int(np.flatnonzero(refused)[0])
            error = self._error(first, 0 if not window[first] else 1)
            if not partial:
                raise error
            self.rejected += int(refused.sum())
            self.error = self.error or str(error)
        if self.drop_non_finite:
            self.dropped += int((~finite & window).sum())
        return ts, values, keep

    def _error(self, index: int, part: int) -> ValidationError:
        """The ValidationError of the point at ``index`` (0: its time, 1: its value)."""
        key = next(k for k, start, end, _ in self._series if start <= index < end)
        where = series_text(key.name, key.labels)
        if part == 1:
            return ValidationError(f"{where} value", "must be a finite number")
        oldest = self.now_ms - self.limits.max_age_ms
        newest = self.now_ms + self.limits.max_future_ms
        return ValidationError(
            f"{where} timestamp",
            f"timestamp {self._ts[index]} outside the accepted window [{oldest}, {newest}]",
        )
