"""The metric model and the validation of ingest batches (pure: numpy only)."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dashboard.metrics.metadata import MetricMetadata, family_name, help_error, type_error

NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.:]*$")
LABEL_KEY_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Limits:
    """Bounds that an ingest batch must respect."""

    max_name_len: int = 200
    max_labels: int = 16
    max_label_key_len: int = 64
    max_label_value_len: int = 256
    max_unit_len: int = 32
    max_points: int = 50_000
    max_age_ms: int = 86_400_000
    max_future_ms: int = 300_000


class ValidationError(ValueError):
    """A batch was refused; ``field`` names the first bad field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True, order=True)
class SeriesKey:
    """A series: a metric name and its labels, hashable and canonically ordered."""

    name: str
    labels: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, name: str, labels: Mapping[str, str] | None = None) -> SeriesKey:
        """Build a key with its labels sorted."""
        return cls(name, tuple(sorted((labels or {}).items())))

    @property
    def label_dict(self) -> dict[str, str]:
        """The labels as a plain dict."""
        return dict(self.labels)

    def __str__(self) -> str:
        """Prometheus-style text, e.g. ``demo.health{service="api"}`` (made once per key: the
        stores, the stream codec, the history cache and the live feed all ask for it)."""
        text = self.__dict__.get("_text")
        if text is None:
            if not self.labels:
                text = self.name
            else:
                inner = ",".join(f'{k}="{_escape(v)}"' for k, v in self.labels)
                text = f"{self.name}{{{inner}}}"
            object.__setattr__(self, "_text", text)
        return text

    def __hash__(self) -> int:
        """The hash of the name and labels, computed once per key (a key is looked up in
        several dicts for every point a sender sends)."""
        found = self.__dict__.get("_hash")
        if found is None:
            found = hash((self.name, self.labels))
            object.__setattr__(self, "_hash", found)
        return found

    def __getstate__(self) -> dict[str, object]:
        """Only the fields: a cached hash is of this process (string hashes are salted)."""
        return {"name": self.name, "labels": self.labels}

    def matches(self, name: str, labels: Mapping[str, str] | None = None) -> bool:
        """True when the name is equal and every given label is present with that value."""
        if name != self.name:
            return False
        mine = self.label_dict
        return all(mine.get(k) == v for k, v in (labels or {}).items())


def _escape(value: str) -> str:
    """Escape a label value the way the Prometheus text format does."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


_KEY_RE = re.compile(r"^([^{}]+)(?:\{(.*)\})?$", re.S)
_PAIR_RE = re.compile(r'([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_key(text: str) -> SeriesKey:
    """Parse the text form of a key (``name{k="v"}``) back into a SeriesKey."""
    match = _KEY_RE.match(text.strip())
    if not match:
        raise ValidationError("series", f"not a series key: {text[:80]!r}")
    name, inner = match.group(1), match.group(2)
    labels: dict[str, str] = {}
    if inner:
        for key, raw in _PAIR_RE.findall(inner):
            labels[key] = re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), raw)
    return SeriesKey.of(name, labels)


@dataclass(frozen=True)
class Selector:
    """Chooses series by name and a subset of labels (no labels: every series of the name)."""

    name: str
    labels: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, name: str, labels: Mapping[str, str] | None = None) -> Selector:
        """Build a selector with its labels sorted."""
        return cls(name, tuple(sorted((labels or {}).items())))

    def __str__(self) -> str:
        """A stable text form (used to name rooms)."""
        return str(SeriesKey(self.name, self.labels))

    def matches(self, key: SeriesKey) -> bool:
        """True when ``key`` is selected."""
        return key.matches(self.name, dict(self.labels))


@dataclass
class SeriesPoints:
    """Points of one series: millisecond timestamps and float values, sorted by time."""

    key: SeriesKey
    ts: np.ndarray
    values: np.ndarray
    unit: str = ""

    def __len__(self) -> int:
        """The number of points."""
        return int(self.ts.size)


@dataclass
class Batch:
    """A validated ingest batch (``seq``: its position on a shared stream, when it has one).

    ``metadata`` is what the source said of its metric families (type, help, unit): the node
    that takes the batch stores it; it does not travel on the bus.
    """

    series: list[SeriesPoints] = field(default_factory=list)
    seq: int | None = None
    metadata: list[MetricMetadata] = field(default_factory=list)

    @property
    def point_count(self) -> int:
        """Total points in the batch (one attribute read a series: no ``len`` call each)."""
        return sum([s.ts.size for s in self.series])

    def to_wire(self) -> dict[str, list[list[float]]]:
        """Points keyed by the series' text form, as sent to browsers."""
        return {
            str(s.key): [[int(t), float(v)] for t, v in zip(s.ts, s.values, strict=True)]
            for s in self.series
        }


def make_points(key: SeriesKey, ts: Any, values: Any, unit: str = "") -> SeriesPoints:
    """Build SeriesPoints from sequences, sorted by time, the last value winning per timestamp."""
    ts_arr = np.asarray(ts, dtype=np.int64).reshape(-1)
    val_arr = np.asarray(values, dtype=np.float64).reshape(-1)
    order = np.argsort(ts_arr, kind="stable")
    ts_arr, val_arr = ts_arr[order], val_arr[order]
    if ts_arr.size > 1:
        keep = np.ones(ts_arr.size, dtype=bool)
        keep[:-1] = ts_arr[1:] != ts_arr[:-1]
        ts_arr, val_arr = ts_arr[keep], val_arr[keep]
    return SeriesPoints(key, ts_arr, val_arr, unit)


def validate_batch(body: Any, *, now_ms: int, limits: Limits | None = None) -> Batch:
    """Validate an ingest body (``{"metrics": [...]}``) and return the batch, or raise.

    Nothing is partially accepted: the first bad field raises ValidationError naming it.
    """
    limits = limits or Limits()
    if not isinstance(body, Mapping):
        raise ValidationError("body", "must be a JSON object with a 'metrics' list")
    metrics = body.get("metrics")
    if not isinstance(metrics, list):
        raise ValidationError("metrics", "must be a list")
    batch = Batch()
    total = 0
    merged: dict[SeriesKey, list[SeriesPoints]] = {}
    for i, metric in enumerate(metrics):
        where = f"metrics[{i}]"
        if not isinstance(metric, Mapping):
            raise ValidationError(where, "must be an object")
        unknown = set(metric) - {"name", "labels", "unit", "points", "type", "help"}
        if unknown:
            raise ValidationError(f"{where}.{sorted(unknown)[0]}", "unknown field")
        key = _checked_key(metric.get("name"), metric.get("labels", {}), limits)
        if key is None:  # not seen valid before: check it, naming the first bad field
            name = _check_name(metric.get("name"), f"{where}.name", limits)
            labels = _check_labels(metric.get("labels", {}), f"{where}.labels", limits)
            key = _remember_key(name, metric.get("labels", {}), labels, limits)
        name = key.name
        unit = _check_unit(metric.get("unit", ""), f"{where}.unit", limits)
        points = metric.get("points")
        if not isinstance(points, list):
            raise ValidationError(f"{where}.points", "must be a list of [timestamp_ms, value]")
        total += len(points)
        if total > limits.max_points:
            raise ValidationError(f"{where}.points", f"batch exceeds {limits.max_points} points")
        ts, values = _check_points(points, f"{where}.points", now_ms, limits)
        if "type" in metric or "help" in metric:
            batch.metadata.append(_check_metadata(metric, name, unit, where))
        if len(ts) == 1:  # one point: nothing to sort (make_points' numpy calls cost more)
            part = SeriesPoints(key, np.array(ts, np.int64), np.array(values, np.float64), unit)
        else:
            part = make_points(key, ts, values, unit)
        merged.setdefault(key, []).append(part)
    for key, parts in merged.items():
        if len(parts) == 1:
            batch.series.append(parts[0])
        else:
            batch.series.append(
                make_points(
                    key,
                    np.concatenate([p.ts for p in parts]),
                    np.concatenate([p.values for p in parts]),
                    next((p.unit for p in reversed(parts) if p.unit), ""),
                )
            )
    return batch


# (name, labels as given) -> key, for series found valid under each Limits: a sender repeats
# its series, and a key found here skips the name and label checks it passed before
_CHECKED: dict[Limits, dict[tuple[str, tuple[tuple[str, str], ...]], SeriesKey]] = {}
_MAX_CHECKED = 100_000


def _checked_key(name: Any, labels: Any, limits: Limits) -> SeriesKey | None:
    """The key of a name and labels found valid before under ``limits``, or None."""
    if type(name) is not str or type(labels) is not dict:
        return None
    try:
        return _CHECKED.get(limits, {}).get((name, tuple(labels.items())))
    except TypeError:  # an unhashable label value: not a valid one
        return None


def _remember_key(name: str, given: Any, labels: dict[str, str], limits: Limits) -> SeriesKey:
    """The key of a checked name and labels, remembered for the labels as given."""
    key = SeriesKey.of(name, labels)
    if type(given) is dict:
        checked = _CHECKED.setdefault(limits, {})
        if len(checked) > _MAX_CHECKED:
            checked.clear()
        checked[(name, tuple(given.items()))] = key
    return key


def _check_name(name: Any, where: str, limits: Limits) -> str:
    """A metric name: a string of letters, digits, ``_``, ``.`` and ``:``."""
    if not isinstance(name, str) or not name:
        raise ValidationError(where, "must be a non-empty string")
    if len(name) > limits.max_name_len:
        raise ValidationError(where, f"longer than {limits.max_name_len} characters")
    if not NAME_RE.match(name):
        raise ValidationError(where, "may hold only letters, digits, '_', '.' and ':'")
    return name


def _check_labels(labels: Any, where: str, limits: Limits) -> dict[str, str]:
    """Labels: a small object of identifier keys and short printable string values."""
    if not isinstance(labels, Mapping):
        raise ValidationError(where, "must be an object of string values")
    if len(labels) > limits.max_labels:
        raise ValidationError(where, f"more than {limits.max_labels} labels")
    out: dict[str, str] = {}
    for key, value in labels.items():
        if not isinstance(key, str) or not LABEL_KEY_RE.match(key):
            raise ValidationError(f"{where}.{str(key)[:40]}", "label names are identifiers")
        if len(key) > limits.max_label_key_len:
            raise ValidationError(f"{where}.{key[:40]}", "label name too long")
        if not isinstance(value, str):
            raise ValidationError(f"{where}.{key}", "label values must be strings")
        if len(value) > limits.max_label_value_len:
            raise ValidationError(
                f"{where}.{key}", f"longer than {limits.max_label_value_len} characters"
            )
        if CONTROL_RE.search(value):
            raise ValidationError(f"{where}.{key}", "control characters are not allowed")
        out[key] = value
    return out


def _check_unit(unit: Any, where: str, limits: Limits) -> str:
    """A unit: a short printable string."""
    if not isinstance(unit, str) or len(unit) > limits.max_unit_len or CONTROL_RE.search(unit):
        raise ValidationError(
            where, f"must be a string of at most {limits.max_unit_len} characters"
        )
    return unit


def _check_metadata(metric: Mapping[str, Any], name: str, unit: str, where: str) -> MetricMetadata:
    """The family metadata of an entry with a ``type`` (counter, gauge, histogram, summary or
    unknown) or a ``help`` text; a histogram's ``_bucket``, ``_sum``, ``_count`` name the family."""
    type_ = metric.get("type", "unknown")
    problem = type_error(type_)
    if problem:
        raise ValidationError(f"{where}.type", problem)
    help_ = metric.get("help", "")
    problem = help_error(help_)
    if problem:
        raise ValidationError(f"{where}.help", problem)
    return MetricMetadata(family_name(name, type_), type_, help_, unit)


def _check_points(
    points: list[Any], where: str, now_ms: int, limits: Limits
) -> tuple[list[int], list[float]]:
    """Points: ``[timestamp_ms, value]`` pairs with a recent integer time and a finite value."""
    oldest, newest = now_ms - limits.max_age_ms, now_ms + limits.max_future_ms
    ts: list[int] = []
    values: list[float] = []
    for j, point in enumerate(points):
        if not isinstance(point, list | tuple) or len(point) != 2:
            raise ValidationError(f"{where}[{j}]", "must be [timestamp_ms, value]")
        t, v = point
        if not _is_finite_number(t):
            raise ValidationError(f"{where}[{j}][0]", "timestamp must be Unix milliseconds")
        if t != int(t):
            raise ValidationError(f"{where}[{j}][0]", "timestamp must be whole milliseconds")
        if not oldest <= t <= newest:
            raise ValidationError(
                f"{where}[{j}][0]",
                f"timestamp {int(t)} outside the accepted window [{oldest}, {newest}]",
            )
        if not _is_finite_number(v):
            raise ValidationError(f"{where}[{j}][1]", "value must be a finite number")
        ts.append(int(t))
        values.append(float(v))
    return ts, values


def _is_finite_number(x: Any) -> bool:
    """A JSON number (not a bool) that fits a finite float."""
    if isinstance(x, bool) or not isinstance(x, int | float):
        return False
    try:
        return math.isfinite(float(x))
    except OverflowError:
        return False
