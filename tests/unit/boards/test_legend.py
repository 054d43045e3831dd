"""A chart's legend as a table: a row per series with last, min, max and mean over the range,
in the widget's number format, sorted as a Grafana user expects; the legend mode decides which
legend the chart shows."""

from __future__ import annotations

import numpy as np

from dashboard.boards.figures import COLORS, bar_figure, legend_mode, line_figure, static_chart
from dashboard.boards.legend import legend_rows, next_sort, shows_table, sort_rows
from dashboard.metrics.frame import SeriesFrame
from dashboard.metrics.model import SeriesKey
from dashboard.metrics.steps import RAW, step_named

T0 = 1_764_424_800_000
MINUTE = 60_000


def raw(labels: dict[str, str], values: list[float], name: str = "cpu") -> SeriesFrame:
    """A raw frame, a point a minute from T0."""
    ts = np.arange(T0, T0 + MINUTE * len(values), MINUTE, dtype=np.int64)
    return SeriesFrame(SeriesKey.of(name, labels), RAW, ts, np.asarray(values, dtype=float))


def three() -> list[SeriesFrame]:
    """Three hosts: a (1, 5, 3), b (10, 2, 4), c (no data)."""
    return [raw({"host": "a"}, [1, 5, 3]), raw({"host": "b"}, [10, 2, 4]), raw({"host": "c"}, [])]


def test_each_series_has_a_row_with_its_colour_and_values_over_the_range():
    """Last, min, max and mean of each series, in the chart's colours and trace order; a series
    without data reads a dash in every column and has no last time."""
    rows = legend_rows({}, three())
    assert [(r.index, r.name, r.color) for r in rows] == [
        (0, "a", COLORS[0]),
        (1, "b", COLORS[1]),
        (2, "c", COLORS[2]),
    ]
    assert rows[0].values == {"last": 3.0, "min": 1.0, "max": 5.0, "mean": 3.0}
    assert rows[1].texts == {"last": "4.00", "min": "2.00", "max": "10.00", "mean": "5.33"}
    assert rows[2].texts == dict.fromkeys(("last", "min", "max", "mean"), "–")
    assert rows[0].last_ts == T0 + 2 * MINUTE
    assert rows[2].last_ts is None


def test_rows_use_the_widget_number_format_and_show_names_as_written():
    """A ratio widget reads percent; a label with markup characters is shown as it is (the
    chart escapes it for Plotly, the table does not need to)."""
    widget = {"format": {"percent": True, "decimals": 1}}
    [row] = legend_rows(widget, [raw({"route": "<a&b>"}, [0.1, 0.25])])
    assert row.name == "<a&b>"
    assert row.texts["max"] == "25.0%"
    assert row.texts["mean"] == "17.5%"


def test_rollup_rows_are_exact_not_the_means_the_chart_draws():
    """From 1-minute buckets: the extremes of the bucket extremes and the last bucket's last
    point, not the bucket means the line goes through."""
    means = np.array([10.0, 20.0])
    ts = np.array([T0, T0 + MINUTE], dtype=np.int64)
    frame = SeriesFrame(
        SeriesKey.of("lat", {}),
        step_named("1m"),
        ts,
        means,
        means - 5,  # min
        means + 5,  # max
        np.array([2.0, 2.0]),  # count
        means * 2,  # sum
        np.array([12.0, 23.0]),  # last
    )
    [row] = legend_rows({"format": {"decimals": 0}}, [frame])
    assert row.values == {"last": 23.0, "min": 5.0, "max": 25.0, "mean": 15.0}


def test_a_number_column_sorts_largest_first_and_rows_without_data_stay_last():
    """Max descending: b (10), a (5), then c (none); ascending: a, b, then c still."""
    rows = legend_rows({}, three())
    assert [r.name for r in sort_rows(rows, "max", True)] == ["b", "a", "c"]
    assert [r.name for r in sort_rows(rows, "max", False)] == ["a", "b", "c"]
    assert [r.name for r in sort_rows(rows, "name", True)] == ["c", "b", "a"]
    assert [r.name for r in sort_rows(rows, "name", False)] == ["a", "b", "c"]


def test_equal_values_keep_their_trace_order_either_way():
    """Two series with the same last value: the first trace first, descending or not."""
    rows = legend_rows({}, [raw({"host": "x"}, [1, 7]), raw({"host": "y"}, [2, 7])])
    assert [r.index for r in sort_rows(rows, "last", True)] == [0, 1]
    assert [r.index for r in sort_rows(rows, "last", False)] == [0, 1]


def test_a_header_click_sorts_descending_first_then_reverses():
    """Grafana's behaviour: a number column first sorts largest first, a second click smallest
    first; the name column starts A to Z; another column starts over."""
    assert next_sort(None, "max") == ("max", True)
    assert next_sort(("max", True), "max") == ("max", False)
    assert next_sort(("max", False), "max") == ("max", True)
    assert next_sort(("max", False), "mean") == ("mean", True)
    assert next_sort(None, "name") == ("name", False)


def test_the_legend_mode_decides_which_legend_the_chart_shows():
    """No mode: Plotly's legend for two series or more (today's line charts); table: none on
    the chart (the table instead), also for one series; hidden: no legend at all."""
    frames = three()[:2]
    assert legend_mode({}) == "list"
    assert legend_mode({"legend": {"mode": "sideways"}}) == "list"
    for figure in (line_figure, bar_figure):
        assert figure({}, frames)["layout"]["showlegend"] is True
        assert figure({}, frames[:1])["layout"]["showlegend"] is False
        for mode in ("table", "hidden"):
            widget = {"legend": {"mode": mode}}
            assert figure(widget, frames)["layout"]["showlegend"] is False
    assert shows_table({"legend": {"mode": "table"}})
    assert not shows_table({"legend": {"mode": "hidden"}})
    assert not shows_table({})


def test_an_image_of_a_table_legend_chart_keeps_plotly_legend():
    """The PDF report's image has no table under it: its chart names the series itself (a
    hidden legend stays hidden)."""
    frames = three()[:2]
    table = {"kind": "line", "legend": {"mode": "table"}}
    chart = static_chart(table, frames)
    assert chart is not None and chart["layout"]["showlegend"] is True
    hidden = static_chart({"kind": "line", "legend": {"mode": "hidden"}}, frames)
    assert hidden is not None and hidden["layout"]["showlegend"] is False
