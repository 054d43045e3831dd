"""Every accepted point is kept, through the whole node: the API, rollups, CSV, a restart, the
series limit and the hot store's numbers in /healthz and /metrics (issue: points less than a
second apart were lost in the hot store)."""

from __future__ import annotations

import io

import pandas as pd
import pytest
from prometheus_client.parser import text_string_to_metric_families

from dashboard.app import create_app
from dashboard.clock import now_ms
from dashboard.metrics.steps import MINUTE
from tests.conftest import ADMIN_PASSWORD, sign_in

INGEST = "/api/v1/ingest"
BURST = [1.0, 7.0, 4.0, 2.0, 5.0]  # five points within one second
STEPS = ("raw", "1m", "5m", "1h")


def _burst(t0: int) -> list[list[float]]:
    """The burst, 150 ms apart, sent out of order with one timestamp repeated (last wins)."""
    points = [[t0 + i * 150, v] for i, v in enumerate(BURST)]
    return [points[3], points[0], [t0 + 600, 99.0], points[4], points[1], points[2]]


def _samples(client) -> dict[str, float]:
    """Every sample of GET /metrics without labels, by name."""
    text = client.get("/metrics").get_data(as_text=True)
    return {
        s.name: s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if not s.labels
    }


def test_five_points_in_one_second_are_all_read_back(client, auth_headers) -> None:
    """Raw read, the 1m bucket, and the CSV export all see the five points exactly."""
    t0 = (now_ms() - 5 * MINUTE) // MINUTE * MINUTE + 20_000
    body = {"metrics": [{"name": "burst.value", "points": _burst(t0)}]}
    response = client.post(INGEST, json=body, headers=auth_headers)
    assert response.status_code == 202, response.get_data(as_text=True)
    query = f"name=burst.value&start={t0 - 1000}&end={t0 + 2000}"
    raw = client.get(f"/api/v1/series?{query}&step=raw").get_json()
    assert raw["points"] == [[t0 + i * 150, v] for i, v in enumerate(BURST)]
    minute = client.get(f"/api/v1/series?{query}&step=1m").get_json()
    assert minute["count"] == [5]
    assert minute["min"] == [1.0] and minute["max"] == [7.0]
    assert minute["points"][0][1] == pytest.approx(sum(BURST) / 5)
    csv = client.get(f"/api/v1/export.csv?names=burst.value&start={t0 - 1000}&end={t0 + 2000}")
    rows = pd.read_csv(io.StringIO(csv.get_data(as_text=True)), usecols=["ts_ms", "value"])
    assert rows.values.tolist() == [[t0 + i * 150, v] for i, v in enumerate(BURST)]


def test_a_restarted_node_answers_the_same(settings, auth_headers) -> None:
    """A new node on the same database loads the series when first read: same answers."""
    t0 = (now_ms() - 30 * MINUTE) // MINUTE * MINUTE
    points = [[t0 + i * 250, float(i % 7)] for i in range(2_000)]  # 4 points a second
    reads = []
    for _ in range(2):
        app = create_app(settings)
        try:
            client = sign_in(app.test_client(), "admin", ADMIN_PASSWORD)
            if not reads:
                body = {"metrics": [{"name": "restart.value", "points": points}]}
                assert client.post(INGEST, json=body, headers=auth_headers).status_code == 202
            query = f"name=restart.value&start={t0}&end={t0 + 600_000}&max_points=20000"
            answers = [client.get(f"/api/v1/series?{query}&step={s}").get_json() for s in STEPS]
            for answer in answers:
                answer.pop("cursor")  # the live feed's position: a new epoch at each start
            reads.append(answers)
        finally:
            app.extensions["dashboard"].close()
    assert len(reads[0][0]["points"]) == 2_000
    assert reads[1] == reads[0]


def test_series_over_the_limit_are_refused_and_counted(settings, auth_headers) -> None:
    """DASHBOARD_MAX_SERIES: a batch creating one series too many is refused whole with a
    400 naming the limit and the series; existing series keep flowing; /metrics counts it."""
    settings.max_series = 3
    app = create_app(settings)
    try:
        client = sign_in(app.test_client(), "admin", ADMIN_PASSWORD)
        now = now_ms()

        def send(*names: str):
            body = {"metrics": [{"name": n, "points": [[now, 1.0]]} for n in names]}
            return client.post(INGEST, json=body, headers=auth_headers)

        assert send("card.a", "card.b").status_code == 202
        refused = send("card.a", "card.c", "card.d")
        assert refused.status_code == 400
        error = refused.get_json()
        assert error["error"].startswith("too many series")
        assert error["detail"] == {"limit": 3, "series": "card.d", "new_series": 2}
        keys = {s["key"] for s in client.get("/api/v1/metrics").get_json()["series"]}
        assert keys == {"card.a", "card.b"}  # nothing of the refused batch was stored
        assert send("card.a", "card.b", "card.c").status_code == 202
        rejected = client.get("/metrics").get_data(as_text=True)
        assert 'dashboard_ingest_rejected_total{reason="series_limit",source="http"} 1.0' in (
            rejected
        )
        assert _samples(client)["dashboard_series_known"] == 3
    finally:
        app.extensions["dashboard"].close()


def test_the_hot_store_reports_what_it_holds(client, auth_headers) -> None:
    """/healthz and /metrics give series held, points, bytes, hits, misses and loads."""
    now = now_ms()
    body = {"metrics": [{"name": "held.value", "points": [[now - 1000, 1.0], [now, 2.0]]}]}
    assert client.post(INGEST, json=body, headers=auth_headers).status_code == 202
    client.get(f"/api/v1/series?name=held.value&start={now - 60_000}&end={now}&step=raw")
    hot = client.get("/healthz").get_json()["hot_store"]
    assert hot["series"] >= 1 and hot["points"] >= 2 and hot["bytes"] > 0
    assert hot["max_bytes"] == 512 * 2**20
    samples = _samples(client)
    assert samples["dashboard_hot_points"] == hot["points"]
    assert samples["dashboard_hot_hits_total"] + samples["dashboard_hot_misses_total"] >= 1
    for name in ("dashboard_hot_store_bytes", "dashboard_hot_evictions_total"):
        assert name in samples


def test_the_sqlite_files_background_checkpoints_are_counted(client, auth_headers) -> None:
    """The embedded file's WAL checkpoints, run beside the commits, show in /metrics by
    outcome, once a batch has been committed."""
    now = now_ms()
    body = {"metrics": [{"name": "ckpt.value", "points": [[now - 1000, 1.0], [now, 2.0]]}]}
    assert client.post(INGEST, json=body, headers=auth_headers).status_code == 202
    store = client.application.extensions["dashboard"].store
    assert store.checkpointer.wait(timeout_s=10)
    text = client.get("/metrics").get_data(as_text=True)
    counted = {
        s.labels["outcome"]: s.value
        for family in text_string_to_metric_families(text)
        if family.name == "dashboard_sqlite_wal_checkpoints"
        for s in family.samples
    }
    assert counted["done"] >= 1 and counted["failed"] == 0
