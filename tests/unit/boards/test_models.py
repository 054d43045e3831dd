"""Validating a dashboard (pure): each bad field is named, with what it should be."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from dashboard.boards.models import default_dashboard, validate_dashboard
from dashboard.metrics.model import ValidationError


def with_widget(**changes: Any) -> dict[str, Any]:
    """The default dashboard with its first widget changed (``None`` removes a field)."""
    dash = copy.deepcopy(default_dashboard())
    widget = dash["widgets"][0]
    for key, value in changes.items():
        if value is None:
            widget.pop(key, None)
        else:
            widget[key] = value
    return dash


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ([], "body", "must be a JSON object"),
        ({**default_dashboard(), "schema_version": 2}, "schema_version", "reads schema_version 1"),
        ({**default_dashboard(), "id": "A"}, "id", "1 to 64 of a-z"),
        ({**default_dashboard(), "title": "x" * 121}, "title", "1 to 120 printable"),
        ({**default_dashboard(), "range": "24h"}, "range", 'must be {"from", "to"}'),
        ({**default_dashboard(), "range": {"from": "soon"}}, "range", ""),
        ({**default_dashboard(), "widgets": {}}, "widgets", "at most 200 widgets"),
        ({**default_dashboard(), "widgets": [1]}, "widgets[0]", "must be an object"),
        (with_widget(id="Bad"), "widgets[0].id", "1 to 64 of a-z"),
        (with_widget(kind="gauge"), "widgets[0].kind", "one of line, bar, pie"),
        (with_widget(series=[]), "widgets[0].series", "a list of 1 to 50"),
        (with_widget(series=[{"name": "9x"}]), "widgets[0].series[0].name", "a metric name"),
        (
            with_widget(series=[{"name": "x", "labels": {"k": 1}}]),
            "widgets[0].series[0].labels",
            "identifier keys with string values",
        ),
        (with_widget(aggregation="median"), "widgets[0].aggregation", "one of avg, min"),
        (with_widget(step="2m"), "widgets[0].step", "one of auto, raw"),
        (with_widget(layout={"x": "a"}), "widgets[0].layout", "x, y, w, h are integers"),
        (with_widget(layout={"x": 8, "w": 6}), "widgets[0].layout", "x+w <= 12"),
        (with_widget(title=""), "widgets[0].title", "1 to 120 printable"),
    ],
)
def test_each_bad_field_is_named(body: Any, field: str, message: str) -> None:
    """The error names the first bad field and says what it should be."""
    with pytest.raises(ValidationError) as raised:
        validate_dashboard(body)
    assert raised.value.field == field
    assert message in raised.value.message


def test_a_repeated_widget_id_is_named_before_its_other_faults() -> None:
    """A widget whose id is taken is refused for that first, whatever else is wrong with it."""
    dash = default_dashboard()
    dash["widgets"].append({**dash["widgets"][0], "kind": "gauge"})
    with pytest.raises(ValidationError) as raised:
        validate_dashboard(dash)
    assert raised.value.field == f"widgets[{len(dash['widgets']) - 1}].id"
    assert raised.value.message == "'kpi-users' is used twice"


def test_a_valid_widget_keeps_only_known_fields_with_defaults() -> None:
    """Defaults fill aggregation, step and layout; format, thresholds and range are kept."""
    dash = with_widget(aggregation=None, step=None, layout=None, extra="dropped")
    dash["widgets"][0]["range"] = {"from": "now-1h", "to": "now"}
    widget = validate_dashboard(dash)["widgets"][0]
    assert (widget["aggregation"], widget["step"]) == ("avg", "auto")
    assert widget["layout"] == {"x": 0, "y": 0, "w": 6, "h": 4}
    assert "extra" not in widget and widget["format"] == {"unit": "none", "decimals": 0}
    assert widget["range"] == {"from": "now-1h", "to": "now"}
