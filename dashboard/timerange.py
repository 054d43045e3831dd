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
