"""Metric metadata kept by the real stores (SQLite, PostgreSQL) and listed through the APIs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dashboard.clock import now_ms
from dashboard.metrics.metadata import MetricMetadata
from dashboard.metrics.store_interface import MetricStore
from dashboard.metrics.stores.postgres import PostgresStore
from dashboard.metrics.stores.sqlite import SQLiteStore
from ingest import remote_write as rw
from tests.integration.ingest.test_receivers_http import RW_HEADERS

API = "/prometheus/api/v1"


@pytest.fixture(params=["sqlite", "postgres"])
def reopen(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator:
    """A function opening the store (again) on the same database; every store closed after."""
    opened: list[MetricStore] = []
    if request.param == "postgres":
        url, schema = request.getfixturevalue("postgres_schema")

        def make() -> MetricStore:
            return PostgresStore(url, schema=schema, max_size=2, timeout=5)
    else:

        def make() -> MetricStore:
            return SQLiteStore(tmp_path / "metrics.db")

    def open_store() -> MetricStore:
        store = make()
        opened.append(store)
        return store

    yield open_store
    for store in opened:
        store.close()


def test_metadata_is_upserted_merged_and_kept(reopen):
    """The latest non-empty field wins; the table outlives the store that wrote it."""
    store = reopen()
    assert store.metadata() == {}
    store.upsert_metadata(
        [
            MetricMetadata("http_requests_total", "gauge", "Requests.", "requests"),
            MetricMetadata("rpc_seconds", "histogram"),
        ]
    )
    store.upsert_metadata(
        [
            MetricMetadata("http_requests_total", "counter"),
            MetricMetadata("rpc_seconds", help="RPC latency."),
            MetricMetadata("rpc_seconds", unit="seconds"),  # twice in one call
        ]
    )
    store.upsert_metadata([])
    expected = {
        "http_requests_total": MetricMetadata(
            "http_requests_total", "counter", "Requests.", "requests"
        ),
        "rpc_seconds": MetricMetadata("rpc_seconds", "histogram", "RPC latency.", "seconds"),
    }
    assert store.metadata() == expected
    store.close()
    assert reopen().metadata() == expected


def test_ingested_types_are_listed_by_metadata_and_the_series_list(app, client, auth_headers):
    """The JSON API's ``type``/``help`` and a text exposition's ``# TYPE`` reach
    ``/prometheus/api/v1/metadata`` and give ``/api/v1/metrics`` a type per series."""
    now = now_ms()
    body = {
        "metrics": [
            {
                "name": "http_requests_total",
                "labels": {"route": "/a"},
                "type": "counter",
                "help": "Requests served.",
                "points": [[now, 5]],
            },
            {"name": "api.latency_bucket", "labels": {"le": "+Inf"}, "points": [[now, 1]]},
            {"name": "api.latency_count", "type": "histogram", "points": [[now, 1]]},
            {"name": "queue_depth", "points": [[now, 2]]},
        ]
    }
    response = client.post("/api/v1/ingest", json=body, headers=auth_headers)
    assert response.status_code == 202, response.get_json()
    text = "# HELP temp_celsius Room temperature.\n# TYPE temp_celsius gauge\ntemp_celsius 21\n"
    response = client.post(
        "/api/v1/ingest/prometheus",
        data=text,
        headers={**auth_headers, "Content-Type": "text/plain"},
    )
    assert response.status_code == 202, response.get_json()
    answer = client.get(f"{API}/metadata").get_json()
    assert answer == {
        "status": "success",
        "data": {
            "api.latency": [{"type": "histogram", "help": "", "unit": ""}],
            "http_requests_total": [{"type": "counter", "help": "Requests served.", "unit": ""}],
            "temp_celsius": [{"type": "gauge", "help": "Room temperature.", "unit": ""}],
        },
    }
    one = client.get(f"{API}/metadata?metric=temp_celsius").get_json()["data"]
    assert list(one) == ["temp_celsius"]
    assert list(client.get(f"{API}/metadata?limit=1").get_json()["data"]) == ["api.latency"]
    bad = client.get(f"{API}/metadata?limit=x")
    assert bad.status_code == 400 and bad.get_json()["errorType"] == "bad_data"
    listed = {s["name"]: s["type"] for s in client.get("/api/v1/metrics").get_json()["series"]}
    assert listed == {
        "api.latency_bucket": "histogram",
        "api.latency_count": "histogram",
        "http_requests_total": "counter",
        "queue_depth": "unknown",
        "temp_celsius": "gauge",
    }


def test_a_bad_type_is_a_clear_400(client, auth_headers):
    """A type that is not one of the five is refused, naming the field and the choices."""
    body = {"metrics": [{"name": "x", "type": "timer", "points": [[now_ms(), 1]]}]}
    response = client.post("/api/v1/ingest", json=body, headers=auth_headers)
    assert response.status_code == 400
    assert response.get_json()["detail"] == {
        "field": "metrics[0].type",
        "message": "one of counter, gauge, histogram, summary, unknown",
    }
    assert client.get(f"{API}/metadata").get_json()["data"] == {}


def test_unchanged_metadata_is_not_written_again(app, client, auth_headers):
    """The node's cache writes a family once per change, not with every batch."""
    rt = app.extensions["dashboard"]
    writes: list[list[MetricMetadata]] = []
    upsert = rt.store.upsert_metadata

    def counting(entries: list[MetricMetadata]) -> None:
        writes.append(entries)
        upsert(entries)

    rt.store.upsert_metadata = counting
    rt.__dict__.pop("metadata_cache", None)  # built again over the counting store
    for i, help_ in enumerate(("Jobs.", "Jobs.", "Jobs.", "Jobs done.")):
        metric = {"name": "jobs_total", "type": "counter", "help": help_}
        metric["points"] = [[now_ms() - 10 + i, i]]
        response = client.post("/api/v1/ingest", json={"metrics": [metric]}, headers=auth_headers)
        assert response.status_code == 202
    assert [[m.help for m in w] for w in writes] == [["Jobs."], ["Jobs done."]]
    assert rt.metric_metadata()["jobs_total"].help == "Jobs done."


def test_remote_write_and_otlp_metadata_are_listed(anon_client, client):
    """A remote write request of metadata alone, and an OTLP export's kinds, are listed."""
    req = rw.WriteRequest()
    req.metadata.add(type=1, metric_family_name="http_requests_total", help="Requests.")
    req.metadata.add(type=3, metric_family_name="rpc_seconds", unit="seconds")
    response = anon_client.post("/api/v1/write", data=rw.encode(req), headers=RW_HEADERS)
    assert response.status_code == 204
    point = {"timeUnixNano": str(now_ms() * 1_000_000), "asInt": "3"}
    export = {
        "resourceMetrics": [
            {
                "scopeMetrics": [
                    {
                        "metrics": [
                            {
                                "name": "jobs.done",
                                "description": "Jobs done.",
                                "sum": {
                                    "isMonotonic": True,
                                    "aggregationTemporality": 2,
                                    "dataPoints": [point],
                                },
                            }
                        ]
                    }
                ]
            }
        ]
    }
    headers = {"Authorization": RW_HEADERS["Authorization"], "Content-Type": "application/json"}
    response = anon_client.post("/api/v1/otlp/v1/metrics", json=export, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    data = client.get(f"{API}/metadata").get_json()["data"]
    assert data == {
        "http_requests_total": [{"type": "counter", "help": "Requests.", "unit": ""}],
        "jobs_done_total": [{"type": "counter", "help": "Jobs done.", "unit": ""}],
        "rpc_seconds": [{"type": "histogram", "help": "", "unit": "seconds"}],
    }
