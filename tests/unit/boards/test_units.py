"""Units and number formats: from a series' unit, on the axes, in tooltips, tiles and tables."""

from __future__ import annotations

import numpy as np
import pytest

from dashboard.boards.figures import bar_figure, line_figure
from dashboard.boards.service import with_unit_format
from dashboard.boards.units import (
    UNITS,
    axis_format,
    edited_format,
    format_for_unit,
    format_number,
    hover_value,
    resolved,
    unit_of,
    unit_options,
    valid_format,
)
from dashboard.metrics.frame import SeriesFrame
from dashboard.metrics.model import SeriesKey, ValidationError
from dashboard.metrics.steps import RAW


def test_a_series_unit_gives_the_format_a_grafana_user_expects():
    """ratio -> 15%, USD/h -> $1,200/h, bytes -> 3.2MiB (IEC, as Grafana's bytes), seconds
    scaled (250 ms), req/s; unknown units as text."""
    assert format_number(0.1534, format_for_unit("ratio")) == "15.3%"
    assert format_number(1234.4, format_for_unit("USD/h")) == "$1,234/h"
    assert format_number(3_400_000, format_for_unit("bytes")) == "3.24MiB"
    assert format_number(3_400_000, format_for_unit("decbytes")) == "3.4MB"
    assert format_number(12_500, format_for_unit("bits/s")) == "12.5kb/s"
    assert format_number(0.25, format_for_unit("s")) == "250 ms"
    assert format_number(12.34, format_for_unit("req/s")) == "12.3 req/s"
    assert format_number(None, {}) == "–"
    assert format_for_unit("") == {}
    assert format_for_unit("users") == {}  # unknown: the numbers as they are


def test_axes_and_tooltips_follow_the_format_and_stay_markup_free():
    """A percent axis reads 15%, a price axis $ and /h, a hostile suffix is shown as text."""
    assert axis_format({"percent": True}) == {"tickformat": ".0%"}
    assert axis_format({"prefix": "$", "suffix": "/h"}) == {"tickprefix": "$", "ticksuffix": "/h"}
    assert axis_format({"si": True, "suffix": "B"})["tickformat"] == ".3~s"
    assert hover_value({"percent": True, "decimals": 2}) == "%{y:.2%}"
    assert hover_value({"suffix": "<b>x</b>"}) == "%{y:,.4~f}&lt;b&gt;x&lt;/b&gt;"
    frame = SeriesFrame(SeriesKey.of("e"), RAW, np.array([1, 2]), np.array([0.1, 0.2]))
    widget = {"id": "w", "kind": "line", "title": "E", "series": [], "format": {"percent": True}}
    fig = line_figure(widget, [frame])
    assert fig["layout"]["yaxis"]["tickformat"] == ".0%"
    assert fig["data"][0]["hovertemplate"].startswith("%{y:.2%}")
    assert bar_figure(widget, [frame])["layout"]["yaxis"]["tickformat"] == ".0%"


def test_a_widget_without_a_format_takes_its_series_unit():
    """The error-rate chart of the demo (unit ``ratio``) shows percent; its own format wins."""
    key = SeriesKey.of("demo.error_rate")
    widget = {"id": "w", "series": [{"name": "demo.error_rate", "labels": {}}]}
    assert with_unit_format(widget, {key: "ratio"}, [key])["format"] == {
        "unit": "percentunit",
        "decimals": 1,
    }
    mine = {**widget, "format": {"decimals": 3}}
    assert with_unit_format(mine, {key: "ratio"}, [key]) is mine
    assert with_unit_format(widget, {}, [key]) is widget
    mixed = {"id": "m", "series": [{"expr": "rate(x[5m])"}, {"name": "demo.error_rate"}]}
    assert with_unit_format(mixed, {key: "ratio"}, [key])["format"]["unit"] == "percentunit"


def test_every_unit_id_reads_as_grafana_shows_it():
    """Each unit an editor picks, on the numbers a user sees in a tile or a table."""
    shown = {
        "none": (1234.5, "1,235"),  # auto decimals: none from 100 up; a half rounds up
        "short": (1_234_567, "1.23M"),
        "percentunit": (0.1534, "15.3%"),
        "percent": (15.34, "15.3%"),
        "currencyUSD": (1234.4, "$1,234"),
        "currencyEUR": (12.5, "€12.5"),
        "currencyGBP": (0.5, "£0.5"),
        "bytes": (1536, "1.5KiB"),
        "decbytes": (1536, "1.54kB"),
        "bps": (12_500, "12.5kb/s"),
        "Bps": (2_000_000, "2MB/s"),
        "s": (210, "3.5 min"),
        "ms": (350, "350 ms"),
    }
    assert set(shown) == set(UNITS)
    for unit, (value, text) in shown.items():
        assert format_number(value, {"unit": unit}) == text, unit


def test_iec_bytes_step_by_1024_and_durations_by_their_unit():
    """KiB, MiB, GiB, TiB; 350 ms, 1.2 s, 3.5 min, 2 h, 1.5 d, µs below a millisecond."""
    fmt = {"unit": "bytes", "decimals": 1}
    assert [format_number(v, fmt) for v in (512, 2048, 5 * 2**20, 3 * 2**30, 2**41)] == [
        "512.0B",
        "2.0KiB",
        "5.0MiB",
        "3.0GiB",
        "2.0TiB",
    ]
    seconds = {"unit": "s"}
    assert [format_number(v, seconds) for v in (0.35, 1.2, 210, 7200, 129_600, 2e-5, 0)] == [
        "350 ms",
        "1.2 s",
        "3.5 min",
        "2 h",
        "1.5 d",
        "20 µs",
        "0 s",
    ]
    assert format_number(1500, {"unit": "ms", "decimals": 2}) == "1.50 s"
    assert format_number(-0.35, seconds) == "-350 ms"


def test_decimals_and_affixes_go_with_a_unit_and_old_formats_read_as_before():
    """A unit's decimals are its own (auto without: no trailing zeros); a prefix or suffix is
    added to its own; a format saved before ids (no ``unit``) keeps 0 decimals when it names
    none, and a host dashboard's old ``unit`` label reads as no unit."""
    assert format_number(0.02, {"unit": "percentunit", "decimals": 2}) == "2.00%"
    assert format_number(0.02, {"unit": "percentunit"}) == "2%"
    assert format_number(1234.4, {"unit": "currencyUSD", "suffix": "/h", "decimals": 0}) == (
        "$1,234/h"
    )
    assert format_number(1234.4, {"unit": "short", "suffix": " req/s"}) == "1.23k req/s"
    assert format_number(12.34, {"prefix": "$"}) == "$12"  # as before: 0 decimals
    assert format_number(0.1534, {"percent": True}) == "15%"
    assert format_number(12_345, {"unit": "bytes/s", "suffix": " B/s", "decimals": 0}) == (
        "12,345 B/s"
    )
    assert resolved({"unit": "load", "decimals": 2}) == {"decimals": 2}
    assert resolved({"unit": "bytes"}) == {"iec": True, "suffix": "B", "decimals": None}


def test_axes_and_tooltips_of_the_new_units():
    """A 0-100 percent axis ends in %, a duration's in its unit; IEC bytes tick in SI (d3 has
    no 1024 steps), tooltips too; auto decimals trim zeros in a percent tooltip."""
    assert axis_format({"unit": "percentunit"}) == {"tickformat": ".0%"}
    assert axis_format({"unit": "percent"}) == {"ticksuffix": "%"}
    assert axis_format({"unit": "ms"}) == {"ticksuffix": " ms"}
    assert axis_format({"unit": "bytes"}) == {"ticksuffix": "B", "tickformat": ".3~s"}
    assert axis_format({"unit": "currencyEUR", "suffix": "/h"}) == {
        "tickprefix": "€",
        "ticksuffix": "/h",
    }
    assert hover_value({"unit": "percentunit"}) == "%{y:.2~%}"
    assert hover_value({"unit": "percentunit", "decimals": 3}) == "%{y:.3%}"
    assert hover_value({"unit": "s"}) == "%{y:,.4~f} s"
    assert hover_value({"unit": "bytes"}) == "%{y:.3~s}B"


def test_a_format_is_validated_field_by_field():
    """Known keys, a unit id, decimals 0-6, short printable affixes, booleans: else the error
    names the field."""
    good = {"unit": "bytes", "decimals": 2, "prefix": "", "suffix": "/h"}
    assert valid_format(good, "f") == good
    assert valid_format({"percent": True, "si": False}, "f") == {"percent": True, "si": False}
    bad = [
        ([], "f", "an object"),
        ({"unit": "furlongs"}, "f.unit", "one of none, short"),
        ({"decimals": 7}, "f.decimals", "0 to 6"),
        ({"decimals": 1.5}, "f.decimals", "0 to 6"),
        ({"decimals": True}, "f.decimals", "0 to 6"),
        ({"suffix": "x" * 17}, "f.suffix", "at most 16 printable"),
        ({"prefix": "\n"}, "f.prefix", "at most 16 printable"),
        ({"percent": "yes"}, "f.percent", "true or false"),
        ({"colour": "red"}, "f.colour", "not a format field"),
    ]
    for fmt, field, message in bad:
        with pytest.raises(ValidationError) as raised:
            valid_format(fmt, "f")
        assert raised.value.field == field and message in raised.value.message, fmt


def test_the_editor_reads_a_saved_format_as_a_unit_and_writes_one_back():
    """An old format shows as the unit it matches; saving keeps a suffix of its own (/h) and
    drops the affix that came with the unit it leaves ($ for a currency changed)."""
    assert unit_of(None) is None
    assert unit_of({"unit": "ms"}) == "ms"
    assert unit_of({"percent": True, "decimals": 2}) == "percentunit"
    assert unit_of({"si": True, "suffix": "B"}) == "decbytes"
    assert unit_of({"prefix": "$", "suffix": "/h"}) == "currencyUSD"
    assert unit_of({"decimals": 0}) == "none"
    assert unit_of({"unit": "load", "decimals": 2}) == "none"
    old = {"prefix": "$", "suffix": "/h"}
    assert edited_format(old, "currencyEUR", 2.0) == {
        "unit": "currencyEUR",
        "suffix": "/h",
        "decimals": 2,
    }
    assert edited_format({"si": True, "suffix": "B"}, "bps", None) == {"unit": "bps"}
    assert edited_format({"unit": "percentunit"}, None, 2) is None  # from the series
    assert edited_format(None, "percentunit", "") == {"unit": "percentunit"}
    assert [o["value"] for o in unit_options()] == list(UNITS)
    assert unit_options()[2]["label"] == "Percent (0.0-1.0)"
