"""Fuzzing ``/api/v1`` from its OpenAPI description, and the ``/ingest`` Socket.IO namespace.

Schemathesis generates valid and invalid requests for every described operation from
``dashboard/openapi.json`` and sends them in-process to the real app (WSGI, no network) with a
signed-in admin's cookies and CSRF header, and the ingest token where a route wants one. Every
answer must be no 5xx, a status code and content type the description lists, and a body that
fits its schema; a refused ingest must leave the store as it was (``StoreGuard``). A Hypothesis
fuzz does the same for ``points`` events on ``/ingest``.

``DASHBOARD_FUZZ_SCALE`` multiplies the number of examples (``make fuzz`` runs 10x).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any

import pytest
import schemathesis
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from dashboard.api.openapi import SPEC_PATH
from dashboard.app import create_app
from tests.conftest import TOKEN
from tests.integration.ingest.test_ingest_fuzz import (
    DEFAULT_EXAMPLES as INGEST_FUZZ_EXAMPLES,
)
from tests.integration.ingest.test_ingest_fuzz import (
    FUZZ_SCALE,
    StoreGuard,
    fuzz,
    mutated_batches,
    random_documents,
)
from tests.integration.ingest.test_receivers_fuzz import snappy_block

EXAMPLES_PER_OPERATION = max(1, int(30 * FUZZ_SCALE))
SOCKET_EXAMPLES = max(1, int(1000 * FUZZ_SCALE))
# inputs each fuzz test below generated in this run, for the volume test at the end
GENERATED: Counter[str] = Counter()

# logout would revoke the session every other call uses; the PDF report renders charts in
# Chromium for seconds per call (test_auth_sessions.py and test_export_pdf.py cover them)
NOT_FUZZED = ["logout", "exportPdf"]
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
INGEST_OPERATIONS = {
    "ingest",
    "ingestPrometheus",
    "prometheusRemoteWrite",
    "otlpMetrics",
    "influxWriteV2",
    "influxWriteV1",
}
# resources that exist, so path parameters reach past the 404 too (seeded by `seeded_guard`)
KNOWN_PATH_VALUES = {"dashboard_id": "default", "rule_id": "fuzz-rule", "name": "fuzz-token"}
SEED_RULE = {"id": "fuzz-rule", "condition": "above", "threshold": 1, "series": {"name": "seed"}}

# remote write and OTLP take protobuf: random bytes, bare or as a snappy block
schemathesis.openapi.media_type(
    "application/x-protobuf",
    st.binary(max_size=200) | st.binary(max_size=200).map(snappy_block),
)
SCHEMA = schemathesis.openapi.from_dict(
    json.loads(SPEC_PATH.read_text(encoding="utf-8")),
    config=schemathesis.Config.from_dict(
        {"generation": {"with-security-parameters": False, "database": "none"}}
    ),
).exclude(operation_id=NOT_FUZZED)
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]


@pytest.fixture
def app(settings):
    """A node whose rate limits never get in the way of thousands of requests."""
    settings.ingest_rate_limit = "1000000 per second"
    settings.api_rate_limit = "1000000 per minute"
    settings.login_rate_limit = "1000000 per minute"
    settings.login_ip_rate_limit = "1000000 per minute"
    application = create_app(settings)
    application.config["TESTING"] = True
    yield application
    application.extensions["dashboard"].close()


@pytest.fixture
def guard(app) -> StoreGuard:
    """A StoreGuard on a fresh node: a seeded series, a signed-in admin, a snapshot."""
    return StoreGuard(app)


@pytest.fixture
def seeded_guard(guard) -> StoreGuard:
    """The guard's node with an alert rule and an ingest token to find by their names."""
    assert guard.reader.post("/api/v1/alerts/rules", json=SEED_RULE).status_code == 201
    assert guard.reader.post("/api/v1/tokens", json={"name": "fuzz-token"}).status_code == 201
    return guard


def _credentials(guard: StoreGuard, operation_id: str) -> dict[str, Any]:
    """What a real caller sends to this operation: the ingest token or the admin's session."""
    # schemathesis reads in-process answers as they are: ask for them uncompressed
    plain = {"Accept-Encoding": "identity"}
    if operation_id in INGEST_OPERATIONS:
        return {"headers": {**plain, "Authorization": f"Bearer {TOKEN}"}}
    cookies = {
        name: cookie.value
        for name in ("access_token", "_csrf_token", "refresh_token", "_csrf_refresh")
        for path in ("/", "/api/v1/auth")  # the refresh pair may live under /api/v1/auth
        if (cookie := guard.reader.get_cookie(name, path=path)) is not None
    }
    csrf = cookies["_csrf_refresh" if operation_id == "refresh" else "_csrf_token"]
    return {"cookies": cookies, "headers": {**plain, "X-CSRFToken": csrf}}


def test_the_description_is_public_and_names_every_api_route(anon_client, app):
    """Anyone can fetch it, and it describes exactly the routes the app serves under /api/v1,
    the receivers' and the Prometheus API's (its catch-all 404 aside)."""
    response = anon_client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    described = {
        (path, method.upper())
        for path, item in response.get_json()["paths"].items()
        for method in item
    }
    served = {
        (re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule), method)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith(("/api/v1/", "/prometheus/api/v1/"))
        or rule.endpoint.startswith("receivers.")
        if rule.endpoint not in ("api.unknown_route", "prometheus.unknown")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert described == served


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda op: op.definition.raw["operationId"])
def test_every_operation_answers_as_described(app, seeded_guard, operation):
    """Valid and invalid requests: no 5xx, described codes, types and bodies, no partial ingest."""
    guard = seeded_guard
    operation_id = operation.definition.raw["operationId"]
    credentials = _credentials(guard, operation_id)
    cases = operation.as_strategy(GenerationMode.POSITIVE) | operation.as_strategy(
        GenerationMode.NEGATIVE
    )
    known = {
        name: KNOWN_PATH_VALUES[name]
        for name in re.findall(r"{(\w+)}", operation.path)
        if name in KNOWN_PATH_VALUES
    }
    if known:
        cases |= operation.as_strategy(GenerationMode.POSITIVE, path_parameters=known)

    def send(case) -> None:
        response = case.call(app=app, **credentials)
        GENERATED["openapi"] += 1
        case.validate_response(response, checks=CHECKS, headers=credentials.get("headers"))
        if operation_id in INGEST_OPERATIONS:
            if response.status_code >= 400:
                assert guard.snapshot() == guard.state, "a refused ingest changed the store"
            else:
                guard.state = guard.snapshot()

    fuzz(EXAMPLES_PER_OPERATION, cases, send)


# --- Socket.IO /ingest ----------------------------------------------------------------------


def test_socket_ingest_points_never_crash_or_store_a_refused_batch(app, guard):
    """Random and one-field-broken batches as ``points`` events: an ack every time, never a
    crash, and an error ack leaves the store as it was."""
    socketio = app.extensions["socketio"]
    producer = socketio.test_client(app, namespace="/ingest", auth={"token": TOKEN})
    assert producer.is_connected("/ingest")
    acks: Counter[str] = Counter()

    def emit(body: Any) -> None:
        GENERATED["socket"] += 1
        try:
            ack = producer.emit("points", body, namespace="/ingest", callback=True)
        except ValueError as exc:
            # python-socketio refuses integers over 100 digits while decoding the packet, before
            # any handler runs (a real server logs it and drops the packet): nothing is stored
            assert "Integer is too large" in str(exc)
            acks["dropped by the packet decoder"] += 1
            assert guard.snapshot() == guard.state, "a dropped packet changed the store"
            return
        assert producer.is_connected("/ingest"), f"the producer was dropped after {body!r:.200}"
        assert isinstance(ack, dict) and ("accepted" in ack) != ("error" in ack), ack
        if "error" in ack:
            acks[ack["error"]] += 1
            assert guard.snapshot() == guard.state, f"a refused batch changed the store: {ack}"
        else:
            acks["accepted"] += 1
            assert isinstance(ack["accepted"], int) and ack["accepted"] >= 0
            guard.state = guard.snapshot()

    # Socket.IO carries JSON: a body is first what a JSON client could send
    bodies = st.one_of(random_documents(), mutated_batches()).map(
        lambda body: json.loads(json.dumps(body, allow_nan=True))
    )
    fuzz(SOCKET_EXAMPLES, bodies, emit)
    producer.disconnect(namespace="/ingest")
    assert acks["invalid batch"] > GENERATED["socket"] // 2, acks


def test_make_test_fuzzes_at_least_ten_thousand_inputs():
    """The ingest fuzz's inputs plus those counted above reach 10,000 in a default run."""
    if set(GENERATED) != {"openapi", "socket"}:
        pytest.skip("counts the inputs of this module's fuzz tests: run them first (whole file)")
    assert GENERATED["openapi"] >= len(OPERATIONS), GENERATED
    assert GENERATED["socket"] >= SOCKET_EXAMPLES, GENERATED
    counted = sum(GENERATED.values()) / FUZZ_SCALE  # what a default run generates
    assert sum(INGEST_FUZZ_EXAMPLES.values()) + counted >= 10_000, GENERATED
