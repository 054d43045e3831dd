"""A widget's unit and number format (pure): what its axes, tooltips, tiles and tables show.

A widget's ``format`` is ``{"unit", "decimals", "prefix", "suffix"}``: ``unit`` is one of
``UNITS`` (Grafana's ids: ``percentunit`` shows a 0-1 ratio as 15%, ``bytes`` as KiB/MiB,
``s`` as 350 ms / 1.2 s / 3.5 min...), ``decimals`` 0-6 (none: as many as the number needs),
``prefix``/``suffix`` added around it ($ and /h). Formats saved before units had ids use
``percent`` (a ratio as 15 %) and ``si`` (1.2k, 3.4M) instead of ``unit``, and read as before
(``decimals`` 0 when it is missing). ``resolved`` turns either into the concrete fields.
Without a ``format`` a widget takes one from its series' unit (``format_for_unit``: ``ratio``
-> percentunit, ``USD/h`` -> $ and /h, ``bytes`` -> IEC bytes, ``req/s`` -> short with the
rate as a suffix; a unit it does not know changes nothing).
``layouts/widgets/stat.py`` and ``assets/live.js`` (``formatValue``) format tiles and tables
the same way. Plotly's tick and tooltip formats (d3) know SI prefixes only: an IEC unit's axis
and tooltip read 1.5k (SI, exact), its tiles and tables 1.5KiB.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from dashboard.metrics.model import ValidationError

SI = ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"))
IEC = ((2.0**40, "Ti"), (2.0**30, "Gi"), (2.0**20, "Mi"), (2.0**10, "Ki"))
# a duration's steps, in seconds: it shows in the largest whose size it reaches
DURATIONS = ((86400.0, "d"), (3600.0, "h"), (60.0, "min"), (1.0, "s"), (1e-3, "ms"))
SECONDS = {"s": 1.0, "ms": 1e-3}  # a duration unit's size in seconds

# id -> (the editor's label, the concrete fields it stands for)
UNITS: dict[str, tuple[str, dict[str, Any]]] = {
    "none": ("None (the number as it is)", {}),
    "short": ("Short (1.2k, 3.4M)", {"si": True}),
    "percentunit": ("Percent (0.0-1.0)", {"percent": True}),
    "percent": ("Percent (0-100)", {"suffix": "%"}),
    "currencyUSD": ("Dollars ($)", {"prefix": "$"}),
    "currencyEUR": ("Euros (€)", {"prefix": "€"}),
    "currencyGBP": ("Pounds (£)", {"prefix": "£"}),
    "bytes": ("Bytes (IEC: KiB, MiB)", {"iec": True, "suffix": "B"}),
    "decbytes": ("Bytes (SI: kB, MB)", {"si": True, "suffix": "B"}),
    "bps": ("Bits per second (b/s, kb/s)", {"si": True, "suffix": "b/s"}),
    "Bps": ("Bytes per second (B/s, kB/s)", {"si": True, "suffix": "B/s"}),
    "s": ("Seconds (350 ms, 1.2 s, 3.5 min)", {"duration": "s"}),
    "ms": ("Milliseconds (350 ms, 1.2 s)", {"duration": "ms"}),
}
# labels that host dashboards saved as ``unit`` before units had ids (nothing read them): still
# valid, and read as no unit (their suffix and decimals say how the number reads)
LEGACY_UNITS = ("load", "bytes/s")
FORMAT_KEYS = ("unit", "decimals", "prefix", "suffix", "percent", "si")
MAX_DECIMALS = 6
MAX_AFFIX = 16  # characters of a prefix or a suffix


def unit_options() -> list[dict[str, str]]:
    """The units an editor picks from, as dropdown options (label and id)."""
    return [{"label": label, "value": uid} for uid, (label, _) in UNITS.items()]


def valid_format(fmt: Any, where: str) -> dict[str, Any]:
    """A widget's ``format`` in its stored form, or ValidationError naming the bad field:
    known keys only, ``unit`` one of UNITS, ``decimals`` 0-6, ``prefix``/``suffix`` at most
    16 printable characters, ``percent``/``si`` true or false."""
    if not isinstance(fmt, dict):
        raise ValidationError(where, f"an object of {', '.join(FORMAT_KEYS)}")
    unknown = sorted(str(k) for k in fmt if k not in FORMAT_KEYS)
    if unknown:
        raise ValidationError(
            f"{where}.{unknown[0]}", f"not a format field ({', '.join(FORMAT_KEYS)})"
        )
    out: dict[str, Any] = {}
    if "unit" in fmt:
        if fmt["unit"] not in UNITS and fmt["unit"] not in LEGACY_UNITS:
            raise ValidationError(f"{where}.unit", f"one of {', '.join(UNITS)}")
        out["unit"] = fmt["unit"]
    if "decimals" in fmt:
        d = fmt["decimals"]
        if isinstance(d, bool) or not isinstance(d, int) or not 0 <= d <= MAX_DECIMALS:
            raise ValidationError(f"{where}.decimals", f"a whole number from 0 to {MAX_DECIMALS}")
        out["decimals"] = d
    for key in ("prefix", "suffix"):
        if key in fmt:
            text = fmt[key]
            if not isinstance(text, str) or len(text) > MAX_AFFIX or not text.isprintable():
                raise ValidationError(f"{where}.{key}", f"at most {MAX_AFFIX} printable characters")
            out[key] = text
    for key in ("percent", "si"):
        if key in fmt:
            if not isinstance(fmt[key], bool):
                raise ValidationError(f"{where}.{key}", "true or false")
            out[key] = fmt[key]
    return out


def unit_of(fmt: Mapping[str, Any] | None) -> str | None:
    """The unit id a saved format reads as (None without a format): its ``unit``, or for a
    format saved before units had ids the preset it matches (``percent`` -> percentunit, ``si``
    with ``B`` -> decbytes, a ``$`` prefix -> currencyUSD), else ``none``."""
    if not fmt:
        return None
    if fmt.get("unit") in UNITS:
        return str(fmt["unit"])
    # the most specific preset first: si with B is decbytes, not short
    for uid, (_, preset) in sorted(UNITS.items(), key=lambda item: -len(item[1][1])):
        if preset and all(fmt.get(k) == v for k, v in preset.items()):
            return uid
    return "none"


def edited_format(
    saved: Mapping[str, Any] | None, unit: str | None, decimals: Any
) -> dict[str, Any] | None:
    """A widget's format as the editor sets it: None for "from the series" (``unit`` None),
    else ``unit`` and ``decimals`` (None: auto) with the saved prefix and suffix that the saved
    unit did not itself imply (a price's ``/h`` stays; a format's old ``$`` goes with its
    currency)."""
    if unit is None:
        return None
    implied = UNITS.get(unit_of(saved) or "none", ("", {}))[1]
    out: dict[str, Any] = {"unit": unit}
    for key in ("prefix", "suffix"):
        text = (saved or {}).get(key)
        if text and text != implied.get(key):
            out[key] = text
    if decimals is not None and decimals != "":
        whole = isinstance(decimals, float) and decimals.is_integer()
        out["decimals"] = int(decimals) if whole else decimals
    return out


def resolved(fmt: Mapping[str, Any] | None) -> dict[str, Any]:
    """The concrete fields of a format: its unit's (``percent``, ``si``, ``iec``,
    ``duration``, ``prefix``, ``suffix``) under its own; ``decimals`` None (as many as the
    number needs) when a format with a unit names none. A format without a unit is returned
    as it is (its missing ``decimals`` read 0, as before units had ids)."""
    out = dict(fmt or {})
    unit = out.pop("unit", None)
    if unit not in UNITS:  # none, or a label of before units had ids
        return out
    return {**UNITS[unit][1], "decimals": None, **out}


def _decimals(value: float, decimals: Any) -> tuple[int, bool]:
    """How many decimals ``value`` is shown with, and whether trailing zeros go: ``decimals``
    when given, else as many as its size needs (1234 -> 0, 12.3 -> 1, 1.23 -> 2, 0.123 -> 3)."""
    if decimals is not None:
        return max(0, min(int(decimals), MAX_DECIMALS)), False
    size = abs(value)
    if size >= 100 or size == 0:
        return 0, True
    return (1 if size >= 10 else 2 if size >= 1 else 3), True


def _number(value: float, decimals: Any) -> str:
    """``value`` with thousands separators and its decimals (auto ones without trailing 0s),
    rounded as a browser's toLocaleString does (assets/live.js): the shortest decimal that
    reads back as the float, a half away from zero (16.65 -> 16.7, where the float is
    16.6499...)."""
    places, trim = _decimals(value, decimals)
    if abs(value) < 1e15:
        exact = Decimal(repr(float(value)))
        text = f"{exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP):,f}"
    else:  # beyond what a float holds exactly in decimals
        text = f"{value:,.{places}f}"
    if trim and "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def _scaled(value: float, steps: tuple[tuple[float, str], ...]) -> tuple[float, str]:
    """``value`` divided by the largest step it reaches, and that step's letter."""
    for size, letter in steps:
        if abs(value) >= size:
            return value / size, letter
    return value, ""


def _duration(value: float, unit: str, decimals: Any) -> str:
    """A duration in ``unit`` (s or ms) in the largest unit it reaches: 350 ms, 1.2 s, 3.5 min."""
    seconds = value * SECONDS.get(unit, 1.0)
    if seconds == 0:
        return f"0 {unit}"
    scaled, name = _scaled(seconds, DURATIONS)
    if not name:  # under a millisecond
        scaled, name = seconds * 1e6, "µs"
    return f"{_number(scaled, decimals)} {name}"


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
    if u in UNITS and u != "none":  # a unit already named by its id: bytes, Bps, percentunit
        return {"unit": u}
    low = u.lower()
    if low in ("ratio", "percentunit", "0-1", "fraction"):
        return {"unit": "percentunit", "decimals": 1}
    if low in ("%", "percent", "pct"):
        return {"unit": "percent", "decimals": 1}
    for code, name in (("usd", "currencyUSD"), ("eur", "currencyEUR"), ("gbp", "currencyGBP")):
        if low == code or low.startswith(code + "/"):
            per = u[len(code) :]
            return {"unit": name, "suffix": per, "decimals": 0 if per else 2}
    if low in ("bytes", "byte", "by", "b"):
        return {"unit": "bytes", "decimals": 1}
    if low in ("bytes/s", "by/s", "b/s", "bytes per second"):
        return {"unit": "Bps", "decimals": 1}
    if low in ("bits/s", "bit/s", "bps"):
        return {"unit": "bps", "decimals": 1}
    if low in ("s", "seconds", "second", "sec"):
        return {"unit": "s"}
    if low in ("ms", "milliseconds"):
        return {"unit": "ms"}
    if low in ("short", "count", "1", "{count}"):
        return {"unit": "short", "decimals": 1}
    if low.endswith("/s") and len(u) <= 12 and u.isprintable():  # req/s, ops/s: a rate
        return {"unit": "short", "suffix": f" {u}", "decimals": 1}
    return {}  # a unit it does not know (users, items): the numbers as they are


def axis_format(fmt: Mapping[str, Any] | None) -> dict[str, Any]:
    """A y axis's tick format for ``fmt``: 15% for a ratio, $ and /h around a price, 1.2k
    (bytes of an IEC unit too: d3 has no 1024 steps), a duration's unit after the number."""
    fmt = resolved(fmt)
    if fmt.get("percent"):
        return {"tickformat": ".0%"}
    out: dict[str, Any] = {}
    if fmt.get("prefix"):
        out["tickprefix"] = _text(fmt["prefix"])
    suffix = f" {fmt['duration']}" if fmt.get("duration") in SECONDS else ""
    if fmt.get("suffix") or suffix:
        out["ticksuffix"] = _text(suffix + str(fmt.get("suffix", "")))
    if fmt.get("si") or fmt.get("iec"):
        out["tickformat"] = ".3~s"
    return out


def hover_value(fmt: Mapping[str, Any] | None, field: str = "y") -> str:
    """A tooltip's value in Plotly's template language (``%{y:.2%}``, ``$%{y:,.0f}/h``), of
    the trace's ``field`` (``y``; a pie's ``value``)."""
    fmt = resolved(fmt)
    decimals = fmt.get("decimals", 2)
    if fmt.get("percent"):
        if decimals is None:
            return f"%{{{field}:.2~%}}"
        return f"%{{{field}:.{max(min(int(decimals), MAX_DECIMALS), 1)}%}}"
    number = f"%{{{field}:.3~s}}" if fmt.get("si") or fmt.get("iec") else f"%{{{field}:,.4~f}}"
    suffix = f" {fmt['duration']}" if fmt.get("duration") in SECONDS else ""
    return f"{_text(fmt.get('prefix', ''))}{number}{_text(suffix + str(fmt.get('suffix', '')))}"


def format_number(value: float | None, fmt: Mapping[str, Any] | None) -> str:
    """A value as a tile or a table cell shows it (``–`` for none): 15.3%, $1,234/h, 3.4M,
    1.5KiB, 350 ms."""
    if value is None:
        return "–"
    fmt = resolved(fmt)
    decimals = fmt.get("decimals", 0)
    if fmt.get("percent"):
        return f"{_number(value * 100, decimals)}%"
    if fmt.get("duration") in SECONDS:
        body = _duration(value, fmt["duration"], decimals)
    elif fmt.get("si") or fmt.get("iec"):
        scaled, letter = _scaled(value, IEC if fmt.get("iec") else SI)
        body = f"{_number(scaled, decimals)}{letter}"
    else:
        body = _number(value, decimals)
    return f"{fmt.get('prefix', '')}{body}{fmt.get('suffix', '')}"
