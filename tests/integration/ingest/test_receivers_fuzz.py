"""Fuzzing the ecosystem receivers (remote write, OTLP, line protocol) as
``test_ingest_fuzz.py`` fuzzes the JSON and text routes: malformed bodies never get a 5xx, and a
refused body never changes the store (neither the database nor the hot store)."""

from __future__ import annotations

import gzip
import json
from typing import Any

import cramjam
import pytest
from hypothesis import strategies as st
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)

from dashboard.app import create_app
from ingest import remote_write as rw
from tests.integration.ingest.test_ingest_fuzz import (
    AUTH,
    BAD_NUMBERS,
    FUZZ_SCALE,
    HOSTILE,
    MAX_BODY,
    MAX_POINTS,
    NOW,
    StoreGuard,
    fuzz,
    json_values,
)

DEFAULT_EXAMPLES = {
    "remote_write": 1200,
    "remote_write_2": 600,
    "otlp_protobuf": 800,
    "otlp_json": 800,
    "influx": 1200,
}
EXAMPLES = {name: max(1, int(n * FUZZ_SCALE)) for name, n in DEFAULT_EXAMPLES.items()}
NAMES = st.sampled_from(["fuzz_a", "fuzz_b", "fuzz:c", "up"])
TIMES = st.integers(NOW - 3_600_000, NOW)
BAD_TIMES = st.sampled_from([-1, 0, 1, NOW - 3 * 86_400_000, NOW + 3_600_000, 2**62, -(2**63)])
hostile_text = st.sampled_from(HOSTILE) | st.text(max_size=300)


class ReceiverGuard(StoreGuard):
    """A StoreGuard for routes answering 200 or 204 when they take a body."""

    def post(self, path: str, **kwargs: Any) -> int:
        """Post one body: no 5xx; a refusal is JSON and leaves the store as it was."""
        headers = {**AUTH, **kwargs.pop("headers", {})}
        response = self.poster.post(path, headers=headers, **kwargs)
        status = response.status_code
        self.sent += 1
        self.statuses[status] = self.statuses.get(status, 0) + 1
        assert status < 500, response.get_data(as_text=True)[:500]
        if status >= 400:
            payload = response.get_json(silent=True)
            assert isinstance(payload, dict) and payload.get("error"), response.get_data()[:300]
            assert self.snapshot() == self.state, f"a refused body ({status}) changed the store"
        else:
            assert status in (200, 204), status
            self.state = self.snapshot()
        return status


@pytest.fixture
def guard(settings) -> Any:
    """A ReceiverGuard on a node with small limits and no rate limit in the way."""
    settings.ingest_rate_limit = "1000000 per second"
    settings.api_rate_limit = "1000000 per minute"
    settings.max_batch_points = MAX_POINTS
    settings.max_body_bytes = MAX_BODY
    application = create_app(settings)
    application.config["TESTING"] = True
    yield ReceiverGuard(application)
    application.extensions["dashboard"].close()


# --- remote write ---------------------------------------------------------------------------


def snappy_block(data: bytes) -> bytes:
    """``data`` as a snappy block (a remote write body's compression)."""
    return bytes(cramjam.snappy.compress_raw(data))


label_sets = st.dictionaries(
    st.sampled_from(["job", "instance", "le"]), st.sampled_from(["a", "b"]), max_size=2
)


@st.composite
def write_requests(draw) -> bytes:
    """A remote write body: valid, one field broken, truncated, bit-flipped or not snappy."""
    req = rw.WriteRequest()
    for _ in range(draw(st.integers(1, 4))):
        series = req.timeseries.add()
        labels = {"__name__": draw(NAMES), **draw(label_sets)}
        kind = draw(st.integers(0, 12))
        if kind == 0:
            labels["__name__"] = draw(hostile_text)
        elif kind == 1:
            labels[draw(hostile_text)] = draw(hostile_text)
        elif kind == 2:
            labels.update({f"k{i}": "v" for i in range(draw(st.integers(17, 30)))})
        for key, value in sorted(labels.items()):
            series.labels.add(name=key, value=value)
        if kind == 3:
            series.labels.add(name="job", value="again")
        for _ in range(draw(st.integers(0, 3))):
            t = draw(BAD_TIMES) if kind == 4 else draw(TIMES)
            value = (
                draw(st.sampled_from(BAD_NUMBERS[:3])) if kind == 5 else draw(st.floats(-1e6, 1e6))
            )
            series.samples.add(timestamp=t, value=value)
        if kind == 6:
            series.histograms.add(count_int=1)
        if kind == 7:
            for i in range(MAX_POINTS + 1):
                series.samples.add(timestamp=NOW - i, value=1.0)
    data = req.SerializeToString()
    damage = draw(st.integers(0, 5))
    if damage == 1 and data:
        data = data[: draw(st.integers(0, len(data) - 1))]
    elif damage == 2 and data:
        at = draw(st.integers(0, len(data) - 1))
        data = data[:at] + bytes([data[at] ^ draw(st.integers(1, 255))]) + data[at + 1 :]
    elif damage == 3:
        return draw(st.binary(max_size=300))
    elif damage == 4:
        return bytes(cramjam.snappy.compress_raw(draw(st.binary(max_size=300))))
    return bytes(cramjam.snappy.compress_raw(data))


def test_remote_write_bodies_never_break_ingest(guard):
    """Random, cut, flipped and invalid remote write bodies: 204 or a clean 4xx."""
    headers = {"Content-Encoding": "snappy", "Content-Type": "application/x-protobuf"}
    fuzz(
        EXAMPLES["remote_write"],
        write_requests(),
        lambda body: guard.post("/api/v1/write", data=body, headers=headers),
    )
    assert set(guard.statuses) <= {204, 400, 413}, guard.statuses
    assert guard.statuses.get(400, 0) > guard.sent // 3 and 204 in guard.statuses, guard.statuses


@st.composite
def v2_requests(draw) -> bytes:
    """A remote write 2.0 body: references in or out of range, random symbols, cut or random."""
    from ingest import remote_write_v2 as v2

    req = v2.Request()
    symbols = ["", "__name__", draw(NAMES), "job", draw(hostile_text), "le"]
    req.symbols.extend(symbols)
    for _ in range(draw(st.integers(1, 3))):
        series = req.timeseries.add()
        refs = draw(st.sampled_from([[1, 2], [1, 2, 3, 4], [1, 4], [1, 2, 3], [1, 99], []]))
        series.labels_refs.extend(refs)
        series.metadata.unit_ref = draw(st.sampled_from([0, 3, 50]))
        for _ in range(draw(st.integers(0, 3))):
            t = draw(BAD_TIMES | TIMES)
            series.samples.add(timestamp=t, value=draw(st.floats(-1e6, 1e6)))
    data = req.SerializeToString()
    if draw(st.booleans()) and data:
        data = data[: draw(st.integers(0, len(data) - 1))]
    return snappy_block(data if draw(st.integers(0, 4)) else draw(st.binary(max_size=200)))


def test_remote_write_2_bodies_never_break_ingest(guard):
    """Random references, symbols, cuts and bytes in 2.0 requests: 204 or a clean 4xx."""
    headers = {
        "Content-Encoding": "snappy",
        "Content-Type": "application/x-protobuf;proto=io.prometheus.write.v2.Request",
    }
    fuzz(
        EXAMPLES["remote_write_2"],
        v2_requests(),
        lambda body: guard.post("/api/v1/write", data=body, headers=headers),
    )
    assert set(guard.statuses) <= {204, 400}, guard.statuses
    assert 204 in guard.statuses and 400 in guard.statuses, guard.statuses


# --- OTLP -----------------------------------------------------------------------------------


@st.composite
def exports(draw) -> dict:
    """An OTLP/JSON export of gauges, sums, histograms and summaries, one field maybe broken."""
    metrics = []
    for _ in range(draw(st.integers(1, 3))):
        t = draw(BAD_TIMES) if draw(st.integers(0, 8)) == 0 else draw(TIMES)
        point: dict[str, Any] = {"timeUnixNano": str(t * 1_000_000) if t >= 0 else str(t)}
        point["asDouble"] = draw(st.floats(-1e6, 1e6) | st.sampled_from(BAD_NUMBERS[:3]))
        if draw(st.booleans()):
            point["attributes"] = [{"key": draw(hostile_text), "value": {"stringValue": "v"}}]
        kind = draw(st.sampled_from(["gauge", "sum", "histogram", "summary", "expo", "junk"]))
        metric: dict[str, Any] = {"name": draw(NAMES | hostile_text), "unit": "s"}
        if kind in ("gauge", "sum"):
            metric[kind] = {"dataPoints": [point], "isMonotonic": True, "aggregationTemporality": 2}
        elif kind == "histogram":
            bounds = draw(st.lists(st.floats(0, 100), max_size=3))
            counts = [str(c) for c in draw(st.lists(st.integers(0, 5), max_size=4))]
            histogram = {**point, "count": "3", "explicitBounds": bounds, "bucketCounts": counts}
            metric["histogram"] = {"dataPoints": [histogram], "aggregationTemporality": 2}
        elif kind == "summary":
            quantiles = [{"quantile": 0.5, "value": point["asDouble"]}]
            summary = {"timeUnixNano": point["timeUnixNano"], "quantileValues": quantiles}
            metric["summary"] = {"dataPoints": [summary]}
        elif kind == "expo":
            metric["exponentialHistogram"] = {"dataPoints": [{"count": "1"}]}
        else:
            metric[draw(st.sampled_from(["gauge", "sum", "dataPoints"]))] = draw(json_values)
        metrics.append(metric)
    resource = {"attributes": [{"key": "service.name", "value": {"stringValue": "fuzz"}}]}
    return {"resourceMetrics": [{"resource": resource, "scopeMetrics": [{"metrics": metrics}]}]}


def test_otlp_json_exports_never_break_ingest(guard):
    """OTLP/JSON exports with broken fields, or any JSON: 200 (maybe partial) or a clean 4xx."""
    bodies = exports().map(json.dumps) | json_values.map(json.dumps) | st.text(max_size=200)
    headers = {"Content-Type": "application/json"}
    fuzz(
        EXAMPLES["otlp_json"],
        bodies,
        lambda body: guard.post("/api/v1/otlp/v1/metrics", data=body, headers=headers),
    )
    assert set(guard.statuses) <= {200, 400, 413}, guard.statuses


def _protobuf(doc: dict) -> bytes:
    """The protobuf bytes of an export given as OTLP/JSON (broken ones: empty bytes)."""
    from google.protobuf import json_format

    try:
        return json_format.ParseDict(doc, ExportMetricsServiceRequest()).SerializeToString()
    except (json_format.ParseError, ValueError, TypeError):
        return b""


@st.composite
def protobuf_exports(draw) -> tuple[bytes, bool]:
    """A protobuf export, maybe cut, flipped or random, maybe gzip-compressed."""
    data = _protobuf(draw(exports()))
    damage = draw(st.integers(0, 4))
    if damage == 1 and data:
        data = data[: draw(st.integers(0, len(data) - 1))]
    elif damage == 2 and data:
        at = draw(st.integers(0, len(data) - 1))
        data = data[:at] + bytes([data[at] ^ draw(st.integers(1, 255))]) + data[at + 1 :]
    elif damage == 3:
        data = draw(st.binary(max_size=300))
    zipped = draw(st.booleans())
    return (gzip.compress(data) if zipped else data), zipped


def test_otlp_protobuf_exports_never_break_ingest(guard):
    """Cut, flipped and random protobuf, plain or gzip: 200 (maybe partial) or a clean 4xx."""

    def send(case: tuple[bytes, bool]) -> None:
        """Post one export, gzip-encoded when it was compressed."""
        data, zipped = case
        headers = {"Content-Type": "application/x-protobuf"}
        if zipped:
            headers["Content-Encoding"] = "gzip"
        guard.post("/api/v1/otlp/v1/metrics", data=data, headers=headers)

    fuzz(EXAMPLES["otlp_protobuf"], protobuf_exports(), send)
    assert set(guard.statuses) <= {200, 400, 413} and 200 in guard.statuses, guard.statuses


# --- line protocol --------------------------------------------------------------------------

LP_ALPHABET = st.sampled_from(list('abc_,= "\\\n#tTfi0123456789.e-+') + ["\x00", "ü"])


@st.composite
def line_bodies(draw) -> str | bytes:
    """Line protocol: valid lines with one broken, random text, or bytes."""
    lines = []
    for _ in range(draw(st.integers(1, 5))):
        tags = draw(st.sampled_from(["", ",host=a", ",host=b,cpu=0", ",k\\ x=v\\,w"]))
        fields = draw(st.sampled_from(["v=1", "v=2i,w=t", 'v=1.5,s="x y"', "v=-3e2,u=4u"]))
        stamp = draw(st.sampled_from(["", f" {draw(TIMES)}"]))
        lines.append(f"{draw(NAMES)}{tags} {fields}{stamp}")
    kind = draw(st.integers(0, 6))
    i = draw(st.integers(0, len(lines) - 1))
    if kind == 1:
        cut = draw(st.integers(0, len(lines[i])))
        lines[i] = lines[i][:cut] + draw(LP_ALPHABET) + lines[i][cut:]
    elif kind == 2:
        lines[i] = lines[i][: draw(st.integers(0, len(lines[i])))]
    elif kind == 3:
        return "".join(draw(st.lists(LP_ALPHABET, max_size=80)))
    elif kind == 4:
        return draw(st.binary(max_size=200))
    elif kind == 5:
        lines[i] = f"m v={draw(st.sampled_from(['1e999', 'nan', '9' * 30 + 'i', '-1u', '0x1']))}"
    elif kind == 6:
        lines = [f"m v=1 {NOW - n}" for n in range(MAX_POINTS + 1)]
    return "\n".join(lines)


def test_line_protocol_never_breaks_ingest(guard):
    """Broken lines, random text and bytes at both write APIs: 204 or a clean 4xx."""
    paths = st.sampled_from(["/api/v2/write?precision=ms", "/write?precision=ms", "/api/v2/write"])
    fuzz(
        EXAMPLES["influx"],
        st.tuples(paths, line_bodies()),
        lambda case: guard.post(case[0], data=case[1]),
    )
    assert set(guard.statuses) <= {204, 400}, guard.statuses
    assert guard.statuses.get(400, 0) > guard.sent // 4 and 204 in guard.statuses, guard.statuses


def test_compressed_bodies_are_limited_after_decompression(guard):
    """A small gzip or snappy body that inflates past the limit is refused and stores nothing."""
    bomb = gzip.compress(b"m v=1\n" * (MAX_BODY // 2))
    assert len(bomb) < MAX_BODY
    gz = {"Content-Encoding": "gzip"}
    assert guard.post("/api/v2/write", data=bomb, headers=gz) == 400
    assert (
        guard.post(
            "/api/v1/otlp/v1/metrics", data=bomb, headers={**gz, "Content-Type": "application/json"}
        )
        == 400
    )
    snappy = bytes(cramjam.snappy.compress_raw(b"\x00" * (MAX_BODY * 2)))
    assert guard.post("/api/v1/write", data=snappy) == 400
