"""POST /api/v1/ingest through Flask's test client: accepted, refused, counted, nothing partial."""

from __future__ import annotations

import time

import pytest

from dashboard.app import create_app
from tests.conftest import TOKEN

AUTH = {"Authorization": f"Bearer {TOKEN}"}


def _now() -> int:
    """Now in Unix ms."""
    return int(time.time() * 1000)


def _counter(client, name: str) -> float:
    """A counter's value from /metrics (0 when absent)."""
    for line in client.get("/metrics", headers=AUTH).get_data(as_text=True).splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_a_batch_is_accepted_and_readable(anon_client, client):
    """202 with the count; the points come back from the series API, raw and rolled up."""
    t0 = _now() // 60_000 * 60_000 - 120_000
    body = {
        "metrics": [
            {
                "name": "http.latency_ms",
                "labels": {"region": "eu"},
                "unit": "ms",
                "points": [[t0 + i * 1000, float(i)] for i in range(120)],
            }
        ]
    }
    response = anon_client.post("/api/v1/ingest", json=body, headers=AUTH)
    assert (response.status_code, response.get_json()) == (202, {"accepted": 120})
    raw = client.get(
        f"/api/v1/series?name=http.latency_ms&labels=region:eu&start={t0}"
        f"&end={t0 + 119_000}&step=raw"
    ).get_json()
    assert [p[1] for p in raw["points"]] == [float(i) for i in range(120)]
    minute = client.get(
        f"/api/v1/series?name=http.latency_ms&labels=region:eu&start={t0}"
        f"&end={t0 + 119_000}&step=1m"
    ).get_json()
    assert minute["count"] == [60, 60] and minute["min"] == [0.0, 60.0]
    listed = client.get("/api/v1/metrics").get_json()["series"]
    assert [(s["name"], s["labels"], s["unit"]) for s in listed] == [
        ("http.latency_ms", {"region": "eu"}, "ms")
    ]


@pytest.mark.parametrize(
    ("raw_body", "status", "field"),
    [
        ('{"metrics": [{"name": "x", "points": [[%d, NaN]]}]}', 400, "metrics[0].points[0][1]"),
        ('{"metrics": [{"name": "x", "points": [[%d, 1e999]]}]}', 400, "metrics[0].points[0][1]"),
        ('{"metrics": [{"name": "bad name", "points": [[%d, 1]]}]}', 400, "metrics[0].name"),
        (
            '{"metrics": [{"name": "x", "colour": 1, "points": [[%d, 1]]}]}',
            400,
            "metrics[0].colour",
        ),
        (
            '{"metrics": [{"name": "x", "points": [[%d, 1]]}, {"name": "y", "points": [[1, 2]]}]}',
            400,
            "metrics[1].points[0][0]",
        ),
        (
            '{"metrics": [{"name": "x", "labels": {"k": 5}, "points": [[%d, 1]]}]}',
            400,
            "metrics[0].labels.k",
        ),
        ('{"metrics": [{"name": "x", "points": [[%d, 1]]}', 400, None),
    ],
)
def test_bad_input_is_refused_whole_naming_the_field(anon_client, client, raw_body, status, field):
    """The first bad field is named; nothing of the batch (even its good part) is stored."""
    body = raw_body.replace("%d", str(_now()))
    response = anon_client.post(
        "/api/v1/ingest", data=body, headers={**AUTH, "Content-Type": "application/json"}
    )
    assert response.status_code == status
    payload = response.get_json()
    assert payload["error"]
    if field:
        assert payload["detail"]["field"] == field
    assert client.get("/api/v1/metrics").get_json()["series"] == []
    assert _counter(client, 'dashboard_ingest_rejected_total{reason="invalid",source="http"}') == 1


def test_wrong_token_wrong_type_and_oversized_bodies(settings):
    """401 without a valid token, 415 for non-JSON, 413 over the size limit; all counted."""
    settings.max_body_bytes = 2000
    app = create_app(settings)
    client = app.test_client()
    body = {"metrics": [{"name": "x", "points": [[_now(), 1.0]]}]}
    missing = client.post("/api/v1/ingest", json=body)
    assert missing.status_code == 401 and "Bearer" in missing.headers["WWW-Authenticate"]
    assert (
        client.post(
            "/api/v1/ingest", json=body, headers={"Authorization": "Bearer nope"}
        ).status_code
        == 401
    )
    assert client.post("/api/v1/ingest", data="x", headers=AUTH).status_code == 415
    big = {"metrics": [{"name": "x", "points": [[_now() - i, 1.0] for i in range(200)]}]}
    response = client.post("/api/v1/ingest", json=big, headers=AUTH)
    assert response.status_code == 413 and response.get_json()["error"]
    assert _counter(client, 'dashboard_ingest_rejected_total{reason="auth",source="http"}') == 2
    app.extensions["dashboard"].close()


def test_a_replayed_batch_stores_each_point_once(anon_client, client):
    """Sending the same batch twice (a retry) leaves one copy of each point."""
    t0 = _now() - 10_000
    body = {"metrics": [{"name": "retry.x", "points": [[t0 + i * 1000, 1.0] for i in range(5)]}]}
    for _ in range(2):
        assert anon_client.post("/api/v1/ingest", json=body, headers=AUTH).status_code == 202
    raw = client.get(f"/api/v1/series?name=retry.x&start={t0}&end={t0 + 5000}&step=raw")
    assert len(raw.get_json()["points"]) == 5
