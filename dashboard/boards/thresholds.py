"""Thresholds as Grafana-style steps (pure): the colour a value takes in a tile or a table cell.

A widget's ``thresholds`` is a list of steps ``{"value", "color"}`` (at most 10): a value takes
the colour of the highest step it reaches, and green below the first (the implicit base). A
colour is named (green, amber or yellow, orange, red, blue; red when none is given) or
``#rrggbb``. Tiles and cells show each as one of five levels (``level-ok``, ``-info``,
``-warn``, ``-high``, ``-bad``: assets/style.css gives them colours that meet contrast in the
light and the dark theme), a ``#rrggbb`` one as the level nearest its hue; a chart's threshold
line uses the colour as written. ``assets/live.js`` (``levelOf``) picks a live value's step the
same way, from the steps ``live_steps`` gives it.
"""

from __future__ import annotations

import colorsys
import math
import re
from typing import Any

from dashboard.boards.units import format_number
from dashboard.metrics.model import ValidationError

MAX_STEPS = 10
# a named colour -> the level a tile or a cell shows it as
LEVELS = {
    "green": "ok",
    "blue": "info",
    "amber": "warn",
    "yellow": "warn",
    "orange": "high",
    "red": "bad",
}
HEX_RE = re.compile(r"#[0-9a-fA-F]{6}")
BASE = {"value": None, "color": "green"}  # below the first step
# what a chart's threshold line draws a named colour with (amber is no CSS colour)
LINE_COLORS = {
    "green": "#10b981",
    "blue": "#3b82f6",
    "amber": "#f59e0b",
    "yellow": "#eab308",
    "orange": "#f97316",
    "red": "#ef4444",
}


def _finite(value: Any) -> bool:
    """True for an int or a float that is a real number (not a bool, NaN or infinity)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def valid_color(color: Any) -> bool:
    """True for a colour a step may have: a named one (LEVELS) or ``#rrggbb``."""
    return isinstance(color, str) and (color in LEVELS or HEX_RE.fullmatch(color) is not None)


def valid_thresholds(steps: Any, where: str) -> list[dict[str, Any]]:
    """A widget's ``thresholds`` in their stored form, or ValidationError naming the bad field:
    at most 10 ``{"value": finite number, "color": named or #rrggbb}``."""
    if not isinstance(steps, list) or len(steps) > MAX_STEPS:
        raise ValidationError(where, f'a list of at most {MAX_STEPS} {{"value", "color"}} steps')
    out = []
    for i, step in enumerate(steps):
        at = f"{where}[{i}]"
        if not isinstance(step, dict) or set(step) - {"value", "color"}:
            raise ValidationError(at, 'an object of "value" and "color"')
        if not _finite(step.get("value")):
            raise ValidationError(f"{at}.value", "a finite number")
        clean = {"value": step["value"]}
        if "color" in step:
            if not valid_color(step["color"]):
                raise ValidationError(f"{at}.color", f"one of {', '.join(LEVELS)} or #rrggbb")
            clean["color"] = step["color"]
        out.append(clean)
    return out


def color_level(color: Any) -> str:
    """The level a step's colour shows as: a named colour's, or the one nearest a
    ``#rrggbb``'s hue (grey and purple read as info); red when there is none."""
    if color is None:
        return "bad"
    if color in LEVELS:
        return LEVELS[color]
    if not isinstance(color, str) or HEX_RE.fullmatch(color) is None:
        return "bad"
    r, g, b = (int(color[i : i + 2], 16) / 255 for i in (1, 3, 5))
    hue, _light, saturation = colorsys.rgb_to_hls(r, g, b)
    degrees = hue * 360
    if saturation < 0.15:
        return "info"
    for limit, level in ((15, "bad"), (32, "high"), (70, "warn"), (170, "ok"), (330, "info")):
        if degrees < limit:
            return level
    return "bad"


def line_color(color: Any) -> str:
    """The colour a chart draws a step's line with: a named colour's hex, a #rrggbb as it is."""
    if isinstance(color, str) and HEX_RE.fullmatch(color):
        return color
    return LINE_COLORS.get(color if isinstance(color, str) else "red", LINE_COLORS["red"])


def reached(value: float | None, steps: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The step ``value`` takes its colour from: the highest it reaches, the green base below
    them all; None without steps or a value."""
    if value is None or not steps:
        return None
    best: dict[str, Any] = BASE
    for step in steps:
        if value >= step["value"] and (best is BASE or step["value"] >= best["value"]):
            best = step
    return best


def color_name(step: dict[str, Any]) -> str:
    """A step's colour as a person reads it: its name, or its level's colour for #rrggbb."""
    color = step.get("color", "red")
    if color in LEVELS:
        return str(color)
    return {"ok": "green", "info": "blue", "warn": "amber", "high": "orange"}.get(
        color_level(color), "red"
    )


def step_note(step: dict[str, Any], steps: list[dict[str, Any]], fmt: dict[str, Any]) -> str:
    """What a step's colour says: ``amber: 2.00% or more``, or ``green: below 2.00%``."""
    if step["value"] is None:
        lowest = min(s["value"] for s in steps)
        return f"{color_name(step)}: below {format_number(lowest, fmt)}"
    return f"{color_name(step)}: {format_number(step['value'], fmt)} or more"


def scale_note(steps: list[dict[str, Any]], fmt: dict[str, Any]) -> str:
    """Every step's meaning, lowest first: ``green below 2%, amber from 2%, red from 5%``."""
    if not steps:
        return ""
    ordered = sorted(steps, key=lambda s: s["value"])
    parts = [f"green below {format_number(ordered[0]['value'], fmt)}"]
    parts += [f"{color_name(s)} from {format_number(s['value'], fmt)}" for s in ordered]
    return ", ".join(parts)


def level_class(value: float | None, steps: list[dict[str, Any]]) -> str:
    """The CSS class of the step ``value`` reaches (``level-warn``), "" without one."""
    step = reached(value, steps)
    return "" if step is None else f"level-{color_level(step.get('color', 'red'))}"


def value_note(value: float | None, steps: list[dict[str, Any]], fmt: dict[str, Any]) -> str:
    """What ``value``'s colour means (``amber: 2.00% or more``), "" without steps or a value."""
    step = reached(value, steps)
    return "" if step is None else step_note(step, steps, fmt)


def level_title(
    name: str, value: float | None, steps: list[dict[str, Any]], fmt: dict[str, Any]
) -> str | None:
    """A coloured number's title (hover, accessible description): what its colour means now,
    then every step: ``Error rate: amber: 2.00% or more (green below 2.00%, amber from
    2.00%, red from 5.00%)``; None without steps (assets/live.js ``levelTitle`` mirrors it)."""
    if not steps:
        return None
    now, scale = value_note(value, steps, fmt), scale_note(steps, fmt)
    return f"{name}: {now} ({scale})" if now else f"{name}: {scale}"


def live_steps(steps: list[dict[str, Any]], fmt: dict[str, Any]) -> list[dict[str, Any]]:
    """The steps as assets/live.js colours a live value by them: the base, then each step,
    with its level and what it means (live.js has no colour names, hues or number formats)."""
    if not steps:
        return []
    return [
        {
            "value": step["value"],
            "level": color_level(step.get("color", "red")),
            "note": step_note(step, steps, fmt),
        }
        for step in [BASE, *steps]
    ]


def steps_text(steps: list[dict[str, Any]] | None) -> str:
    """The thresholds as the editor's field shows them: ``0.02 amber, 0.05 red``."""
    return ", ".join(f"{s['value']:.15g} {s.get('color', 'red')}" for s in steps or [])


def parse_steps(text: str | None) -> list[dict[str, Any]]:
    """Thresholds from the editor's field (``0.02 amber, 0.05 red``; a step without a colour
    is red), or ValueError saying what is wrong with which step."""
    steps = []
    for i, part in enumerate(p.strip() for p in (text or "").split(",")):
        if not part:
            continue
        number, _, color = part.partition(" ")
        color = color.strip().lower() if not color.strip().startswith("#") else color.strip()
        try:
            value = float(number)
        except ValueError:
            raise ValueError(
                f"step {i + 1} ({part!r}): start with a number, e.g. 0.05 red"
            ) from None
        if not math.isfinite(value):
            raise ValueError(f"step {i + 1} ({part!r}): a finite number")
        if color and not valid_color(color):
            raise ValueError(
                f"step {i + 1} ({part!r}): the colour is one of {', '.join(LEVELS)} or #rrggbb"
            )
        steps.append(
            {"value": int(value) if value.is_integer() else value, "color": color or "red"}
        )
    if len(steps) > MAX_STEPS:
        raise ValueError(f"at most {MAX_STEPS} steps")
    return steps
