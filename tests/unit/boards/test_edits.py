"""Editing a dashboard's widgets (pure): moves stay on the grid, copies get fresh ids."""

from __future__ import annotations

import pytest

from dashboard.boards.models import (
    configure_widget,
    default_dashboard,
    edit_widget,
    imported_dashboard,
    new_widget,
    place_widget,
    unique_id,
    validate_dashboard,
)
from dashboard.metrics.model import ValidationError


def layout_of(dash, wid):
    """A widget's layout."""
    return next(w["layout"] for w in dash["widgets"] if w["id"] == wid)


def test_moves_and_resizes_stay_on_the_twelve_column_grid():
    """Edits change one step at a time and never leave the grid."""
    dash = default_dashboard()
    assert layout_of(dash, "kpi-users") == {"x": 0, "y": 0, "w": 3, "h": 2}
    assert layout_of(edit_widget(dash, "kpi-users", "left"), "kpi-users")["x"] == 0
    moved = edit_widget(dash, "kpi-users", "right")
    assert layout_of(moved, "kpi-users") == {"x": 1, "y": 0, "w": 3, "h": 2}
    assert layout_of(dash, "kpi-users")["x"] == 0  # the original is untouched
    wide = dash
    for _ in range(20):
        wide = edit_widget(wide, "status-health", "wider")
    assert layout_of(wide, "status-health") == {"x": 9, "y": 0, "w": 3, "h": 2}
    tall = edit_widget(edit_widget(dash, "kpi-users", "taller"), "kpi-users", "down")
    assert layout_of(tall, "kpi-users") == {"x": 0, "y": 1, "w": 3, "h": 3}
    validate_dashboard(wide)
    validate_dashboard(tall)


def test_duplicate_and_remove():
    """A duplicate gets a new id and goes below; remove takes the widget out."""
    dash = edit_widget(default_dashboard(), "line-users", "duplicate")
    ids = [w["id"] for w in dash["widgets"]]
    assert "line-users-2" in ids and ids.index("line-users-2") == ids.index("line-users") + 1
    again = edit_widget(dash, "line-users", "duplicate")
    assert "line-users-3" in [w["id"] for w in again["widgets"]]
    gone = edit_widget(again, "line-users", "remove")
    assert "line-users" not in [w["id"] for w in gone["widgets"]]
    validate_dashboard(again)
    with pytest.raises(ValueError):
        edit_widget(dash, "nope", "left")
    with pytest.raises(ValueError):
        edit_widget(dash, "line-users", "explode")


def test_new_widget_goes_below_with_a_unique_id_and_validates():
    """An added widget has a slug id, sits under everything, and the result validates."""
    dash = new_widget(
        default_dashboard(),
        kind="line",
        title="Orders EU",
        name="shop.orders",
        labels={"region": "eu"},
    )
    widget = dash["widgets"][-1]
    assert widget["id"] == "orders-eu" and widget["series"][0]["labels"] == {"region": "eu"}
    assert widget["layout"]["y"] == 10
    twice = new_widget(dash, kind="stat", title="Orders EU", name="shop.orders", labels={})
    assert twice["widgets"][-1]["id"] == "orders-eu-2"
    validate_dashboard(twice)


def test_place_widget_moves_and_resizes_within_the_grid():
    """A drop sets the widget's place and size; a drop off the grid is pulled back onto it."""
    dash = default_dashboard()
    placed = place_widget(dash, "kpi-users", 4, 7, 5, 3)
    assert layout_of(placed, "kpi-users") == {"x": 4, "y": 7, "w": 5, "h": 3}
    assert layout_of(dash, "kpi-users") == {"x": 0, "y": 0, "w": 3, "h": 2}  # untouched
    past_right = place_widget(dash, "kpi-users", 11, 0, 4, 2)
    assert layout_of(past_right, "kpi-users") == {"x": 8, "y": 0, "w": 4, "h": 2}
    wild = place_widget(dash, "kpi-users", -3, -9, 40, 99)
    assert layout_of(wild, "kpi-users") == {"x": 0, "y": 0, "w": 12, "h": 20}
    tiny = place_widget(dash, "kpi-users", 2, 2000, 0, 0)
    assert layout_of(tiny, "kpi-users") == {"x": 2, "y": 1000, "w": 1, "h": 1}
    for board in (placed, past_right, wild, tiny):
        validate_dashboard(board)
    with pytest.raises(ValueError):
        place_widget(dash, "nope", 0, 0, 1, 1)


def test_configure_widget_sets_series_kind_aggregation_and_step():
    """The settings form's values replace the widget's, validated; bad values name the field."""
    two = [
        {"name": "demo.active_users", "labels": {}},
        {"name": "demo.requests", "labels": {"route": "/api"}},
    ]
    dash = configure_widget(
        default_dashboard(),
        "line-users",
        title=" Users and API ",
        kind="bar",
        aggregation="max",
        step="5m",
        series=two,
    )
    widget = next(w for w in dash["widgets"] if w["id"] == "line-users")
    assert (widget["title"], widget["kind"], widget["aggregation"], widget["step"]) == (
        "Users and API",
        "bar",
        "max",
        "5m",
    )
    assert widget["series"] == two and widget["layout"] == {"x": 0, "y": 2, "w": 6, "h": 4}
    settings = {"title": "T", "kind": "line", "aggregation": "avg", "step": "auto", "series": two}
    for field, bad in (
        ("series", []),
        ("kind", "radar"),
        ("aggregation", "median"),
        ("step", "2m"),
        ("title", ""),
    ):
        with pytest.raises(ValidationError) as caught:
            configure_widget(default_dashboard(), "line-users", **{**settings, field: bad})
        assert field in caught.value.field
    with pytest.raises(ValueError):
        configure_widget(default_dashboard(), "nope", **settings)


def test_an_imported_dashboard_gets_the_new_title_and_a_free_id():
    """Import keeps the widgets and layout, takes the given title, and never overwrites."""
    exported = default_dashboard()
    taken = {"default", "copy-of-saas"}
    board = imported_dashboard(exported, "Copy of SaaS", taken.__contains__)
    assert (board["id"], board["title"]) == ("copy-of-saas-2", "Copy of SaaS")
    assert board["widgets"] == validate_dashboard(exported)["widgets"]
    own_title = imported_dashboard(exported, "  ", taken.__contains__)
    assert (own_title["id"], own_title["title"]) == ("saas-overview", "SaaS overview")
    assert unique_id("Default", taken.__contains__) == "default-2"
    broken = {**exported, "widgets": [{**exported["widgets"][0], "kind": "radar"}]}
    with pytest.raises(ValidationError) as caught:
        imported_dashboard(broken, "Broken", taken.__contains__)
    assert caught.value.field == "widgets[0].kind"
    with pytest.raises(ValidationError):
        imported_dashboard([1, 2], "List", taken.__contains__)
