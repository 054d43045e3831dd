"""The Prometheus HTTP API's wire formats: times, durations and result JSON (pure)."""

from __future__ import annotations

import math
import re
from datetime import datetime
from typing import Any

import numpy as np

from dashboard.query.aggregate import format_value, format_values
from dashboard.query.samples import Samples
from dashboard.query.values import Block, QueryError, Scalar, String

MAX_POINTS_PER_SERIES = 11_000
_DURATION = re.compile(
    r"^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$"
)
_UNITS_MS = (365 * 86_400_000, 7 * 86_400_000, 86_400_000, 3_600_000, 60_000, 1000, 1)
# Prometheus' minTime/maxTime as the API accepts them
MIN_MS, MAX_MS = -9_223_372_036_854_775 // 1000 * 1000, 9_223_372_036_854_775


def parse_time(raw: str | None, name: str, default_ms: int | None = None) -> int:
    """Unix seconds (fractions allowed) or RFC 3339 as milliseconds, or QueryError."""
    if raw is None or raw == "":
        if default_ms is None:
            raise QueryError(f'invalid parameter "{name}": missing')
        return default_ms
    try:
        seconds = float(raw)
    except ValueError:
        try:
            stamp = datetime.fromisoformat(raw.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            raise QueryError(
                f'invalid parameter "{name}": cannot parse "{raw[:64]}" to a valid timestamp'
            ) from None
        if stamp.tzinfo is None:
            raise QueryError(f'invalid parameter "{name}": RFC 3339 time needs a zone') from None
        seconds = stamp.timestamp()
    if not math.isfinite(seconds) or not MIN_MS / 1000 <= seconds <= MAX_MS / 1000:
        raise QueryError(f'invalid parameter "{name}": timestamp out of range')
    return int(round(seconds * 1000))


def parse_duration(raw: str | None, name: str) -> int:
    """Seconds (fractions allowed) or a Prometheus duration (``1m30s``) as milliseconds."""
    if raw is None or raw == "":
        raise QueryError(f'invalid parameter "{name}": missing')
    try:
        seconds = float(raw)
    except ValueError:
        match = _DURATION.match(raw)
        if not match or not any(match.groups()):
            raise QueryError(
                f'invalid parameter "{name}": cannot parse "{raw[:64]}" to a valid duration'
            ) from None
        return sum(int(g) * u for g, u in zip(match.groups(), _UNITS_MS, strict=True) if g)
    if not math.isfinite(seconds) or abs(seconds) > 2**53 / 1000:
        raise QueryError(f'invalid parameter "{name}": duration out of range')
    return int(round(seconds * 1000))


def check_range(start_ms: int, end_ms: int, step_ms: int) -> None:
    """Prometheus' checks of a range query's bounds and resolution."""
    if end_ms < start_ms:
        raise QueryError('invalid parameter "end": end timestamp must not be before start time')
    if step_ms <= 0:
        raise QueryError(
            'invalid parameter "step": zero or negative query resolution step widths are not'
            " accepted. Try a positive integer"
        )
    if (end_ms - start_ms) // step_ms > MAX_POINTS_PER_SERIES:
        raise QueryError(
            "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the"
            " query resolution (?step=XX)"
        )


def _ts(ms: int | float) -> float | int:
    """Milliseconds as the API's seconds (an int when whole)."""
    seconds = ms / 1000.0
    return int(seconds) if float(seconds).is_integer() else seconds


def instant_json(value: Block | Scalar | String | Samples, at_ms: int) -> dict[str, Any]:
    """The ``data`` of an instant query."""
    t = _ts(at_ms)
    if isinstance(value, Scalar):
        return {"resultType": "scalar", "result": [t, format_value(float(value.values[0]))]}
    if isinstance(value, String):
        return {"resultType": "string", "result": [t, value.value]}
    if isinstance(value, Samples):
        return {"resultType": "matrix", "result": _samples_json(value)}
    rows = np.flatnonzero(value.mask[:, 0]) if len(value) else np.zeros(0, dtype=np.int64)
    return {
        "resultType": "vector",
        "result": [
            {"metric": value.labels[i], "value": [t, format_value(float(value.values[i, 0]))]}
            for i in rows.tolist()
        ],
    }


def _samples_json(samples: Samples) -> list[dict[str, Any]]:
    """Raw samples per series as matrix entries."""
    out = []
    for i, labels in enumerate(samples.labels):
        ts, vs = samples.series_samples(i)
        texts = format_values(vs.tolist())
        pairs = [[_ts(t), text] for t, text in zip(ts.tolist(), texts, strict=True)]
        out.append({"metric": labels, "values": pairs})
    return out


def range_json(value: Block | Scalar, times: np.ndarray) -> dict[str, Any]:
    """The ``data`` of a range query: a matrix sorted by labels."""
    if isinstance(value, Scalar):
        value = Block([{}], value.values[None, :], np.ones((1, times.size), dtype=bool))
    stamps = [_ts(t) for t in times.tolist()]
    result: list[dict[str, Any]] = []
    for i, labels in enumerate(value.labels):
        cols = np.flatnonzero(value.mask[i]).tolist()
        if cols:
            texts = format_values(value.values[i, cols].tolist())
            pairs = [[stamps[c], text] for c, text in zip(cols, texts, strict=True)]
            result.append({"metric": labels, "values": pairs})
    result.sort(key=lambda r: sorted(r["metric"].items()))
    return {"resultType": "matrix", "result": result}
