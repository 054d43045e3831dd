"""Fuzzing ``/prometheus/api/v1`` through a real node: hostile expressions (deep nesting, huge
and pathological regexes, ranges and offsets of years, random text and bytes), random
parameters and oversized bodies, by GET and by POST form, with a read token.

Every answer must be Prometheus' envelope: a success, or a 4xx with ``errorType`` (never a
5xx, but Prometheus' own 503 ``timeout`` when the caller's ``timeout`` parameter ran out), and
no answer may take longer than the node's query timeout. Each refusal of the engine
(``bad_data``, ``execution``, ``timeout``) is counted in ``dashboard_query_refused_total``.

``DASHBOARD_FUZZ_SCALE`` multiplies the number of examples (``make fuzz`` runs 10x).
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any
from urllib.parse import quote_from_bytes

import pytest
from hypothesis import strategies as st
from prometheus_client.parser import text_string_to_metric_families

from dashboard.app import create_app
from dashboard.clock import now_ms
from dashboard.metrics.steps import MINUTE, SECOND
from tests.conftest import TOKEN
from tests.integration.ingest.test_ingest_fuzz import FUZZ_SCALE, fuzz

API = "/prometheus/api/v1"
READ_TOKEN = "fuzz-read-token"
READER = {"Authorization": f"Bearer {READ_TOKEN}"}
QUERY_TIMEOUT_S = 3.0
SLACK_S = 2.0  # a refusal is prompt; this covers a busy machine, not a slow engine
MAX_BODY = 64 * 1024
EXAMPLES = {
    name: max(1, int(n * FUZZ_SCALE))
    for name, n in {"expressions": 600, "params": 400, "bytes": 300, "metadata": 200}.items()
}
ENGINE_ERRORS = {"bad_data", "execution", "timeout"}
AUTH_ERRORS = {"unauthorized", "forbidden", "not_found"}


@pytest.fixture
def app(settings):
    """A node with a short query timeout, a small body limit and no rate limit in the way."""
    settings.api_rate_limit = "1000000 per minute"
    settings.ingest_rate_limit = "1000000 per second"
    settings.query_timeout_s = QUERY_TIMEOUT_S
    settings.max_body_bytes = MAX_BODY
    settings.read_tokens = [READ_TOKEN]
    application = create_app(settings)
    application.config["TESTING"] = True
    yield application
    application.extensions["dashboard"].close()


@pytest.fixture
def reader(app):
    """A client holding only the read token, over a node with a few series of data."""
    client = app.test_client()
    t0 = (now_ms() - 60 * MINUTE) // MINUTE * MINUTE
    metrics = [
        {
            "name": name,
            "labels": {"job": job, "instance": f"i{i}"},
            "points": [[t0 + k * 15 * SECOND, float(k * (i + 1))] for k in range(200)],
        }
        for name in ("http_requests_total", "up", "node.cpu")
        for job in ("api", "db")
        for i in range(2)
    ]
    auth = {"Authorization": f"Bearer {TOKEN}"}
    response = client.post("/api/v1/ingest", json={"metrics": metrics}, headers=auth)
    assert response.status_code == 202, response.get_data(as_text=True)
    return client


class Checker:
    """Sends requests and checks each answer; counts the engine's refusals by reason."""

    def __init__(self, client) -> None:
        """Checks on one client."""
        self.client = client
        self.refused: Counter[str] = Counter()
        self.statuses: Counter[int] = Counter()

    def send(self, method: str, endpoint: str, *, timeout_given: bool = False, **kwargs) -> Any:
        """One request: Prometheus' envelope, no 5xx (but a 503 timeout when the caller's
        own timeout ran out), within the node's timeout."""
        started = time.monotonic()
        response = self.client.open(f"{API}/{endpoint}", method=method, headers=READER, **kwargs)
        elapsed = time.monotonic() - started
        assert elapsed < QUERY_TIMEOUT_S + SLACK_S, f"{elapsed:.1f} s for {kwargs!r:.300}"
        self.statuses[response.status_code] += 1
        body = response.get_json(silent=True)
        assert isinstance(body, dict), f"{response.status_code}: {response.get_data()[:300]!r}"
        text = f"{response.status_code} {body!r:.300} for {kwargs!r:.300}"
        if response.status_code == 200:
            assert body["status"] == "success" and "data" in body, text
            return body
        assert body["status"] == "error", text
        assert isinstance(body["error"], str) and body["error"], text
        kind = body["errorType"]
        if response.status_code == 503:
            assert kind == "timeout" and timeout_given, text
        else:
            assert 400 <= response.status_code < 500, text
            assert kind in ENGINE_ERRORS | AUTH_ERRORS, text
        expected_status = {"bad_data": 400, "execution": 422, "timeout": 503}
        if kind in ENGINE_ERRORS and response.status_code != 413:
            assert response.status_code == expected_status[kind], text
            self.refused["too_many_samples" if kind == "execution" else kind] += 1
        return body


def refused_counts(client) -> Counter[str]:
    """``dashboard_query_refused_total`` by reason, from /metrics (scraped with the ingest
    token, as a Prometheus would)."""
    text = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).get_data(
        as_text=True
    )
    found: Counter[str] = Counter()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "dashboard_query_refused_total":
                found[sample.labels["reason"]] += int(sample.value)
    return found


# --- hostile expressions --------------------------------------------------------------------

NAMES = st.sampled_from(["http_requests_total", "up", '{"node.cpu"}', "nothing", "x"])
WRAPPERS = ["(", "abs(", "sum(", "-(", "rate(", "max_over_time(", "count by (job) (", "-"]


@st.composite
def deep_nesting(draw) -> str:
    """An expression nested 1 to 400 levels deep, balanced or not."""
    depth = draw(st.integers(1, 400))
    opener = draw(st.sampled_from(WRAPPERS))
    closer = "" if opener == "-" else ")"
    inner = draw(NAMES)
    if opener in ("rate(", "max_over_time("):
        inner += "[5m]"
    closers = closer * depth if draw(st.booleans()) else closer * draw(st.integers(0, depth))
    return opener * depth + inner + closers


REGEX_PARTS = ["(a|b)*", "(a+)+", "(.*)*", ".*", "a{1,1000}", "[a-z]", "\\", "(?i)", "\\d", "|"]


@st.composite
def huge_regexes(draw) -> str:
    """A selector with a long, nested, catastrophic or broken regex."""
    part = draw(st.sampled_from(REGEX_PARTS))
    repeat = draw(st.sampled_from([1, 10, 500, 5_000]))
    regex = part * repeat + draw(st.sampled_from(["", "$", ")", "(", "x" * 20_000]))
    op = draw(st.sampled_from(["=~", "!~"]))
    label = draw(st.sampled_from(["job", "__name__", "instance"]))
    return draw(NAMES) + "{" + f'{label}{op}"{regex}"' + "}"


DURATIONS = ["1ms", "1s", "5m", "1d", "1y", "10y", "100y", "1000y", "100000000y", "9" * 30 + "y"]


@st.composite
def long_ranges(draw) -> str:
    """Ranges, subqueries, offsets and ``@`` over years, up to absurd ones."""
    name = draw(NAMES)
    d1, d2 = draw(st.sampled_from(DURATIONS)), draw(st.sampled_from(DURATIONS))
    at = draw(st.sampled_from(["", " @ 0", " @ 1e15", " @ -1e15", " @ start()", " @ 1e400"]))
    offset = draw(st.sampled_from(["", f" offset {d1}", f" offset -{d2}"]))
    return draw(
        st.sampled_from(
            [
                f"rate({name}[{d1}]{offset}{at})",
                f"max_over_time({name}[{d1}:{d2}]{at})",
                f"sum_over_time(({name})[{d1}:{d2}]{offset})",
                f"{name}[{d1}]",
                f"{name}{offset}{at}",
                f"predict_linear({name}[{d1}], {draw(st.sampled_from(['1e308', '-1e308', '0']))})",
                f"quantile_over_time(0.5, {name}[{d1}:])",
            ]
        )
    )


PROMQL_ALPHABET = "xyzupjob_(){}[]\"'=~!,+-*/%^ 0159.emsydh@:#`\\\n\tsumratebyoffset"
expressions = st.one_of(
    deep_nesting(),
    huge_regexes(),
    long_ranges(),
    st.text(alphabet=PROMQL_ALPHABET, max_size=80),
    st.text(max_size=60),  # any unicode, surrogates and control characters included
    st.sampled_from(["x" * 16_385, "(" * 10_000, "a" * 100_000, "1" * 5_000, '"' + "\\" * 999]),
)
ENDPOINT_METHODS = st.sampled_from(["GET", "POST"])


def test_hostile_expressions_get_4xx_or_success_in_time(reader):
    """Deep nesting, huge regexes, ranges of years and random text, as instant and range
    queries by GET and POST: a success or a 4xx in Prometheus' format, never a 5xx, in time;
    each refusal of the engine is counted under its reason."""
    checker = Checker(reader)
    before = refused_counts(reader)
    now_s = now_ms() / 1000

    def send(case: tuple[str, str, bool]) -> None:
        query, method, ranged = case
        if ranged:
            params = {"query": query, "start": now_s - 3600, "end": now_s, "step": "60"}
        else:
            params = {"query": query, "time": now_s}
        where = "query_string" if method == "GET" else "data"
        endpoint = "query_range" if ranged else "query"
        checker.send(method, endpoint, **{where: params})

    fuzz(EXAMPLES["expressions"], st.tuples(expressions, ENDPOINT_METHODS, st.booleans()), send)
    after = refused_counts(reader)
    assert after - before == checker.refused, (after - before, checker.refused)
    assert checker.refused["bad_data"] > 0 and checker.statuses[200] > 0, checker.statuses


# --- random parameters ----------------------------------------------------------------------

TIMES = [
    "",
    "0",
    "-1",
    "1e9",
    "1.5e9",
    "1e30",
    "-1e30",
    "1e308",
    "nan",
    "inf",
    "-inf",
    "9" * 40,
    "2026-01-01T00:00:00Z",
    "2026-01-01T00:00:00",
    "2026-13-45T99:99:99Z",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59+14:00",
    "yesterday",
    "\x00",
    "１２３",
]
STEPS = ["", "0", "-1", "0.001", "1", "15s", "1m30s", "1y", "1000000y", "9" * 30, "1e308", "x", "5"]
TIMEOUTS = ["", "1", "0", "30s", "-1", "1ms", "0.000001", "1e308", "nope", "9" * 30 + "s"]
QUERIES = [
    "up",
    "sum by (job) (rate(http_requests_total[5m]))",
    "time()",
    '"text"',
    "up[5m]",
    "",
    "up +",
]


@st.composite
def random_params(draw) -> dict[str, Any]:
    """Any mix of the query endpoints' parameters, valid or not, some of them repeated."""
    params: dict[str, Any] = {}
    for name, pool in (
        ("query", QUERIES),
        ("time", TIMES),
        ("start", TIMES),
        ("end", TIMES),
        ("step", STEPS),
        ("timeout", TIMEOUTS),
    ):
        if draw(st.booleans()):
            values = st.sampled_from(pool) | st.text(max_size=20)
            params[name] = draw(values) if draw(st.integers(0, 4)) else draw(st.lists(values))
    if draw(st.booleans()):
        params[draw(st.text(min_size=1, max_size=10))] = draw(st.text(max_size=20))
    return params


def test_random_parameters_get_4xx_or_success_in_time(reader):
    """Random times, steps, timeouts and extra parameters on every endpoint: a success or a
    4xx in Prometheus' format (a 503 ``timeout`` only when the caller set ``timeout``)."""
    checker = Checker(reader)
    before = refused_counts(reader)
    endpoints = st.sampled_from(
        ["query", "query_range", "series", "labels", "label/job/values", "label/%FF/values"]
    )

    def send(case: tuple[str, str, dict[str, Any]]) -> None:
        endpoint, method, params = case
        if endpoint.startswith("label/"):
            method = "GET"
        where = "query_string" if method == "GET" else "data"
        checker.send(method, endpoint, timeout_given="timeout" in params, **{where: params})

    fuzz(EXAMPLES["params"], st.tuples(endpoints, ENDPOINT_METHODS, random_params()), send)
    after = refused_counts(reader)
    assert after - before == checker.refused, (after - before, checker.refused)


# --- random bytes, match[] and bodies -------------------------------------------------------


def test_random_bytes_in_the_url_and_the_body_get_4xx_or_success(reader):
    """Random bytes as a percent-encoded query string, as a form body of any content type,
    and as ``match[]`` selectors: never a 5xx."""
    checker = Checker(reader)
    content_types = st.sampled_from(
        [
            "application/x-www-form-urlencoded",
            "multipart/form-data",
            "multipart/form-data; boundary=x",
            "application/json",
            "text/plain",
            "",
        ]
    )

    def send(case: tuple[str, bytes, str, bool]) -> None:
        endpoint, data, content_type, in_url = case
        if in_url:
            checker.send("GET", f"{endpoint}?query={quote_from_bytes(data)}&match[]=%FF{{")
        else:
            checker.send("POST", endpoint, data=data, content_type=content_type)

    cases = st.tuples(
        st.sampled_from(["query", "query_range", "series", "labels"]),
        st.binary(max_size=300) | st.binary(max_size=300).map(lambda b: b"query=" + b),
        content_types,
        st.booleans(),
    )
    fuzz(EXAMPLES["bytes"], cases, send)


@st.composite
def selectors(draw) -> list[str]:
    """Lists of ``match[]`` selectors: valid, empty, broken or selecting everything."""
    one = st.one_of(
        st.sampled_from(
            [
                "up",
                '{job="api"}',
                '{__name__=~".+"}',
                '{job=~".*"}',
                "{}",
                '{job=""}',
                "up[5m]",
                "rate(up[5m])",
                "",
                "{",
            ]
        ),
        huge_regexes(),
        st.text(alphabet=PROMQL_ALPHABET, max_size=40),
    )
    return draw(st.lists(one, max_size=5))


def test_metadata_endpoints_with_random_selectors(reader):
    """``series``, ``labels`` and label values with random ``match[]`` and spans: a success or
    a 4xx, never a 5xx, in time."""
    checker = Checker(reader)

    def send(case: tuple[str, list[str], str, str]) -> None:
        endpoint, match, start, end = case
        params: dict[str, Any] = {"match[]": match}
        if start:
            params["start"] = start
        if end:
            params["end"] = end
        checker.send("GET", endpoint, query_string=params)

    endpoints = st.sampled_from(["series", "labels", "label/job/values", "label/__name__/values"])
    fuzz(
        EXAMPLES["metadata"],
        st.tuples(endpoints, selectors(), st.sampled_from(TIMES), st.sampled_from(TIMES)),
        send,
    )


def test_huge_bodies_and_expressions_are_refused_in_prometheus_format(reader):
    """A form over the body limit is 413 and a query over 16,384 characters 400, both in
    Prometheus' envelope; a very long URL too."""
    checker = Checker(reader)
    big = {"query": "up + " * (MAX_BODY // 4)}
    body = checker.send("POST", "query", data=big)
    assert body["errorType"] == "bad_data" and "Too Large" in body["error"]
    assert checker.statuses[413] == 1
    long_query = "1" + " + 1" * 5_000
    assert len(long_query) > 16_384
    body = checker.send("POST", "query", data={"query": long_query})
    assert "longer than 16384" in body["error"]
    body = checker.send("GET", "query", query_string={"query": "x" * 50_000})
    assert body["errorType"] == "bad_data"
    many = {"match[]": ["up"] * 5_000}
    assert checker.send("GET", "series", query_string=many)["status"] == "success"


def test_refusals_use_prometheus_error_types_and_are_counted(app, reader):
    """Too many samples: 422 ``execution``; past the timeout: 503 ``timeout``; a bad
    expression: 400 ``bad_data``; each counted in /metrics under its reason."""
    checker = Checker(reader)
    settings = app.extensions["dashboard"].settings
    before = refused_counts(reader)
    now_s = now_ms() / 1000
    body = checker.send("GET", "query", query_string={"query": "sum(", "time": now_s})
    assert body["errorType"] == "bad_data"
    settings.query_max_samples = 10
    try:
        body = checker.send("GET", "query", query_string={"query": "up[1h]", "time": now_s})
        assert body["errorType"] == "execution" and checker.statuses[422] == 1
    finally:
        settings.query_max_samples = 50_000_000
    body = checker.send(
        "GET",
        "query_range",
        timeout_given=True,
        query_string={
            "query": "up",
            "start": now_s - 3600,
            "end": now_s,
            "step": "1",
            "timeout": "-1",
        },
    )
    assert body["errorType"] == "timeout" and checker.statuses[503] == 1
    after = refused_counts(reader)
    assert after - before == Counter({"bad_data": 1, "too_many_samples": 1, "timeout": 1})
