"""Thresholds as steps (pure): the colour of a tile's value or a table cell, what it means, the
editor's text form and the schema's check."""

from __future__ import annotations

import pytest

from dashboard.boards.thresholds import (
    color_level,
    level_class,
    level_title,
    line_color,
    live_steps,
    parse_steps,
    reached,
    scale_note,
    steps_text,
    valid_thresholds,
)
from dashboard.metrics.model import ValidationError
from layouts.widgets.stat import value_class

STEPS = [{"value": 0.02, "color": "amber"}, {"value": 0.05, "color": "red"}]
PERCENT = {"unit": "percentunit", "decimals": 1}


def test_a_value_takes_the_colour_of_the_highest_step_it_reaches():
    """Green below the first step, amber from 2 %, red from 5 % (the step's value included),
    whatever order the steps are written in; nothing without steps or a value."""
    levels = [level_class(v, STEPS) for v in (0.0, 0.0199, 0.02, 0.049, 0.05, 0.9)]
    assert levels == ["level-ok", "level-ok", "level-warn", "level-warn", "level-bad", "level-bad"]
    assert level_class(0.06, list(reversed(STEPS))) == "level-bad"
    assert level_class(0.03, list(reversed(STEPS))) == "level-warn"
    assert level_class(None, STEPS) == "" and level_class(1.0, []) == ""
    assert reached(-1.0, STEPS) == {"value": None, "color": "green"}


def test_a_tile_keeps_stat_breach_for_red_and_says_what_its_colour_means():
    """The tile's class has its level (and stat-breach when red); its title names the colour
    of the value and every step, in the widget's format."""
    assert value_class(0.01, STEPS) == "stat-value level-ok"
    assert value_class(0.03, STEPS) == "stat-value level-warn"
    assert value_class(0.07, STEPS) == "stat-value level-bad stat-breach"
    assert value_class(0.07, []) == "stat-value"
    assert value_class(0.07, [{"value": 0.05}]) == "stat-value level-bad stat-breach"  # as before
    assert scale_note(STEPS, PERCENT) == "green below 2.0%, amber from 2.0%, red from 5.0%"
    assert level_title("Error rate", 0.03, STEPS, PERCENT) == (
        "Error rate: amber: 2.0% or more (green below 2.0%, amber from 2.0%, red from 5.0%)"
    )
    assert level_title("Error rate", 0.01, STEPS, PERCENT).startswith(
        "Error rate: green: below 2.0% ("
    )
    assert level_title("Error rate", None, STEPS, PERCENT) == (
        "Error rate: green below 2.0%, amber from 2.0%, red from 5.0%"
    )
    assert level_title("Error rate", 0.03, [], PERCENT) is None


def test_colours_read_as_five_levels_and_hex_as_the_nearest_hue():
    """Named colours map to their level; #rrggbb to the level nearest its hue (grey: info);
    a chart's line gets a hex colour Plotly knows (amber is no CSS colour)."""
    named = {c: color_level(c) for c in ("green", "blue", "amber", "yellow", "orange", "red")}
    assert named == {
        "green": "ok",
        "blue": "info",
        "amber": "warn",
        "yellow": "warn",
        "orange": "high",
        "red": "bad",
    }
    hexes = ["#ef4444", "#f97316", "#f59e0b", "#10b981", "#3b82f6", "#808080", "#ec4899"]
    assert [color_level(h) for h in hexes] == ["bad", "high", "warn", "ok", "info", "info", "bad"]
    assert color_level(None) == "bad"
    assert line_color("amber") == "#f59e0b" and line_color("#123456") == "#123456"
    assert line_color(None) == "#ef4444"


def test_live_steps_carry_level_and_meaning_for_the_browser():
    """assets/live.js gets the base and each step with its level and note (it knows no colour
    names, hues or formats)."""
    assert live_steps(STEPS, PERCENT) == [
        {"value": None, "level": "ok", "note": "green: below 2.0%"},
        {"value": 0.02, "level": "warn", "note": "amber: 2.0% or more"},
        {"value": 0.05, "level": "bad", "note": "red: 5.0% or more"},
    ]
    assert live_steps([], PERCENT) == []


def test_the_editor_field_reads_and_writes_steps():
    """``0.02 amber, 0.05 red`` both ways; a step without a colour is red; a bad step is named
    with what to write."""
    assert parse_steps("0.02 amber, 0.05 red") == STEPS
    assert parse_steps(steps_text(STEPS)) == STEPS
    assert steps_text(STEPS) == "0.02 amber, 0.05 red"
    assert parse_steps(" 90 , 99 #FF0000,") == [
        {"value": 90, "color": "red"},
        {"value": 99, "color": "#FF0000"},
    ]
    assert parse_steps("") == [] and parse_steps(None) == []
    assert parse_steps("1e3 Orange") == [{"value": 1000, "color": "orange"}]
    for text, message in (
        ("amber 0.02", "step 1 ('amber 0.02'): start with a number"),
        ("0.02 amber, 0.05 purple", "step 2 ('0.05 purple'): the colour is one of"),
        ("inf red", "a finite number"),
        (", ".join(f"{i} red" for i in range(11)), "at most 10 steps"),
    ):
        with pytest.raises(ValueError, match=r".*") as raised:
            parse_steps(text)
        assert message in str(raised.value), text


def test_thresholds_are_validated_naming_the_step_and_field():
    """At most ten ``{value, color}`` with a finite number and a known colour; today's lists
    (a single red step, a step with no colour) stay valid as they are."""
    assert valid_thresholds(STEPS, "t") == STEPS
    assert valid_thresholds([{"value": 5}], "t") == [{"value": 5}]
    assert valid_thresholds([{"value": 1, "color": "#00aa00"}], "t")[0]["color"] == "#00aa00"
    bad = [
        ({"value": 1}, "t", "a list of at most 10"),
        ([{"value": i} for i in range(11)], "t", "a list of at most 10"),
        (["0.5 red"], "t[0]", '"value" and "color"'),
        ([{"value": 1, "colour": "red"}], "t[0]", '"value" and "color"'),
        ([{"value": "1"}], "t[0].value", "a finite number"),
        ([{"value": float("nan")}], "t[0].value", "a finite number"),
        ([{"value": True}], "t[0].value", "a finite number"),
        ([{"value": 1, "color": "purple"}], "t[0].color", "green, blue, amber"),
        ([{"value": 1, "color": "#12345"}], "t[0].color", "#rrggbb"),
    ]
    for steps, field, message in bad:
        with pytest.raises(ValidationError) as raised:
            valid_thresholds(steps, "t")
        assert raised.value.field == field and message in raised.value.message, steps


def test_each_table_cell_is_coloured_by_the_step_its_value_reaches():
    """Last, min, max and avg each take their own step's colour and title; the live target of
    the last value carries the resolved format and the steps."""
    import numpy as np

    from dashboard.metrics.frame import SeriesFrame
    from dashboard.metrics.model import SeriesKey
    from dashboard.metrics.steps import RAW
    from layouts.widgets import table

    frame = SeriesFrame(SeriesKey.of("err"), RAW, np.array([1, 2, 3]), np.array([0.01, 0.06, 0.03]))
    widget = {"id": "t", "title": "Errors", "format": PERCENT, "thresholds": STEPS}
    body = table.rows(widget, [frame])[2]
    spans = [td.children for td in body.children[0].children[1:]]
    assert [s.children for s in spans] == ["3.0%", "1.0%", "6.0%", "3.3%"]
    assert [s.className.split()[1] for s in spans] == [
        "level-warn",
        "level-ok",
        "level-bad",
        "level-warn",
    ]
    assert spans[2].title.startswith("err, Max: red: 5.0% or more (green below 2.0%")
    _, targets = table.render(widget, [frame])
    live = targets["err"][0]
    assert live["format"] == {"percent": True, "decimals": 1}
    assert [s["level"] for s in live["steps"]] == ["ok", "warn", "bad"]
    assert live["name"] == "err, Last" and live["scale"].startswith("green below 2.0%")
