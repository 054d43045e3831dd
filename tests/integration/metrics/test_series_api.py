"""The HTTP API through Flask's test client: ingest, read back, refusals, counters, Dash pages,
and the app factory (independent apps, concurrent first requests on a fresh app)."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from flask_jwt_extended import create_access_token
from prometheus_client.parser import text_string_to_metric_families

from dashboard.app import create_app
from dashboard.clock import now_ms
from dashboard.metrics.steps import MINUTE, SECOND
from tests.conftest import ADMIN_PASSWORD, sign_in

INGEST = "/api/v1/ingest"


# --- helpers ----------------------------------------------------------------------------


def _metric(
    name: str, points: list[list[float]], labels: dict[str, str] | None = None, unit: str = ""
) -> dict[str, Any]:
    """One entry of an ingest body."""
    out: dict[str, Any] = {"name": name, "points": points}
    if labels is not None:
        out["labels"] = labels
    if unit:
        out["unit"] = unit
    return out


def _ingest(client, headers: dict[str, str], *metrics: dict[str, Any]):
    """POST a batch of metrics; the response."""
    return client.post(INGEST, json={"metrics": list(metrics)}, headers=headers)


def _accepted(client, headers: dict[str, str], *metrics: dict[str, Any]) -> int:
    """POST a batch that must be accepted; the count."""
    response = _ingest(client, headers, *metrics)
    assert response.status_code == 202, response.get_data(as_text=True)
    return response.get_json()["accepted"]


def _series_names(client) -> list[str]:
    """The keys listed by GET /api/v1/metrics."""
    response = client.get("/api/v1/metrics")
    assert response.status_code == 200
    return [s["key"] for s in response.get_json()["series"]]


def _sample(client, name: str, labels: dict[str, str]) -> float:
    """A sample's value from GET /metrics (Prometheus text), 0 when it is not there yet."""
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return sample.value
    return 0.0


def _rejected(client, reason: str) -> float:
    """The value of ``dashboard_ingest_rejected_total{reason=...,source="http"}``."""
    return _sample(client, "dashboard_ingest_rejected_total", {"reason": reason, "source": "http"})


def _ids(node: Any) -> set[str]:
    """Every string ``id`` in a Dash layout's JSON."""
    found: set[str] = set()
    if isinstance(node, dict):
        if isinstance(node.get("id"), str):
            found.add(node["id"])
        for value in node.values():
            found |= _ids(value)
    elif isinstance(node, list):
        for item in node:
            found |= _ids(item)
    return found


def _get_within(client, url: str, seconds: float = 10.0):
    """GET ``url``, failing the test (rather than hanging it) when no answer comes in time."""
    box: list[Any] = []

    def get() -> None:
        try:
            box.append(client.get(url))
        except Exception as exc:  # noqa: BLE001 - raised again in the test's thread
            box.append(exc)

    thread = threading.Thread(target=get, daemon=True)
    thread.start()
    thread.join(seconds)
    assert box, f"GET {url} did not answer within {seconds} s"
    if isinstance(box[0], Exception):
        raise box[0]
    return box[0]


def _minute_start(minutes_back: int) -> int:
    """The start of the minute ``minutes_back`` minutes ago."""
    return (now_ms() - minutes_back * MINUTE) // MINUTE * MINUTE


# --- ingest and read back ---------------------------------------------------------------


def test_ingested_points_are_readable_raw_rolled_up_and_listed(client, auth_headers):
    """202 with the count; the same points come back from /series and /metrics lists them."""
    t0 = _minute_start(5)
    points = [[t0 + i * SECOND, float(i)] for i in range(120)]
    response = _ingest(
        client, auth_headers, _metric("http.latency_ms", points, {"region": "eu"}, "ms")
    )
    assert response.status_code == 202
    assert response.get_json() == {"accepted": 120}

    query = f"name=http.latency_ms&labels=region:eu&start={t0}&end={t0 + 119 * SECOND}"
    raw = client.get(f"/api/v1/series?{query}&step=raw")
    assert raw.status_code == 200
    body = raw.get_json()
    assert (body["name"], body["labels"], body["step"]) == (
        "http.latency_ms",
        {"region": "eu"},
        "raw",
    )
    assert body["key"] == 'http.latency_ms{region="eu"}'
    assert body["points"] == points
    assert "min" not in body and "count" not in body
    # the bounds are inclusive
    inner = client.get(
        f"/api/v1/series?name=http.latency_ms&labels=region:eu"
        f"&start={t0 + 10 * SECOND}&end={t0 + 20 * SECOND}&step=raw"
    ).get_json()
    assert inner["points"] == points[10:21]
    # the key= form names the same series
    by_key = client.get(
        f"/api/v1/series?key={quote(body['key'])}&start={t0}&end={t0 + 119 * SECOND}&step=raw"
    ).get_json()
    assert by_key["points"] == points

    minute = client.get(f"/api/v1/series?{query}&step=1m").get_json()
    assert minute["step"] == "1m"
    assert minute["points"] == [[t0, 29.5], [t0 + MINUTE, 89.5]]  # bucket means
    assert minute["min"] == [0.0, 60.0]
    assert minute["max"] == [59.0, 119.0]
    assert minute["count"] == [60, 60]
    five = client.get(f"/api/v1/series?{query}&step=5m").get_json()
    assert sum(five["count"]) == 120 and min(five["min"]) == 0.0 and max(five["max"]) == 119.0

    listed = client.get("/api/v1/metrics").get_json()["series"]
    assert listed == [
        {
            "key": 'http.latency_ms{region="eu"}',
            "name": "http.latency_ms",
            "labels": {"region": "eu"},
            "unit": "ms",
            "first_ts": t0,
            "last_ts": t0 + 119 * SECOND,
            "type": "unknown",
        }
    ]
    assert _sample(client, "dashboard_ingest_points_total", {"source": "http"}) == 120
    assert _sample(client, "dashboard_ingest_batches_total", {"source": "http"}) == 1


def test_a_replayed_batch_is_accepted_and_stored_once(client, auth_headers):
    """Sending the same batch twice (a retry) answers 202 both times and stores each point once."""
    t0 = _minute_start(3)
    metric = _metric("retry.x", [[t0 + i * SECOND, float(i)] for i in range(10)])
    assert _accepted(client, auth_headers, metric) == 10
    assert _accepted(client, auth_headers, metric) == 10
    body = client.get(f"/api/v1/series?name=retry.x&start={t0}&end={now_ms()}&step=raw").get_json()
    assert len(body["points"]) == 10


# --- ingest refusals --------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer not-the-token"},
        {"Authorization": "Bearer "},
        {"Authorization": "Basic dGVzdDp0ZXN0"},
    ],
    ids=["none", "wrong", "empty", "basic"],
)
def test_ingest_without_a_valid_token_is_401(client, headers):
    """401 with a WWW-Authenticate challenge, in the API's error shape; nothing stored, counted."""
    response = _ingest(client, headers, _metric("noauth.x", [[now_ms(), 1.0]]))
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.get_json()["error"] == "unauthorized"
    assert _series_names(client) == []
    assert _rejected(client, "auth") == 1


def test_ingest_refuses_a_body_that_is_not_json(client, auth_headers):
    """415 for another content type, counted as such."""
    body = json.dumps({"metrics": [_metric("x", [[now_ms(), 1.0]])]})
    response = client.post(INGEST, data=body, content_type="text/plain", headers=auth_headers)
    assert response.status_code == 415
    assert response.get_json()["error"] == "unsupported media type"
    response = client.post(INGEST, data=body, headers=auth_headers)  # no content type at all
    assert response.status_code == 415
    assert _series_names(client) == []
    assert _rejected(client, "content_type") == 2


@pytest.mark.parametrize(
    "text",
    [
        '{"metrics": [{"name": "x", "points": [[1, 2]]}',
        "{metrics: []}",
        "",
        "nul",
        b'\xff\xfe{"metrics": []}',
        '{"metrics": ' + "[" * 100_000 + "]" * 100_000 + "}",
    ],
    ids=["truncated", "unquoted", "empty", "garbage", "not utf-8", "nested too deep"],
)
def test_ingest_refuses_malformed_json(client, auth_headers, text):
    """400 in the API's error shape for a body that does not parse."""
    response = client.post(INGEST, data=text, content_type="application/json", headers=auth_headers)
    assert response.status_code == 400
    body = response.get_json()
    assert body["error"] == "invalid JSON" and body["detail"]
    assert _rejected(client, "invalid") == 1


BAD_BATCHES = {
    # name: (raw JSON body with %(t)d for a valid timestamp, the field named)
    "NaN literal": (
        '{"metrics": [{"name": "x", "points": [[%(t)d, NaN]]}]}',
        "metrics[0].points[0][1]",
    ),
    "Infinity literal": (
        '{"metrics": [{"name": "x", "points": [[%(t)d, Infinity]]}]}',
        "metrics[0].points[0][1]",
    ),
    "overflow": (
        '{"metrics": [{"name": "x", "points": [[%(t)d, 1e999]]}]}',
        "metrics[0].points[0][1]",
    ),
    "string value": (
        '{"metrics": [{"name": "x", "points": [[%(t)d, "1"]]}]}',
        "metrics[0].points[0][1]",
    ),
    "bool value": (
        '{"metrics": [{"name": "x", "points": [[%(t)d, true]]}]}',
        "metrics[0].points[0][1]",
    ),
    "unknown field": (
        '{"metrics": [{"name": "x", "colour": "red", "points": [[%(t)d, 1]]}]}',
        "metrics[0].colour",
    ),
    "bad name": ('{"metrics": [{"name": "bad name", "points": [[%(t)d, 1]]}]}', "metrics[0].name"),
    "missing name": ('{"metrics": [{"points": [[%(t)d, 1]]}]}', "metrics[0].name"),
    "bad label key": (
        '{"metrics": [{"name": "x", "labels": {"bad-key": "v"}, "points": [[%(t)d, 1]]}]}',
        "metrics[0].labels.bad-key",
    ),
    "label value not a string": (
        '{"metrics": [{"name": "x", "labels": {"k": 5}, "points": [[%(t)d, 1]]}]}',
        "metrics[0].labels.k",
    ),
    "label value with a control character": (
        '{"metrics": [{"name": "x", "labels": {"k": "a\\nb"}, "points": [[%(t)d, 1]]}]}',
        "metrics[0].labels.k",
    ),
    "labels not an object": (
        '{"metrics": [{"name": "x", "labels": ["k"], "points": [[%(t)d, 1]]}]}',
        "metrics[0].labels",
    ),
    "timestamp too old": (
        '{"metrics": [{"name": "x", "points": [[1, 1]]}]}',
        "metrics[0].points[0][0]",
    ),
    "fractional timestamp": (
        '{"metrics": [{"name": "x", "points": [[%(t)d.5, 1]]}]}',
        "metrics[0].points[0][0]",
    ),
    "point not a pair": (
        '{"metrics": [{"name": "x", "points": [[%(t)d]]}]}',
        "metrics[0].points[0]",
    ),
    "points not a list": ('{"metrics": [{"name": "x", "points": 3}]}', "metrics[0].points"),
    "metrics not a list": ('{"metrics": {}}', "metrics"),
    "body not an object": ("[1, 2]", "body"),
}


@pytest.mark.parametrize("case", list(BAD_BATCHES))
def test_ingest_refuses_a_bad_field_naming_it(client, auth_headers, case):
    """400 with ``detail.field`` naming the first bad field; nothing is stored; counted."""
    template, field = BAD_BATCHES[case]
    text = template % {"t": now_ms()} if "%(t)d" in template else template
    response = client.post(INGEST, data=text, content_type="application/json", headers=auth_headers)
    assert response.status_code == 400, response.get_data(as_text=True)
    body = response.get_json()
    assert body["error"] == "invalid batch"
    assert body["detail"]["field"] == field
    assert body["detail"]["message"]
    assert _series_names(client) == []
    assert _rejected(client, "invalid") == 1


def test_a_rejected_batch_stores_nothing(client, auth_headers):
    """A good metric followed by a bad one: the batch is refused whole, the good one too."""
    t = now_ms()
    cursor = client.get("/healthz").get_json()["live"]["cursor"]
    good = _metric("demo.active_users", [[t - 2 * SECOND, 1.0], [t - SECOND, 2.0]])
    bad = _metric("bad.metric", [[t, 1.0], [t - SECOND, float("nan")]])
    text = json.dumps({"metrics": [good, bad]})  # json.dumps writes the literal NaN
    assert "NaN" in text
    response = client.post(INGEST, data=text, content_type="application/json", headers=auth_headers)
    assert response.status_code == 400
    assert response.get_json()["detail"]["field"] == "metrics[1].points[1][1]"
    assert _series_names(client) == []
    query = f"name=demo.active_users&start={t - MINUTE}&end={t}"
    assert client.get(f"/api/v1/series?{query}").status_code == 404
    # nor did it reach the live side: nothing arrived after the cursor
    live = client.get(f"/api/v1/live?dashboard=default&since={quote(cursor)}").get_json()
    assert (live["cursor"], live["series"]) == (cursor, {})
    assert client.get("/healthz").get_json()["hot_store"]["series"] == 0
    # the next good batch is accepted and the counters tell both apart
    assert _accepted(client, auth_headers, good) == 2
    assert _series_names(client) == ["demo.active_users"]
    assert client.get(f"/api/v1/series?{query}&step=raw").get_json()["points"] == good["points"]
    assert _rejected(client, "invalid") == 1
    assert _sample(client, "dashboard_ingest_points_total", {"source": "http"}) == 2


@pytest.fixture
def small_app(settings) -> Iterator[Any]:
    """An app whose request bodies may be at most 2000 bytes."""
    settings.max_body_bytes = 2000
    application = create_app(settings)
    application.config["TESTING"] = True
    yield application
    application.extensions["dashboard"].close()


def test_a_body_over_the_size_limit_is_413(small_app, auth_headers):
    """413 in the API's shape over ``max_body_bytes``; a body under it is accepted."""
    client = small_app.test_client()
    t = now_ms() - 500 * SECOND
    big = {"metrics": [_metric("big.x", [[t + i * SECOND, 1.5] for i in range(200)])]}
    assert len(json.dumps(big)) > 2000
    response = client.post(INGEST, json=big, headers=auth_headers)
    assert response.status_code == 413
    assert response.get_json()["error"]
    small = {"metrics": [_metric("big.x", [[t + i * SECOND, 1.5] for i in range(20)])]}
    assert len(json.dumps(small)) < 2000
    response = client.post(INGEST, json=small, headers=auth_headers)
    assert (response.status_code, response.get_json()) == (202, {"accepted": 20})
    signed_in = sign_in(small_app.test_client(), "admin", ADMIN_PASSWORD)
    series = signed_in.get(f"/api/v1/series?name=big.x&start={t}&end={now_ms()}&step=raw")
    assert len(series.get_json()["points"]) == 20  # nothing of the refused body


def test_rejections_show_in_the_prometheus_counters(client, auth_headers):
    """Each refusal is counted by reason under source="http"."""
    assert _rejected(client, "invalid") == 0
    t = now_ms()
    for _ in range(3):
        assert _ingest(client, auth_headers, _metric("bad name", [[t, 1.0]])).status_code == 400
    client.post(INGEST, data="{", content_type="application/json", headers=auth_headers)
    client.post(INGEST, data="x", content_type="text/plain", headers=auth_headers)
    _ingest(client, {"Authorization": "Bearer nope"}, _metric("x", [[t, 1.0]]))
    assert _accepted(client, auth_headers, _metric("x", [[t, 1.0]])) == 1
    assert _rejected(client, "invalid") == 4
    assert _rejected(client, "content_type") == 1
    assert _rejected(client, "auth") == 1
    assert _sample(client, "dashboard_ingest_batches_total", {"source": "http"}) == 1


# --- GET /api/v1/series -----------------------------------------------------------------


@pytest.fixture
def known(client, auth_headers) -> int:
    """A known series ``q.x`` of 10 points a second apart, ending a minute ago; its first ts."""
    t0 = now_ms() - 70 * SECOND
    _accepted(
        client, auth_headers, _metric("q.x", [[t0 + i * SECOND, float(i)] for i in range(10)])
    )
    return t0


def test_an_unknown_series_is_404(client, known):
    """404 for a name nobody wrote, and for a label set the name was never written with."""
    for query in ("name=nobody", "name=q.x&labels=host:a", "key=" + quote('q.x{host="a"}')):
        response = client.get(f"/api/v1/series?{query}")
        assert response.status_code == 404, query
        assert response.get_json()["error"] == "unknown series"


@pytest.mark.parametrize(
    ("query", "param"),
    [
        ("name=q.x&start=abc", "start"),
        ("name=q.x&start=1.5", "start"),
        ("name=q.x&end=yesterday", "end"),
        ("name=q.x&start=2000&end=1000", "start"),
        ("name=q.x&max_points=0", "max_points"),
        ("name=q.x&max_points=20001", "max_points"),
        ("name=q.x&max_points=-5", "max_points"),
        ("name=q.x&max_points=many", "max_points"),
        ("name=q.x&start=-1", "start"),
        ("name=q.x&start=-9223372036854775808&step=raw", "start"),
        ("name=q.x&start=-99999999999999999999999", "start"),
        ("name=q.x&end=99999999999999999999999", "end"),
        ("name=q.x&end=9007199254740992", "end"),
        ("name=q.x&step=2m", "step"),
        ("name=q.x&step=RAW", "step"),
        ("labels=host:a", "name"),
        ("name=q.x&labels=nocolon", "labels"),
    ],
)
def test_a_bad_parameter_is_400_naming_it(client, known, query, param):
    """400 ``bad parameter`` whose detail starts with the parameter's name."""
    response = _get_within(client, f"/api/v1/series?{query}")
    assert response.status_code == 400, response.get_data(as_text=True)
    body = response.get_json()
    assert body["error"] == "bad parameter"
    assert body["detail"].startswith(param + ":"), body["detail"]


@pytest.mark.parametrize("step", ["raw", "1m", "auto"])
def test_the_widest_range_answers_at_once(client, known, step):
    """From the epoch to the last exact JSON integer: an answer (not a hang, not a 500)."""
    response = _get_within(
        client, f"/api/v1/series?name=q.x&start=0&end={2**53 - 1}&step={step}", seconds=10
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    if step == "raw":
        assert [p[0] for p in body["points"]] == [known + i * SECOND for i in range(10)]
    else:
        assert sum(body["count"]) == 10


@pytest.fixture
def spiky(client, auth_headers) -> tuple[int, int]:
    """``spiky.x``: 3000 points a second apart with one spike; its first ts and the spike's."""
    t0 = (now_ms() - 3100 * SECOND) // SECOND * SECOND
    points = [[t0 + i * SECOND, 10.0 + (i % 7)] for i in range(3000)]
    spike = t0 + 1234 * SECOND
    points[1234][1] = 1e6
    assert _accepted(client, auth_headers, _metric("spiky.x", points)) == 3000
    return t0, spike


@pytest.mark.parametrize("max_points", [1, 2, 3, 4, 10, 100, 2999])
def test_max_points_downsamples_and_keeps_the_spike(client, spiky, max_points):
    """At most ``max_points`` points, in time order, a subset of the series; the spike and both
    ends stay (when at least 4 points are asked for)."""
    t0, spike = spiky
    response = client.get(
        f"/api/v1/series?name=spiky.x&start={t0}&end={t0 + 2999 * SECOND}"
        f"&step=raw&max_points={max_points}"
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["step"] == "raw"
    points = body["points"]
    assert 1 <= len(points) <= max_points
    assert [p[0] for p in points] == sorted({p[0] for p in points})
    stored = {t0 + i * SECOND: 10.0 + (i % 7) for i in range(3000)}
    stored[spike] = 1e6
    assert all(stored.get(ts) == v for ts, v in points)
    if max_points >= 4:
        assert [spike, 1e6] in points
        assert points[0][0] == t0 and points[-1][0] == t0 + 2999 * SECOND


@pytest.mark.parametrize(("max_points", "step"), [(100, "raw"), (10, "1m")])
def test_auto_step_reads_coarser_for_few_points_and_keeps_the_spike(
    client, spiky, max_points, step
):
    """``step=auto`` (the default) reads raw while a pixel holds at most 100 stored points,
    a rollup beyond that; either way at most ``max_points`` come back, the spike among them."""
    t0, spike = spiky
    for query in (f"&step=auto&max_points={max_points}", f"&max_points={max_points}"):
        body = client.get(
            f"/api/v1/series?name=spiky.x&start={t0}&end={t0 + 2999 * SECOND}{query}"
        ).get_json()
        assert body["step"] == step
        assert 1 <= len(body["points"]) <= max_points
        if step == "raw":
            assert [spike, 1e6] in body["points"]
        else:
            assert 1e6 in body["max"]


def test_max_points_on_a_rollup_keeps_its_columns_aligned(client, spiky):
    """Downsampled buckets keep min, max and count for each point kept, the spike's too."""
    t0, spike = spiky
    response = client.get(
        f"/api/v1/series?name=spiky.x&start={t0}&end={t0 + 2999 * SECOND}&step=1m&max_points=10"
    )
    body = response.get_json()
    assert body["step"] == "1m"
    n = len(body["points"])
    assert 1 <= n <= 10
    assert len(body["min"]) == len(body["max"]) == len(body["count"]) == n
    assert 1e6 in body["max"]
    spike_bucket = spike // MINUTE * MINUTE
    assert spike_bucket in [p[0] for p in body["points"]]


def test_since_returns_exactly_what_arrived_after_the_cursor(client, auth_headers):
    """The cursor of a range read, then ``since=`` gives only the later points of that series."""
    t0 = now_ms() - 120 * SECOND
    first = [[t0 + i * SECOND, float(i)] for i in range(5)]
    _accepted(client, auth_headers, _metric("since.x", first), _metric("since.other", first))
    read = client.get(f"/api/v1/series?name=since.x&start={t0}&end={now_ms()}&step=raw").get_json()
    assert read["points"] == first
    cursor = read["cursor"]

    later = [[t0 + (10 + i) * SECOND, 100.0 + i] for i in range(3)]
    _accepted(client, auth_headers, _metric("since.x", later[:2]), _metric("since.other", later))
    _accepted(client, auth_headers, _metric("since.other", [[t0 + 20 * SECOND, 7.0]]))
    _accepted(client, auth_headers, _metric("since.x", later[2:]))
    # a replay of old points arrives again, too: it is part of what came after the cursor
    response = client.get(f"/api/v1/series?name=since.x&since={quote(cursor)}")
    assert response.status_code == 200
    body = response.get_json()
    assert body["points"] == later
    assert body["reset"] is False and body["step"] == "raw"
    assert body["cursor"] != cursor
    assert (body["name"], body["labels"]) == ("since.x", {})
    # nothing new after the new cursor
    again = client.get(f"/api/v1/series?name=since.x&since={quote(body['cursor'])}").get_json()
    assert (again["points"], again["reset"], again["cursor"]) == ([], False, body["cursor"])


@pytest.mark.parametrize("foreign", ["0badbeef-1", "nonsense", "", "-5", "x-y"])
def test_since_with_a_foreign_cursor_says_reset(client, auth_headers, foreign):
    """A cursor of another node's life (or no cursor at all) answers ``reset: true``."""
    _accepted(client, auth_headers, _metric("since.x", [[now_ms() - 5 * SECOND, 1.0]]))
    body = client.get(f"/api/v1/series?name=since.x&since={quote(foreign)}").get_json()
    assert body["reset"] is True and body["points"] == []
    assert body["cursor"]


def test_since_with_a_cursor_from_the_future_says_reset(client, auth_headers):
    """A cursor of this epoch but beyond its newest batch cannot be trusted either."""
    _accepted(client, auth_headers, _metric("since.x", [[now_ms() - 5 * SECOND, 1.0]]))
    cursor = client.get("/api/v1/series?name=since.x").get_json()["cursor"]
    epoch, _, seq = cursor.rpartition("-")
    ahead = f"{epoch}-{int(seq) + 100}"
    body = client.get(f"/api/v1/series?name=since.x&since={quote(ahead)}").get_json()
    assert body["reset"] is True and body["points"] == []


def test_live_returns_the_default_dashboards_points_since_a_cursor(client, auth_headers):
    """GET /api/v1/live gives every series of the dashboard that arrived after the cursor."""
    t = now_ms() - 10 * SECOND
    _accepted(client, auth_headers, _metric("demo.active_users", [[t - 50 * SECOND, 1.0]]))
    cursor = client.get("/api/v1/series?name=demo.active_users").get_json()["cursor"]
    _accepted(
        client,
        auth_headers,
        _metric("demo.active_users", [[t, 42.0]]),
        _metric("demo.health", [[t, 1.0]], {"service": "api"}),
        _metric("other.metric", [[t, 5.0]]),
    )
    response = client.get(f"/api/v1/live?dashboard=default&since={quote(cursor)}")
    assert response.status_code == 200
    body = response.get_json()
    assert body["series"] == {
        "demo.active_users": [[t, 42.0]],
        'demo.health{service="api"}': [[t, 1.0]],
    }
    assert body["cursor"] != cursor and not body.get("reset")
    # refusals
    assert client.get(f"/api/v1/live?dashboard=nope&since={quote(cursor)}").status_code == 404
    missing = client.get("/api/v1/live?dashboard=default")
    assert missing.status_code == 400 and missing.get_json()["detail"].startswith("since")
    assert client.get("/api/v1/live?dashboard=default&since=0badbeef-0").get_json()["reset"] is True


# --- health, metrics, Dash pages --------------------------------------------------------


def test_healthz_reports_the_store(client, anon_client):
    """200 and the store's state for a signed-in user; only the status for anyone else."""
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["store"] == {"kind": "sqlite", "ok": True}
    assert body["bus"]["ok"] is True and body["bus"]["kind"] == "embedded"
    assert body["live"]["clients"] == 0
    anon = anon_client.get("/healthz")
    assert (anon.status_code, anon.get_json()) == (200, {"status": "ok"})


def test_metrics_needs_an_admin_or_a_token(anon_client, auth_headers):
    """/metrics is not public: 401 for anyone, the text for a bearer of an ingest token."""
    assert anon_client.get("/metrics").status_code == 401
    response = anon_client.get("/metrics", headers=auth_headers)
    assert response.status_code == 200
    assert "dashboard_ingest_points_total" in response.get_data(as_text=True)


def test_the_dash_page_and_its_layout(client):
    """GET / is the Dash page; its layout holds the live config and the users chart."""
    page = client.get("/")
    assert page.status_code == 200
    assert page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert "_dash-config" in html and "/_dash-component-suites/" in html
    layout = client.get("/_dash-layout")
    assert layout.status_code == 200
    ids = _ids(layout.get_json())
    assert {"live-config", "widget-line-users-graph"} <= ids
    assert client.get("/_dash-dependencies").status_code == 200


def test_pages_redirect_to_sign_in_without_a_session(anon_client):
    """The page shell needs a session; the layout JSON answers 401 instead of redirecting."""
    page = anon_client.get("/", headers={"Accept": "text/html"})
    assert page.status_code == 302 and page.headers["Location"].startswith("/login/")
    assert anon_client.get("/_dash-layout").status_code == 401


# --- the app factory --------------------------------------------------------------------


def test_two_apps_in_one_process_keep_their_own_data(settings, tmp_path, auth_headers):
    """A point ingested into one app is visible there and nowhere else."""
    other = settings.model_copy(update={"data_dir": tmp_path / "other"})
    first, second = create_app(settings), create_app(other)
    try:
        t = now_ms() - 5 * SECOND
        one, two = (sign_in(a.test_client(), "admin", ADMIN_PASSWORD) for a in (first, second))
        assert _accepted(one, auth_headers, _metric("factory.x", [[t, 1.0]])) == 1
        assert _series_names(one) == ["factory.x"]
        assert _series_names(two) == []
        assert two.get("/api/v1/series?name=factory.x").status_code == 404
        assert _sample(one, "dashboard_ingest_points_total", {"source": "http"}) == 1
        assert _sample(two, "dashboard_ingest_points_total", {"source": "http"}) == 0
        # and the other way round
        assert _accepted(two, auth_headers, _metric("factory.y", [[t, 2.0]])) == 1
        assert (_series_names(one), _series_names(two)) == (["factory.x"], ["factory.y"])
        assert first.extensions["dashboard"].hub.epoch != second.extensions["dashboard"].hub.epoch
    finally:
        first.extensions["dashboard"].close()
        second.extensions["dashboard"].close()


def test_a_fresh_app_answers_concurrent_first_requests(settings, tmp_path):
    """The very first requests of a new app, all at once, are all 200 (Dash's set-up is
    finished by the factory, not by whichever request comes first)."""
    probe = create_app(settings.model_copy(update={"data_dir": tmp_path / "probe"}))
    try:
        html = sign_in(probe.test_client(), "admin", ADMIN_PASSWORD).get("/").get_data(as_text=True)
    finally:
        probe.extensions["dashboard"].close()
    scripts = re.findall(r'<script src="(/_dash-component-suites/[^"]+)"', html)
    assert len(scripts) >= 2, html[:2000]

    fresh = create_app(settings)
    try:
        # a session cookie made without a request, so the burst below is the app's first
        with fresh.app_context():
            token = create_access_token(identity="admin")
        # component suites are what fails when the set-up is unfinished: ask for several
        suites = (scripts * 9)[:9]
        paths = ["/", "/_dash-layout", "/_dash-dependencies", *suites]
        clients = []
        for _ in paths:
            c = fresh.test_client()
            c.set_cookie("access_token", token)
            clients.append(c)
        barrier = threading.Barrier(len(paths))
        results: list[tuple[str, int, str]] = [("", 0, "")] * len(paths)

        def fetch(i: int) -> None:
            barrier.wait()
            response = clients[i].get(paths[i])
            results[i] = (paths[i], response.status_code, response.get_data(as_text=True)[:200])

        threads = [threading.Thread(target=fetch, args=(i,)) for i in range(len(paths))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert [r[1] for r in results] == [200] * len(paths), results
    finally:
        fresh.extensions["dashboard"].close()
