"""Alert spans and notes on the time charts: paired from events, kept to the chart's range."""

from __future__ import annotations

import pytest

from dashboard.boards.annotations import alert_spans, chart_marks, mark_shapes, valid_notes
from dashboard.boards.models import default_dashboard, validate_dashboard
from dashboard.metrics.model import ValidationError

T = 1_764_424_800_000


def ev(state: str, ts: int, series: str = "cpu", rule: str = "r") -> dict:
    """An alert event as the store lists it."""
    return {"rule_id": rule, "rule": rule.upper(), "series": series, "state": state, "ts": ts}


def test_firing_and_resolved_events_pair_into_spans_per_rule_and_series():
    """Newest-first or not, each firing opens a span its resolution closes; one still firing
    runs to now; pending events draw nothing."""
    events = [
        ev("resolved", T + 60_000),
        ev("firing", T + 10_000),
        ev("pending", T),
        ev("firing", T + 90_000),
        ev("firing", T + 20_000, series="mem", rule="m"),
    ]
    spans = alert_spans(events, now=T + 120_000)
    assert spans["cpu"] == [
        {"start": T + 10_000, "end": T + 60_000, "rule": "R"},
        {"start": T + 90_000, "end": T + 120_000, "rule": "R"},
    ]
    assert spans["mem"] == [{"start": T + 20_000, "end": T + 120_000, "rule": "M"}]


def test_a_chart_marks_its_own_series_alerts_and_the_notes_in_its_range():
    """The chart of cpu gets cpu's spans and the notes between its start and end; shapes are
    a shaded span and a line per alert, a labelled line per note, all below the data."""
    spans = alert_spans([ev("firing", T), ev("resolved", T + 5_000)], now=T + 9_000)
    notes = [{"ts": T + 1_000, "text": "deploy <v2>"}, {"ts": T - 10**9, "text": "old"}]
    marks = chart_marks(["cpu"], spans, notes, T - 60_000, T + 60_000)
    assert [m["kind"] for m in marks] == ["alert", "note"]
    assert chart_marks(["disk"], spans, [], T - 60_000, T + 60_000) == []
    shapes = mark_shapes(marks)
    assert [s["type"] for s in shapes] == ["rect", "line", "line"]
    assert shapes[2]["label"]["text"] == "deploy &lt;v2&gt;"  # text, not markup
    assert all(s["layer"] == "below" for s in shapes)


def test_notes_are_validated_and_stored_with_the_dashboard():
    """A dashboard keeps its notes sorted by time; a bad one is refused naming the field."""
    body = {
        **default_dashboard(),
        "annotations": [{"ts": T + 5, "text": "b"}, {"ts": T, "text": "a"}],
    }
    assert [n["text"] for n in validate_dashboard(body)["annotations"]] == ["a", "b"]
    for bad, field in (
        ([{"ts": "x", "text": "a"}], "annotations[0].ts"),
        ([{"ts": T, "text": ""}], "annotations[0].text"),
        ("no", "annotations"),
    ):
        with pytest.raises(ValidationError) as err:
            valid_notes(bad)
        assert err.value.field == field
