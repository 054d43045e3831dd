"""Prometheus remote write 1.0 to an ingest batch (pure: cramjam's snappy and protobuf only).

The body is a snappy block of a ``prometheus.WriteRequest``. Its messages are built at import
from a descriptor of the published ``remote.proto`` and ``types.proto`` (the fields remote write
1.0 sends), so no generated module needs checking in. ``__name__`` is the metric name, the other
labels stay labels; each sample is a point. Staleness markers and other NaN/infinite samples are
dropped (the model keeps finite values; Prometheus writes a NaN marker when a series goes away)
and counted. A native histogram refuses the request: remote write 1.0 has no partial answer.
``metadata`` gives a family's series their unit: Prometheus sends it in requests of its own, so
the caller keeps the units seen and passes them in; its type, help and unit become the batch's
family metadata.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cramjam
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.message import DecodeError, Message

from dashboard.metrics.metadata import REMOTE_WRITE_TYPES, MetricMetadata, entry
from dashboard.metrics.model import Batch, Limits, ValidationError
from ingest.points import BatchBuilder

F = descriptor_pb2.FieldDescriptorProto
# message -> [(field, number, type, label, type name)], as in prometheus/prompb/*.proto
_MESSAGES = {
    "Sample": [("value", 1, F.TYPE_DOUBLE, 1, ""), ("timestamp", 2, F.TYPE_INT64, 1, "")],
    "Label": [("name", 1, F.TYPE_STRING, 1, ""), ("value", 2, F.TYPE_STRING, 1, "")],
    "Exemplar": [
        ("labels", 1, F.TYPE_MESSAGE, 3, ".prometheus.Label"),
        ("value", 2, F.TYPE_DOUBLE, 1, ""),
        ("timestamp", 3, F.TYPE_INT64, 1, ""),
    ],
    # a native histogram is only told apart here; its fields are not read
    "Histogram": [("count_int", 1, F.TYPE_UINT64, 1, "")],
    "TimeSeries": [
        ("labels", 1, F.TYPE_MESSAGE, 3, ".prometheus.Label"),
        ("samples", 2, F.TYPE_MESSAGE, 3, ".prometheus.Sample"),
        ("exemplars", 3, F.TYPE_MESSAGE, 3, ".prometheus.Exemplar"),
        ("histograms", 4, F.TYPE_MESSAGE, 3, ".prometheus.Histogram"),
    ],
    "MetricMetadata": [
        ("type", 1, F.TYPE_INT32, 1, ""),
        ("metric_family_name", 2, F.TYPE_STRING, 1, ""),
        ("help", 4, F.TYPE_STRING, 1, ""),
        ("unit", 5, F.TYPE_STRING, 1, ""),
    ],
    "WriteRequest": [
        ("timeseries", 1, F.TYPE_MESSAGE, 3, ".prometheus.TimeSeries"),
        ("metadata", 3, F.TYPE_MESSAGE, 3, ".prometheus.MetricMetadata"),
    ],
}
# suffixes of the samples of a family (a counter's _total, a histogram's and summary's parts)
_FAMILY_SUFFIXES = ("_total", "_bucket", "_sum", "_count", "_created", "_info")


def message_classes(
    package: str, messages: dict[str, list[tuple[str, int, int, int, str]]]
) -> dict[str, type[Message]]:
    """Message classes of a protocol, from a descriptor built here of its messages' fields."""
    file = descriptor_pb2.FileDescriptorProto(
        name=f"dashboard/{package}.proto", package=package, syntax="proto3"
    )
    for name, fields in messages.items():
        message = file.message_type.add(name=name)
        for field_name, number, kind, label, type_name in fields:
            added = message.field.add(name=field_name, number=number, type=kind, label=label)
            if type_name:
                added.type_name = type_name
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    return {
        name: message_factory.GetMessageClass(pool.FindMessageTypeByName(f"{package}.{name}"))
        for name in messages
    }


MESSAGES = message_classes("prometheus", _MESSAGES)
WriteRequest = MESSAGES["WriteRequest"]
Label = MESSAGES["Label"]
# The same messages with each series' labels left as their encoded bytes: a sender repeats its
# series, so a tuple of those bytes finds the series checked before without decoding a label.
_RAW_MESSAGES = {
    name: [
        (f, n, t, lab, ref.replace(".prometheus.", ".prometheus_raw."))
        for f, n, t, lab, ref in fields
    ]
    for name, fields in _MESSAGES.items()
}
_RAW_MESSAGES["TimeSeries"][0] = ("labels", 1, F.TYPE_BYTES, 3, "")
RawWriteRequest = message_classes("prometheus_raw", _RAW_MESSAGES)["WriteRequest"]
# series seen (their labels' bytes, or (name, value) pairs) -> [name, labels, key once checked]
_SEEN: dict[Limits, dict[tuple, list]] = {}
_MAX_SEEN = 100_000


@dataclass
class Decoded:
    """A remote write request as a batch, with the samples it dropped."""

    batch: Batch
    dropped_non_finite: int = 0
    units: dict[str, str] = field(default_factory=dict)


def uncompressed_length(data: bytes) -> int:
    """The length a snappy block says it holds (its leading varint); ValidationError if none."""
    length, shift = 0, 0
    for i, byte in enumerate(data[:10]):
        length |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return length
        shift += 7
        if i == 4:
            break
    raise ValidationError("body", "not a snappy block (no length header)")


def decompress(data: bytes, *, max_bytes: int) -> bytes:
    """The bytes of a snappy block, refused past ``max_bytes`` before decompressing."""
    size = uncompressed_length(data)
    if size > max_bytes:
        raise ValidationError("body", f"decompresses to {size} bytes, over {max_bytes}")
    try:
        return bytes(cramjam.snappy.decompress_raw(data))
    except cramjam.DecompressionError as exc:
        raise ValidationError("body", f"not a snappy block: {str(exc)[:120]}") from None


def parse_request(data: bytes) -> object:
    """The WriteRequest of protobuf bytes; ValidationError if they are not one."""
    try:
        return WriteRequest.FromString(data)
    except (DecodeError, RuntimeError, ValueError) as exc:
        raise ValidationError("body", f"not a protobuf WriteRequest: {str(exc)[:120]}") from None


def units(request: object) -> dict[str, str]:
    """Family name -> unit, from the request's metadata."""
    return {m.metric_family_name: m.unit for m in request.metadata if m.unit}  # type: ignore[attr-defined]


def families(request: object) -> list[MetricMetadata]:
    """The families' type, help and unit, from the request's metadata."""
    found = (
        entry(m.metric_family_name, REMOTE_WRITE_TYPES.get(m.type, ""), m.help, m.unit)
        for m in request.metadata  # type: ignore[attr-defined]
    )
    return [m for m in found if m is not None]


def unit_of(name: str, family_units: dict[str, str]) -> str:
    """The unit metadata gives the family of metric ``name``, if any."""
    if not family_units:
        return ""
    if name in family_units:
        return family_units[name]
    for suffix in _FAMILY_SUFFIXES:
        if name.endswith(suffix) and name[: -len(suffix)] in family_units:
            return family_units[name[: -len(suffix)]]
    return ""


def request_batch(
    request: object,
    *,
    now_ms: int,
    limits: Limits | None = None,
    known_units: dict[str, str] | None = None,
) -> Decoded:
    """The batch of a decoded WriteRequest (each sample a point), what was dropped, and the
    units its metadata gives (``known_units``: those of earlier requests)."""
    builder = BatchBuilder(now_ms=now_ms, limits=limits, drop_non_finite=True)
    sent_units = units(request)
    family_units = {**known_units, **sent_units} if known_units else sent_units
    raw = isinstance(request, RawWriteRequest)
    seen = _SEEN.setdefault(builder.limits, {})
    if len(seen) > _MAX_SEEN:
        seen.clear()
    add = builder.add_key
    for series in request.timeseries:  # type: ignore[attr-defined]
        if series.histograms:
            raise ValidationError("timeseries", "native histograms are not supported")
        if raw:
            found_by = tuple(series.labels)
        else:
            found_by = tuple([(label.name, label.value) for label in series.labels])
        found = seen.get(found_by)
        if found is None:
            found = seen[found_by] = _series_labels(found_by, raw)
        samples = series.samples
        if len(samples) == 1:  # what Prometheus sends in real time
            sample = samples[0]
            ts, values = [sample.timestamp], [sample.value]
        elif samples:
            ts = [sample.timestamp for sample in samples]
            values = [sample.value for sample in samples]
        else:
            continue
        name, key = found[0], found[2]
        if key is None:
            key = found[2] = builder.key(name, found[1])
        add(key, ts, values, unit_of(name, family_units))
    batch = builder.build()
    batch.metadata = families(request)
    return Decoded(batch, builder.dropped, sent_units)


def _series_labels(found_by: tuple, raw: bool) -> list:
    """``[name, labels, None]`` of a series' labels (encoded Label messages when ``raw``, else
    (name, value) pairs); ValidationError when a label repeats or does not decode."""
    if raw:
        try:
            decoded = [Label.FromString(data) for data in found_by]
        except (DecodeError, RuntimeError, ValueError) as exc:
            message = f"not a protobuf WriteRequest: {str(exc)[:120]}"
            raise ValidationError("body", message) from None
        pairs = [(label.name, label.value) for label in decoded]
    else:
        pairs = list(found_by)
    labels = dict(pairs)
    if len(labels) != len(pairs):
        raise ValidationError("timeseries", f"a label repeats in {sorted(labels)[:8]}")
    name = labels.pop("__name__", "")
    return [name, tuple(labels.items()), None]


def parse_raw(data: bytes) -> object:
    """Like ``parse_request``, each series' labels left encoded (decoded when first seen)."""
    try:
        return RawWriteRequest.FromString(data)
    except (DecodeError, RuntimeError, ValueError) as exc:
        raise ValidationError("body", f"not a protobuf WriteRequest: {str(exc)[:120]}") from None


def decode(
    data: bytes,
    *,
    now_ms: int,
    limits: Limits | None = None,
    max_bytes: int,
    known_units: dict[str, str] | None = None,
) -> Decoded:
    """A snappy-compressed WriteRequest body to a checked batch; ValidationError if malformed."""
    return request_batch(
        parse_raw(decompress(data, max_bytes=max_bytes)),
        now_ms=now_ms,
        limits=limits,
        known_units=known_units,
    )


def encode(request: object) -> bytes:
    """A WriteRequest as a remote write body (snappy block of its bytes): for tests and bench."""
    return bytes(cramjam.snappy.compress_raw(request.SerializeToString()))  # type: ignore[attr-defined]
