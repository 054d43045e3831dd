"""OTLP exports to batches: names, labels, kinds, delta totals, partial refusals (no server)."""

from __future__ import annotations

import gzip
import json

import numpy as np
import pytest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)

from dashboard.metrics.model import Batch, SeriesKey, SeriesPoints, ValidationError
from ingest import otlp
from ingest.otlp_names import label_name, metric_name, resource_labels

NOW = 1_800_000_000_000
NANOS = NOW * 1_000_000


@pytest.mark.parametrize(
    ("name", "unit", "kind", "expected"),
    [
        ("http.server.duration", "ms", {}, "http_server_duration_milliseconds"),
        ("http.requests", "{request}", {"counter": True}, "http_requests_total"),
        ("bytes.sent.total", "By", {"counter": True}, "bytes_sent_bytes_total"),
        ("throughput", "m/s", {}, "throughput_meters_per_second"),
        ("cpu.utilization", "1", {"gauge": True}, "cpu_utilization_ratio"),
        ("latency_seconds", "s", {}, "latency_seconds"),
        ("2xx.count", "", {}, "_2xx_count"),
        ("temp", "Cel", {"gauge": True}, "temp_celsius"),
    ],
)
def test_names_are_translated_as_prometheus_does(name, unit, kind, expected):
    """Dots to underscores, the unit as a suffix, _total on counters, _ratio on unit 1."""
    assert metric_name(name, unit, **kind) == expected


def test_labels_and_resource_attributes():
    """Invalid characters become _, service.* become job and instance, the rest is dropped."""
    assert label_name("http.route") == "http_route" and label_name("1a") == "key_1a"
    attrs = {"service.name": "api", "service.namespace": "shop", "service.instance.id": "i-1"}
    assert resource_labels({**attrs, "host.name": "h"}) == {"job": "shop/api", "instance": "i-1"}
    assert resource_labels({"host.name": "h"}, ("host.name",)) == {"host_name": "h"}


def export(*metrics: dict, resource: dict | None = None) -> ExportMetricsServiceRequest:
    """An export of metrics given in OTLP/JSON form."""
    doc = {
        "resourceMetrics": [
            {
                "resource": {
                    "attributes": [
                        {"key": k, "value": {"stringValue": v}}
                        for k, v in (resource or {"service.name": "svc"}).items()
                    ]
                },
                "scopeMetrics": [{"metrics": list(metrics)}],
            }
        ]
    }
    return otlp.parse_json(json.dumps(doc).encode())


def points(decoded: otlp.Decoded) -> dict[str, list[float]]:
    """Series text -> values."""
    return {str(s.key): s.values.tolist() for s in decoded.batch.series}


def test_summaries_and_histograms():
    """Quantiles with _sum and _count; cumulative buckets with +Inf = count."""
    summary = {
        "name": "rpc.latency",
        "unit": "s",
        "summary": {
            "dataPoints": [
                {
                    "timeUnixNano": str(NANOS),
                    "count": "4",
                    "sum": 2.5,
                    "quantileValues": [{"quantile": 0.5, "value": 0.3}],
                }
            ]
        },
    }
    histogram = {
        "name": "size",
        "histogram": {
            "aggregationTemporality": 2,
            "dataPoints": [
                {
                    "timeUnixNano": str(NANOS),
                    "count": "3",
                    "sum": 12,
                    "bucketCounts": ["1", "1", "1"],
                    "explicitBounds": [0.005, 1000],
                }
            ],
        },
    }
    got = points(otlp.request_batch(export(summary, histogram), now_ms=NOW))
    assert got == {
        'rpc_latency_seconds{job="svc",quantile="0.5"}': [0.3],
        'rpc_latency_seconds_sum{job="svc"}': [2.5],
        'rpc_latency_seconds_count{job="svc"}': [4.0],
        'size_bucket{job="svc",le="0.005"}': [1.0],
        'size_bucket{job="svc",le="1000"}': [2.0],
        'size_bucket{job="svc",le="+Inf"}': [3.0],
        'size_sum{job="svc"}': [12.0],
        'size_count{job="svc"}': [3.0],
    }


def gauge(name: str, value: float, t: int = NANOS, **attrs: str) -> dict:
    """A gauge metric of one point."""
    attributes = [{"key": k, "value": {"stringValue": v}} for k, v in attrs.items()]
    point = {"timeUnixNano": str(t), "asDouble": value, "attributes": attributes}
    return {"name": name, "gauge": {"dataPoints": [point]}}


def test_refused_metrics_are_partial_success_and_the_rest_is_taken():
    """Exponential histograms, bad times and bad labels reject their points only."""
    expo = {"name": "e", "exponentialHistogram": {"dataPoints": [{"count": "1"}, {"count": "2"}]}}
    old = gauge("old", 1.0, t=NANOS - 3 * 86_400 * 10**9)
    decoded = otlp.request_batch(
        export(gauge("ok", 1.0), expo, old, gauge("dup", 1.0, le="x")), now_ms=NOW
    )
    assert points(decoded) == {'ok{job="svc"}': [1.0], 'dup{job="svc",le="x"}': [1.0]}
    assert decoded.rejected == 3 and "exponential" in decoded.error
    body, content_type = otlp.response(decoded, as_json=True)
    assert content_type == "application/json"
    assert json.loads(body)["partialSuccess"]["rejectedDataPoints"] == "3"


def test_delta_totals_add_up_and_only_commit_when_told():
    """A delta series' values become running totals from the last committed total."""
    key = SeriesKey.of("jobs_total")
    totals = otlp.DeltaTotals()

    def batch(*values: float) -> Batch:
        """A batch of the delta series."""
        ts = np.arange(len(values), dtype=np.int64) + NOW
        return Batch([SeriesPoints(key, ts, np.asarray(values, dtype=np.float64))])

    first = batch(2.0, 3.0)
    totals.commit(totals.accumulate(first, {key}))
    assert first.series[0].values.tolist() == [2.0, 5.0]
    refused = batch(100.0)
    totals.accumulate(refused, {key})  # not committed: the bus refused it
    again = batch(1.0)
    totals.commit(totals.accumulate(again, {key}))
    assert again.series[0].values.tolist() == [6.0]


@pytest.mark.parametrize("body", [b"", b"{", b"[]", b'{"resourceMetrics": 5}', b"[" * 100_000])
def test_malformed_json_is_a_validation_error(body):
    """Not OTLP/JSON: a ValidationError on the body."""
    if body == b"":
        assert not otlp.parse_json(b"{}").resource_metrics
        return
    with pytest.raises(ValidationError):
        otlp.parse_json(body)


def test_gzip_is_limited_after_decompression():
    """A small gzip body that inflates past the limit is refused."""
    bomb = gzip.compress(b"\x00" * 100_000)
    with pytest.raises(ValidationError, match="more than"):
        otlp.gunzip(bomb, max_bytes=10_000)
    with pytest.raises(ValidationError, match="not gzip"):
        otlp.gunzip(b"plain", max_bytes=10_000)
    assert otlp.gunzip(gzip.compress(b"x"), max_bytes=10) == b"x"


def _kinds_export() -> ExportMetricsServiceRequest:
    """An export with every kind of metric and attribute value the fast JSON path meets."""
    req = ExportMetricsServiceRequest()
    resource = req.resource_metrics.add(schema_url="https://x")
    for key, kind, value in (("service.name", "string_value", "api"), ("n", "int_value", -5)):
        setattr(resource.resource.attributes.add(key=key).value, kind, value)
    scope = resource.scope_metrics.add()
    scope.scope.name = "lib"
    counter = scope.metrics.add(name="c", unit="1", description="d")
    counter.sum.is_monotonic = True
    counter.sum.aggregation_temporality = otlp.DELTA
    point = counter.sum.data_points.add(time_unix_nano=NANOS, as_int=-(2**62), flags=1)
    point.attributes.add(key="ok").value.bool_value = True
    point.attributes.add(key="d").value.double_value = 1.5
    point.exemplars.add(as_double=1.0, trace_id=b"\x01" * 16)
    scope.metrics.add(name="g").gauge.data_points.add(time_unix_nano=NANOS, as_double=2.5)
    scope.metrics.add(name="h").histogram.data_points.add(count=3, time_unix_nano=NANOS)
    arrays = scope.metrics.add(name="a").gauge.data_points.add(as_double=1.0)
    arrays.attributes.add(key="list").value.array_value.values.add(string_value="x")
    return req


@pytest.mark.parametrize("drop", [(), ("h",), ("h", "a")])
@pytest.mark.parametrize("proto_names", [False, True])
def test_json_is_read_as_parse_dict_reads_it(drop, proto_names):
    """The field-by-field path for plain exports gives the message ParseDict gives (and hands
    what it does not read, such as histograms and arrays, to ParseDict)."""
    from google.protobuf import json_format

    doc = json_format.MessageToDict(_kinds_export(), preserving_proto_field_name=proto_names)
    metrics_key = "scope_metrics" if proto_names else "scopeMetrics"
    rm_key = "resource_metrics" if proto_names else "resourceMetrics"
    metrics = doc[rm_key][0][metrics_key][0]["metrics"]
    metrics[:] = [m for m in metrics if m["name"] not in drop]
    body = json.dumps(doc).encode()
    want = json_format.ParseDict(
        otlp._drop_exemplars(json.loads(body)),
        ExportMetricsServiceRequest(),
        ignore_unknown_fields=True,
    )
    assert otlp.parse_json(body) == want


def _same_decoded(got: otlp.Decoded, want: otlp.Decoded) -> None:
    """Two decodings hold the same series, points, delta keys, refusals and metadata."""
    assert [str(s.key) for s in got.batch.series] == [str(s.key) for s in want.batch.series]
    for mine, theirs in zip(got.batch.series, want.batch.series, strict=True):
        assert mine.ts.tolist() == theirs.ts.tolist()
        assert mine.values.tolist() == theirs.values.tolist()
    assert got.delta == want.delta
    assert (got.rejected, got.error) == (want.rejected, want.error)
    assert got.batch.metadata == want.batch.metadata


def _random_plain_doc(rng: np.random.Generator) -> dict:
    """A plain OTLP/JSON export as SDKs write them: gauges and sums (cumulative and delta,
    monotonic or not), int and double values, attributes of the four scalar kinds with names
    that collide once made label names, points without a recorded value, and metrics the model
    refuses (a bad name)."""

    def value_of(i: int) -> dict:
        kind = i % 4
        if kind == 0:
            return {"stringValue": f"v{i}"}
        if kind == 1:
            return {"boolValue": bool(i % 2)}
        if kind == 2:
            return {"intValue": str(i * 7 - 20)}
        return {"doubleValue": i / 3}

    metrics = []
    for m in range(int(rng.integers(1, 8))):
        points = []
        for p in range(int(rng.integers(0, 5))):
            point: dict = {"timeUnixNano": str(NANOS - p * 10**9), "startTimeUnixNano": "1"}
            if rng.random() < 0.5:
                point["asDouble"] = float(rng.normal(5, 2))
            else:
                point["asInt"] = str(int(rng.integers(-5, 100)))
            keys = ["http.route", "http_route", "code", "1x"][: int(rng.integers(0, 4))]
            point["attributes"] = [
                {"key": k, "value": value_of(int(rng.integers(0, 40)))} for k in keys
            ]
            if rng.random() < 0.1:
                point["flags"] = 1
            points.append(point)
        name = "" if rng.random() < 0.1 else f"app.metric{m}"
        if rng.random() < 0.4:
            data = {"gauge": {"dataPoints": points}}
        else:
            temporality = ["AGGREGATION_TEMPORALITY_DELTA", "AGGREGATION_TEMPORALITY_CUMULATIVE"]
            data = {
                "sum": {
                    "dataPoints": points,
                    "aggregationTemporality": temporality[int(rng.integers(0, 2))],
                    "isMonotonic": bool(rng.random() < 0.7),
                }
            }
        metrics.append({"name": name, "unit": ["", "ms", "1", "By"][m % 4], **data})
    resource = [
        {"key": "service.name", "value": {"stringValue": "api"}},
        {"key": "service.instance.id", "value": {"stringValue": "i-1"}},
        {"key": "host.name", "value": {"stringValue": "h1"}},
    ]
    return {
        "resourceMetrics": [
            {
                "resource": {"attributes": resource},
                "scopeMetrics": [{"scope": {"name": "lib"}, "metrics": metrics}],
            }
        ]
    }


@pytest.mark.parametrize("seed", range(25))
def test_a_plain_json_export_becomes_the_batch_its_message_gives(seed):
    """``json_batch`` (straight from the document) gives what ``request_batch`` of the parsed
    message gives: series, values, delta series, refusals and metadata."""
    from google.protobuf import json_format

    doc = _random_plain_doc(np.random.default_rng(seed))
    body = json.dumps(doc).encode()
    message = json_format.ParseDict(doc, ExportMetricsServiceRequest())
    for promote in ((), ("host.name",)):
        got = otlp.json_batch(body, now_ms=NOW, promote=promote)
        want = otlp.request_batch(message, now_ms=NOW, promote=promote)
        _same_decoded(got, want)
        plain = otlp._plain_batch(doc, NOW, None, promote)  # (not handed to the message)
        _same_decoded(plain, want)


@pytest.mark.parametrize("drop", [(), ("h",), ("h", "a")])
def test_an_export_json_batch_does_not_read_goes_through_the_message(drop):
    """Histograms, arrays and exemplars leave the plain path: the batch is still the one the
    parsed message gives."""
    from google.protobuf import json_format

    doc = json_format.MessageToDict(_kinds_export())
    metrics = doc["resourceMetrics"][0]["scopeMetrics"][0]["metrics"]
    metrics[:] = [m for m in metrics if m["name"] not in drop]
    body = json.dumps(doc).encode()
    got = otlp.json_batch(body, now_ms=NOW)
    _same_decoded(got, otlp.request_batch(otlp.parse_json(body), now_ms=NOW))
    with pytest.raises(ValidationError):
        otlp.json_batch(b"{", now_ms=NOW)


@pytest.mark.parametrize("points", [5, "x", {"a": 1}, None])
def test_a_refused_metric_with_points_of_the_wrong_type_is_a_validation_error(points):
    """A metric without a name whose ``dataPoints`` is not an array: refused as a bad body or a
    bad metric, never a crash."""
    metric = {"gauge": {"dataPoints": points}}
    doc = {"resourceMetrics": [{"scopeMetrics": [{"metrics": [metric]}]}]}
    try:
        decoded = otlp.json_batch(json.dumps(doc).encode(), now_ms=NOW)
    except ValidationError:
        return
    assert not decoded.batch.series
