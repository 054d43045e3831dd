"""The engine against the real Prometheus (Debian's 2.42) on the same data, within 1e-6.

The data (``data.py``) go into the dashboard through ``/api/v1/ingest`` and into a private
Prometheus through backfilled blocks; each expression is asked of both HTTP APIs, instant at
several times and as a range, and the answers are compared series by series. Only semantics
2.42 shares with 3.x are compared: no sample lies on a window's boundary, counters start far
from zero. Skipped when the binaries are missing, unless DASHBOARD_REQUIRE_SERVICES=1.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bench.promserver import PromServer, binaries
from dashboard.app import create_app
from dashboard.clock import now_ms
from dashboard.settings import Settings
from tests.conftest import ADMIN_PASSWORD, TOKEN, _missing, sign_in
from tests.integration.query.data import STEP_MS, dataset

COUNT = 480  # two hours at 15 s
MINUTE = 60_000

EXPRESSIONS = [
    "http_requests_total",
    'http_requests_total{route=~"/(a|b)", code!="500"}',
    'temp{host!~"h1"}',
    "rate(http_requests_total[5m])",
    "irate(http_requests_total[1m])",
    "increase(http_requests_total[10m])",
    "delta(temp[5m])",
    "idelta(temp[2m])",
    "deriv(temp[10m])",
    "predict_linear(temp[10m], 600)",
    "resets(http_requests_total[30m])",
    "changes(temp[10m])",
    "avg_over_time(temp[5m])",
    "min_over_time(temp[5m])",
    "max_over_time(temp[5m])",
    "sum_over_time(temp[5m])",
    "count_over_time(temp[5m])",
    "last_over_time(temp[5m])",
    "stddev_over_time(temp[10m])",
    "stdvar_over_time(temp[10m])",
    "quantile_over_time(0.9, temp[10m])",
    "histogram_quantile(0.9, sum by (le, route) (rate(lat_bucket[5m])))",
    "histogram_quantile(0.5, rate(lat_bucket[10m]))",
    "sum by (route) (rate(http_requests_total[5m]))",
    "sum without (code) (rate(http_requests_total[5m]))",
    "avg(temp)",
    "min by (code) (http_requests_total)",
    "max(temp)",
    "count(http_requests_total)",
    "stddev(temp)",
    "stdvar by (route) (http_requests_total)",
    "quantile(0.75, temp)",
    "topk(2, temp)",
    "bottomk(1, rate(http_requests_total[5m]))",
    'count_values("v", round(temp))',
    'sum by (route) (rate(http_requests_total{code="500"}[5m]))'
    " / sum by (route) (rate(http_requests_total[5m]))",
    "http_requests_total / on(route) group_left sum by (route) (http_requests_total)",
    "sum by (route) (http_requests_total) / on(route) group_right http_requests_total",
    "temp > 20",
    "temp > bool 20",
    "20 < temp",
    "2 * temp - 1",
    "temp - temp offset 5m",
    'http_requests_total and http_requests_total{code="500"}',
    'http_requests_total unless on(route) http_requests_total{route="/a"}',
    'temp or http_requests_total{code="200"}',
    "abs(temp - 20)",
    "ceil(temp)",
    "floor(temp)",
    "round(temp, 0.5)",
    "clamp(temp, 19, 21)",
    "clamp_min(temp, 20)",
    "clamp_max(temp, 20)",
    'label_replace(temp, "n", "$1", "host", "h(.*)")',
    'label_join(http_requests_total, "rc", "-", "route", "code")',
    'absent(nothing{a="b"})',
    "absent(temp)",
    "absent_over_time(temp[5m])",
    "scalar(sum(temp))",
    "vector(1)",
    "time()",
    "gappy",
    "rate(gappy[5m])",
    "sum(rate(http_requests_total[5m])) by (code) * 60",
    "max_over_time(rate(http_requests_total[2m])[10m:1m] offset 7s)",
    "sum_over_time(temp[7m:30s] offset 13s)",
    "temp @ start()",
    "last_over_time(temp[5m] @ end())",
    "topk by (route) (1, http_requests_total)",
    'count_values("v", floor(temp))',
    "sgn(temp - 20)",
    "-temp",
    "exp(temp / 10) + ln(temp) + log2(temp) + log10(temp) + sqrt(temp)",
    "http_requests_total % 7",
    "temp ^ 2",
    "temp == bool on(host) temp",
    'group by (route) (http_requests_total{code="200"})',
]


@pytest.fixture(scope="module")
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    """The dashboard (a signed-in client) and Prometheus, holding the same data."""
    if binaries() is None:
        _missing("Prometheus", "apt-get install prometheus", request.node.nodeid)
    end = (now_ms() - 10 * MINUTE) // MINUTE * MINUTE
    start = end - COUNT * STEP_MS
    series = dataset(start, COUNT)
    folder = tmp_path_factory.mktemp("conformance")
    settings = Settings(
        _env_file=None,
        data_dir=folder / "data",
        ingest_tokens=[TOKEN],
        demo=False,
        secret_key="test-secret-key-that-is-long-enough-for-hs256",
        admin_user="admin",
        admin_password=ADMIN_PASSWORD,
    )
    app = create_app(settings)
    app.config["TESTING"] = True
    client = sign_in(app.test_client(), "admin", ADMIN_PASSWORD)
    body = {
        "metrics": [
            {"name": n, "labels": lab, "points": np.column_stack([ts, vs]).tolist()}
            for n, lab, ts, vs in series
        ]
    }
    response = client.post(
        "/api/v1/ingest", json=body, headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert response.status_code == 202, response.get_data(as_text=True)
    prom = PromServer(Path(folder / "prom"), series)
    try:
        yield {"client": client, "prom": prom, "start": start, "end": end}
    finally:
        prom.stop()
        app.extensions["dashboard"].close()


def _ours(client: Any, endpoint: str, params: dict[str, Any]) -> dict[str, Any]:
    """The dashboard's answer."""
    response = client.get(f"/prometheus/api/v1/{endpoint}", query_string=params)
    return response.get_json()


def _close(a: str, b: str) -> bool:
    """Two sample values equal within 1e-6 relative (NaN equals NaN)."""
    x, y = float(a), float(b)
    if math.isnan(x) or math.isnan(y):
        return math.isnan(x) and math.isnan(y)
    if math.isinf(x) or math.isinf(y):
        return x == y
    return math.isclose(x, y, rel_tol=1e-6, abs_tol=1e-9)


def _by_labels(result: list[dict[str, Any]], key: str) -> dict[tuple, Any]:
    """Result entries keyed by their label sets."""
    return {tuple(sorted(r["metric"].items())): r[key] for r in result}


def assert_same(ours: dict[str, Any], theirs: dict[str, Any], what: str) -> None:
    """Both answers succeed with the same type, series, timestamps and values."""
    assert theirs["status"] == "success", theirs
    assert ours["status"] == "success", (what, ours)
    a, b = ours["data"], theirs["data"]
    assert a["resultType"] == b["resultType"], what
    if a["resultType"] in ("scalar", "string"):
        assert a["result"][0] == b["result"][0] and _close(a["result"][1], b["result"][1]), what
        return
    key = "value" if a["resultType"] == "vector" else "values"
    mine, want = _by_labels(a["result"], key), _by_labels(b["result"], key)
    assert sorted(mine) == sorted(want), f"{what}: series differ\n{sorted(mine)}\n{sorted(want)}"
    for labels, points in want.items():
        got = mine[labels]
        pairs = [points] if key == "value" else points
        got_pairs = [got] if key == "value" else got
        assert [p[0] for p in got_pairs] == [p[0] for p in pairs], f"{what} {labels}: times"
        bad = [(p, q) for p, q in zip(got_pairs, pairs, strict=True) if not _close(p[1], q[1])]
        assert not bad, f"{what} {labels}: values differ (ours, theirs): {bad[:3]}"


@pytest.mark.parametrize("expr", EXPRESSIONS)
def test_instant_queries_match_prometheus(served: dict[str, Any], expr: str) -> None:
    """Instant queries at three times agree with Prometheus."""
    for minutes in (35, 61, 100):
        at = (served["start"] + minutes * MINUTE) / 1000
        params = {"query": expr, "time": at}
        assert_same(
            _ours(served["client"], "query", params),
            served["prom"].get("query", **params),
            f"{expr} @ {at}",
        )


@pytest.mark.parametrize("expr", EXPRESSIONS)
def test_range_queries_match_prometheus(served: dict[str, Any], expr: str) -> None:
    """A range query over the second hour every minute agrees with Prometheus."""
    params = {
        "query": expr,
        "start": (served["start"] + 50 * MINUTE) / 1000,
        "end": (served["end"] - 2 * MINUTE) / 1000,
        "step": 60,
    }
    assert_same(
        _ours(served["client"], "query_range", params),
        served["prom"].get("query_range", **params),
        f"range {expr}",
    )


def test_raw_samples_and_sorted_vectors_match_prometheus(served: dict[str, Any]) -> None:
    """An instant range selector gives the raw samples; sort_desc gives Prometheus' order."""
    at = (served["start"] + 61 * MINUTE) / 1000
    for expr in ("temp[1m]", 'http_requests_total{code="500"}[2m]'):
        params = {"query": expr, "time": at}
        ours = _ours(served["client"], "query", params)
        assert_same(ours, served["prom"].get("query", **params), expr)
    params = {"query": "sort_desc(temp)", "time": at}
    ours = _ours(served["client"], "query", params)["data"]["result"]
    theirs = served["prom"].get("query", **params)["data"]["result"]
    assert [r["metric"] for r in ours] == [r["metric"] for r in theirs]


def test_metadata_matches_prometheus(served: dict[str, Any]) -> None:
    """``series``, ``labels`` and ``label/<name>/values`` list what Prometheus lists."""
    client, prom = served["client"], served["prom"]
    match = {"match[]": 'http_requests_total{route="/a"}'}
    ours = _ours(client, "series", match)["data"]
    theirs = prom.get("series", **match)["data"]
    assert sorted(map(str, ours)) == sorted(map(str, theirs))
    assert _ours(client, "labels", {})["data"] == prom.get("labels")["data"]
    ours_v = _ours(client, "label/route/values", {})["data"]
    assert ours_v == prom.get("label/route/values")["data"]
