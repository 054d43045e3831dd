"""Editing a dashboard's widgets (pure): moves stay on the grid, copies get fresh ids."""

from __future__ import annotations

import pytest

from dashboard.dashboards import default_dashboard, edit_widget, new_widget, validate_dashboard


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
