"""The ecosystem receivers through Flask's test client: accepted, refused, counted, limited."""

from __future__ import annotations

import gzip
import time

import cramjam
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)

from dashboard.app import create_app
from ingest import remote_write as rw
from tests.conftest import TOKEN

AUTH = {"Authorization": f"Bearer {TOKEN}"}
RW_HEADERS = {
    **AUTH,
    "Content-Encoding": "snappy",
    "Content-Type": "application/x-protobuf",
    "X-Prometheus-Remote-Write-Version": "0.1.0",
}


def now_ms() -> int:
    """Now in Unix ms."""
    return int(time.time() * 1000)


def counter(client, name: str) -> float:
    """A counter's value from /metrics (0 when absent)."""
    for line in client.get("/metrics", headers=AUTH).get_data(as_text=True).splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def write_request(name: str, samples: list[tuple[int, float]], **labels: str) -> bytes:
    """A remote write body of one series."""
    req = rw.WriteRequest()
    series = req.timeseries.add()
    for key, value in sorted({"__name__": name, **labels}.items()):
        series.labels.add(name=key, value=value)
    for t, v in samples:
        series.samples.add(timestamp=t, value=v)
    return rw.encode(req)


def raw_points(client, key: str, start: int, end: int) -> list[list[float]]:
    """The raw points of a series (text key) between two times."""
    response = client.get("/api/v1/series", query_string={"key": key, "start": start, "end": end})
    return response.get_json()["points"]


# --- remote write ---------------------------------------------------------------------------


def test_remote_write_is_stored_and_answered_204(anon_client, client):
    """204 once stored; the samples read back; the points are counted by receiver."""
    t0 = now_ms() - 10_000
    body = write_request("node_load1", [(t0, 0.5), (t0 + 1000, 0.75)], job="node")
    response = anon_client.post("/api/v1/write", data=body, headers=RW_HEADERS)
    assert response.status_code == 204, response.get_data(as_text=True)
    points = raw_points(client, 'node_load1{job="node"}', t0, t0 + 1000)
    assert points == [[t0, 0.5], [t0 + 1000, 0.75]]
    assert counter(client, 'dashboard_ingest_points_total{source="remote_write"}') == 2


def test_remote_write_refusals_are_counted_and_store_nothing(anon_client, client):
    """401 without a token, 400 for malformed or invalid, 415 for 2.0 or another encoding."""
    good = write_request("x", [(now_ms(), 1.0)])
    assert anon_client.post("/api/v1/write", data=good).status_code == 401
    cases = [
        (b"not snappy", RW_HEADERS, 400),
        (bytes(cramjam.snappy.compress_raw(b"\xff\xff")), RW_HEADERS, 400),
        (write_request("bad name", [(now_ms(), 1.0)]), RW_HEADERS, 400),
        (write_request("x", [(1, 1.0)]), RW_HEADERS, 400),
        (good, {**RW_HEADERS, "Content-Encoding": "gzip"}, 415),
        (
            good,
            {**RW_HEADERS, "Content-Type": "application/x-protobuf;proto=io.prometheus.write.v2"},
            415,
        ),
    ]
    for body, headers, status in cases:
        response = anon_client.post("/api/v1/write", data=body, headers=headers)
        assert response.status_code == status, (body, response.get_data(as_text=True))
        assert response.get_json()["error"]
    assert client.get("/api/v1/metrics").get_json()["series"] == []
    invalid = 'dashboard_ingest_rejected_total{reason="invalid",source="remote_write"}'
    assert counter(client, invalid) == 4
    auth = 'dashboard_ingest_rejected_total{reason="auth",source="remote_write"}'
    assert counter(client, auth) == 1


def test_remote_write_size_and_rate_limits(settings):
    """413 over the body limit (compressed or decompressed); 429 past the per-token rate."""
    settings.max_body_bytes = 2000
    settings.ingest_rate_limit = "3 per minute"
    app = create_app(settings)
    client = app.test_client()
    t = now_ms()
    big = write_request("x", [(t - i * 7919, i * 0.123456789) for i in range(300)])
    assert len(big) > 2000
    assert client.post("/api/v1/write", data=big, headers=RW_HEADERS).status_code == 413
    # small on the wire, large once decompressed
    long_name = write_request("x", [(t, 1.0)], **{f"k{i}": "v" * 250 for i in range(12)})
    assert len(long_name) < 2000
    decompressed = client.post("/api/v1/write", data=long_name, headers=RW_HEADERS)
    assert decompressed.status_code == 400 and "decompresses" in decompressed.get_data(as_text=True)
    assert client.post("/api/v1/write", data=b"", headers=RW_HEADERS).status_code == 400
    limited = client.post("/api/v1/write", data=b"", headers=RW_HEADERS)
    assert limited.status_code == 429 and limited.headers.get("Retry-After")
    app.extensions["dashboard"].close()


# --- OTLP -----------------------------------------------------------------------------------


def otlp_export(*gauges: tuple[str, float, int]) -> ExportMetricsServiceRequest:
    """An export of one-point gauges (name, value, time in ms)."""
    req = ExportMetricsServiceRequest()
    scope = req.resource_metrics.add().scope_metrics.add()
    for name, value, t in gauges:
        scope.metrics.add(name=name).gauge.data_points.add(
            as_double=value, time_unix_nano=t * 1_000_000
        )
    return req


def test_otlp_protobuf_gzip_and_partial_success(anon_client, client):
    """200 with an empty response; a bad point gives partial_success and the rest is stored."""
    t = now_ms() - 1000
    headers = {**AUTH, "Content-Type": "application/x-protobuf"}
    body = otlp_export(("room.temp", 20.5, t)).SerializeToString()
    ok = anon_client.post("/api/v1/otlp/v1/metrics", data=body, headers=headers)
    assert ok.status_code == 200 and ok.mimetype == "application/x-protobuf"
    assert not ExportMetricsServiceResponse.FromString(ok.data).HasField("partial_success")
    mixed = otlp_export(("room.humidity", 40.0, t), ("too.old", 1.0, 1)).SerializeToString()
    partial = anon_client.post(
        "/api/v1/otlp/v1/metrics",
        data=gzip.compress(mixed),
        headers={**headers, "Content-Encoding": "gzip"},
    )
    assert partial.status_code == 200
    answer = ExportMetricsServiceResponse.FromString(partial.data).partial_success
    assert answer.rejected_data_points == 1 and "too_old" in answer.error_message
    assert raw_points(client, "room_humidity", t, t) == [[t, 40.0]]
    assert raw_points(client, "room_temp", t, t) == [[t, 20.5]]
    assert counter(client, 'dashboard_ingest_points_total{source="otlp"}') == 2
    rejected = 'dashboard_ingest_rejected_total{reason="rejected_points",source="otlp"}'
    assert counter(client, rejected) == 1


def test_otlp_refusals(anon_client, client):
    """401 without a token, 415 for another type or encoding, 400 for a malformed body."""
    body = otlp_export(("x", 1.0, now_ms())).SerializeToString()
    url = "/api/v1/otlp/v1/metrics"
    protobuf = {**AUTH, "Content-Type": "application/x-protobuf"}
    assert (
        anon_client.post(url, data=body, headers={"Content-Type": "application/json"}).status_code
        == 401
    )
    assert (
        anon_client.post(url, data=body, headers={**AUTH, "Content-Type": "text/plain"}).status_code
        == 415
    )
    brotli = {**protobuf, "Content-Encoding": "br"}
    assert anon_client.post(url, data=body, headers=brotli).status_code == 415
    assert anon_client.post(url, data=b"\xff\xff", headers=protobuf).status_code == 400
    json_headers = {**AUTH, "Content-Type": "application/json"}
    assert anon_client.post(url, data=b"{nope", headers=json_headers).status_code == 400
    gz = {**protobuf, "Content-Encoding": "gzip"}
    assert anon_client.post(url, data=b"not gzip", headers=gz).status_code == 400
    assert client.get("/api/v1/metrics").get_json()["series"] == []
    assert counter(client, 'dashboard_ingest_rejected_total{reason="invalid",source="otlp"}') == 3


# --- InfluxDB line protocol -----------------------------------------------------------------


def test_influx_write_counts_string_fields_and_refusals(anon_client, client):
    """204 with the count of string fields left out; 400, 401, 415 counted, storing nothing."""
    t = now_ms() - 1000
    token = {"Authorization": f"Token {TOKEN}"}
    bad = [
        ("/api/v2/write?precision=ms", f"m v=1 {t}\nm v=? {t}", token, 400),
        ("/api/v2/write?precision=weeks", f"m v=1 {t}", token, 400),
        ("/api/v2/write", "m v=1", {"Authorization": "Token nope"}, 401),
        ("/write", "m v=1", {**token, "Content-Encoding": "br"}, 415),
        ("/write", b"m v=1 \xff", token, 400),
    ]
    for url, body, headers, status in bad:
        response = anon_client.post(url, data=body, headers=headers)
        assert response.status_code == status, (url, response.get_data(as_text=True))
        assert response.get_json()["error"]
    assert client.get("/api/v1/metrics").get_json()["series"] == []
    body = gzip.compress(f'm,host=a v=1,s="x",s2="y" {t}'.encode())
    response = anon_client.post(
        "/api/v2/write?org=o&bucket=b&precision=ms",
        data=body,
        headers={**token, "Content-Encoding": "gzip"},
    )
    assert response.status_code == 204 and response.headers["X-String-Fields-Refused"] == "2"
    assert raw_points(client, 'm_v{host="a"}', t, t) == [[t, 1.0]]
    assert counter(client, 'dashboard_ingest_points_total{source="influx"}') == 1
    strings = 'dashboard_ingest_rejected_total{reason="string_field",source="influx"}'
    assert counter(client, strings) == 2
    assert counter(client, 'dashboard_ingest_rejected_total{reason="invalid",source="influx"}') == 3


def test_remote_write_metadata_sent_alone_gives_later_series_their_unit(anon_client, client):
    """Prometheus sends metadata in requests of its own: the unit is kept for later series."""
    req = rw.WriteRequest()
    req.metadata.add(type=2, metric_family_name="room_temp", help="h", unit="celsius")
    response = anon_client.post("/api/v1/write", data=rw.encode(req), headers=RW_HEADERS)
    assert response.status_code == 204
    body = write_request("room_temp", [(now_ms() - 1000, 21.0)])
    assert anon_client.post("/api/v1/write", data=body, headers=RW_HEADERS).status_code == 204
    listed = client.get("/api/v1/metrics").get_json()["series"]
    assert [(s["name"], s["unit"]) for s in listed] == [("room_temp", "celsius")]


def test_otlp_promoted_resource_attributes_become_labels(settings):
    """DASHBOARD_OTLP_PROMOTE_ATTRIBUTES keeps the named resource attributes as labels."""
    settings.otlp_promote_attributes = ["host.name"]
    app = create_app(settings)
    req = otlp_export(("load", 1.0, now_ms() - 1000))
    resource = req.resource_metrics[0].resource
    for key, value in (("service.name", "api"), ("host.name", "h1"), ("os.type", "linux")):
        resource.attributes.add(key=key).value.string_value = value
    headers = {**AUTH, "Content-Type": "application/x-protobuf"}
    poster = app.test_client()
    response = poster.post("/api/v1/otlp/v1/metrics", data=req.SerializeToString(), headers=headers)
    assert response.status_code == 200
    (series,) = app.extensions["dashboard"].store.list_series()
    assert series.key.label_dict == {"job": "api", "host_name": "h1"}
    app.extensions["dashboard"].close()


def test_remote_write_2_is_stored_with_the_written_headers(anon_client, client):
    """A 2.0 request (Content-Type proto=io.prometheus.write.v2.Request): 204 with the counts."""
    from ingest import remote_write_v2 as v2

    t = now_ms() - 1000
    req = v2.Request()
    req.symbols.extend(["", "__name__", "disk_bytes", "dev", "sda", "bytes"])
    series = req.timeseries.add()
    series.labels_refs.extend([1, 2, 3, 4])
    series.metadata.unit_ref = 5
    series.samples.add(timestamp=t, value=512.0)
    headers = {
        **RW_HEADERS,
        "Content-Type": "application/x-protobuf;proto=io.prometheus.write.v2.Request",
        "X-Prometheus-Remote-Write-Version": "2.0.0",
    }
    body = bytes(cramjam.snappy.compress_raw(req.SerializeToString()))
    response = anon_client.post("/api/v1/write", data=body, headers=headers)
    assert response.status_code == 204
    assert response.headers["X-Prometheus-Remote-Write-Samples-Written"] == "1"
    assert raw_points(client, 'disk_bytes{dev="sda"}', t, t) == [[t, 512.0]]
    listed = client.get("/api/v1/metrics").get_json()["series"]
    assert [(s["name"], s["unit"]) for s in listed] == [("disk_bytes", "bytes")]
    refused = anon_client.post("/api/v1/write", data=b"junk", headers=headers)
    assert refused.status_code == 400
    assert refused.headers["X-Prometheus-Remote-Write-Samples-Written"] == "0"


def test_every_receiver_answers_413_in_json_over_the_body_limit(settings):
    """Above DASHBOARD_MAX_BODY_BYTES: a JSON 413, counted, on every receiver's path."""
    settings.max_body_bytes = 1000
    app = create_app(settings)
    client = app.test_client()
    big = b"x" * 5000
    for path in ("/api/v1/write", "/api/v1/otlp/v1/metrics", "/api/v2/write", "/write"):
        headers = {**AUTH, "Content-Type": "application/x-protobuf"}
        response = client.post(path, data=big, headers=headers)
        assert response.status_code == 413, path
        assert response.get_json()["error"], path
    for source in ("remote_write", "otlp", "influx"):
        name = f'dashboard_ingest_rejected_total{{reason="too_large",source="{source}"}}'
        assert counter(client, name) >= 1, source
    app.extensions["dashboard"].close()
