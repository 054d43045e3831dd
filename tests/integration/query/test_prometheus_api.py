"""``/prometheus/api/v1`` through a real app: parameters, formats, errors, limits, auth."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dashboard.clock import now_ms
from dashboard.metrics.steps import MINUTE, SECOND

API = "/prometheus/api/v1"


@pytest.fixture
def t0() -> int:
    """The start of the data: a whole minute 30 minutes ago."""
    return (now_ms() - 30 * MINUTE) // MINUTE * MINUTE


@pytest.fixture
def loaded(client, auth_headers, t0):
    """Two counters and a gauge, every 15 s for 20 minutes."""
    metrics = []
    for route, slope in (("/a", 1.0), ("/b", 2.0)):
        points = [[t0 + i * 15 * SECOND, slope * i] for i in range(80)]
        metrics.append({"name": "req_total", "labels": {"route": route}, "points": points})
    points = [[t0 + i * 15 * SECOND, 20.0] for i in range(80)]
    metrics.append({"name": "demo.temp", "labels": {"host": "h1"}, "points": points})
    response = client.post("/api/v1/ingest", json={"metrics": metrics}, headers=auth_headers)
    assert response.status_code == 202, response.get_data(as_text=True)
    return client


def test_instant_query_get_and_post(loaded, t0):
    """The same vector by GET and by POST form, time as seconds or RFC 3339."""
    at = (t0 + 10 * MINUTE) / 1000
    params = {"query": "sum by (route) (rate(req_total[5m]))", "time": at}
    got = loaded.get(f"{API}/query", query_string=params).get_json()
    assert got["status"] == "success"
    assert got["data"]["resultType"] == "vector"
    rates = {r["metric"]["route"]: float(r["value"][1]) for r in got["data"]["result"]}
    assert rates == pytest.approx({"/a": 1 / 15, "/b": 2 / 15})
    assert got["data"]["result"][0]["value"][0] == at
    rfc = datetime.fromtimestamp(at, UTC).isoformat().replace("+00:00", "Z")
    posted = loaded.post(f"{API}/query", data={**params, "time": rfc}).get_json()
    assert posted == got


def test_range_query_with_duration_step(loaded, t0):
    """A matrix with one point per step, step as ``1m`` or seconds."""
    params = {
        "query": '{"demo.temp", host="h1"} * 2',
        "start": (t0 + 5 * MINUTE) / 1000,
        "end": (t0 + 10 * MINUTE) / 1000,
        "step": "1m",
    }
    got = loaded.get(f"{API}/query_range", query_string=params).get_json()
    assert got["data"]["resultType"] == "matrix"
    (series,) = got["data"]["result"]
    assert series["metric"] == {"host": "h1"}
    assert [v for _, v in series["values"]] == ["40"] * 6
    again = loaded.get(f"{API}/query_range", query_string={**params, "step": "60"}).get_json()
    assert again == got


def test_scalar_and_string_results(loaded):
    """Scalars and strings as [time, "value"]."""
    got = loaded.get(f"{API}/query", query_string={"query": "1 + 1", "time": "100"}).get_json()
    assert got["data"] == {"resultType": "scalar", "result": [100, "2"]}
    got = loaded.get(f"{API}/query", query_string={"query": '"hi"', "time": "100"}).get_json()
    assert got["data"] == {"resultType": "string", "result": [100, "hi"]}


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"query": "sum(rate(x[5m])"}, "parse error at char 4: unclosed left parenthesis"),
        ({"query": "up", "time": "yesterday"}, 'invalid parameter "time"'),
        ({"query": ""}, "parse error"),
    ],
)
def test_bad_queries_are_400_bad_data(loaded, params, fragment):
    """Prometheus' error envelope with errorType bad_data."""
    response = loaded.get(f"{API}/query", query_string=params)
    assert response.status_code == 400
    body = response.get_json()
    assert body["status"] == "error" and body["errorType"] == "bad_data"
    assert fragment in body["error"]


def test_range_limits(loaded):
    """Too many points per series, a negative step, end before start."""
    base = {"query": "req_total", "start": "0", "end": "100000"}
    too_fine = loaded.get(f"{API}/query_range", query_string={**base, "step": "1"})
    assert too_fine.status_code == 400 and "11,000 points" in too_fine.get_json()["error"]
    negative = loaded.get(f"{API}/query_range", query_string={**base, "step": "-1"})
    assert negative.status_code == 400
    backwards = loaded.get(
        f"{API}/query_range", query_string={**base, "start": "10", "end": "5", "step": "1"}
    )
    assert backwards.status_code == 400


def _refused(client, reason: str) -> float:
    """``dashboard_query_refused_total{reason}`` from /metrics."""
    from prometheus_client.parser import text_string_to_metric_families

    text = client.get("/metrics").get_data(as_text=True)
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "dashboard_query_refused_total" and sample.labels == {
                "reason": reason
            }:
                return sample.value
    return 0.0


def test_sample_and_time_limits_are_refused_and_counted(loaded, app, t0, monkeypatch):
    """Over DASHBOARD_QUERY_MAX_SAMPLES: 422 execution; over the timeout: 503 timeout."""
    settings = app.extensions["dashboard"].settings
    monkeypatch.setattr(settings, "query_max_samples", 10)
    at = (t0 + 19 * MINUTE) / 1000
    before = _refused(loaded, "too_many_samples")
    response = loaded.get(f"{API}/query", query_string={"query": "req_total[10m]", "time": at})
    assert response.status_code == 422
    assert response.get_json()["errorType"] == "execution"
    assert _refused(loaded, "too_many_samples") == before + 1
    monkeypatch.setattr(settings, "query_max_samples", 10_000)
    monkeypatch.setattr(settings, "query_timeout_s", 1e-9)
    response = loaded.get(f"{API}/query", query_string={"query": "req_total", "time": at})
    assert response.status_code == 503
    assert response.get_json()["errorType"] == "timeout"
    assert _refused(loaded, "timeout") >= 1


def test_series_labels_and_values(loaded):
    """Metadata endpoints list what was ingested."""
    got = loaded.get(f"{API}/series", query_string={"match[]": "req_total"}).get_json()
    assert got["data"] == [
        {"__name__": "req_total", "route": "/a"},
        {"__name__": "req_total", "route": "/b"},
    ]
    names = loaded.get(f"{API}/labels").get_json()["data"]
    assert names == ["__name__", "host", "route"]
    values = loaded.get(f"{API}/label/__name__/values").get_json()["data"]
    assert values == ["demo.temp", "req_total"]
    posted = loaded.post(f"{API}/series", data={"match[]": '{route="/b"}'}).get_json()
    assert posted["data"] == [{"__name__": "req_total", "route": "/b"}]
    assert loaded.get(f"{API}/series").status_code == 400


def test_what_grafana_asks_on_save_and_test(client):
    """buildinfo and metadata answer in the success envelope."""
    info = client.get(f"{API}/status/buildinfo").get_json()
    assert info["status"] == "success" and info["data"]["version"].startswith("3.")
    assert client.get(f"{API}/metadata").get_json() == {"status": "success", "data": {}}


def test_needs_a_session_and_unknown_endpoints_are_404(anon_client, client):
    """No session: 401; a path the API lacks: 404 in Prometheus' format."""
    assert anon_client.get(f"{API}/query", query_string={"query": "1"}).status_code == 401
    response = client.get(f"{API}/nope")
    assert response.status_code == 404
    assert response.get_json()["status"] == "error"


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    endpoint=st.sampled_from(["query", "query_range", "series", "labels", "label/x/values"]),
    query=st.text(alphabet='xyz(){}[]"=~!,+-*/^ 015msbyonsumrate@:.', max_size=30),
    when=st.sampled_from(["", "0", "-1", "1e30", "nan", "2026-01-01T00:00:00Z", "abc"]),
    step=st.sampled_from(["", "0", "1", "15s", "-5", "1y", "x"]),
)
def test_hostile_requests_get_4xx_never_5xx(loaded, endpoint, query, when, step):
    """Random expressions and parameters: a success or a 4xx in Prometheus' error format."""
    params = {"query": query, "time": when, "start": when, "end": "100", "step": step}
    params["match[]"] = query
    response = loaded.get(f"{API}/{endpoint}", query_string=params)
    assert response.status_code < 500, response.get_data(as_text=True)
    body = response.get_json()
    assert body["status"] in ("success", "error")
    if body["status"] == "error":
        assert body["errorType"] in ("bad_data", "execution", "timeout")


def test_read_tokens_read_and_only_read(app, anon_client, loaded, auth_headers, monkeypatch, t0):
    """A DASHBOARD_READ_TOKENS token queries; it cannot ingest; an ingest token cannot read."""
    monkeypatch.setattr(app.extensions["dashboard"].settings, "read_tokens", ["read-token-1"])
    reader = {"Authorization": "Bearer read-token-1"}
    form = {"query": "count(req_total)", "time": (t0 + 10 * MINUTE) / 1000}
    ok = anon_client.post(f"{API}/query", data=form, headers=reader)
    assert ok.status_code == 200 and ok.get_json()["data"]["result"][0]["value"][1] == "2"
    wrong = anon_client.get(f"{API}/labels", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and wrong.get_json()["errorType"] == "unauthorized"
    ingest_token = anon_client.get(f"{API}/labels", headers=auth_headers)
    assert ingest_token.status_code == 403 and ingest_token.get_json()["errorType"] == "forbidden"
    body = {"metrics": [{"name": "x", "points": [[now_ms(), 1.0]]}]}
    assert anon_client.post("/api/v1/ingest", json=body, headers=reader).status_code == 403


def test_a_session_post_needs_its_csrf_header(loaded):
    """The session cookie alone does not authorise a POST (double-submit CSRF)."""
    csrf = loaded.environ_base.pop("HTTP_X_CSRFTOKEN")
    try:
        response = loaded.post(f"{API}/query", data={"query": "1"})
        assert response.status_code == 401
    finally:
        loaded.environ_base["HTTP_X_CSRFTOKEN"] = csrf
    assert loaded.post(f"{API}/query", data={"query": "1"}).status_code == 200
