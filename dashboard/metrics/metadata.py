"""Metric metadata per metric family, as Prometheus keeps it: type, help and unit (pure).

A family is what a ``# TYPE`` line names: ``http_requests_total`` (a counter), ``rpc_seconds``
(a histogram, whose series are ``rpc_seconds_bucket``, ``_sum`` and ``_count``). Sources give
it in their own forms (``# TYPE``/``# HELP``/``# UNIT`` lines, remote write's ``metadata``,
OTLP's data kinds, the JSON API's ``type`` and ``help``); the latest non-empty value of each
field wins. ``MetadataCache`` keeps what a node has stored, so an unchanged family is not
written again with every batch.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace

METRIC_TYPES = ("counter", "gauge", "histogram", "summary", "unknown")
UNKNOWN = "unknown"
MAX_HELP_LEN = 1024
MAX_NAME_LEN = 200
_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.:]*$")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
# the series of a family beyond its own name, by the family's type
FAMILY_SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_sum", "_count", "_created"),
    "summary": ("_sum", "_count", "_created"),
}
# what other sources call a type (Prometheus' text and remote write enums, OpenMetrics)
_ALIASES = {
    "untyped": UNKNOWN,
    "gaugehistogram": UNKNOWN,  # buckets that go down: neither rate() nor a histogram's rules
    "info": "gauge",
    "stateset": "gauge",
}
# prometheus.MetricMetadata.MetricType
REMOTE_WRITE_TYPES = {
    0: UNKNOWN,
    1: "counter",
    2: "gauge",
    3: "histogram",
    4: "gaugehistogram",
    5: "summary",
    6: "info",
    7: "stateset",
}


@dataclass(frozen=True)
class MetricMetadata:
    """What is known of one metric family; an empty field is unknown."""

    name: str
    type: str = UNKNOWN
    help: str = ""
    unit: str = ""

    def to_json(self) -> dict[str, str]:
        """Prometheus' form (``/api/v1/metadata``): type, help and unit."""
        return {"type": self.type, "help": self.help, "unit": self.unit}

    @property
    def empty(self) -> bool:
        """True when it says nothing (no type, help or unit)."""
        return self.type == UNKNOWN and not self.help and not self.unit


def type_error(value: object) -> str | None:
    """Why ``value`` is not a metric type (one of METRIC_TYPES), or None when it is one."""
    if isinstance(value, str) and value in METRIC_TYPES:
        return None
    return f"one of {', '.join(METRIC_TYPES)}"


def help_error(value: object) -> str | None:
    """Why ``value`` is no help text (a string without control characters), or None."""
    if not isinstance(value, str) or len(value) > MAX_HELP_LEN or _CONTROL_RE.search(value):
        return f"a string of at most {MAX_HELP_LEN} characters without control characters"
    return None


def normal_type(text: str) -> str:
    """A source's type name as one of METRIC_TYPES (unknown for anything else)."""
    lowered = text.strip().lower()
    lowered = _ALIASES.get(lowered, lowered)
    return lowered if lowered in METRIC_TYPES else UNKNOWN


def clean_help(text: str) -> str:
    """Help text as stored: control characters as spaces, at most MAX_HELP_LEN characters."""
    text = _CONTROL_RE.sub(" ", text)
    return text if len(text) <= MAX_HELP_LEN else text[: MAX_HELP_LEN - 3] + "..."


def family_name(name: str, type_: str) -> str:
    """The family a series of that type belongs to: ``rpc_seconds`` for a histogram's
    ``rpc_seconds_bucket``; any other series (and counters, named with ``_total``) as is."""
    if type_ in ("histogram", "summary"):
        for suffix in FAMILY_SUFFIXES[type_]:
            if name.endswith(suffix) and len(name) > len(suffix):
                return name[: -len(suffix)]
    return name


def entry(name: str, type_: str = "", help_: str = "", unit: str = "") -> MetricMetadata | None:
    """Metadata from a source (names and types as it writes them), cleaned; None when the name
    is no metric name or nothing is said about it."""
    if not name or len(name) > MAX_NAME_LEN or not _NAME_RE.match(name):
        return None
    found = MetricMetadata(
        name,
        normal_type(type_) if type_ else UNKNOWN,
        clean_help(help_) if help_ else "",
        clean_help(unit)[:32] if unit else "",
    )
    return None if found.empty else found


def merge(old: MetricMetadata | None, new: MetricMetadata) -> MetricMetadata:
    """``new`` over ``old``: the latest non-empty value of each field wins."""
    if old is None:
        return new
    return replace(
        old,
        type=new.type if new.type != UNKNOWN else old.type,
        help=new.help or old.help,
        unit=new.unit or old.unit,
    )


def merge_all(entries: Iterable[MetricMetadata]) -> dict[str, MetricMetadata]:
    """Entries by family name, later ones merged over earlier ones."""
    out: dict[str, MetricMetadata] = {}
    for item in entries:
        out[item.name] = merge(out.get(item.name), item)
    return out


def family_of(name: str, known: Mapping[str, MetricMetadata]) -> MetricMetadata | None:
    """The metadata of the family a series named ``name`` belongs to, if known: the name
    itself, or a histogram's, summary's or counter's family it is a series of."""
    found = known.get(name)
    if found is not None:
        return found
    for type_, suffixes in FAMILY_SUFFIXES.items():
        for suffix in suffixes:
            if name.endswith(suffix):
                family = known.get(name[: -len(suffix)])
                if family is not None and family.type == type_:
                    return family
    return None


def type_of(name: str, known: Mapping[str, MetricMetadata]) -> str:
    """The type of the series named ``name`` (unknown when its family is not known)."""
    family = family_of(name, known)
    return family.type if family is not None else UNKNOWN


def select(
    known: Mapping[str, MetricMetadata], *, metric: str | None = None, limit: int | None = None
) -> dict[str, list[dict[str, str]]]:
    """Prometheus' ``/api/v1/metadata`` data: name -> [metadata], by name; only ``metric``
    when given, at most ``limit`` names (all when None or negative)."""
    names = sorted(known) if not metric else [metric] if metric in known else []
    if limit is not None and limit >= 0:
        names = names[:limit]
    return {name: [known[name].to_json()] for name in names}


class MetadataCache:
    """What a node has stored, to write only what changed: ``load()`` reads the stored
    metadata the first time it is needed, ``save(list)`` stores new or changed families."""

    def __init__(
        self,
        load: Callable[[], Mapping[str, MetricMetadata]],
        save: Callable[[list[MetricMetadata]], None],
    ) -> None:
        """An empty cache over a store's ``load`` and ``save``."""
        self._load, self._save = load, save
        self._known: dict[str, MetricMetadata] | None = None
        self._lock = threading.Lock()

    def record(self, entries: Iterable[MetricMetadata]) -> list[MetricMetadata]:
        """Merge ``entries`` into what is known and save the families that changed (none when
        nothing did); the saved ones. A failing save raises and is retried next time."""
        given = merge_all(entries)
        if not given:
            return []
        with self._lock:
            if self._known is None:
                self._known = dict(self._load())
            known = self._known
            changed = [
                merged
                for name, item in given.items()
                if (merged := merge(known.get(name), item)) != known.get(name)
            ]
            if changed:
                self._save(changed)
                known.update((m.name, m) for m in changed)
        return changed
