"""The real OpenTelemetry Python SDK exporting OTLP/HTTP (protobuf, gzip, JSON) to a real
server; what it recorded reads back through ``/api/v1/series`` under Prometheus' names."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import requests
from opentelemetry.exporter.otlp.json.http.metric_exporter import (
    OTLPMetricExporter as JSONExporter,
)
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.metrics import CallbackOptions, Observation
from opentelemetry.sdk.metrics import Counter, Histogram, MeterProvider
from opentelemetry.sdk.metrics.export import AggregationTemporality, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource

from tests.conftest import ADMIN_PASSWORD, TOKEN
from tests.servers import LiveServer

HEADERS = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One dashboard for the module."""
    live = LiveServer(tmp_path_factory.mktemp("otlp") / "data", demo=False)
    yield live
    live.stop()


@pytest.fixture(scope="module")
def session(server: LiveServer) -> requests.Session:
    """A session signed in as the admin."""
    s = requests.Session()
    login = {"username": "admin", "password": ADMIN_PASSWORD}
    assert s.post(server.url + "/api/v1/auth/login", json=login, timeout=5).ok
    return s


def provider(exporter, service: str) -> MeterProvider:
    """A meter provider exporting only when flushed."""
    reader = PeriodicExportingMetricReader(exporter, export_interval_millis=3_600_000)
    resource = Resource.create({"service.name": service, "service.instance.id": "i-1"})
    return MeterProvider(metric_readers=[reader], resource=resource)


def record(meters: MeterProvider, temperature: list[float]) -> None:
    """A counter, an up-down counter, a histogram and an observable gauge."""
    meter = meters.get_meter("tests.otlp")
    requests_total = meter.create_counter("http.requests", unit="{request}")
    requests_total.add(3, {"route": "/a"})
    requests_total.add(2, {"route": "/a"})
    depth = meter.create_up_down_counter("queue.depth", unit="{item}")
    depth.add(5)
    depth.add(-2)
    duration = meter.create_histogram(
        "http.server.duration", unit="ms", explicit_bucket_boundaries_advisory=[10.0, 100.0]
    )
    for value in (5.0, 50.0, 500.0, 7.0):
        duration.record(value, {"route": "/a"})

    def observe(_options: CallbackOptions) -> list[Observation]:
        """The current temperature."""
        return [Observation(temperature[-1], {"sensor": "s1"})]

    meter.create_observable_gauge("cpu.temperature", [observe], unit="Cel")


def latest(session: requests.Session, server: LiveServer, key: str) -> float | None:
    """The last raw value of a series (text key), if any."""
    now = int(time.time() * 1000)
    params = {"key": key, "start": now - 600_000, "end": now + 60_000, "step": "raw"}
    points = session.get(server.url + "/api/v1/series", params=params, timeout=5).json()
    return points["points"][-1][1] if points.get("points") else None


@pytest.mark.parametrize(
    ("kind", "service"),
    [("protobuf", "svc-proto"), ("gzip", "svc-gzip"), ("json", "svc-json")],
)
def test_the_sdk_export_reads_back_under_prometheus_names(server, session, kind, service):
    """Counters (_total), up-down counters (gauges), histograms (_bucket/_sum/_count), gauges."""
    endpoint = server.url + "/api/v1/otlp/v1/metrics"
    if kind == "json":
        exporter = JSONExporter(endpoint=endpoint, headers=HEADERS)
    else:
        compression = Compression.Gzip if kind == "gzip" else Compression.NoCompression
        exporter = OTLPMetricExporter(endpoint=endpoint, headers=HEADERS, compression=compression)
    meters = provider(exporter, service)
    record(meters, [21.5])
    assert meters.force_flush(10_000)
    meters.shutdown()
    base = f'instance="i-1",job="{service}"'
    expected = {
        f'http_requests_total{{{base},route="/a"}}': 5.0,
        f"queue_depth{{{base}}}": 3.0,
        f'http_server_duration_milliseconds_bucket{{{base},le="10",route="/a"}}': 2.0,
        f'http_server_duration_milliseconds_bucket{{{base},le="100",route="/a"}}': 3.0,
        f'http_server_duration_milliseconds_bucket{{{base},le="+Inf",route="/a"}}': 4.0,
        f'http_server_duration_milliseconds_sum{{{base},route="/a"}}': 562.0,
        f'http_server_duration_milliseconds_count{{{base},route="/a"}}': 4.0,
        f'cpu_temperature_celsius{{{base},sensor="s1"}}': 21.5,
    }
    got = {key: latest(session, server, key) for key in expected}
    assert got == expected


def test_delta_counters_accumulate_into_a_counter(server, session):
    """Delta temporality: each export's increase adds to the series' running total."""
    exporter = OTLPMetricExporter(
        endpoint=server.url + "/api/v1/otlp/v1/metrics",
        headers=HEADERS,
        preferred_temporality={
            Counter: AggregationTemporality.DELTA,
            Histogram: AggregationTemporality.DELTA,
        },
    )
    meters = provider(exporter, "svc-delta")
    counter = meters.get_meter("tests.delta").create_counter("jobs.done")
    key = 'jobs_done_total{instance="i-1",job="svc-delta"}'
    totals = []
    for increase in (4, 6, 1):
        counter.add(increase)
        assert meters.force_flush(10_000)
        totals.append(latest(session, server, key))
        time.sleep(0.01)  # the next export gets a later timestamp
    meters.shutdown()
    assert totals == [4.0, 10.0, 11.0]


def test_an_export_of_exponential_histograms_only_is_refused_with_the_reason(server):
    """Nothing the model can take: 400 naming the reason (the SDK does not retry it)."""
    from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
        ExportMetricsServiceRequest,
    )

    req = ExportMetricsServiceRequest()
    metric = req.resource_metrics.add().scope_metrics.add().metrics.add(name="latency")
    metric.exponential_histogram.data_points.add(count=1, time_unix_nano=time.time_ns())
    response = requests.post(
        server.url + "/api/v1/otlp/v1/metrics",
        data=req.SerializeToString(),
        headers={**HEADERS, "Content-Type": "application/x-protobuf"},
        timeout=5,
    )
    assert response.status_code == 400 and "exponential" in response.text


def test_the_readme_environment_configures_the_exporter(server, session, monkeypatch):
    """OTEL_EXPORTER_OTLP_ENDPOINT (the base URL) and OTEL_EXPORTER_OTLP_HEADERS, as documented."""
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", server.url + "/api/v1/otlp")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_HEADERS", f"Authorization=Bearer%20{TOKEN}")
    meters = provider(OTLPMetricExporter(), "svc-env")
    meters.get_meter("tests.env").create_counter("env.hits").add(2)
    assert meters.force_flush(10_000)
    meters.shutdown()
    assert latest(session, server, 'env_hits_total{instance="i-1",job="svc-env"}') == 2.0
