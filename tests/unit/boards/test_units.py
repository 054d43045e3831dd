"""Units and number formats: from a series' unit, on the axes, in tooltips, tiles and tables."""

from __future__ import annotations

import numpy as np

from dashboard.boards.figures import bar_figure, line_figure
from dashboard.boards.service import with_unit_format
from dashboard.boards.units import axis_format, format_for_unit, format_number, hover_value
from dashboard.metrics.frame import SeriesFrame
from dashboard.metrics.model import SeriesKey
from dashboard.metrics.steps import RAW


def test_a_series_unit_gives_the_format_a_grafana_user_expects():
    """ratio -> 15%, USD/h -> $1,200/h, bytes -> 3.4MB, seconds, req/s; unknown units as text."""
    assert format_number(0.1534, format_for_unit("ratio")) == "15.3%"
    assert format_number(1234.4, format_for_unit("USD/h")) == "$1,234/h"
    assert format_number(3_400_000, format_for_unit("bytes")) == "3.4MB"
    assert format_number(12_500, format_for_unit("bits/s")) == "12.5kb/s"
    assert format_number(0.25, format_for_unit("s")) == "0.25 s"
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
        "percent": True,
        "decimals": 1,
    }
    mine = {**widget, "format": {"decimals": 3}}
    assert with_unit_format(mine, {key: "ratio"}, [key]) is mine
    assert with_unit_format(widget, {}, [key]) is widget
    mixed = {"id": "m", "series": [{"expr": "rate(x[5m])"}, {"name": "demo.error_rate"}]}
    assert with_unit_format(mixed, {key: "ratio"}, [key])["format"]["percent"] is True
