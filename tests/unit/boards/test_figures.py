"""The figure layer: plain Plotly dicts the page's widgets and the PDF report both draw."""

from __future__ import annotations

import json

import numpy as np

from dashboard.boards.figures import (
    CHARTS,
    COLORS,
    bar_figure,
    line_figure,
    pie_figure,
    pie_totals,
    spark_figure,
    static_chart,
)
from dashboard.metrics.frame import SeriesFrame
from dashboard.metrics.model import SeriesKey
from dashboard.metrics.steps import RAW, step_named

T0 = 1_764_424_800_000
MINUTE = 60_000


def raw(name: str, labels: dict[str, str], values: list[float]) -> SeriesFrame:
    """A raw frame, a point a minute from T0."""
    ts = np.arange(T0, T0 + MINUTE * len(values), MINUTE, dtype=np.int64)
    return SeriesFrame(SeriesKey.of(name, labels), RAW, ts, np.asarray(values, dtype=float))


def rollup(name: str, labels: dict[str, str], values: list[float], count: float) -> SeriesFrame:
    """A 1-minute rollup frame: min and max one below and above, ``count`` points a bucket."""
    frame = raw(name, labels, values)
    v = frame.value
    counts = np.full(v.size, count)
    return SeriesFrame(frame.key, step_named("1m"), frame.ts, v, v - 1, v + 1, counts, v * count, v)


def test_figures_are_plain_json():
    """Every builder returns data JSON (and so Dash and kaleido) takes as is: no numpy values."""
    frames = [rollup("req", {"route": "/a"}, [1.0, 2.0], 2), raw("req", {"route": "/b"}, [3.0])]
    widget = {"kind": "line", "thresholds": [{"value": 2}], "aggregation": "max"}
    for figure in (line_figure, bar_figure, pie_figure):
        text = json.dumps(figure(widget, frames))
        assert json.loads(text)["data"]
    assert json.loads(json.dumps(spark_figure(frames[0])))["data"][0]["y"] == [1.0, 2.0]


def test_a_line_chart_has_a_trace_per_series_and_its_thresholds():
    """Colours cycle by series, thresholds are dashed lines, the legend shows for two or more."""
    frames = [raw("cpu", {"host": f"h{i}"}, [float(i)]) for i in range(len(COLORS) + 1)]
    widget = {"thresholds": [{"value": 90, "color": "amber"}, {"value": 99}]}
    figure = line_figure(widget, frames)
    colors = [trace["line"]["color"] for trace in figure["data"]]
    assert colors == [*COLORS, COLORS[0]]
    assert [t["name"] for t in figure["data"][:2]] == ["h0", "h1"]
    shapes = figure["layout"]["shapes"]
    # a step's colour name is drawn in the board's palette ("amber" is no CSS colour), red
    # when none is given, as the tiles colour it
    assert [(s["y0"], s["line"]["color"]) for s in shapes] == [(90, "#f59e0b"), (99, "#ef4444")]
    assert figure["layout"]["showlegend"] is True
    assert line_figure({}, frames[:1])["layout"]["showlegend"] is False
    assert line_figure({}, frames[:1])["layout"]["shapes"] == []


def test_series_names_are_shown_as_written():
    """A label holding Plotly markup is escaped, so it is printed and not interpreted."""
    frame = raw("req", {"route": "<b>&x"}, [1.0])
    assert line_figure({}, [frame])["data"][0]["name"] == "&lt;b&gt;&amp;x"
    assert pie_figure({}, [frame])["data"][0]["labels"] == ["&lt;b&gt;&amp;x"]
    assert line_figure({}, [raw("plain.metric", {}, [1.0])])["data"][0]["name"] == "plain.metric"


def test_bars_follow_the_widget_aggregation_and_carry_their_bucket_width():
    """``max`` draws each bucket's maximum; each bar knows its width for the drill-down."""
    frame = rollup("revenue", {}, [10.0, 20.0], 4)
    figure = bar_figure({"aggregation": "max"}, [frame])
    assert figure["data"][0]["y"] == [11.0, 21.0]
    assert figure["data"][0]["customdata"] == [MINUTE, MINUTE]
    assert bar_figure({}, [frame])["data"][0]["y"] == [10.0, 20.0]  # avg by default
    assert figure["layout"]["hovermode"] == "closest" and figure["layout"]["bargap"] == 0.15


def test_pie_totals_are_weighted_means():
    """Rollups weigh each bucket by its points; raw frames take the plain mean; no data is 0."""
    weighted = rollup("req", {}, [10.0, 40.0], 1)
    weighted.count = np.array([3.0, 1.0])
    weighted.sum = np.array([30.0, 40.0])
    assert pie_totals([weighted, raw("req", {}, [1.0, 2.0]), raw("req", {}, [])]) == [
        17.5,
        1.5,
        0.0,
    ]


def test_pie_slices_carry_the_label_a_click_drills_into():
    """Each slice's customdata is the label that varies between the series."""
    frames = [raw("req", {"route": r, "env": "prod"}, [1.0]) for r in ("/a", "/b")]
    trace = pie_figure({}, frames)["data"][0]
    assert trace["marker"]["colors"] == COLORS[:2]
    assert trace["customdata"] == ["route=/a", "route=/b"]
    assert trace["values"] == [1.0, 1.0] and trace["sort"] is False


def test_a_sparkline_without_data_is_empty():
    """No frame yet: the sparkline has one empty trace and no axes."""
    figure = spark_figure(None)
    assert figure["data"][0]["x"] == [] and figure["data"][0]["y"] == []
    assert figure["layout"]["xaxis"]["visible"] is False


def test_the_static_chart_of_each_widget_kind():
    """Charts draw their kind's figure, a tile its sparkline; status and table none."""
    frames = [raw("cpu", {}, [1.0, 2.0])]
    for kind, builder in CHARTS.items():
        assert static_chart({"kind": kind}, frames) == builder({"kind": kind}, frames)
    assert static_chart({"kind": "stat"}, frames) == spark_figure(frames[0])
    assert static_chart({"kind": "stat"}, []) is None
    assert static_chart({"kind": "status"}, frames) is None
    assert static_chart({"kind": "table"}, frames) is None


def test_an_axis_with_a_unit_suffix_gets_the_margin_its_tick_texts_need():
    """``1.5k req/s`` is wider than ``1.5k``: the left margin grows with the suffix, so the tick
    texts are not cut at the card's edge; a bare number or a 1-character unit keeps it."""
    plain = line_figure({}, [])["layout"]["margin"]["l"]
    rate = line_figure({"format": {"unit": "short", "suffix": " req/s"}}, [])["layout"]
    percent = line_figure({"format": {"unit": "percentunit"}}, [])["layout"]
    assert rate["yaxis"]["ticksuffix"] == " req/s"
    assert rate["margin"]["l"] >= plain + 5 * 6
    assert percent["margin"]["l"] == plain
