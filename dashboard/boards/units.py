"""A widget's unit and number format (pure): what its axes, tooltips, tiles and tables show.

A widget's ``format`` is ``{"decimals", "prefix", "suffix", "percent", "si"}``: ``percent``
shows a 0-1 ratio as 15 %, ``si`` abbreviates with SI prefixes (1.2k, 3.4M, 5G: "short", and
bytes and bits with their suffix). Without a ``format`` a widget takes one from its series'
unit (``format_for_unit``: ``ratio`` -> percent, ``USD/h`` -> $ and /h, ``bytes`` -> SI bytes,
``req/s`` as a suffix; a unit it does not know changes nothing).
``layouts/widgets/stat.py`` and ``assets/live.js`` format tiles and tables the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

SI = ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"))


def plotly_text(text: str) -> str:
    """Text that Plotly shows as written: it reads ``<b>``, ``<a href>`` and entities in names,
    labels and tick texts."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _text(text: Any) -> str:
    """A prefix or suffix (16 characters at most) safe in Plotly's markup."""
    return plotly_text(str(text)[:16])


def format_for_unit(unit: str) -> dict[str, Any]:
    """The format a series' unit suggests ({} for no unit or one it does not know)."""
    u = (unit or "").strip()
    low = u.lower()
    if low in ("ratio", "percentunit", "0-1", "fraction"):
        return {"percent": True, "decimals": 1}
    if low in ("%", "percent", "pct"):
        return {"suffix": "%", "decimals": 1}
    for code, sign in (("usd", "$"), ("eur", "€"), ("gbp", "£")):
        if low == code or low.startswith(code + "/"):
            per = u[len(code) :]
            return {"prefix": sign, "suffix": per, "decimals": 0 if per else 2}
    if low in ("bytes", "byte", "by", "b"):
        return {"suffix": "B", "si": True, "decimals": 1}
    if low in ("bytes/s", "by/s", "b/s", "bytes per second"):
        return {"suffix": "B/s", "si": True, "decimals": 1}
    if low in ("bits/s", "bit/s", "bps"):
        return {"suffix": "b/s", "si": True, "decimals": 1}
    if low in ("s", "seconds", "second", "sec"):
        return {"suffix": " s", "decimals": 2}
    if low in ("ms", "milliseconds"):
        return {"suffix": " ms", "decimals": 0}
    if low in ("short", "count", "1", "{count}"):
        return {"si": True, "decimals": 1}
    if low.endswith("/s") and len(u) <= 12 and u.isprintable():  # req/s, ops/s: a rate
        return {"suffix": f" {u}", "decimals": 1}
    return {}  # a unit it does not know (users, items): the numbers as they are


def axis_format(fmt: Mapping[str, Any] | None) -> dict[str, Any]:
    """A y axis's tick format for ``fmt``: 15% for a ratio, $ and /h around a price, 1.2k."""
    fmt = fmt or {}
    if fmt.get("percent"):
        return {"tickformat": ".0%"}
    out: dict[str, Any] = {}
    if fmt.get("prefix"):
        out["tickprefix"] = _text(fmt["prefix"])
    if fmt.get("suffix"):
        out["ticksuffix"] = _text(fmt["suffix"])
    if fmt.get("si"):
        out["tickformat"] = ".3~s"
    return out


def hover_value(fmt: Mapping[str, Any] | None) -> str:
    """A tooltip's value in Plotly's template language (``%{y:.2%}``, ``$%{y:,.0f}/h``)."""
    fmt = fmt or {}
    decimals = max(0, min(int(fmt.get("decimals", 2) or 0), 6))
    if fmt.get("percent"):
        return f"%{{y:.{max(decimals, 1)}%}}"
    number = "%{y:.3~s}" if fmt.get("si") else "%{y:,.4~f}"
    return f"{_text(fmt.get('prefix', ''))}{number}{_text(fmt.get('suffix', ''))}"


def format_number(value: float | None, fmt: Mapping[str, Any]) -> str:
    """A value as a tile or a table cell shows it (``–`` for none)."""
    if value is None:
        return "–"
    decimals = int(fmt.get("decimals", 0))
    if fmt.get("percent"):
        return f"{value * 100:,.{decimals}f}%"
    body = f"{value:,.{decimals}f}"
    if fmt.get("si"):
        for size, letter in SI:
            if abs(value) >= size:
                body = f"{value / size:,.{decimals}f}{letter}"
                break
    return f"{fmt.get('prefix', '')}{body}{fmt.get('suffix', '')}"
