"""Each source's word on its metric families (type, help, unit) reaches the batch's metadata;
a poller calls its first-scrape hook once, and a node exporter's offers its Host dashboard."""

from __future__ import annotations

import json

from dashboard.metrics.metadata import MetricMetadata
from dashboard.metrics.model import Batch, Limits
from ingest import otlp
from ingest import remote_write as rw
from ingest.pollers import Poller, make_collector, node_exporter_hook, parse_target
from ingest.prometheus_text import exposition_batch, exposition_metadata

NOW = 1_800_000_000_000
NANOS = NOW * 1_000_000

EXPOSITION = """\
# HELP node_cpu_seconds_total Seconds the CPUs spent in each mode.
# TYPE node_cpu_seconds_total counter
node_cpu_seconds_total{cpu="0",mode="idle"} 10
# HELP rpc_seconds RPC latency,\\nin seconds \\\\ wall.
# TYPE rpc_seconds histogram
# UNIT rpc_seconds seconds
rpc_seconds_bucket{le="+Inf"} 1
rpc_seconds_sum 0.5
rpc_seconds_count 1
# TYPE queue_depth gauge
queue_depth 3
# TYPE old untyped
old 1
#TYPE not_a_type_line counter
"""


def test_type_help_and_unit_lines_give_the_families():
    """Names as written (a counter keeps _total), help unescaped, untyped is unknown."""
    assert exposition_metadata(EXPOSITION) == [
        MetricMetadata("node_cpu_seconds_total", "counter", "Seconds the CPUs spent in each mode."),
        MetricMetadata("rpc_seconds", "histogram", "RPC latency, in seconds \\ wall.", "seconds"),
        MetricMetadata("queue_depth", "gauge"),
    ]
    batch = exposition_batch(EXPOSITION, now_ms=NOW)
    assert batch.metadata == exposition_metadata(EXPOSITION)
    assert exposition_metadata("up 1\n") == []


def test_remote_write_metadata_gives_the_families():
    """The MetricType enum by name; info and stateset are gauges."""
    req = rw.WriteRequest()
    req.metadata.add(type=1, metric_family_name="http_requests_total", help="Requests.")
    req.metadata.add(type=3, metric_family_name="rpc_seconds", unit="seconds")
    req.metadata.add(type=6, metric_family_name="build_info")
    req.metadata.add(type=0, metric_family_name="nothing")
    decoded = rw.decode(rw.encode(req), now_ms=NOW, max_bytes=10**6)
    assert decoded.batch.metadata == [
        MetricMetadata("http_requests_total", "counter", "Requests."),
        MetricMetadata("rpc_seconds", "histogram", unit="seconds"),
        MetricMetadata("build_info", "gauge"),
    ]


def _export(*metrics: dict) -> object:
    """An OTLP export of metrics in OTLP/JSON form."""
    doc = {"resourceMetrics": [{"scopeMetrics": [{"metrics": list(metrics)}]}]}
    return otlp.parse_json(json.dumps(doc).encode())


def _point(**fields: object) -> dict:
    """A data point at NOW."""
    return {"timeUnixNano": str(NANOS), **fields}


def test_otlp_kinds_give_the_families():
    """Monotonic sum: counter; gauge and non-monotonic sum: gauge; histogram; summary."""
    metrics = [
        {
            "name": "http.requests",
            "description": "Requests served.",
            "sum": {
                "isMonotonic": True,
                "aggregationTemporality": 2,
                "dataPoints": [_point(asInt="3")],
            },
        },
        {"name": "queue", "sum": {"isMonotonic": False, "dataPoints": [_point(asInt="2")]}},
        {"name": "temp", "unit": "Cel", "gauge": {"dataPoints": [_point(asDouble=21.5)]}},
        {
            "name": "rpc.duration",
            "unit": "s",
            "histogram": {
                "aggregationTemporality": 2,
                "dataPoints": [
                    _point(count="1", sum=0.5, bucketCounts=["1", "0"], explicitBounds=[1])
                ],
            },
        },
        {
            "name": "lat",
            "summary": {"dataPoints": [_point(count="1", sum=0.5, quantileValues=[])]},
        },
        {"name": "bad", "exponentialHistogram": {"dataPoints": [_point(count="1")]}},
    ]
    decoded = otlp.request_batch(_export(*metrics), now_ms=NOW)
    assert decoded.batch.metadata == [
        MetricMetadata("http_requests_total", "counter", "Requests served."),
        MetricMetadata("queue", "gauge"),
        MetricMetadata("temp_celsius", "gauge", unit="Cel"),
        MetricMetadata("rpc_duration_seconds", "histogram", unit="s"),
        MetricMetadata("lat", "summary"),
    ]


def test_the_first_scrape_hook_runs_once_and_finds_a_node_exporter():
    """Called after the first successful poll only; a node exporter's host:port is offered."""
    target = parse_target("prometheus+http://db1:9100/metrics")
    answers = [OSError("refused"), 'node_cpu_seconds_total{cpu="0",mode="idle"} 1\n', "up 1\n"]

    def get(url: str, accept: str) -> str:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    offered: list[str] = []
    poller = Poller(
        target,
        collect=make_collector(target, get=get, clock=lambda: NOW / 1000),
        publish=lambda batch: batch.point_count,
        interval=5.0,
        limits=Limits(),
        sleep=lambda _s: None,
        clock=lambda: NOW / 1000,
        on_first_scrape=node_exporter_hook(lambda instance: offered.append(instance) or "x"),
    )
    poller.step()
    assert offered == []
    poller.step()
    poller.step()
    assert offered == ["db1:9100"]


def test_the_hook_ignores_other_targets_and_failures():
    """Not a node exporter, or not a Prometheus target: nothing offered; a failing offer is
    logged, never a failed poll."""
    offered: list[str] = []
    hook = node_exporter_hook(offered.append)
    json_target = parse_target("json+http://db1:8080/")
    prom_target = parse_target("prometheus+http://db1:9100/")
    node = exposition_batch("node_cpu_seconds_total 1\n", now_ms=NOW)
    hook(json_target, node)
    hook(prom_target, Batch())
    assert offered == []

    def broken(instance: str) -> None:
        raise RuntimeError("database down")

    poller = Poller(
        prom_target,
        collect=lambda now_ms, limits: node,
        publish=lambda batch: 1,
        interval=5.0,
        limits=Limits(),
        sleep=lambda _s: None,
        clock=lambda: NOW / 1000,
        on_first_scrape=node_exporter_hook(broken),
    )
    poller.step()
    assert poller.state.state == "ok"
