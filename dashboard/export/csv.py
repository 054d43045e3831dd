"""CSV export in the tidy long format (pure): one row per point, RFC 4180, formula-safe.

Columns: ``series`` (the key text), ``name``, ``labels`` (``k=v;k2=v2``), ``time`` (ISO 8601
UTC, millisecond precision), ``ts_ms`` (Unix milliseconds), ``value``, and for rollup steps
``min``, ``max``, ``count``; with ``units``, a last ``unit`` column (the series' unit as it was
ingested, ``ratio``, ``USD/h``; empty when it has none). A text cell that a spreadsheet would
run as a formula (starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return) is prefixed
with ``'``; numbers are written as numbers.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime

import numpy as np

from dashboard.metrics.model import SeriesKey
from dashboard.query.values import format_labels

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
RAW_COLUMNS = ["series", "name", "labels", "time", "ts_ms", "value"]
ROLLUP_COLUMNS = [*RAW_COLUMNS, "min", "max", "count"]
UNIT_COLUMN = "unit"


def safe_text(text: str) -> str:
    """A text cell no spreadsheet will evaluate."""
    return "'" + text if text.startswith(FORMULA_START) else text


def iso(ts_ms: int) -> str:
    """ISO 8601 UTC with milliseconds."""
    return datetime.fromtimestamp(ts_ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def header(rollup: bool, units: bool = False) -> str:
    """The header line (``unit`` last, after the columns of before, when ``units``)."""
    return _line([*(ROLLUP_COLUMNS if rollup else RAW_COLUMNS), *([UNIT_COLUMN] if units else [])])


def _line(cells: Iterable[object]) -> str:
    """One CSV record with CRLF, quoted where RFC 4180 needs it."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(cells)
    return out.getvalue()


def rows(
    key: SeriesKey,
    ts: np.ndarray,
    value: np.ndarray,
    extra: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
    unit: str | None = None,
) -> Iterator[str]:
    """CSV lines for one series' points (``extra``: min, max, count columns of a rollup;
    ``unit``: the last column's text, none without it)."""
    text = safe_text(str(key))
    name = safe_text(key.name)
    labels = safe_text(";".join(f"{k}={v}" for k, v in key.labels))
    tail = [] if unit is None else [safe_text(unit)]
    for i, (t, v) in enumerate(zip(ts.tolist(), value.tolist(), strict=True)):
        cells: list[object] = [text, name, labels, iso(int(t)), int(t), repr(float(v))]
        if extra is not None:
            cells += [repr(float(extra[0][i])), repr(float(extra[1][i])), int(extra[2][i])]
        yield _line([*cells, *tail])


def expr_rows(
    expr: str, key: SeriesKey, ts: np.ndarray, value: np.ndarray, pad: int = 0
) -> Iterator[str]:
    """CSV lines for one series of a PromQL expression: ``name`` is the expression, ``series``
    the expression with the result's labels; ``pad`` empty cells fill a rollup's columns (and
    the ``unit`` column: an expression's result has no stored unit)."""
    labels = ";".join(f"{k}={v}" for k, v in key.labels)
    text = safe_text(f"{expr}{format_labels(key.label_dict)}" if key.labels else expr)
    name, labels = safe_text(expr), safe_text(labels)
    for t, v in zip(ts.tolist(), value.tolist(), strict=True):
        yield _line([text, name, labels, iso(int(t)), int(t), repr(float(v)), *([""] * pad)])


def note(text: str) -> str:
    """A comment line (``# ...``) that says what could not be exported, and why."""
    return _line([safe_text("# " + text)])
