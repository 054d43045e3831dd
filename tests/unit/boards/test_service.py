"""The boards service: saved dashboards for editors only, and what a page reads for widgets."""

from __future__ import annotations

import copy
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from dashboard.boards import service
from dashboard.boards.models import default_dashboard, validate_dashboard
from dashboard.metrics.model import Batch, SeriesKey, SeriesPoints, ValidationError
from dashboard.metrics.stores.hot import HotStore

NOW = 1_764_424_800_000
EDITOR = SimpleNamespace(username="ed", role="editor")
VIEWER = SimpleNamespace(username="vi", role="viewer")


class FakeStore:
    """Dashboards in a dict, validated on the way in as the real store does."""

    def __init__(self) -> None:
        """Start with the default dashboard."""
        self.saved: dict[str, dict[str, Any]] = {}
        self.owners: dict[str, str | None] = {}
        self.put(default_dashboard(), owner=None)

    def list(self) -> list[dict[str, Any]]:
        """Id and title of each dashboard, by title."""
        rows = [{"id": d["id"], "title": d["title"]} for d in self.saved.values()]
        return sorted(rows, key=lambda r: (r["title"], r["id"]))

    def get(self, dashboard_id: str) -> dict[str, Any] | None:
        """A copy of a saved dashboard."""
        found = self.saved.get(dashboard_id)
        return copy.deepcopy(found) if found else None

    def put(self, body: Any, *, owner: str | None) -> dict[str, Any]:
        """Validate and save."""
        dashboard = validate_dashboard(body)
        self.saved[dashboard["id"]] = dashboard
        self.owners[dashboard["id"]] = owner
        return dashboard

    def delete(self, dashboard_id: str) -> bool:
        """Delete; False when absent."""
        return self.saved.pop(dashboard_id, None) is not None


class Reader:
    """A memory store read as the runtime reads it (``series_list``)."""

    def __init__(self, store: HotStore) -> None:
        """Wrap ``store``."""
        self.store = store

    def series_list(self) -> list[Any]:
        """Every known series."""
        return self.store.list_series()

    def query(self, key: SeriesKey, start_ms: int, end_ms: int, step: Any) -> Any:
        """A range read."""
        return self.store.query(key, start_ms, end_ms, step)


@pytest.fixture
def reader() -> Reader:
    """Two hours of points every 10 s: active users, and requests on two routes."""
    store = HotStore()
    ts = np.arange(NOW - 2 * 3_600_000, NOW, 10_000, dtype=np.int64)
    keys = [
        SeriesKey.of("demo.active_users"),
        SeriesKey.of("demo.requests", {"route": "/api", "region": "eu"}),
        SeriesKey.of("demo.requests", {"route": "/web", "region": "us"}),
    ]
    store.write(Batch([SeriesPoints(k, ts, np.full(len(ts), 5.0), "") for k in keys]))
    return Reader(store)


def test_only_editors_change_dashboards():
    """Every change needs an editor (or an admin); anyone else is refused, nothing is saved."""
    store = FakeStore()
    body = {**default_dashboard(), "id": "mine", "title": "Mine"}
    for user in (None, VIEWER):
        with pytest.raises(service.EditRefused):
            service.create_dashboard(store=store, body=body, user=user)
        with pytest.raises(service.EditRefused):
            service.delete_dashboard(store=store, dashboard_id="default", user=user)
    assert [d["id"] for d in service.list_dashboards(store=store)] == ["default"]
    admin = SimpleNamespace(username="root", role="admin")
    assert service.editor_name(user=admin) == "root"
    assert service.create_dashboard(store=store, body=body, user=EDITOR)["id"] == "mine"
    assert store.owners["mine"] == "ed"


def test_create_replace_and_delete_answer_with_domain_errors():
    """A taken id, a missing dashboard and an invalid body each raise their own error."""
    store = FakeStore()
    base = default_dashboard()
    with pytest.raises(service.DashboardExists) as taken:
        service.create_dashboard(store=store, body=base, user=EDITOR)
    assert taken.value.dashboard_id == "default"
    with pytest.raises(ValidationError):
        service.create_dashboard(store=store, body={**base, "id": "x", "title": ""}, user=EDITOR)
    with pytest.raises(service.DashboardNotFound):
        service.replace_dashboard(store=store, dashboard_id="nope", body=base, user=EDITOR)
    with pytest.raises(service.DashboardNotFound):
        service.replace_dashboard(store=store, dashboard_id="default", body=[1], user=EDITOR)
    renamed = service.replace_dashboard(
        store=store, dashboard_id="default", body={**base, "id": "other", "title": "R"}, user=EDITOR
    )
    assert (renamed["id"], renamed["title"]) == ("default", "R")
    with pytest.raises(service.DashboardNotFound):
        service.get_dashboard(store=store, dashboard_id="nope")
    assert service.find_dashboard(store=store, dashboard_id="nope") is None
    service.delete_dashboard(store=store, dashboard_id="default", user=EDITOR)
    with pytest.raises(service.DashboardNotFound):
        service.delete_dashboard(store=store, dashboard_id="default", user=EDITOR)


def test_new_and_imported_dashboards_get_fresh_ids():
    """An empty dashboard and an imported one are saved under ids made from their titles."""
    store = FakeStore()
    first = service.new_dashboard(store=store, title="Ops", user=EDITOR)
    second = service.new_dashboard(store=store, title="Ops", user=EDITOR)
    assert (first["id"], second["id"], first["widgets"]) == ("ops", "ops-2", [])
    imported = service.import_dashboard(
        store=store, body=default_dashboard(), title=" ", user=EDITOR
    )
    assert (imported["id"], imported["title"]) == ("saas-overview", "SaaS overview")
    with pytest.raises(ValidationError):
        service.import_dashboard(store=store, body="not json", title="x", user=EDITOR)


def test_a_board_is_read_with_its_widgets_frames_and_deltas(reader):
    """Each widget gets its frames (or only its keys when deferred) and a stat its delta."""
    dash = default_dashboard()
    board = service.read_board(
        reader=reader,
        dashboard=dash,
        rng=dash["range"],
        live=True,
        now=NOW,
        cursor="c-1",
        deferred=lambda w: w["kind"] == "line",
    )
    assert (board.dashboard_id, board.cursor, board.now, board.live) == (
        "default",
        "c-1",
        NOW,
        True,
    )
    views = {v.widget["id"]: v for v in board.widgets}
    assert list(views) == [w["id"] for w in dash["widgets"]]
    users = views["kpi-users"]
    assert len(users.frames) == 1 and users.delta is not None and not users.deferred
    line = views["line-requests"]
    assert line.deferred and line.frames == [] and len(line.keys) == 2
    assert views["pie-requests"].widget["range"] == {"from": "now-1h", "to": "now"}
    assert len(views["pie-requests"].frames) == 2 and views["pie-requests"].delta is None


def test_a_filter_drill_and_fixed_range_shape_what_is_read(reader):
    """A label filter leaves widgets without a match empty; a drill opens a pie's slice; a
    fixed range drops the widgets' own ranges."""
    dash = default_dashboard()
    fixed = {"from": NOW - 3_600_000, "to": NOW}
    board = service.read_board(
        reader=reader,
        dashboard=dash,
        rng=fixed,
        live=False,
        now=NOW,
        cursor="c",
        deferred=lambda w: False,
        label_filter={"region": "eu"},
        drill=("pie-requests", {"route": "/api"}),
    )
    views = {v.widget["id"]: v for v in board.widgets}
    assert views["kpi-users"].filtered_out and views["kpi-users"].frames == []
    pie = views["pie-requests"]
    assert not pie.filtered_out and "range" not in pie.widget
    assert pie.widget["kind"] == "line" and pie.widget["drilled"] == {"route": "/api"}
    assert [str(f.key) for f in pie.frames] == ['demo.requests{region="eu",route="/api"}']
    assert board.label_filter == {"region": "eu"}
