"""Units in exports (pure): the CSV's unit column, added after the columns of before, and the
PDF's summary tables in the widget's format."""

from __future__ import annotations

import csv
import io

import numpy as np

from dashboard.export.csv import RAW_COLUMNS, ROLLUP_COLUMNS, expr_rows, header, rows
from dashboard.export.report import Section
from dashboard.metrics.model import SeriesKey
from tests.unit.export.test_report import report, text_of

T0 = 1_764_424_800_123


def parse(lines: list[str]) -> list[list[str]]:
    """The records of CSV text."""
    return list(csv.reader(io.StringIO("".join(lines))))


def test_the_csv_names_each_series_unit_in_a_last_column():
    """``unit`` comes after every column of before (a reader by position still works); each
    row carries its series' unit, formula-safe; an expression's row leaves it empty."""
    assert parse([header(False, units=True)]) == [[*RAW_COLUMNS, "unit"]]
    assert parse([header(True, units=True)]) == [[*ROLLUP_COLUMNS, "unit"]]
    assert parse([header(False)]) == [RAW_COLUMNS]  # unchanged without units
    key = SeriesKey.of("demo.error_rate")
    out = parse(list(rows(key, np.array([T0]), np.array([0.02]), unit="ratio")))
    assert out[0][5:] == ["0.02", "ratio"]
    assert parse(list(rows(key, np.array([T0]), np.array([1.0]), unit="=1+1")))[0][-1] == "'=1+1"
    assert len(parse(list(rows(key, np.array([T0]), np.array([1.0]))))[0]) == len(RAW_COLUMNS)
    expr = parse(list(expr_rows("rate(x[5m])", key, np.array([T0]), np.array([1.0]), pad=1)))
    assert len(expr[0]) == len(RAW_COLUMNS) + 1 and expr[0][-1] == ""


def test_the_pdf_summary_table_reads_in_the_widget_format():
    """A percent widget's rows read 15.3%, a price's $1,234/h; without a format, as before."""
    sections = [
        Section(
            "Error rate",
            rows=[("demo.error_rate", 0.0123, 0.1534, 0.05, 0.02)],
            fmt={"unit": "percentunit", "decimals": 1},
        ),
        Section(
            "Revenue",
            rows=[("demo.revenue_usd", 1234.4, 2000.0, 1500.0, 1800.0)],
            fmt={"unit": "currencyUSD", "suffix": "/h", "decimals": 0},
        ),
        Section("Plain", rows=[("x", 1.0, 2_000_000.0, 1.5, 2.0)]),
    ]
    _pages, text = text_of(report(sections, []))
    assert "1.2%" in text and "15.3%" in text and "5.0%" in text
    assert "$1,234/h" in text and "$2,000/h" in text
    assert "2,000,000" in text
