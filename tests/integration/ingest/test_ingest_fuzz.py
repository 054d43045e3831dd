"""Fuzzing both ingest routes: malformed payloads never get a 5xx and never change the store.

Each test throws thousands of generated bodies (hypothesis) at the real app through Flask's test
client with a valid token. Every answer must be a 202, or a 4xx whose JSON names an ``error``;
after every refusal the series list (``GET /api/v1/metrics``) and every stored point, in the
database and in the hot store, must be exactly what they were before it.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from typing import Any

import hypothesis
import pytest
from hypothesis import HealthCheck, given
from hypothesis import strategies as st

from dashboard.app import create_app
from dashboard.metrics.model import SeriesKey
from dashboard.metrics.steps import RAW
from tests.conftest import ADMIN_PASSWORD, TOKEN, sign_in

AUTH = {"Authorization": f"Bearer {TOKEN}"}
NOW = int(time.time() * 1000)
MAX_POINTS = 50
MAX_BODY = 64 * 1024
DEFAULT_EXAMPLES = {"json": 2500, "mutated": 3500, "raw": 1000, "text": 1500, "exposition": 2500}
# `make fuzz` sets DASHBOARD_FUZZ_SCALE=10; `make test` runs the defaults
FUZZ_SCALE = float(os.environ.get("DASHBOARD_FUZZ_SCALE", "1"))
EXAMPLES = {name: max(1, int(n * FUZZ_SCALE)) for name, n in DEFAULT_EXAMPLES.items()}


def fuzz(examples: int, strategy: st.SearchStrategy, send: Callable[[Any], object]) -> None:
    """Run ``send`` on ``examples`` generated inputs (no example database left behind)."""

    @hypothesis.settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        database=None,
    )
    @given(strategy)
    def run(value: Any) -> None:
        send(value)

    run()


@pytest.fixture
def app(settings):
    """A node whose limits are small enough to hit and whose rate limits never get in the way."""
    settings.ingest_rate_limit = "1000000 per second"
    settings.api_rate_limit = "1000000 per minute"
    settings.max_batch_points = MAX_POINTS
    settings.max_body_bytes = MAX_BODY
    application = create_app(settings)
    application.config["TESTING"] = True
    yield application
    application.extensions["dashboard"].close()


class StoreGuard:
    """Posts a body and checks the answer and the store against the last known state."""

    def __init__(self, app) -> None:
        """Seed a series, so 'unchanged' also covers existing points, and take a snapshot."""
        self.rt = app.extensions["dashboard"]
        self.poster = app.test_client()
        self.reader = sign_in(app.test_client(), "admin", ADMIN_PASSWORD)
        seed = {"metrics": [{"name": "seed", "points": [[NOW - i, float(i)] for i in range(5)]}]}
        assert self.poster.post("/api/v1/ingest", json=seed, headers=AUTH).status_code == 202
        self.state = self.snapshot()
        self.sent = 0
        self.statuses: dict[int, int] = {}

    def snapshot(self) -> tuple[Any, ...]:
        """The listed series (with their spans), every stored point, the hot store's recent ones."""
        listed = self.reader.get("/api/v1/metrics").get_json()["series"]
        points = []
        for info in listed:
            key = SeriesKey.of(info["name"], info["labels"])
            stored = self.rt.store.query(key, -(2**62), 2**62, RAW)
            # the hot ring reads cost its whole length: look where the valid points fall
            hot = self.rt.hot.query(key, NOW - 2 * 3_600_000, NOW + 600_000, RAW)
            for frame in (stored, hot):
                points.append((str(key), frame.ts.tolist(), frame.value.tolist()))
        return json.dumps(listed, sort_keys=True), points

    def post(self, path: str, **kwargs: Any) -> int:
        """Post one body; assert no 5xx, a JSON error on refusal, and no change on refusal."""
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
            assert status == 202 and isinstance(response.get_json()["accepted"], int)
            self.state = self.snapshot()
        return status

    def post_json(self, text: str) -> int:
        """Post JSON text to the JSON route."""
        return self.post("/api/v1/ingest", data=text, headers={"Content-Type": "application/json"})

    def post_text(self, text: str | bytes) -> int:
        """Post an exposition to the Prometheus route."""
        return self.post(
            "/api/v1/ingest/prometheus", data=text, headers={"Content-Type": "text/plain"}
        )


@pytest.fixture
def guard(app) -> StoreGuard:
    """A StoreGuard on a fresh node."""
    return StoreGuard(app)


# --- JSON bodies ---------------------------------------------------------------------------

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=20)
    | st.sampled_from([NOW, NOW - 1, 2**63, -(2**63), 10**400, 1e308, 0.5])
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
keys = st.sampled_from(["metrics", "name", "labels", "unit", "points", "value", "ts"])


@st.composite
def random_documents(draw) -> Any:
    """Any JSON value, bare or wrapped where a batch, a metric or a point is expected."""
    value = draw(json_values)
    shape = draw(st.integers(0, 5))
    if shape == 1:
        return {"metrics": value}
    if shape == 2:
        return {"metrics": [value]}
    if shape == 3:
        return {"metrics": [{"name": "fuzz.x", "points": value}]}
    if shape == 4:
        return {"metrics": [{"name": "fuzz.x", "points": [[NOW, value]]}]}
    if shape == 5:
        return {"metrics": [{draw(keys): value, "name": "fuzz.y", "points": [[value, 1]]}]}
    return value


def test_random_json_documents_never_break_ingest(guard):
    """Random JSON values, bare or in place of a batch, metric or point: 202 or a clean 4xx."""
    fuzz(EXAMPLES["json"], random_documents(), lambda doc: guard.post_json(_dumps(doc)))
    assert guard.sent >= EXAMPLES["json"]
    assert guard.statuses.get(400, 0) > guard.sent // 2, guard.statuses


def _dumps(doc: Any) -> str:
    """JSON text, NaN and Infinity included as Python writes them (a lax client may)."""
    return json.dumps(doc, allow_nan=True)


HOSTILE = [
    "",
    " ",
    "a b",
    "x" * 201,
    "x" * 70_000,
    "ünïcödé",
    "name\x00",
    "tab\tname",
    "../../etc/passwd",
    "'; DROP TABLE series; --",
    "<script>alert(1)</script>",
    "\u202eevil",
    "1abc",
    "__proto__",
    "{}",
    'a{b="c"}',
    "\ud7ff",
]
BAD_NUMBERS = [
    float("nan"),
    float("inf"),
    float("-inf"),
    10**400,
    -(10**400),
    "1",
    None,
    True,
    False,
    [],
    {},
    "NaN",
]
BAD_TIMESTAMPS = [
    -1,
    0,
    1,
    NOW - 3 * 86_400_000,
    NOW + 3_600_000,
    10**20,
    2**63,
    NOW + 0.5,
    float("nan"),
    "now",
    None,
    True,
    [NOW],
]
metric_names = st.sampled_from(["fuzz.a", "fuzz.b", "fuzz:rate5m", "fuzz_c"])
valid_points = st.lists(
    st.tuples(st.integers(NOW - 3_600_000, NOW), st.floats(-1e6, 1e6, allow_nan=False)).map(list),
    min_size=1,
    max_size=5,
)
valid_metrics = st.fixed_dictionaries(
    {
        "name": metric_names,
        "labels": st.dictionaries(
            st.sampled_from(["region", "host"]), st.sampled_from(["eu", "us"]), max_size=2
        ),
        "points": valid_points,
    },
    optional={"unit": st.sampled_from(["ms", "%", ""])},
)
valid_batches = st.fixed_dictionaries({"metrics": st.lists(valid_metrics, min_size=1, max_size=4)})
hostile_text = st.sampled_from(HOSTILE) | st.text(max_size=300)


@st.composite
def mutated_batches(draw) -> Any:
    """A valid batch with one field broken: types, values, sizes, nesting or extra fields."""
    body = draw(valid_batches)
    metric = draw(st.sampled_from(body["metrics"]))
    point = draw(st.sampled_from(metric["points"]))
    kind = draw(st.integers(0, 13))
    if kind == 0:
        metric["name"] = draw(hostile_text | json_values)
    elif kind == 1:
        count = draw(st.integers(17, 40))
        metric["labels"] = {f"k{i}": "v" for i in range(count)}
    elif kind == 2:
        metric["labels"] = {draw(hostile_text): draw(hostile_text | json_values)}
    elif kind == 3:
        metric["labels"] = draw(json_values.filter(lambda v: not isinstance(v, dict)))
    elif kind == 4:
        metric["unit"] = draw(hostile_text | json_values)
    elif kind == 5:
        point[1] = draw(st.sampled_from(BAD_NUMBERS) | json_values)
    elif kind == 6:
        point[0] = draw(st.sampled_from(BAD_TIMESTAMPS) | st.integers())
    elif kind == 7:
        metric["points"][metric["points"].index(point)] = draw(
            st.sampled_from([[NOW], [NOW, 1, 2], {"ts": NOW, "value": 1}, NOW, "x", [[NOW, 1]]])
        )
    elif kind == 8:
        metric["points"] = draw(json_values.filter(lambda v: not isinstance(v, list)))
    elif kind == 9:
        body["metrics"][body["metrics"].index(metric)] = draw(
            st.sampled_from([[metric], "metric", None, 1, [["fuzz.a", NOW, 1]]])
        )
    elif kind == 10:
        metric[draw(st.text(min_size=1, max_size=10))] = draw(json_values)
    elif kind == 11:
        metric["points"] = [[NOW - i, 1.0] for i in range(MAX_POINTS + draw(st.integers(1, 5)))]
    elif kind == 12:
        return draw(st.sampled_from([[body], body["metrics"], {"batch": body}, {"metrics": body}]))
    else:
        metric["labels"] = {"k": "v" * draw(st.integers(257, 400))}
    return body


def test_mutated_batches_are_refused_whole(guard):
    """A valid batch with one bad field is refused without storing any of its good points."""
    fuzz(EXAMPLES["mutated"], mutated_batches(), lambda body: guard.post_json(_dumps(body)))
    assert guard.sent >= EXAMPLES["mutated"]
    assert set(guard.statuses) <= {202, 400, 413}, guard.statuses
    assert guard.statuses.get(400, 0) > guard.sent * 0.8, guard.statuses


raw_bodies = st.one_of(
    st.binary(max_size=200),
    st.text(max_size=200).map(str.encode),
    valid_batches.map(_dumps).flatmap(
        lambda text: st.integers(0, max(0, len(text) - 1)).map(lambda cut: text[:cut].encode())
    ),
    st.integers(1, 200_000).map(lambda depth: ("[" * depth).encode()),
    st.integers(1, 3_000).map(
        lambda depth: ('{"metrics":' + "[" * depth + "]" * depth + "}").encode()
    ),
    st.sampled_from([b"", b"null", b"NaN", b"\xef\xbb\xbf{}", b'{"metrics": [] ', b"\x00" * 10]),
)


def test_raw_bytes_never_break_ingest(guard):
    """Random bytes, cut-off JSON and deep nesting: 400, 413 or 415, never a 5xx."""
    content_types = st.sampled_from(["application/json", "text/plain", ""])

    def send(case: tuple[bytes, str]) -> None:
        data, content_type = case
        headers = {"Content-Type": content_type} if content_type else {}
        guard.post("/api/v1/ingest", data=data, headers=headers)

    fuzz(EXAMPLES["raw"], st.tuples(raw_bodies, content_types), send)
    assert guard.sent >= EXAMPLES["raw"]
    assert {400, 415} <= set(guard.statuses), guard.statuses


def test_an_oversized_body_is_413_and_stores_nothing(guard):
    """Above the body limit the answer is 413 before anything is parsed."""
    big = {"metrics": [{"name": "fuzz.big", "points": [[NOW, 1.0]] * 10_000}]}
    assert guard.post_json(_dumps(big)) == 413
    assert guard.post_text("a 1\n" * 20_000) == 413


# --- Prometheus text -----------------------------------------------------------------------

# a few fixed series, so accepted bodies rewrite a handful of series instead of adding thousands
prom_series = st.sampled_from(
    [
        ("up", {}),
        ("up", {"job": "api"}),
        ("fuzz_total", {"job": "api", "le": "+Inf"}),
        ("job:fuzz:rate5m", {"quantile": "0.5"}),
        ("_x", {"a_b": 'quo"te'}),
        ("fuzz_bucket", {"le": "back\\slash"}),
        ("fuzz_total", {"a_b": "ünï"}),
        ("_x", {"empty": ""}),
    ]
)
prom_values = st.one_of(
    st.integers(-(10**6), 10**6).map(str),
    st.floats(-1e6, 1e6, allow_nan=False).map(repr),
)


def _escape(value: str) -> str:
    """A label value escaped as the text format wants."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


@st.composite
def sample_lines(draw) -> str:
    """One valid sample line: name, labels, value and maybe a recent timestamp."""
    name, labels = draw(prom_series)
    inner = ",".join(f'{k}="{_escape(v)}"' for k, v in labels.items())
    line = name + (f"{{{inner}}}" if labels else "") + " " + draw(prom_values)
    if draw(st.booleans()):
        line += f" {draw(st.integers(NOW - 3_600_000, NOW))}"
    return line


@st.composite
def expositions(draw) -> list[str]:
    """A valid exposition as lines, with HELP and TYPE comments here and there."""
    lines: list[str] = []
    for sample in draw(st.lists(sample_lines(), min_size=1, max_size=8)):
        name = sample.split("{")[0].split(" ")[0]
        if draw(st.booleans()):
            kind = draw(st.sampled_from(["gauge", "counter", "untyped", "summary", "histogram"]))
            lines += [f"# HELP {name} fuzzed", f"# TYPE {name} {kind}"]
        lines.append(sample)
    return lines


TEXT_ALPHABET = st.sampled_from(
    list('abcXYZ_:{}=",. \t\n#\\019e+-') + ["NaN", "Inf", "TYPE", "HELP"]
)
BAD_VALUES = ["NaN", "+Inf", "-Inf", "1e999", "9" * 400, "0x10", "1_0", "", "one", "--1"]
BAD_TS = ["1", "-1", "1e400", "9" * 400, "nan", "x", str(NOW + 3_600_000), "0.5"]


def test_random_text_never_breaks_prometheus_ingest(guard):
    """Random text and bytes at the Prometheus route: 202 or a clean 400, never a 5xx."""
    texts = st.one_of(
        st.text(max_size=300),
        st.lists(TEXT_ALPHABET, max_size=80).map("".join),
        st.binary(max_size=200),
    )
    fuzz(EXAMPLES["text"], texts, guard.post_text)
    assert guard.sent >= EXAMPLES["text"]
    assert set(guard.statuses) <= {202, 400}, guard.statuses


@st.composite
def mutated_expositions(draw) -> str | bytes:
    """A valid exposition with one line broken: values, timestamps, labels, names or syntax."""
    lines = draw(expositions())
    i = draw(st.sampled_from([n for n, line in enumerate(lines) if not line.startswith("#")]))
    line = lines[i]
    head, _, rest = line.partition(" ")
    if "}" in line:
        head, rest = line[: line.rindex("}") + 1], line[line.rindex("}") + 2 :]
    value, _, ts = rest.partition(" ")
    kind = draw(st.integers(0, 11))
    if kind == 0:
        lines[i] = f"{head} {draw(st.sampled_from(BAD_VALUES))} {ts}".rstrip()
    elif kind == 1:
        lines[i] = f"{head} {value} {draw(st.sampled_from(BAD_TS))}"
    elif kind == 2:
        labels = ",".join(f'k{n}="v"' for n in range(draw(st.integers(17, 30))))
        lines[i] = f"many{{{labels}}} {value}"
    elif kind == 3:
        lines[i] = f'{head.split("{")[0]}{{a="{"v" * draw(st.integers(257, 300))}"}} {value}'
    elif kind == 4:
        lines[i] = f"{'n' * draw(st.integers(201, 260))} {value}"
    elif kind == 5:
        lines[i] = f'{head.split("{")[0]}{{a="x\\ny",b="\\u0000"}} {value}'
    elif kind == 6:
        cut = draw(st.integers(0, len(line)))
        lines[i] = (
            line[:cut] + draw(st.sampled_from(list('{}",= #\\\t') + ["\x00", "\x7f"])) + line[cut:]
        )
    elif kind == 7:
        start = draw(st.integers(0, len(line)))
        lines[i] = line[:start] + line[start + draw(st.integers(1, 5)) :]
    elif kind == 8:
        lines.insert(
            i, draw(st.sampled_from(["# TYPE", "# TYPE x", "# HELP", '{"x"} 1', "# TYPE 1x gauge"]))
        )
    elif kind == 9:
        lines = [f"s{n} 1" for n in range(MAX_POINTS + draw(st.integers(1, 5)))]
    elif kind == 10:
        lines[i] = f'{head.split("{")[0]}{{a="1",a="2"}} {value}'
    else:
        return ("\n".join(lines) + "\n").encode() + draw(
            st.sampled_from([b"\xff", b"\xc3(", b"\xed\xa0\x80"])
        )
    return "\n".join(lines) + "\n"


def test_mutated_expositions_are_refused_whole(guard):
    """An exposition with one bad line is refused without storing its good samples."""
    fuzz(EXAMPLES["exposition"], mutated_expositions(), guard.post_text)
    assert guard.sent >= EXAMPLES["exposition"]
    assert set(guard.statuses) <= {202, 400}, guard.statuses
    assert guard.statuses.get(400, 0) > guard.sent * 0.8, guard.statuses


def test_the_fuzz_volume_is_at_least_ten_thousand_inputs():
    """The property tests above generate at least 10,000 inputs between them by default."""
    assert sum(DEFAULT_EXAMPLES.values()) >= 10_000
