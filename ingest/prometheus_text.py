"""Prometheus text exposition format to an ingest batch (pure: prometheus_client's parser only).

Each sample becomes one point: its name (``:`` allowed), its labels, its timestamp (the format's
milliseconds) or ``now_ms``, its value. The result goes through ``validate_batch``, so every
ingest limit applies; a refusal names the sample rather than an index of a generated body.
``# TYPE``, ``# HELP`` and ``# UNIT`` lines give the batch its families' metadata, under the
names they are written with (``node_cpu_seconds_total``, as Prometheus lists them).
"""

from __future__ import annotations

import math
import re
from typing import Any

from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from dashboard.metrics.metadata import MetricMetadata, entry, merge_all
from dashboard.metrics.model import Batch, Limits, SeriesKey, ValidationError, validate_batch

_FIELD_RE = re.compile(r"^metrics\[(\d+)\](.*)$")
_META_RE = re.compile(r"^#[ \t]+(TYPE|HELP|UNIT)[ \t]+(\S+)(?:[ \t]+(.*?))?[ \t\r]*$", re.M)
_MAX_MESSAGE = 200
_MAX_SAMPLE_TEXT = 120


def parse_samples(text: str) -> list[Sample]:
    """Every sample of an exposition, or ValidationError carrying the parser's message."""
    try:
        return [s for family in text_string_to_metric_families(text) for s in family.samples]
    except Exception as exc:  # noqa: BLE001 - the lax parser raises ValueError, IndexError, ...
        raise ValidationError("body", _parse_error(text, exc)) from None


def _parse_error(text: str, exc: Exception) -> str:
    """The parser's message, prefixed with the first line it refuses on its own, if any."""
    for number, line in enumerate(text.split("\n"), 1):
        try:
            list(text_string_to_metric_families(line))
        except Exception as line_exc:  # noqa: BLE001 - same lax parser, same reasons
            return f"line {number}: {_message(line_exc)}"
    return _message(exc)


def _message(exc: Exception) -> str:
    """A short, non-empty message for a parser exception."""
    text = str(exc).strip() or f"malformed exposition ({type(exc).__name__})"
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 3] + "..."


def sample_text(sample: Sample) -> str:
    """A sample as ``name{k="v"}``, shortened to stay readable in an error."""
    text = str(SeriesKey.of(sample.name, sample.labels))
    return text if len(text) <= _MAX_SAMPLE_TEXT else text[: _MAX_SAMPLE_TEXT - 3] + "..."


def is_finite_value(value: Any) -> bool:
    """True for a sample value that fits a finite float."""
    try:
        return math.isfinite(float(value))
    except (OverflowError, TypeError, ValueError):
        return False


def samples_body(
    samples: list[Sample], *, now_ms: int, skip_non_finite: bool = False
) -> tuple[dict[str, Any], list[Sample]]:
    """The ``{"metrics": [...]}`` body of samples (one entry each) and the samples it holds.

    ``skip_non_finite`` drops NaN and infinite values (a poller scraping a summary with no
    observations yet) instead of leaving them for validation to refuse.
    """
    metrics: list[dict[str, Any]] = []
    kept: list[Sample] = []
    for sample in samples:
        if skip_non_finite and not is_finite_value(sample.value):
            continue
        metrics.append(
            {
                "name": sample.name,
                "labels": dict(sample.labels),
                "points": [[_timestamp_ms(sample, now_ms), sample.value]],
            }
        )
        kept.append(sample)
    return {"metrics": metrics}, kept


def _timestamp_ms(sample: Sample, now_ms: int) -> int:
    """The sample's timestamp in ms (the parser gives seconds), or ``now_ms`` without one."""
    if sample.timestamp is None:
        return now_ms
    ms = float(sample.timestamp) * 1000
    if not math.isfinite(ms):
        raise ValidationError(f"{sample_text(sample)} timestamp", "must be Unix milliseconds")
    return round(ms)


def exposition_body(
    text: str, *, now_ms: int, skip_non_finite: bool = False
) -> tuple[dict[str, Any], list[Sample]]:
    """Parse an exposition into an ingest body and the samples behind its entries."""
    return samples_body(parse_samples(text), now_ms=now_ms, skip_non_finite=skip_non_finite)


def exposition_metadata(text: str) -> list[MetricMetadata]:
    """The families' metadata of an exposition's ``# TYPE``, ``# HELP`` and ``# UNIT`` lines
    (help unescaped; names that are no metric names are skipped)."""
    fields: dict[str, dict[str, str]] = {}
    for match in _META_RE.finditer(text):
        kind, name, value = match.group(1), match.group(2), match.group(3) or ""
        if kind == "HELP":
            value = _unescape_help(value)
        fields.setdefault(name, {})[kind] = value
    found = (
        entry(name, f.get("TYPE", ""), f.get("HELP", ""), f.get("UNIT", ""))
        for name, f in fields.items()
    )
    return list(merge_all(m for m in found if m is not None).values())


def _unescape_help(text: str) -> str:
    """A ``# HELP`` docstring with ``\\\\`` and ``\\n`` unescaped."""
    if "\\" not in text:
        return text
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), text)


def exposition_batch(
    text: str, *, now_ms: int, limits: Limits | None = None, skip_non_finite: bool = False
) -> Batch:
    """Parse and validate an exposition (with its families' metadata); a ValidationError
    names the sample at fault."""
    body, samples = exposition_body(text, now_ms=now_ms, skip_non_finite=skip_non_finite)
    try:
        batch = validate_batch(body, now_ms=now_ms, limits=limits)
    except ValidationError as exc:
        raise name_sample(exc, samples) from None
    batch.metadata = exposition_metadata(text)
    return batch


def name_sample(exc: ValidationError, samples: list[Sample]) -> ValidationError:
    """Rewrite ``metrics[i].points[0][1]`` style fields as ``<sample> value`` and the like."""
    match = _FIELD_RE.match(exc.field)
    if not match or int(match.group(1)) >= len(samples):
        return exc
    where, rest = sample_text(samples[int(match.group(1))]), match.group(2)
    if rest.endswith("][0]"):
        part = " timestamp"
    elif rest.endswith("][1]"):
        part = " value"
    elif rest.startswith(".labels"):
        part = " " + rest[1:]
    elif rest == ".name":
        part = " name"
    else:
        part = ""
    return ValidationError(where + part, exc.message)
