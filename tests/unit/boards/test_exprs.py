"""Widgets whose series are PromQL expressions: validation, frames, legends, filters, errors."""

from __future__ import annotations

import numpy as np
import pytest

from dashboard.boards import service
from dashboard.boards.exprs import expr_name, legend, live_entries
from dashboard.boards.figures import line_figure
from dashboard.boards.models import selectors, validate_dashboard
from dashboard.metrics.model import Batch, SeriesKey, SeriesPoints, ValidationError
from dashboard.metrics.stores.hot import HotStore
from dashboard.query.service import QueryLimits

NOW = 1_764_424_800_000
RATE = "sum by (route) (rate(reqs_total[5m]))"


class Reader:
    """A hot store read as the runtime reads it, with the node's query limits."""

    def __init__(self, store: HotStore, limits: QueryLimits | None = None) -> None:
        """Wrap ``store``."""
        self.store = store
        self.query_limits = limits or QueryLimits()

    def series_list(self):
        """Every known series."""
        return self.store.list_series()

    def query(self, key, start_ms, end_ms, step):
        """A range read."""
        return self.store.query(key, start_ms, end_ms, step)


def counters() -> HotStore:
    """Two hours of a counter per route and region, +1 every 10 s; ``/web`` in ``us`` resets
    to 0 an hour ago (a restart), as real counters do."""
    store = HotStore()
    ts = np.arange(NOW - 2 * 3_600_000, NOW + 1, 10_000, dtype=np.int64)
    series = []
    for route, region in (("/api", "eu"), ("/api", "us"), ("/web", "us")):
        values = np.arange(len(ts), dtype=np.float64)
        if route == "/web":
            values[len(ts) // 2 :] -= values[len(ts) // 2]
        key = SeriesKey.of("reqs_total", {"route": route, "region": region})
        series.append(SeriesPoints(key, ts, values, ""))
    store.write(Batch(series))
    return store


def board(*entries, kind: str = "line") -> dict:
    """A valid dashboard of one widget drawing ``entries``."""
    return validate_dashboard(
        {
            "id": "b",
            "title": "B",
            "widgets": [
                {"id": "w", "kind": kind, "title": "W", "series": list(entries)},
            ],
        }
    )


def test_an_expression_entry_is_validated_with_the_parsers_position():
    """A widget may draw an expression; a bad one is refused naming the field and the char."""
    saved = board({"expr": f"  {RATE} ", "legend": "{{route}}"})
    assert saved["widgets"][0]["series"] == [{"expr": RATE, "legend": "{{route}}"}]
    with pytest.raises(ValidationError) as bad:
        board({"expr": "sum(rate(reqs_total[5m])"})
    assert bad.value.field == "widgets[0].series[0].expr"
    assert "parse error" in bad.value.message
    with pytest.raises(ValidationError) as long:
        board({"expr": "x" * 3000})
    assert "2000" in long.value.message
    with pytest.raises(ValidationError):
        board({"expr": "up", "legend": "\x00"})


def test_the_live_feed_selects_an_expressions_series_by_its_name():
    """The room's selectors and the browser's catch-all name an expression's series."""
    saved = board({"expr": RATE, "labels": {"route": "/api"}}, {"name": "demo.x", "labels": {}})
    names = [s.name for s in selectors(saved)]
    assert names == [expr_name(RATE), "demo.x"]
    assert live_entries(saved["widgets"][0]["series"])[0] == {
        "name": expr_name(RATE),
        "labels": {"route": "/api"},
    }
    assert expr_name(RATE) == expr_name(f" {RATE}\n")  # the same on every node and page


def test_a_line_widget_draws_the_rate_of_counters_with_resets():
    """``sum by (route) (rate(...))`` over real-shaped counters: 0.2/s for /api (two regions),
    0.1/s for /web except where its window holds the reset; named by the legend template."""
    reader = Reader(counters())
    widget = board({"expr": RATE, "legend": "route {{route}}"})["widgets"][0]
    frames = service.widget_frames(
        reader=reader, widget=widget, dashboard_range={"from": "now-1h", "to": "now"}, now=NOW
    )
    assert [f.key for f in frames] == [
        SeriesKey.of(expr_name(RATE), {"route": "/api"}),
        SeriesKey.of(expr_name(RATE), {"route": "/web"}),
    ]
    api, web = frames
    assert np.diff(api.ts).min() == np.diff(api.ts).max() == 5_000  # 1 h in <= 1000 points
    np.testing.assert_allclose(api.value, 0.2)
    reset_at = NOW - 3_600_000
    clear = web.ts >= reset_at + 5 * 60_000 + 10_000  # windows after the restart
    np.testing.assert_allclose(web.value[clear], 0.1)
    near = web.value[~clear]  # the windows that hold the restart lose one 10 s increase
    assert (near <= 0.1 + 1e-12).all() and (near > 0.09).all() and (near < 0.0999).sum() > 20
    figure = line_figure(widget, frames)
    assert [t["name"] for t in figure["data"]] == ["route /api", "route /web"]


def test_filters_and_drills_narrow_an_expression_to_the_series_carrying_the_labels():
    """The page's label filter and the entry's labels (a pie drill) keep matching results."""
    reader = Reader(counters())
    by_region = "sum by (region) (rate(reqs_total[5m]))"
    widget = board({"expr": by_region, "labels": {"region": "us"}}, kind="pie")["widgets"][0]
    rng = {"from": "now-1h", "to": "now"}
    frames = service.widget_frames(reader=reader, widget=widget, dashboard_range=rng, now=NOW)
    assert [f.key.label_dict for f in frames] == [{"region": "us"}]
    whole = board({"expr": by_region})["widgets"][0]
    eu = service.widget_frames(
        reader=reader, widget=whole, dashboard_range=rng, now=NOW, label_filter={"region": "eu"}
    )
    assert [f.key.label_dict for f in eu] == [{"region": "eu"}]


def test_a_stat_tile_compares_an_expression_with_the_period_before():
    """The tile's change against the previous period comes from the expression too."""
    reader = Reader(counters())
    widget = board({"expr": 'sum(rate(reqs_total{route="/api"}[5m]))'}, kind="stat")
    current, previous, length = service.period_values(
        reader=reader,
        widget=widget["widgets"][0],
        dashboard_range={"from": "now-30m", "to": "now"},
        now=NOW,
    )
    assert length == 30 * 60_000
    assert current == pytest.approx(0.2) and previous == pytest.approx(0.2)


def test_an_expression_over_the_limits_says_so_on_its_card():
    """A query over the node's sample limit is the widget's error, not the page's crash."""
    reader = Reader(counters(), QueryLimits(max_samples=10))
    widget = board({"expr": RATE})["widgets"][0]
    view = service.read_widget(
        reader=reader,
        widget=widget,
        dashboard_range={"from": "now-1h", "to": "now"},
        now=NOW,
        known=[],
        deferred=False,
    )
    assert view.error.startswith("The query failed: ") and "too many samples" in view.error
    assert view.frames == []


def test_a_legend_template_fills_labels_as_grafana_does():
    """``{{label}}`` takes the value, with spaces allowed; a missing label is empty."""
    assert legend("{{ route }} in {{region}}", {"route": "/a", "region": "eu"}) == "/a in eu"
    assert legend("{{route}} {{nope}}", {"route": "/a"}) == "/a"


def test_the_editor_adds_a_widget_of_a_query_and_says_what_is_wrong_with_a_bad_one():
    """The Add widget form with a query: a widget of that expression; a bad one is refused with
    the parser's position; the settings form keeps a widget's expressions."""
    from callbacks.edit_widgets import FormError, edited
    from dashboard.boards.models import configure_widget, default_dashboard

    dash = default_dashboard()
    changed, note = edited(dash, "add-submit", "line", None, "", "", RATE)
    added = changed["widgets"][-1]
    assert added["series"] == [{"expr": RATE}] and note == f"Added {RATE}"
    with pytest.raises(FormError) as bad:
        edited(dash, "add-submit", "line", None, "", "", "rate(x[5m]")
    assert str(bad.value).startswith("Query: parse error at char")
    saved = validate_dashboard(changed)
    kept = configure_widget(
        saved,
        added["id"],
        title="Rates",
        kind="line",
        aggregation="avg",
        step="auto",
        series=[{"name": "demo.x", "labels": {}}],
    )
    assert kept["widgets"][-1]["series"] == [{"name": "demo.x", "labels": {}}, {"expr": RATE}]
