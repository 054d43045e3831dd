"""OpenTelemetry names and attributes as Prometheus' OTLP receiver writes them (pure).

The default translation of Prometheus 3 (``UnderscoreEscapingWithSuffixes``): characters other
than letters and digits become ``_``; the unit is added as a suffix (``s`` -> ``_seconds``,
``By`` -> ``_bytes``, ``m/s`` -> ``_meters_per_second``, ``{requests}`` dropped, ``1`` ->
``_ratio`` on gauges); a monotonic counter ends in ``_total``. Attribute keys become label names
the same way; ``service.name`` (with ``service.namespace``) becomes ``job`` and
``service.instance.id`` becomes ``instance``.
"""

from __future__ import annotations

import re
from functools import lru_cache

UNITS = {
    "d": "days",
    "h": "hours",
    "min": "minutes",
    "s": "seconds",
    "ms": "milliseconds",
    "us": "microseconds",
    "ns": "nanoseconds",
    "By": "bytes",
    "KiBy": "kibibytes",
    "MiBy": "mebibytes",
    "GiBy": "gibibytes",
    "TiBy": "tibibytes",
    "KBy": "kilobytes",
    "MBy": "megabytes",
    "GBy": "gigabytes",
    "TBy": "terabytes",
    "m": "meters",
    "V": "volts",
    "A": "amperes",
    "J": "joules",
    "W": "watts",
    "g": "grams",
    "Cel": "celsius",
    "Hz": "hertz",
    "1": "",
    "%": "percent",
}
PER_UNITS = {"s": "second", "m": "minute", "h": "hour", "d": "day", "w": "week", "mo": "month"}
PER_UNITS["y"] = "year"
_SPLIT = re.compile(r"[^A-Za-z0-9]+")
_BRACES = re.compile(r"\{[^}]*\}")
_LABEL_BAD = re.compile(r"[^A-Za-z0-9_]")


def _tokens(text: str) -> list[str]:
    """The alphanumeric runs of ``text``."""
    return [t for t in _SPLIT.split(text) if t]


def unit_tokens(unit: str) -> list[str]:
    """The suffix words of a unit: ``ms`` -> ``milliseconds``, ``By/s`` -> bytes per second."""
    unit = _BRACES.sub("", unit).strip()
    if not unit:
        return []
    main, _, per = unit.partition("/")
    words = _tokens(UNITS.get(main, main)) if main else []
    if per:
        per_word = PER_UNITS.get(per, per)
        words += ["per", *_tokens(per_word)]
    return words


@lru_cache(maxsize=8192)
def metric_name(name: str, unit: str, *, counter: bool = False, gauge: bool = False) -> str:
    """A Prometheus metric name for an OpenTelemetry metric (see the module's docstring)."""
    words = _tokens(name)
    suffix = unit_tokens(unit)
    if suffix and words[-len(suffix) :] != suffix:
        words += suffix
    if counter:
        words = [w for w in words if w != "total"] + ["total"]
    if gauge and unit.strip() == "1" and words[-1:] != ["ratio"]:
        words.append("ratio")
    out = "_".join(words)
    return "_" + out if out[:1].isdigit() else out


@lru_cache(maxsize=8192)
def label_name(key: str) -> str:
    """A label name for an attribute key: other characters become ``_``; a leading digit gets
    ``key_`` in front, as Prometheus does."""
    out = _LABEL_BAD.sub("_", key)
    if out[:1].isdigit():
        out = "key_" + out
    return out


def resource_labels(attributes: dict[str, str], promote: tuple[str, ...] = ()) -> dict[str, str]:
    """The labels of a resource: ``job`` and ``instance`` and any attribute named in
    ``promote`` (the others are not labels, as in Prometheus without promotion)."""
    labels = {label_name(key): attributes[key] for key in promote if key in attributes}
    service = attributes.get("service.name")
    if service:
        namespace = attributes.get("service.namespace")
        labels["job"] = f"{namespace}/{service}" if namespace else service
    if attributes.get("service.instance.id"):
        labels["instance"] = attributes["service.instance.id"]
    return labels
