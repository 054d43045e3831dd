"""The CSV format of exports (pure): columns, numbers as numbers, formula-safe text."""

from __future__ import annotations

import csv
import io

import numpy as np

from dashboard.export.csv import RAW_COLUMNS, ROLLUP_COLUMNS, header, iso, rows, safe_text
from dashboard.metrics.model import SeriesKey

T0 = 1_764_424_800_123  # 2025-11-29 14:00:00.123 UTC


def parse(lines: list[str]) -> list[list[str]]:
    """The records of CSV text."""
    return list(csv.reader(io.StringIO("".join(lines))))


def test_the_header_names_the_rollup_columns_only_for_rollups():
    """Raw exports have six columns; rollups add min, max and count; lines end in CRLF."""
    assert parse([header(False)]) == [RAW_COLUMNS]
    assert parse([header(True)]) == [ROLLUP_COLUMNS]
    assert header(False).endswith("\r\n")


def test_times_are_iso_utc_with_milliseconds():
    """Milliseconds kept, a Z for UTC."""
    assert iso(T0) == "2025-11-29T14:00:00.123Z"
    assert iso(0) == "1970-01-01T00:00:00.000Z"


def test_a_raw_row_per_point():
    """Key text, name, labels as k=v;k2=v2, time, Unix ms and the value as written by repr."""
    key = SeriesKey.of("req", {"route": "/a", "env": "prod"})
    out = parse(list(rows(key, np.array([T0, T0 + 1000]), np.array([1.5, 0.1]))))
    assert out[0] == [str(key), "req", "env=prod;route=/a", iso(T0), str(T0), "1.5"]
    assert out[1][4:] == [str(T0 + 1000), "0.1"]


def test_a_rollup_row_has_min_max_and_an_integer_count():
    """The extra columns of a bucket; the count is written as an integer."""
    key = SeriesKey.of("req", {})
    extra = (np.array([1.0]), np.array([3.0]), np.array([4.0]))
    [row] = parse(list(rows(key, np.array([T0]), np.array([2.0]), extra)))
    assert row == ["req", "req", "", iso(T0), str(T0), "2.0", "1.0", "3.0", "4"]


def test_text_a_spreadsheet_would_run_is_quoted_out():
    """Cells starting with = + - @ tab or CR get a leading quote; numbers stay numbers."""
    for text in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"):
        assert safe_text(text) == "'" + text
    assert safe_text("a=1") == "a=1"
    key = SeriesKey.of("=cmd", {"x": "-2"})
    [row] = parse(list(rows(key, np.array([T0]), np.array([-2.0]))))
    assert row[1] == "'=cmd" and row[2] == "x=-2" and row[5] == "-2.0"
