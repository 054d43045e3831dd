"""Prometheus remote write 2.0 to an ingest batch (pure: cramjam's snappy and protobuf only).

An ``io.prometheus.write.v2.Request`` names every string once in ``symbols``; a series gives its
labels as pairs of references into it, and its metadata's ``unit_ref`` gives the series its unit
(``help`` is not kept). Samples are points as in 1.0: non-finite ones are dropped and counted; a
native histogram, a reference outside ``symbols`` or an invalid series refuses the request.
"""

from __future__ import annotations

from google.protobuf.message import DecodeError

from dashboard.metrics.model import Limits, ValidationError
from ingest.points import BatchBuilder
from ingest.remote_write import Decoded, F, decompress, message_classes

PROTO = "io.prometheus.write.v2.Request"
_PACKAGE = "io.prometheus.write.v2"
_MESSAGES = {
    "Sample": [("value", 1, F.TYPE_DOUBLE, 1, ""), ("timestamp", 2, F.TYPE_INT64, 1, "")],
    # a native histogram is only told apart here; its fields are not read
    "Histogram": [("count_int", 1, F.TYPE_UINT64, 1, "")],
    "Metadata": [
        ("type", 1, F.TYPE_INT32, 1, ""),
        ("help_ref", 3, F.TYPE_UINT32, 1, ""),
        ("unit_ref", 4, F.TYPE_UINT32, 1, ""),
    ],
    "TimeSeries": [
        ("labels_refs", 1, F.TYPE_UINT32, 3, ""),
        ("samples", 2, F.TYPE_MESSAGE, 3, f".{_PACKAGE}.Sample"),
        ("histograms", 3, F.TYPE_MESSAGE, 3, f".{_PACKAGE}.Histogram"),
        ("metadata", 5, F.TYPE_MESSAGE, 1, f".{_PACKAGE}.Metadata"),
        ("created_timestamp", 6, F.TYPE_INT64, 1, ""),
    ],
    "Request": [
        ("symbols", 4, F.TYPE_STRING, 3, ""),
        ("timeseries", 5, F.TYPE_MESSAGE, 3, f".{_PACKAGE}.TimeSeries"),
    ],
}
MESSAGES = message_classes(_PACKAGE, _MESSAGES)
Request = MESSAGES["Request"]
# series seen (their label texts, name first) -> [name, labels, key once checked]
_SEEN: dict[Limits, dict[tuple[str, ...], list]] = {}
_MAX_SEEN = 100_000


def parse_request(data: bytes) -> object:
    """The Request of protobuf bytes; ValidationError if they are not one."""
    try:
        return Request.FromString(data)
    except (DecodeError, RuntimeError, ValueError) as exc:
        raise ValidationError("body", f"not a protobuf v2 Request: {str(exc)[:120]}") from None


def series_labels(symbols: list[str], refs: list[int], where: str) -> dict[str, str]:
    """The labels of a series' reference pairs; ValidationError for a bad reference."""
    count = len(symbols)
    if len(refs) % 2 or any(ref >= count for ref in refs):
        raise ValidationError(where, "labels_refs must be pairs of references into symbols")
    labels = {symbols[refs[i]]: symbols[refs[i + 1]] for i in range(0, len(refs), 2)}
    if 2 * len(labels) != len(refs):
        raise ValidationError(where, f"a label repeats in {sorted(labels)[:8]}")
    return labels


def request_batch(request: object, *, now_ms: int, limits: Limits | None = None) -> Decoded:
    """The batch of a decoded v2 Request (each sample a point), and what was dropped."""
    builder = BatchBuilder(now_ms=now_ms, limits=limits, drop_non_finite=True)
    symbols = list(request.symbols)  # type: ignore[attr-defined]
    count = len(symbols)
    seen = _SEEN.setdefault(builder.limits, {})
    if len(seen) > _MAX_SEEN:
        seen.clear()
    for i, series in enumerate(request.timeseries):  # type: ignore[attr-defined]
        if series.histograms:
            raise ValidationError(f"timeseries[{i}]", "native histograms are not supported")
        refs = series.labels_refs
        if len(refs) % 2 or (refs and max(refs) >= count):
            series_labels(symbols, list(refs), f"timeseries[{i}]")  # raises, naming the fault
        # a sender repeats its series: their label texts find the ones checked before
        found_by = tuple([symbols[ref] for ref in refs])
        found = seen.get(found_by)
        if found is None:
            labels = series_labels(symbols, list(refs), f"timeseries[{i}]")
            name = labels.pop("__name__", "")
            found = seen[found_by] = [name, tuple(labels.items()), None]
        unit_ref = series.metadata.unit_ref
        if unit_ref >= count:
            raise ValidationError(f"timeseries[{i}].metadata", "unit_ref outside symbols")
        samples = series.samples
        if samples:
            key = found[2]
            if key is None:
                key = found[2] = builder.key(found[0], found[1])
            builder.add_key(
                key,
                [sample.timestamp for sample in samples],
                [sample.value for sample in samples],
                symbols[unit_ref] if unit_ref else "",
            )
    batch = builder.build()
    return Decoded(batch, builder.dropped)


def decode(data: bytes, *, now_ms: int, limits: Limits | None = None, max_bytes: int) -> Decoded:
    """A snappy-compressed v2 Request body to a checked batch; ValidationError if malformed."""
    return request_batch(
        parse_request(decompress(data, max_bytes=max_bytes)), now_ms=now_ms, limits=limits
    )
