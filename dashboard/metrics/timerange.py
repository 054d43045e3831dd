"""Relative and absolute time expressions (``now``, ``now-24h``, Unix ms) to Unix ms (pure)."""

from __future__ import annotations

import re

UNITS_MS = {"s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}
_REL = re.compile(r"^now(?:-(\d+)([smhdw]))?$")


def resolve(expr: str | int, now_ms: int) -> int:
    """Unix ms for ``now``, ``now-<n><s|m|h|d|w>`` or a number of ms; ValueError otherwise."""
    if isinstance(expr, int) and not isinstance(expr, bool):
        return expr
    text = str(expr).strip()
    if text.isdigit():
        return int(text)
    match = _REL.match(text)
    if not match:
        raise ValueError(f"not a time: {text[:40]!r} (use now, now-24h or Unix milliseconds)")
    if match.group(1) is None:
        return now_ms
    return now_ms - int(match.group(1)) * UNITS_MS[match.group(2)]


def resolve_range(rng: dict[str, str | int], now_ms: int) -> tuple[int, int]:
    """``(start, end)`` in ms from a ``{"from", "to"}`` range."""
    start = resolve(rng.get("from", "now-24h"), now_ms)
    end = resolve(rng.get("to", "now"), now_ms)
    if start >= end:
        raise ValueError("range: 'from' must be before 'to'")
    return start, end


PRESETS = {
    "5m": "Last 5 minutes",
    "15m": "Last 15 minutes",
    "1h": "Last hour",
    "6h": "Last 6 hours",
    "24h": "Last 24 hours",
    "7d": "Last 7 days",
    "30d": "Last 30 days",
}
DEFAULT_PRESET = "24h"


def from_search(search: str | None) -> tuple[dict[str, str | int], bool]:
    """The range a page URL's query asks for, and whether it follows now (live).

    ``?range=6h`` is a live preset; ``?from=MS&to=MS`` an absolute range (a zoom or a
    drill-down). Anything else is the default: the last 24 hours, live.
    """
    from urllib.parse import parse_qs

    query = parse_qs((search or "").lstrip("?"))
    preset = (query.get("range") or [""])[0]
    if preset in PRESETS:
        return {"from": f"now-{preset}", "to": "now"}, True
    start, end = (query.get("from") or [""])[0], (query.get("to") or [""])[0]
    if start.isdigit() and end.isdigit() and int(start) < int(end):
        return {"from": int(start), "to": int(end)}, False
    return {"from": f"now-{DEFAULT_PRESET}", "to": "now"}, True


def dashboard_from_search(search: str | None, default: str = "default") -> str:
    """The dashboard a page URL's query names (``?dashboard=ID``), or the default."""
    from urllib.parse import parse_qs

    return (parse_qs((search or "").lstrip("?")).get("dashboard") or [default])[0]
