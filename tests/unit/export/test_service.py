"""The export service over an in-memory node: what a CSV export reads, what a report holds."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from pypdf import PdfReader

from dashboard.export import service
from dashboard.metrics.frame import SeriesFrame, SeriesInfo
from dashboard.metrics.model import Batch, SeriesKey, make_points
from dashboard.metrics.steps import DAY, HOUR, RAW, Step, step_named
from dashboard.metrics.stores.hot import HotStore

NOW = 1_764_424_800_000  # 2025-11-29 14:00 UTC
MINUTE = 60_000
LOGIN = SeriesKey.of("req", {"route": "/login"})
HOME = SeriesKey.of("req", {"route": "/"})
USERS = SeriesKey.of("users", {})


class FakePool:
    """A render pool that has (or lacks) Chromium and renders nothing."""

    def __init__(self, missing: str | None = None) -> None:
        """A pool; ``missing`` says what is not installed."""
        self.missing = missing
        self.rendered: list[dict[str, Any]] = []

    def available(self) -> str | None:
        """What is missing, if anything."""
        return self.missing

    def render(self, figures: list[dict[str, Any]]) -> list[bytes]:
        """No images (the tests' dashboards have no charts)."""
        self.rendered += figures
        return []


class FakeAlertStore:
    """Alert events, newest first, as the alert store returns them."""

    def __init__(self, events: list[dict[str, Any]]) -> None:
        """A store holding ``events``."""
        self._events = events

    def events(self, *, limit: int, since_ts: int) -> list[dict[str, Any]]:
        """Events at or after ``since_ts``, newest first."""
        return [e for e in self._events if e["ts"] >= since_ts][:limit]


class FakeNode:
    """What the export service uses of the runtime: series, dashboards, the pool, alerts (a dict
    and small fakes stand in for the dashboard store, the render pool and the alert store)."""

    def __init__(self, events: list[dict[str, Any]] | None = None) -> None:
        """A node with a minute of points a series for the hour before NOW."""
        self.store = HotStore()
        ts = list(range(NOW - HOUR, NOW, MINUTE))
        for i, key in enumerate((LOGIN, HOME, USERS)):
            self.store.write(Batch([make_points(key, ts, [float(i + n) for n in range(60)])]))
        self.dashboards: dict[str, dict[str, Any]] = {
            "ops": {
                "id": "ops",
                "title": "Ops <b>",
                "widgets": [
                    {"id": "t", "kind": "table", "title": "Requests", "series": [{"name": "req"}]},
                    {"id": "s", "kind": "status", "title": "Users", "series": [{"name": "users"}]},
                ],
            }
        }
        self.render_pool = FakePool()
        self.alerts = type("Alerts", (), {"store": FakeAlertStore(events or [])})()

    def series_list(self) -> list[SeriesInfo]:
        """Known series."""
        return self.store.list_series()

    def query(self, key: SeriesKey, start_ms: int, end_ms: int, step: Step) -> SeriesFrame:
        """A store read."""
        return self.store.query(key, start_ms, end_ms, step)


def plan(node: FakeNode, **overrides: Any) -> service.CsvExport:
    """A CSV export of the last hour, by default of the ``req`` series."""
    args: dict[str, Any] = {
        "names": ["req"],
        "series": [],
        "dashboard_id": None,
        "start": NOW - HOUR,
        "end": NOW,
        "step": "auto",
        "now": NOW,
    }
    return service.plan_csv(rt=node, **{**args, **overrides})  # type: ignore[arg-type]


def test_an_export_selects_by_name_by_key_or_by_dashboard():
    """Names take every series of the name, keys one series, a dashboard what its widgets show."""
    node = FakeNode()
    assert plan(node).keys == [HOME, LOGIN]
    assert plan(node, names=[], series=[LOGIN]).keys == [LOGIN]
    assert plan(node, names=[], dashboard_id="ops").keys == [HOME, LOGIN, USERS]


def test_an_export_is_refused_with_the_reason():
    """Nothing selected, an unknown dashboard, a bad step, too long a range at a fine step."""
    node = FakeNode()
    with pytest.raises(service.BadParameter, match="name what to export"):
        plan(node, names=[])
    with pytest.raises(service.UnknownDashboard):
        plan(node, dashboard_id="nope")
    with pytest.raises(service.BadParameter, match="^step: "):
        plan(node, step="2m")
    with pytest.raises(service.RangeTooLong, match="raw: export at most 400 days"):
        plan(node, start=0, end=NOW, step="raw")
    assert plan(node, start=0, end=NOW, step="1d").step == step_named("1d")


def test_the_lines_are_the_header_and_every_point_of_each_series():
    """A raw export writes each point once, series after series, across its chunks of time."""
    node = FakeNode()
    export = service.CsvExport([LOGIN, USERS], NOW - DAY, NOW, RAW)
    table = list(csv.DictReader(io.StringIO("".join(service.csv_lines(rt=node, export=export)))))
    assert len(table) == 120
    assert [r["name"] for r in (table[0], table[60])] == ["req", "users"]
    assert [int(r["ts_ms"]) for r in table[:60]] == list(range(NOW - HOUR, NOW, MINUTE))


def test_a_rollup_export_starts_with_the_bucket_holding_start():
    """Buckets are whole: the first is the one ``start`` falls in, none before it."""
    node = FakeNode()
    start = NOW - 30 * MINUTE + 1
    export = service.CsvExport([LOGIN], start, NOW, step_named("1m"))
    table = list(csv.DictReader(io.StringIO("".join(service.csv_lines(rt=node, export=export)))))
    assert [int(r["ts_ms"]) for r in table] == list(range(NOW - 30 * MINUTE, NOW, MINUTE))
    assert table[0]["count"] == "1"


def test_without_chromium_reports_are_unavailable():
    """The pool's reason comes back as the refusal's detail."""
    node = FakeNode()
    node.render_pool = FakePool(missing="no Chromium found: install it")
    with pytest.raises(service.RenderUnavailable, match="install it"):
        service.check_renderer(rt=node)  # type: ignore[arg-type]
    service.check_renderer(rt=FakeNode())  # type: ignore[arg-type]


def test_a_report_of_widgets_without_charts_renders_nothing():
    """A table and a status widget become summary pages; the alerts of the range are listed."""
    events = [
        {
            "ts": NOW - HOUR - 1,
            "state": "firing",
            "rule": "before-the-range",
            "series": "x",
            "value": 1.0,
            "severity": "info",
        },
        {
            "ts": NOW - 60_000,
            "state": "pending",
            "rule": "still-pending",
            "series": "x",
            "value": 1.0,
            "severity": "info",
        },
        {
            "ts": NOW - 30_000,
            "state": "firing",
            "rule": "fired-in-range",
            "series": "x",
            "value": None,
            "severity": "error",
        },
    ]
    node = FakeNode(events)
    pdf = service.pdf_report(
        rt=node,  # type: ignore[arg-type]
        dash=node.dashboards["ops"],
        start=NOW - HOUR,
        end=NOW,
        now=NOW,
        user="ann",
    )
    assert node.render_pool.rendered == []
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1 + 2 + 1
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "Ops <b>" in text and "by ann" in text
    assert text.count("Shown as a table: this widget has no chart.") == 2
    assert 'req{route="/login"}' in text and "users" in text
    assert "fired-in-range" in text and "no data" in text
    assert "before-the-range" not in text and "still-pending" not in text
