"""The view a page URL asks for: label filter, pie drill, breadcrumb, KPI change (summaries:
tests/unit/metrics/test_summary.py)."""

from __future__ import annotations

import math
from urllib.parse import parse_qs

import pytest

from dashboard.boards.view import (
    breadcrumbs,
    delta_view,
    drilled_widget,
    duration_text,
    labels_match,
    parse_drill,
    parse_filter,
    period_change,
    slice_label,
    span_text,
    varying_labels,
)

HOUR = 3_600_000
T14 = 1_764_424_800_000  # 2025-11-29 14:00 UTC


def test_a_filter_reads_comma_separated_label_terms():
    """``region=eu, env = prod`` is two labels; an empty filter is none."""
    assert parse_filter("region=eu, env = prod") == {"region": "eu", "env": "prod"}
    assert parse_filter("route=/api/v1=x") == {"route": "/api/v1=x"}
    assert parse_filter("") == {} and parse_filter(None) == {} and parse_filter(" , ") == {}


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("region", "is not label=value"),
        ("region=", "is not label=value"),
        ("=eu", "is not a label name"),
        ("9x=eu", "is not a label name"),
        ("region=eu,region=us", "given twice"),
        ("a=1," * 11, "at most 10"),
        ("a=" + "x" * 600, "at most 500"),
    ],
)
def test_a_bad_filter_says_what_is_wrong(text, says):
    """A typo gives a message that names the problem, not a crash."""
    with pytest.raises(ValueError, match=says):
        parse_filter(text)


def test_a_series_matches_only_with_every_filter_label():
    """A series without the label is left out, as is one with another value."""
    assert labels_match({"region": "eu", "route": "/"}, {"region": "eu"})
    assert not labels_match({"region": "us"}, {"region": "eu"})
    assert not labels_match({"route": "/"}, {"region": "eu"})
    assert labels_match({}, {})


def test_a_drill_names_a_widget_and_its_levels():
    """``w:route=/api,region=eu`` is two levels of widget w; anything else is no drill."""
    assert parse_drill("pie-requests:route=/api") == ("pie-requests", {"route": "/api"})
    assert parse_drill("w:route=/api,region=eu") == ("w", {"route": "/api", "region": "eu"})
    for bad in (None, "", "pie", ":route=/", "w:", "w:route", "w:1=2"):
        assert parse_drill(bad) is None


def test_a_slice_is_known_by_the_label_that_differs_between_slices():
    """Requests by route: the route, not the region all slices share."""
    sets = [{"region": "eu", "route": "/a"}, {"region": "eu", "route": "/b"}]
    varying = varying_labels(sets)
    assert varying == ["route"]
    assert slice_label(sets[0], varying) == "route=/a"
    assert varying_labels([{"route": "/a"}]) == ["route"]
    assert slice_label({}, []) == ""


def test_a_drilled_pie_breaks_down_further_or_becomes_a_line():
    """Several series left in the slice: still a pie; one: a line of it over time."""
    pie = {"id": "p", "kind": "pie", "title": "Traffic", "series": [{"name": "m", "labels": {}}]}
    deeper = drilled_widget(pie, {"route": "/api"}, 3)
    assert deeper["kind"] == "pie" and deeper["series"][0]["labels"] == {"route": "/api"}
    assert deeper["title"] == "Traffic › route=/api" and pie["series"][0]["labels"] == {}
    assert drilled_widget(pie, {"route": "/api"}, 1)["kind"] == "line"


def test_the_previous_period_change_handles_zero_nan_and_missing():
    """+12.3 % is 0.123; a zero, NaN or missing value on either side has no change."""
    assert period_change(112.3, 100.0) == pytest.approx(0.123)
    assert period_change(50.0, -100.0) == pytest.approx(1.5)
    for current, previous in (
        (1.0, 0.0),
        (1.0, None),
        (None, 1.0),
        (math.nan, 1.0),
        (1.0, math.inf),
    ):
        assert period_change(current, previous) is None


def test_the_kpi_delta_says_up_or_down_and_against_what():
    """The text, the direction (for the colour) and the accessible label."""
    up = delta_view(112.3, 100.0, 24 * HOUR)
    assert up == {
        "text": "▲ 12.3% vs previous 24 h",
        "direction": "up",
        "label": "Up 12.3% against the previous 24 h",
    }
    down = delta_view(50.0, 200.0, HOUR)
    assert down["text"] == "▼ 75.0% vs previous 1 h" and down["direction"] == "down"
    assert delta_view(100.0, 100.01, HOUR)["direction"] == "flat"
    none = delta_view(5.0, None, 24 * HOUR)
    assert none["direction"] == "none" and "no data" in none["text"]
    assert "zero" in delta_view(5.0, 0.0, 24 * HOUR)["text"]
    assert delta_view(None, None, HOUR)["text"] == ""


def test_durations_and_spans_read_as_people_write_them():
    """24 h, 7 d, 15 min; a bucket's span as clock times in UTC."""
    assert [duration_text(ms) for ms in (24 * HOUR, 7 * 24 * HOUR, 15 * 60_000, 90 * 60_000)] == [
        "24 h",
        "7 d",
        "15 min",
        "90 min",
    ]
    assert duration_text(HOUR) == "1 h" and duration_text(6 * HOUR) == "6 h"
    assert span_text(T14, T14 + HOUR - 1) == "14:00–15:00 UTC"
    assert span_text(T14 + 9 * HOUR, T14 + 10 * HOUR - 1) == "23:00–00:00 UTC"
    assert span_text(T14, T14 + 30 * HOUR) == "11-29 14:00 – 11-30 20:00 UTC"


def crumbs(search):
    """The breadcrumb texts and the query of each link."""
    return [(c["text"], parse_qs(c["href"].lstrip("?"))) for c in breadcrumbs(search, "Ops", "ops")]


def test_the_breadcrumb_of_the_live_default():
    """Dashboard › Last 24 hours, each a link to that level."""
    assert crumbs("") == [
        ("Ops", {"dashboard": ["ops"]}),
        ("Last 24 hours", {"dashboard": ["ops"], "range": ["24h"]}),
    ]


def test_the_breadcrumb_of_a_zoom_then_a_pie_drill_links_back_to_each_level():
    """Dashboard › the preset zoomed from › the span › each drill label, filter kept."""
    search = (
        f"?dashboard=ops&from={T14}&to={T14 + HOUR - 1}&back=6h"
        "&filter=region%3Deu&drill=p:route=/api,code=500"
    )
    got = crumbs(search)
    assert [text for text, _ in got] == [
        "Ops",
        "Last 6 hours",
        "14:00–15:00 UTC",
        "route=/api",
        "code=500",
    ]
    assert got[0][1] == {"dashboard": ["ops"], "filter": ["region=eu"]}
    assert got[1][1] == {"dashboard": ["ops"], "range": ["6h"], "filter": ["region=eu"]}
    span = {
        "dashboard": ["ops"],
        "from": [str(T14)],
        "to": [str(T14 + HOUR - 1)],
        "back": ["6h"],
        "filter": ["region=eu"],
    }
    assert got[2][1] == span
    assert got[3][1] == {**span, "drill": ["p:route=/api"]}
    assert got[4][1] == {**span, "drill": ["p:route=/api,code=500"]}


def test_a_zoom_without_a_preset_goes_back_to_the_default_range():
    """No ``back``: the range level is the dashboard's live default."""
    got = crumbs(f"?from={T14}&to={T14 + HOUR}&drill=bad")
    assert [t for t, _ in got] == ["Ops", "Last 24 hours", "14:00–15:00 UTC"]
    live = crumbs("?range=1h&drill=p:route=/")
    assert [t for t, _ in live] == ["Ops", "Last hour", "route=/"]
    assert live[2][1]["range"] == ["1h"]


def test_a_page_url_is_read_into_its_dashboard_range_filter_and_drill():
    """``read_search`` reads every part of the URL a view needs, with its defaults."""
    from dashboard.boards.view import read_search

    query = read_search("?dashboard=ops&range=6h&filter=region%3Deu&drill=pie:route%3D%2Fapi")
    assert query.search.startswith("?dashboard=ops")
    assert (query.dashboard_id, query.live, query.preset) == ("ops", True, "6h")
    assert query.rng == {"from": "now-6h", "to": "now"}
    assert query.label_filter == {"region": "eu"} and query.typed_filter == "region=eu"
    assert query.filter_note == "Only series with region=eu"
    assert query.drill == ("pie", {"route": "/api"})
    empty = read_search(None)
    assert (empty.search, empty.dashboard_id, empty.live, empty.preset) == ("", "default", True, "")
    assert (empty.label_filter, empty.drill, empty.filter_note, empty.typed_filter) == (
        {},
        None,
        "",
        "",
    )


def test_a_bad_filter_shows_everything_and_says_why():
    """A filter that does not parse keeps what was typed, filters nothing and explains."""
    from dashboard.boards.view import read_search

    query = read_search(f"?from={T14}&to={T14 + HOUR}&filter=region")
    assert query.label_filter == {} and query.typed_filter == "region"
    assert query.filter_note.endswith("; showing everything")
    assert "is not label=value" in query.filter_note
    assert not query.live and query.rng == {"from": T14, "to": T14 + HOUR}
