"""OTLP/HTTP metrics (protobuf or JSON) to an ingest batch (pure: opentelemetry-proto only).

Each data point becomes points of Prometheus-style series (names and labels: ``otlp_names``):
gauges and non-monotonic sums as gauges, monotonic sums as ``_total`` counters, histograms as
``_bucket{le}`` (cumulative), ``_sum`` and ``_count``, summaries as ``{quantile}``, ``_sum`` and
``_count``. Delta temporality is marked for ``DeltaTotals`` to add up. Exponential histograms are
rejected (partial success), as is any metric whose name, labels, times or values the model
refuses; the rest of the export is taken. Each metric taken gives its family's metadata: a
monotonic sum is a counter, a gauge or non-monotonic sum a gauge, histograms and summaries
their own type, with the metric's description as help.
"""

from __future__ import annotations

import json
import re
import threading
import zlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from google.protobuf import json_format
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)

from dashboard.metrics.metadata import MetricMetadata, entry
from dashboard.metrics.model import Batch, Limits, SeriesKey, ValidationError
from ingest.otlp_names import label_name, metric_name, resource_labels
from ingest.points import BatchBuilder

DELTA = 1
NO_RECORDED_VALUE = 1
EXPONENTIAL = "exponential histograms are not supported: use explicit buckets (a View)"


@dataclass
class Decoded:
    """An export as a batch: the keys of delta series, and the points rejected and why."""

    batch: Batch
    delta: set[SeriesKey] = field(default_factory=set)
    rejected: int = 0
    error: str = ""


def gunzip(data: bytes, *, max_bytes: int) -> bytes:
    """A gzip body's bytes, refused once past ``max_bytes``; ValidationError if not gzip."""
    inflater = zlib.decompressobj(wbits=31)
    try:
        out = inflater.decompress(data, max_bytes + 1)
    except zlib.error as exc:
        raise ValidationError("body", f"not gzip: {exc}") from None
    if len(out) > max_bytes:
        raise ValidationError("body", f"decompresses to more than {max_bytes} bytes")
    return out


def parse_protobuf(data: bytes) -> ExportMetricsServiceRequest:
    """The ExportMetricsServiceRequest of protobuf bytes; ValidationError if not one."""
    try:
        return ExportMetricsServiceRequest.FromString(data)
    except (DecodeError, RuntimeError, ValueError) as exc:
        raise ValidationError("body", f"not an OTLP metrics request: {str(exc)[:120]}") from None


def _drop_exemplars(doc: Any) -> Any:
    """The document without exemplars (OTLP/JSON writes their ids in hex, not base64)."""
    if isinstance(doc, dict):
        return {k: _drop_exemplars(v) for k, v in doc.items() if k != "exemplars"}
    if isinstance(doc, list):
        return [_drop_exemplars(v) for v in doc]
    return doc


def parse_json(data: bytes) -> ExportMetricsServiceRequest:
    """The ExportMetricsServiceRequest of OTLP/JSON bytes; ValidationError if not one."""
    try:
        doc = json.loads(data)
        if isinstance(doc, dict):
            try:
                return _fast_request(doc)
            except _NotPlain:
                pass
        doc = _drop_exemplars(doc)
        if not isinstance(doc, dict):
            raise ValueError("the document must be an object")
        return json_format.ParseDict(doc, ExportMetricsServiceRequest(), ignore_unknown_fields=True)
    except (ValueError, TypeError, RecursionError, json_format.ParseError) as exc:
        raise ValidationError("body", f"not OTLP/JSON metrics: {str(exc)[:160]}") from None


class _NotPlain(Exception):
    """An OTLP/JSON document outside what ``_fast_request`` reads: ``ParseDict`` reads it."""


_TEMPORALITY = {"AGGREGATION_TEMPORALITY_UNSPECIFIED": 0, "AGGREGATION_TEMPORALITY_DELTA": 1}
_TEMPORALITY["AGGREGATION_TEMPORALITY_CUMULATIVE"] = 2
_U64 = 2**64
_INT_TEXT = re.compile(r"-?[0-9]{1,20}")


def _fields(obj: Any, allowed: frozenset[str]) -> dict:
    """``obj`` when it is an object of only ``allowed`` keys and no nulls; _NotPlain else."""
    if type(obj) is not dict or not allowed.issuperset(obj) or None in obj.values():
        raise _NotPlain
    return obj


def _text(value: Any) -> str:
    """A JSON string."""
    if type(value) is not str:
        raise _NotPlain
    return value


def _int64(value: Any, lo: int, hi: int) -> int:
    """A 64-bit integer given as a JSON integer or a decimal string, in ``[lo, hi)``."""
    if type(value) is str and _INT_TEXT.fullmatch(value):
        value = int(value)
    if type(value) is not int or not lo <= value < hi:
        raise _NotPlain
    return value


def _attributes(items: list[tuple[str, str, Any]], out: Any) -> None:
    """Checked plain attributes (``_plain_attributes``) into ``out``, a repeated KeyValue."""
    for key, kind, given in items:
        added = out.add(key=key)
        if kind:
            setattr(added.value, kind, given)


_KINDS = {"stringValue": "string_value", "boolValue": "bool_value"}
_KINDS.update(intValue="int_value", doubleValue="double_value")


def _plain_attributes(items: Any) -> list[tuple[str, str, Any]]:
    """Plain attributes checked: (key, AnyValue field or "" for none, value) each."""
    if type(items) is not list:
        raise _NotPlain
    out = []
    for item in items:
        kv = _fields(item, _KV)
        value = _fields(kv.get("value", {}), _ANY)
        key = _text(kv.get("key", ""))
        if len(value) > 1:
            raise _NotPlain
        kind, given = next(iter(value.items()), ("", None))
        if kind == "stringValue":
            _text(given)
        elif kind == "intValue":
            given = _int64(given, -(2**63), 2**63)
        elif kind and type(given) is not (bool if kind == "boolValue" else float):
            raise _NotPlain
        out.append((key, _KINDS.get(kind, ""), given))
    return out


def _plain_data(doc: dict) -> tuple[str, dict, int, bool]:
    """A plain metric's data checked: ``gauge`` or ``sum``, its document, temporality and
    monotonicity (0 and False for a gauge)."""
    if ("gauge" in doc) == ("sum" in doc):
        raise _NotPlain
    if "gauge" in doc:
        return "gauge", _fields(doc["gauge"], _GAUGE), 0, False
    data_doc = _fields(doc["sum"], _SUM)
    temporality = data_doc.get("aggregationTemporality", 0)
    if type(temporality) is str:
        temporality = _TEMPORALITY.get(temporality, -1)
    if type(temporality) is not int or temporality not in (0, 1, 2):
        raise _NotPlain
    monotonic = data_doc.get("isMonotonic", False)
    if type(monotonic) is not bool:
        raise _NotPlain
    return "sum", data_doc, temporality, monotonic


def _plain_point(doc: Any) -> tuple[int, int, str, float | int, int, list]:
    """A plain data point checked: time, start time, value field ("" for none) and value,
    flags, attributes."""
    doc = _fields(doc, _POINT)
    nanos = _int64(doc.get("timeUnixNano", 0), 0, _U64)
    start = _int64(doc.get("startTimeUnixNano", 0), 0, _U64)
    field, value = "", 0.0
    if "asDouble" in doc:
        if "asInt" in doc or type(doc["asDouble"]) is not float:
            raise _NotPlain
        field, value = "as_double", doc["asDouble"]
    elif "asInt" in doc:
        field, value = "as_int", _int64(doc["asInt"], -(2**63), 2**63)
    flags = doc.get("flags", 0)
    if type(flags) is not int or not 0 <= flags < 2**32:
        raise _NotPlain
    return nanos, start, field, value, flags, _plain_attributes(doc.get("attributes", []))


_KV = frozenset({"key", "value"})
_ANY = frozenset({"stringValue", "boolValue", "intValue", "doubleValue"})
_REQUEST = frozenset({"resourceMetrics"})
_RESOURCE_METRICS = frozenset({"resource", "scopeMetrics", "schemaUrl"})
_RESOURCE = frozenset({"attributes"})
_SCOPE_METRICS = frozenset({"scope", "metrics", "schemaUrl"})
_SCOPE = frozenset({"name", "version"})
_METRIC = frozenset({"name", "description", "unit", "gauge", "sum"})
_GAUGE = frozenset({"dataPoints"})
_SUM = frozenset({"dataPoints", "aggregationTemporality", "isMonotonic"})
_POINT = frozenset(
    {"attributes", "startTimeUnixNano", "timeUnixNano", "asDouble", "asInt", "flags", "exemplars"}
)


def _fast_request(doc: dict) -> ExportMetricsServiceRequest:
    """The export of a plain OTLP/JSON document (gauges and sums of numbers, attributes of
    scalars, lowerCamelCase names, as the SDKs and the Collector write them), built field by
    field: ``ParseDict`` takes ~50 ms for an export of 1,000 points. Anything else (histograms,
    summaries, arrays, maps, bytes, unknown fields, nulls, strings for numbers other than
    64-bit integers) raises _NotPlain, and ``ParseDict`` reads the document instead."""
    request = ExportMetricsServiceRequest()
    for rm_doc in _list(_fields(doc, _REQUEST).get("resourceMetrics", [])):
        rm_doc = _fields(rm_doc, _RESOURCE_METRICS)
        rm = request.resource_metrics.add(schema_url=_text(rm_doc.get("schemaUrl", "")))
        if "resource" in rm_doc:  # (set as ParseDict sets it: present once given)
            rm.resource.SetInParent()
            resource = _fields(rm_doc["resource"], _RESOURCE)
            _attributes(_plain_attributes(resource.get("attributes", [])), rm.resource.attributes)
        for sm_doc in _list(rm_doc.get("scopeMetrics", [])):
            sm_doc = _fields(sm_doc, _SCOPE_METRICS)
            sm = rm.scope_metrics.add(schema_url=_text(sm_doc.get("schemaUrl", "")))
            if "scope" in sm_doc:
                sm.scope.SetInParent()
                scope = _fields(sm_doc["scope"], _SCOPE)
                sm.scope.name = _text(scope.get("name", ""))
                sm.scope.version = _text(scope.get("version", ""))
            for metric_doc in _list(sm_doc.get("metrics", [])):
                _fast_metric(_fields(metric_doc, _METRIC), sm.metrics.add())
    return request


def _list(value: Any) -> list:
    """A JSON array."""
    if type(value) is not list:
        raise _NotPlain
    return value


def _fast_metric(doc: dict, metric: Any) -> None:
    """A gauge or sum metric of a plain document."""
    metric.name = _text(doc.get("name", ""))
    metric.description = _text(doc.get("description", ""))
    metric.unit = _text(doc.get("unit", ""))
    kind, data_doc, temporality, monotonic = _plain_data(doc)
    data = getattr(metric, kind)
    data.SetInParent()
    if kind == "sum":
        data.aggregation_temporality = temporality
        data.is_monotonic = monotonic
    points = data.data_points
    for point_doc in _list(data_doc.get("dataPoints", [])):
        nanos, start, field, value, flags, attrs = _plain_point(point_doc)
        point = points.add(time_unix_nano=nanos, start_time_unix_nano=start, flags=flags)
        if field:
            setattr(point, field, value)
        _attributes(attrs, point.attributes)


def attribute_value(value: Any) -> str:
    """An AnyValue as a label value (arrays and maps as JSON, as Prometheus writes them)."""
    kind = value.WhichOneof("value")
    if kind == "string_value":
        return value.string_value
    if kind == "bool_value":
        return "true" if value.bool_value else "false"
    if kind in ("int_value", "double_value"):
        return str(getattr(value, kind))
    if kind == "bytes_value":
        return value.bytes_value.hex()
    if kind == "array_value":
        return json.dumps([attribute_value(v) for v in value.array_value.values])
    if kind == "kvlist_value":
        return json.dumps({kv.key: attribute_value(kv.value) for kv in value.kvlist_value.values})
    return ""


def attributes(pairs: Any) -> dict[str, str]:
    """Attribute key -> string value."""
    return {kv.key: attribute_value(kv.value) for kv in pairs}


_LABEL_NAMES: dict[str, str] = {}  # attribute key -> label name (exporters repeat their keys)
_MAX_LABEL_NAMES = 10_000


def point_labels(base: dict[str, str], pairs: Any) -> tuple[tuple[str, str], ...]:
    """The labels of a data point: its attributes (names made valid; values of names that
    collide joined with ``;``) over the resource's labels."""
    texts = []
    for kv in pairs:
        any_value = kv.value
        if any_value.WhichOneof("value") == "string_value":  # the usual attribute
            texts.append((kv.key, any_value.string_value))
        else:
            texts.append((kv.key, attribute_value(any_value)))
    return labels_over(base, texts)


def labels_over(base: dict[str, str], pairs: list[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """:func:`point_labels` of attributes given as (key, label value) pairs."""
    labels = dict(base)
    mine: dict[str, str] = {}
    names = _LABEL_NAMES
    for key, value in pairs:
        name = names.get(key)
        if name is None:
            name = label_name(key)
            if len(names) < _MAX_LABEL_NAMES:
                names[key] = name
        mine[name] = f"{mine[name]};{value}" if name in mine else value
    labels.update(mine)
    return tuple(labels.items())


def _bound(value: float) -> str:
    """A bucket bound or quantile as Prometheus writes it (``0.005``, ``1000``, ``+Inf``)."""
    if value == float("inf"):
        return "+Inf"
    return np.format_float_positional(value, trim="-")


class _Export:
    """Adds the points of one export's metrics to a builder."""

    def __init__(self, builder: BatchBuilder, now_ms: int) -> None:
        """An export read into ``builder``."""
        self.builder = builder
        self.now_ms = now_ms
        self.delta: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
        self.families: list[MetricMetadata] = []
        self.rejected = 0
        self.error = ""

    def family(self, name: str, type_: str, metric: Any) -> None:
        """Note a metric family's type, help and unit."""
        self.family_of(name, type_, metric.description, metric.unit)

    def family_of(self, name: str, type_: str, description: str, unit: str) -> None:
        """:meth:`family` given the metric's description and unit."""
        found = entry(name, type_, description, unit)
        if found is not None:
            self.families.append(found)

    def ms(self, point: Any) -> int:
        """A data point's time in ms (now, for a point without one)."""
        return point.time_unix_nano // 1_000_000 if point.time_unix_nano else self.now_ms

    def taken(self, read: Any, metric: Any, base: dict[str, str], count: Any) -> None:
        """``read(metric, base)`` into the builder, or none of its points: a metric the model
        refuses is counted (``count(metric)`` points) and the rest of the export goes on."""
        mark = self.builder.mark()
        try:
            read(metric, base)
        except ValidationError as exc:
            if exc.field == "body":  # the point limit: the whole request
                raise
            self.builder.rollback(mark)
            self.rejected += count(metric)
            self.error = self.error or f"{exc.field}: {exc.message}"

    def decoded(self) -> Decoded:
        """The export read: its batch, delta series and what was rejected."""
        builder = self.builder
        batch = builder.build(partial=True)
        batch.metadata = self.families
        marked = _sorted(self.delta)
        delta = {s.key for s in batch.series if (s.key.name, s.key.labels) in marked}
        return Decoded(batch, delta, self.rejected + builder.rejected, self.error or builder.error)

    def plain_metric(self, doc: dict, base: dict[str, str]) -> None:
        """:meth:`metric` of a plain gauge or sum document (``_fast_metric``'s checks)."""
        name = _text(doc.get("name", ""))
        description = _text(doc.get("description", ""))
        unit = _text(doc.get("unit", ""))
        kind, data_doc, temporality, monotonic = _plain_data(doc)
        counter, delta = monotonic, kind == "sum" and temporality == DELTA
        name = metric_name(name, unit, counter=counter, gauge=not counter)
        add = self.builder.add
        for point_doc in _list(data_doc.get("dataPoints", [])):
            nanos, _, _, value, flags, attrs = _plain_point(point_doc)
            labels = labels_over(base, _plain_pairs(attrs))
            if flags & NO_RECORDED_VALUE:
                continue
            add(name, labels, [nanos // 1_000_000 if nanos else self.now_ms], [value])
            if delta:
                self.delta.add((name, labels))
        self.family_of(name, "counter" if counter else "gauge", description, unit)

    def add(self, name: str, labels: tuple, ts: int, value: float, delta: bool) -> None:
        """One point of one series."""
        self.builder.add(name, labels, [ts], [value])
        if delta:
            self.delta.add((name, labels))

    def metric(self, metric: Any, base: dict[str, str]) -> None:
        """The points of one metric (ValidationError: the metric is refused)."""
        kind = metric.WhichOneof("data")
        if kind == "gauge" or kind == "sum":
            data = getattr(metric, kind)
            counter = kind == "sum" and data.is_monotonic
            name = metric_name(metric.name, metric.unit, counter=counter, gauge=not counter)
            delta = kind == "sum" and data.aggregation_temporality == DELTA
            add = self.builder.add
            for point in data.data_points:
                if point.flags & NO_RECORDED_VALUE:
                    continue
                is_double = point.WhichOneof("value") == "as_double"
                value = point.as_double if is_double else point.as_int
                labels = point_labels(base, point.attributes)
                nanos = point.time_unix_nano
                add(name, labels, [nanos // 1_000_000 if nanos else self.now_ms], [value])
                if delta:
                    self.delta.add((name, labels))
            self.family(name, "counter" if counter else "gauge", metric)
        elif kind == "histogram":
            self.histogram(metric, base)
            self.family(metric_name(metric.name, metric.unit), "histogram", metric)
        elif kind == "summary":
            self.summary(metric, base)
            self.family(metric_name(metric.name, metric.unit), "summary", metric)
        elif kind == "exponential_histogram":
            raise ValidationError(metric.name, EXPONENTIAL)

    def histogram(self, metric: Any, base: dict[str, str]) -> None:
        """A histogram's cumulative ``_bucket{le}`` series, ``_sum`` and ``_count``."""
        name = metric_name(metric.name, metric.unit)
        delta = metric.histogram.aggregation_temporality == DELTA
        for point in metric.histogram.data_points:
            if point.flags & NO_RECORDED_VALUE:
                continue
            labels, ts = point_labels(base, point.attributes), self.ms(point)
            if len(point.bucket_counts) not in (0, len(point.explicit_bounds) + 1):
                raise ValidationError(metric.name, "bucket_counts must be one more than bounds")
            running = 0
            for bound, count in zip(point.explicit_bounds, point.bucket_counts, strict=False):
                running += count
                self.add(f"{name}_bucket", (*labels, ("le", _bound(bound))), ts, running, delta)
            self.add(f"{name}_bucket", (*labels, ("le", "+Inf")), ts, point.count, delta)
            if point.HasField("sum"):
                self.add(f"{name}_sum", labels, ts, point.sum, delta)
            self.add(f"{name}_count", labels, ts, point.count, delta)

    def summary(self, metric: Any, base: dict[str, str]) -> None:
        """A summary's ``{quantile}`` series, ``_sum`` and ``_count``."""
        name = metric_name(metric.name, metric.unit)
        for point in metric.summary.data_points:
            if point.flags & NO_RECORDED_VALUE:
                continue
            labels, ts = point_labels(base, point.attributes), self.ms(point)
            for q in point.quantile_values:
                self.add(name, (*labels, ("quantile", _bound(q.quantile))), ts, q.value, False)
            self.add(f"{name}_sum", labels, ts, point.sum, False)
            self.add(f"{name}_count", labels, ts, point.count, False)


def point_count(metric: Any) -> int:
    """The data points of a metric (what partial success counts)."""
    kind = metric.WhichOneof("data")
    return len(getattr(metric, kind).data_points) if kind else 0


def request_batch(
    request: ExportMetricsServiceRequest,
    *,
    now_ms: int,
    limits: Limits | None = None,
    promote: tuple[str, ...] = (),
) -> Decoded:
    """The batch of an export; metrics the model refuses are counted in ``rejected``."""
    export = _Export(BatchBuilder(now_ms=now_ms, limits=limits), now_ms)
    for resource_metrics in request.resource_metrics:
        base = resource_labels(attributes(resource_metrics.resource.attributes), promote)
        for scope in resource_metrics.scope_metrics:
            for metric in scope.metrics:
                export.taken(export.metric, metric, base, point_count)
    return export.decoded()


def json_batch(
    data: bytes, *, now_ms: int, limits: Limits | None = None, promote: tuple[str, ...] = ()
) -> Decoded:
    """``request_batch(parse_json(data))``: a plain document (as ``_fast_request`` reads
    them) goes straight into the batch, without building the protobuf message (which took
    about a third of an OTLP/JSON request); any other through ``parse_json``."""
    try:
        doc = json.loads(data)
    except (ValueError, TypeError, RecursionError) as exc:
        raise ValidationError("body", f"not OTLP/JSON metrics: {str(exc)[:160]}") from None
    if type(doc) is dict:
        try:
            return _plain_batch(doc, now_ms, limits, promote)
        except _NotPlain:
            pass
    return request_batch(parse_json(data), now_ms=now_ms, limits=limits, promote=promote)


def _plain_batch(
    doc: dict, now_ms: int, limits: Limits | None, promote: tuple[str, ...]
) -> Decoded:
    """:func:`json_batch` of a document ``_fast_request`` reads (_NotPlain for any other),
    with the same checks, in the same order."""
    export = _Export(BatchBuilder(now_ms=now_ms, limits=limits), now_ms)
    for rm_doc in _list(_fields(doc, _REQUEST).get("resourceMetrics", [])):
        rm_doc = _fields(rm_doc, _RESOURCE_METRICS)
        _text(rm_doc.get("schemaUrl", ""))
        resource = _fields(rm_doc.get("resource", {}), _RESOURCE)
        attrs = _plain_attributes(resource.get("attributes", []))
        base = resource_labels(dict(_plain_pairs(attrs)), promote)
        for sm_doc in _list(rm_doc.get("scopeMetrics", [])):
            sm_doc = _fields(sm_doc, _SCOPE_METRICS)
            _text(sm_doc.get("schemaUrl", ""))
            scope = _fields(sm_doc.get("scope", {}), _SCOPE)
            _text(scope.get("name", ""))
            _text(scope.get("version", ""))
            for metric_doc in _list(sm_doc.get("metrics", [])):
                metric_doc = _fields(metric_doc, _METRIC)
                export.taken(export.plain_metric, metric_doc, base, _plain_point_count)
    return export.decoded()


def _plain_point_count(doc: dict) -> int:
    """The data points of a plain metric document."""
    data = doc.get("gauge", doc.get("sum"))
    points = data.get("dataPoints", []) if type(data) is dict else []
    return len(points) if type(points) is list else 0


def _plain_pairs(items: list[tuple[str, str, Any]]) -> list[tuple[str, str]]:
    """Checked plain attributes (``_plain_attributes``) as (key, label value) pairs, the
    values as :func:`attribute_value` writes them."""
    return [
        (key, "" if not kind else given if kind == "string_value" else _scalar_text(given))
        for key, kind, given in items
    ]


def _scalar_text(value: bool | int | float) -> str:
    """A boolean, integer or double attribute as a label value."""
    if type(value) is bool:
        return "true" if value else "false"
    return str(value)


def _sorted(keys: set[tuple[str, tuple[tuple[str, str], ...]]]) -> set[tuple[str, tuple]]:
    """The (name, sorted labels) of each key."""
    return {(name, tuple(sorted(labels))) for name, labels in keys}


def response(decoded: Decoded | None, *, as_json: bool) -> tuple[bytes, str]:
    """The ExportMetricsServiceResponse body and content type (partial success if any)."""
    message = ExportMetricsServiceResponse()
    if decoded is not None and decoded.rejected:
        message.partial_success.rejected_data_points = decoded.rejected
        message.partial_success.error_message = decoded.error[:1000]
    if as_json:
        return json_format.MessageToJson(message, indent=None).encode(), "application/json"
    return message.SerializeToString(), "application/x-protobuf"


class DeltaTotals:
    """Running totals of delta series, so each becomes a cumulative counter (per node).

    ``accumulate`` turns a batch's delta values into totals from the last committed one;
    ``commit`` keeps them once the batch is durable (a refused batch adds nothing). A node
    starts every series at 0 (a restart reads as a counter reset); past ``max_series`` the
    totals are forgotten and start again.
    """

    def __init__(self, max_series: int = 100_000) -> None:
        """No totals yet."""
        self.max_series = max_series
        self.lock = threading.Lock()
        self._totals: dict[SeriesKey, float] = {}

    def accumulate(self, batch: Batch, delta: set[SeriesKey]) -> dict[SeriesKey, float]:
        """Replace the delta series' values by running totals; the totals to commit."""
        pending: dict[SeriesKey, float] = {}
        for series in batch.series:
            if series.key in delta:
                series.values = self._totals.get(series.key, 0.0) + np.cumsum(series.values)
                pending[series.key] = float(series.values[-1])
        return pending

    def commit(self, pending: dict[SeriesKey, float]) -> None:
        """Keep the totals of a stored batch."""
        if len(self._totals) + len(pending) > self.max_series:
            self._totals.clear()
        self._totals.update(pending)
