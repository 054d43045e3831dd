"""The widget settings form's unit, decimals, thresholds and legend: filled from the saved
widget, and written back validated (a bad field is named, nothing else changes)."""

from __future__ import annotations

import pytest

from callbacks.edit_widgets import FormError, with_number_settings
from dashboard.boards.models import configure_widget, default_dashboard
from dashboard.metrics.model import ValidationError
from layouts.editing import FROM_SERIES

KEEP = {"title": "Error rate", "kind": "stat", "aggregation": "avg", "step": "auto"}
SERIES = [{"name": "demo.error_rate", "labels": {}}]


def saved(dash: dict, wid: str = "kpi-errors", **form) -> dict:
    """The dashboard as Save leaves it: the form's number settings, then the validated rest."""
    changed = with_number_settings(dash, wid, **form)
    return configure_widget(changed, wid, **KEEP, series=SERIES)


def widget_of(dash: dict, wid: str = "kpi-errors") -> dict:
    """One widget of a dashboard."""
    return next(w for w in dash["widgets"] if w["id"] == wid)


def test_the_form_writes_unit_decimals_steps_and_legend():
    """Percent with 3 decimals, two steps, a table legend; list (the default) stores none."""
    dash = saved(
        default_dashboard(),
        unit="percentunit",
        decimals=3,
        thresholds="0.01 yellow, 0.1 red",
        legend="table",
    )
    widget = widget_of(dash)
    assert widget["format"] == {"unit": "percentunit", "decimals": 3}
    assert widget["thresholds"] == [
        {"value": 0.01, "color": "yellow"},
        {"value": 0.1, "color": "red"},
    ]
    assert widget["legend"] == {"mode": "table"}
    plain = widget_of(saved(dash, unit=FROM_SERIES, decimals=None, thresholds="", legend="list"))
    assert not {"format", "thresholds", "legend"} & set(plain)


def test_a_bad_field_is_named_and_nothing_is_saved():
    """Thresholds that do not read are a FormError naming the step; decimals out of range a
    ValidationError naming the widget's field."""
    with pytest.raises(FormError, match="Thresholds: step 1"):
        with_number_settings(
            default_dashboard(),
            "kpi-errors",
            unit="none",
            decimals=None,
            thresholds="lots red",
            legend="list",
        )
    with pytest.raises(ValidationError) as raised:
        saved(default_dashboard(), unit="none", decimals=9, thresholds="", legend="list")
    assert raised.value.field == "widgets[2].format.decimals"


def test_an_old_format_keeps_its_own_suffix_when_its_unit_changes():
    """A price saved before ids ({$, /h}) switched to euros keeps /h and drops the $."""
    dash = default_dashboard()
    widget_of(dash, "kpi-revenue")["format"] = {"prefix": "$", "suffix": "/h"}
    changed = with_number_settings(
        dash, "kpi-revenue", unit="currencyEUR", decimals=0, thresholds="", legend="list"
    )
    assert widget_of(changed, "kpi-revenue")["format"] == {
        "unit": "currencyEUR",
        "suffix": "/h",
        "decimals": 0,
    }
