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
