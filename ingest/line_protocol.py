"""InfluxDB line protocol to an ingest batch (pure: stdlib and numpy only).

``measurement,tag=v field=1.5,other=2i 1700000000000000000``: tags become labels, each numeric
field a series ``measurement_field`` (names and label names made valid as Prometheus does:
other characters become ``_``), integers (``i``, ``u``) and floats as they are, booleans as 1
and 0. String fields have no place in the model: they are left out and counted. The timestamp
is in the request's precision (nanoseconds unless told), now when absent. Any malformed line
refuses the whole body, naming the line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dashboard.metrics.model import Batch, Limits, ValidationError
from ingest.points import BatchBuilder, sanitize_label, sanitize_name

# nanoseconds per unit of each precision (v2: ns, us, ms, s; v1 also n, u, m, h)
PRECISIONS = {
    "ns": 1,
    "n": 1,
    "us": 1_000,
    "u": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
}
_FLOAT = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$")
_INT = re.compile(r"^[+-]?\d+$")
_TRUE = frozenset({"t", "T", "true", "True", "TRUE"})
_FALSE = frozenset({"f", "F", "false", "False", "FALSE"})
_INT64 = 2**63
_ESCAPED = re.compile(r"\\(.)")


@dataclass
class Decoded:
    """A body as a batch, with the string fields it left out."""

    batch: Batch
    string_fields: int = 0


def precision_ns(precision: str | None) -> int:
    """Nanoseconds per timestamp unit; ValidationError for an unknown precision."""
    if not precision:
        return 1
    if precision not in PRECISIONS:
        raise ValidationError("precision", f"one of {', '.join(PRECISIONS)}")
    return PRECISIONS[precision]


def split_unescaped(text: str, sep: str, *, quotes: bool = False) -> list[str]:
    """``text`` split on ``sep`` where it is not escaped (nor, with ``quotes``, quoted)."""
    if "\\" not in text and not (quotes and '"' in text):
        return text.split(sep)
    parts, start, i, quoted = [], 0, 0, False
    while i < len(text):
        char = text[i]
        if char == "\\":
            i += 2
            continue
        if quotes and char == '"':
            quoted = not quoted
        elif char == sep and not quoted:
            parts.append(text[start:i])
            start = i + 1
        i += 1
    if quoted:
        raise ValidationError("line", "unterminated string")
    parts.append(text[start:])
    return parts


def unescape(text: str) -> str:
    """A name or tag with its backslash escapes removed."""
    return _ESCAPED.sub(r"\1", text) if "\\" in text else text


def field_value(text: str) -> float | None:
    """A field's number (booleans 1 and 0), None for a string; ValidationError otherwise."""
    if text[:1] == '"':
        if len(text) < 2 or text[-1] != '"':
            raise ValidationError("field", f"unterminated string {text[:40]!r}")
        return None
    if text[-1:] in ("i", "u") and _INT.match(text[:-1]):
        value = int(text[:-1])
        if not -_INT64 <= value < (2**64 if text[-1] == "u" else _INT64) or (
            text[-1] == "u" and value < 0
        ):
            raise ValidationError("field", f"integer out of range: {text[:40]}")
        return float(value)
    if text in _TRUE:
        return 1.0
    if text in _FALSE:
        return 0.0
    if _FLOAT.match(text):
        return float(text)
    raise ValidationError("field", f"not a number, boolean or string: {text[:40]!r}")


def parse_line(line: str, *, unit_ns: int, now_ms: int) -> tuple[str, dict, dict, int, int]:
    """(measurement, tags, numeric fields, time in ms, string fields) of one line."""
    parts = split_unescaped(line, " ", quotes=True)
    parts = [p for p in parts if p != ""] if "" in parts else parts
    if len(parts) not in (2, 3):
        raise ValidationError("line", "want 'measurement[,tags] fields [timestamp]'")
    keys = split_unescaped(parts[0], ",")
    measurement = unescape(keys[0])
    if not measurement:
        raise ValidationError("line", "missing measurement")
    tags: dict[str, str] = {}
    for pair in keys[1:]:
        key, sep, value = pair.partition("=")
        if not sep or not key or not value:
            raise ValidationError("line", f"bad tag {pair[:40]!r}")
        tags[sanitize_label(unescape(key))] = unescape(value)
    fields: dict[str, float] = {}
    strings = 0
    for pair in split_unescaped(parts[1], ",", quotes=True):
        key, sep, value = pair.partition("=")
        if not sep or not key or not value:
            raise ValidationError("line", f"bad field {pair[:40]!r}")
        number = field_value(value)
        if number is None:
            strings += 1
        else:
            fields[unescape(key)] = number
    if len(parts) == 2:
        return measurement, tags, fields, now_ms, strings
    if not _INT.match(parts[2]):
        raise ValidationError("line", f"bad timestamp {parts[2][:40]!r}")
    return measurement, tags, fields, int(parts[2]) * unit_ns // 1_000_000, strings


def decode(
    text: str, *, now_ms: int, limits: Limits | None = None, precision: str | None = None
) -> Decoded:
    """A line protocol body to a checked batch; ValidationError naming the first bad line."""
    unit_ns = precision_ns(precision)
    builder = BatchBuilder(now_ms=now_ms, limits=limits)
    strings = 0
    for number, line in enumerate(text.split("\n"), 1):
        line = line.strip()
        if not line or line[0] == "#":
            continue
        try:
            measurement, tags, fields, ts, skipped = parse_line(
                line, unit_ns=unit_ns, now_ms=now_ms
            )
            strings += skipped
            labels = tuple(tags.items())
            for field, value in fields.items():
                builder.add(sanitize_name(f"{measurement}_{field}"), labels, [ts], [value])
        except ValidationError as exc:
            where = f"line {number}" if exc.field in ("line", "field") else exc.field
            raise ValidationError(where, exc.message) from None
    return Decoded(builder.build(), strings)
