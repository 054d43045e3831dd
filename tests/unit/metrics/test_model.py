"""Ingest validation and series keys (``dashboard.metrics.model``)."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest

from dashboard.metrics.model import Limits, SeriesKey, ValidationError, parse_key, validate_batch

NOW = 1_700_000_000_000
LIMITS = Limits()


def _series(batch, name: str, **labels: str):
    """The one series of ``batch`` with that name and labels."""
    key = SeriesKey.of(name, labels)
    found = [s for s in batch.series if s.key == key]
    assert len(found) == 1, f"{key} appears {len(found)} times"
    return found[0]


# --------------------------------------------------------------------------- accepted batches


def test_good_batch_is_accepted_with_sorted_numpy_arrays() -> None:
    """A batch of several labelled metrics comes back as one time-sorted series per key."""
    body = {
        "metrics": [
            {
                "name": "http.requests",
                "labels": {"route": "/api", "method": "GET"},
                "unit": "req/s",
                "points": [[NOW - 3000, 3], [NOW - 1000, 1.5], [NOW - 2000, 2]],
            },
            {"name": "cpu:load_1m", "points": [[NOW, 0.25], [NOW - 60_000, 0.5]]},
            {"name": "_empty", "labels": {}, "unit": "", "points": []},
        ]
    }
    batch = validate_batch(body, now_ms=NOW)

    req = _series(batch, "http.requests", method="GET", route="/api")
    assert req.unit == "req/s"
    assert req.ts.dtype == np.int64 and req.values.dtype == np.float64
    assert req.ts.tolist() == [NOW - 3000, NOW - 2000, NOW - 1000]
    assert req.values.tolist() == [3.0, 2.0, 1.5]
    assert req.key.label_dict == {"method": "GET", "route": "/api"}

    cpu = _series(batch, "cpu:load_1m")
    assert cpu.unit == ""
    assert cpu.ts.tolist() == [NOW - 60_000, NOW]
    assert cpu.values.tolist() == [0.5, 0.25]

    assert len(_series(batch, "_empty")) == 0
    assert batch.point_count == 5


def test_points_at_the_edges_of_the_time_window_are_accepted() -> None:
    """A point exactly max_age old or exactly max_future ahead is inside the window."""
    limits = Limits(max_age_ms=60_000, max_future_ms=1_000)
    body = {"metrics": [{"name": "m", "points": [[NOW - 60_000, 1], [NOW + 1_000, 2]]}]}
    series = validate_batch(body, now_ms=NOW, limits=limits).series[0]
    assert series.ts.tolist() == [NOW - 60_000, NOW + 1_000]


def test_integral_float_timestamp_is_accepted() -> None:
    """A JSON timestamp like 1.7e12 that is a whole number of milliseconds is accepted."""
    body = {"metrics": [{"name": "m", "points": [[float(NOW), 1]]}]}
    assert validate_batch(body, now_ms=NOW).series[0].ts.tolist() == [NOW]


def test_duplicate_timestamps_keep_the_last_value() -> None:
    """Within one series, the last point sent for a timestamp wins."""
    body = {
        "metrics": [
            {
                "name": "m",
                "points": [[NOW - 1000, 1], [NOW - 2000, 5], [NOW - 1000, 2], [NOW - 1000, 3]],
            }
        ]
    }
    series = validate_batch(body, now_ms=NOW).series[0]
    assert series.ts.tolist() == [NOW - 2000, NOW - 1000]
    assert series.values.tolist() == [5.0, 3.0]


def test_same_series_in_two_entries_is_merged() -> None:
    """Two entries for one series (labels in any order) become one sorted series; later wins."""
    body = {
        "metrics": [
            {
                "name": "temp",
                "labels": {"room": "a", "floor": "1"},
                "points": [[NOW - 3000, 1], [NOW - 1000, 10]],
            },
            {"name": "other", "points": [[NOW, 7]]},
            {
                "name": "temp",
                "labels": {"floor": "1", "room": "a"},
                "unit": "C",
                "points": [[NOW - 2000, 2], [NOW - 1000, 20]],
            },
        ]
    }
    batch = validate_batch(body, now_ms=NOW)
    assert len(batch.series) == 2
    temp = _series(batch, "temp", room="a", floor="1")
    assert temp.ts.tolist() == [NOW - 3000, NOW - 2000, NOW - 1000]
    assert temp.values.tolist() == [1.0, 2.0, 20.0]
    assert temp.unit == "C"
    assert batch.point_count == 4


def test_series_differing_only_in_labels_stay_apart() -> None:
    """Same name with different label values gives two series."""
    body = {
        "metrics": [
            {"name": "cpu", "labels": {"host": "a"}, "points": [[NOW, 1]]},
            {"name": "cpu", "labels": {"host": "b"}, "points": [[NOW, 2]]},
        ]
    }
    batch = validate_batch(body, now_ms=NOW)
    assert _series(batch, "cpu", host="a").values.tolist() == [1.0]
    assert _series(batch, "cpu", host="b").values.tolist() == [2.0]


# --------------------------------------------------------------------------- refused batches

GOOD_METRIC: dict[str, Any] = {
    "name": "cpu",
    "labels": {"host": "a"},
    "unit": "%",
    "points": [[NOW - 1000, 1.0]],
}
BAD_BASE: dict[str, Any] = {
    "name": "mem",
    "labels": {"host": "b"},
    "unit": "B",
    "points": [[NOW - 2000, 2.0], [NOW - 1000, 3.0]],
}
_DROP = object()
EDGE_LIMITS = Limits(max_age_ms=60_000, max_future_ms=1_000, max_points=5)


def _second_metric(**changes: Any) -> dict[str, Any]:
    """A body whose first metric is good and whose second has ``changes`` applied."""
    bad = copy.deepcopy(BAD_BASE)
    for key, value in changes.items():
        if value is _DROP:
            bad.pop(key)
        else:
            bad[key] = value
    return {"metrics": [copy.deepcopy(GOOD_METRIC), bad]}


def _second_point(point: Any) -> dict[str, Any]:
    """A body whose second metric's second point is ``point``."""
    return _second_metric(points=[[NOW - 2000, 2.0], point])


P = "metrics[1].points[1]"

REJECTED = [
    pytest.param([GOOD_METRIC], "body", id="body-is-a-list"),
    pytest.param("metrics", "body", id="body-is-a-string"),
    pytest.param(None, "body", id="body-is-null"),
    pytest.param({}, "metrics", id="metrics-missing"),
    pytest.param({"metrics": {"name": "cpu"}}, "metrics", id="metrics-is-an-object"),
    pytest.param({"metrics": "cpu"}, "metrics", id="metrics-is-a-string"),
    pytest.param({"metrics": [GOOD_METRIC, 5]}, "metrics[1]", id="metric-not-an-object"),
    pytest.param(_second_metric(colour="red"), "metrics[1].colour", id="unknown-field"),
    pytest.param(_second_metric(name=""), "metrics[1].name", id="empty-name"),
    pytest.param(_second_metric(name=_DROP), "metrics[1].name", id="missing-name"),
    pytest.param(_second_metric(name=5), "metrics[1].name", id="name-not-a-string"),
    pytest.param(_second_metric(name="cpu load"), "metrics[1].name", id="name-with-space"),
    pytest.param(_second_metric(name="1cpu"), "metrics[1].name", id="name-starts-with-digit"),
    pytest.param(_second_metric(name="cpu{x}"), "metrics[1].name", id="name-with-brace"),
    pytest.param(_second_metric(name="a" * 201), "metrics[1].name", id="name-too-long"),
    pytest.param(_second_metric(labels=["host"]), "metrics[1].labels", id="labels-not-object"),
    pytest.param(
        _second_metric(labels={f"k{i}": "v" for i in range(17)}),
        "metrics[1].labels",
        id="too-many-labels",
    ),
    pytest.param(
        _second_metric(labels={"host": "b", "host-name": "x"}),
        "metrics[1].labels.host-name",
        id="label-key-not-identifier",
    ),
    pytest.param(
        _second_metric(labels={"k" * 65: "x"}),
        "metrics[1].labels." + "k" * 40,
        id="label-key-too-long",
    ),
    pytest.param(
        _second_metric(labels={"host": 1}), "metrics[1].labels.host", id="label-value-int"
    ),
    pytest.param(
        _second_metric(labels={"host": None}), "metrics[1].labels.host", id="label-value-null"
    ),
    pytest.param(
        _second_metric(labels={"host": "a\nb"}), "metrics[1].labels.host", id="label-newline"
    ),
    pytest.param(
        _second_metric(labels={"host": "a\x00"}), "metrics[1].labels.host", id="label-nul"
    ),
    pytest.param(
        _second_metric(labels={"host": "a\x7f"}), "metrics[1].labels.host", id="label-del"
    ),
    pytest.param(
        _second_metric(labels={"host": "x" * 257}),
        "metrics[1].labels.host",
        id="label-value-too-long",
    ),
    pytest.param(_second_metric(unit="u" * 33), "metrics[1].unit", id="unit-too-long"),
    pytest.param(_second_metric(unit=5), "metrics[1].unit", id="unit-not-a-string"),
    pytest.param(_second_metric(unit="%\n"), "metrics[1].unit", id="unit-control-char"),
    pytest.param(_second_metric(points=_DROP), "metrics[1].points", id="points-missing"),
    pytest.param(_second_metric(points={"0": 1}), "metrics[1].points", id="points-not-list"),
    pytest.param(_second_point([NOW, 1.0, 2.0]), P, id="point-triple"),
    pytest.param(_second_point([NOW]), P, id="point-single"),
    pytest.param(_second_point({"t": NOW, "v": 1}), P, id="point-object"),
    pytest.param(_second_point(NOW), P, id="point-number"),
    pytest.param(_second_point([True, 1.0]), P + "[0]", id="bool-timestamp"),
    pytest.param(_second_point([str(NOW), 1.0]), P + "[0]", id="string-timestamp"),
    pytest.param(_second_point([NOW - 0.5, 1.0]), P + "[0]", id="fractional-timestamp"),
    pytest.param(_second_point([float("nan"), 1.0]), P + "[0]", id="nan-timestamp"),
    pytest.param(_second_point([10**400, 1.0]), P + "[0]", id="huge-int-timestamp"),
    pytest.param(_second_point([NOW - 60_001, 1.0]), P + "[0]", id="timestamp-too-old"),
    pytest.param(_second_point([NOW + 1_001, 1.0]), P + "[0]", id="timestamp-too-far-ahead"),
    pytest.param(_second_point([NOW, float("nan")]), P + "[1]", id="nan-value"),
    pytest.param(_second_point([NOW, float("inf")]), P + "[1]", id="plus-inf-value"),
    pytest.param(_second_point([NOW, float("-inf")]), P + "[1]", id="minus-inf-value"),
    pytest.param(_second_point([NOW, True]), P + "[1]", id="bool-value"),
    pytest.param(_second_point([NOW, "1.5"]), P + "[1]", id="string-value"),
    pytest.param(_second_point([NOW, None]), P + "[1]", id="null-value"),
    pytest.param(_second_point([NOW, 10**400]), P + "[1]", id="huge-int-value"),
    pytest.param(
        _second_metric(points=[[NOW - 4000 + i, float(i)] for i in range(5)]),
        "metrics[1].points",
        id="too-many-points-in-total",
    ),
]


@pytest.mark.parametrize(("body", "field"), REJECTED)
def test_bad_batch_is_refused_naming_the_first_bad_field(body: Any, field: str) -> None:
    """Each kind of bad input is refused with ValidationError.field naming the exact spot."""
    with pytest.raises(ValidationError) as info:
        validate_batch(body, now_ms=NOW, limits=EDGE_LIMITS)
    assert info.value.field == field
    assert str(info.value).startswith(f"{field}: ")


def test_refusal_is_a_value_error_and_names_the_earliest_problem() -> None:
    """With several problems, the earliest in document order is reported."""
    body = {
        "metrics": [
            {"name": "ok", "points": [[NOW, 1]]},
            {"name": "bad name", "labels": {"bad-key": 1}, "points": [[NOW, "x"]]},
            {"name": "also bad!", "points": "nope"},
        ]
    }
    with pytest.raises(ValueError) as info:
        validate_batch(body, now_ms=NOW)
    assert isinstance(info.value, ValidationError)
    assert info.value.field == "metrics[1].name"


def test_point_limit_counts_the_whole_batch() -> None:
    """max_points bounds the total across metrics; reaching it exactly is fine."""
    limits = Limits(max_points=4)
    two = [[NOW - 1000, 1], [NOW, 2]]
    ok = {"metrics": [{"name": "a", "points": two}, {"name": "b", "points": two}]}
    assert validate_batch(ok, now_ms=NOW, limits=limits).point_count == 4
    over = {"metrics": ok["metrics"] + [{"name": "c", "points": [[NOW, 3]]}]}
    with pytest.raises(ValidationError) as info:
        validate_batch(over, now_ms=NOW, limits=limits)
    assert info.value.field == "metrics[2].points"


def test_default_time_window_is_a_day_back_and_five_minutes_ahead() -> None:
    """With default limits a point 24 h old is accepted and one 24 h + 1 ms old is refused."""
    day, five_min = 86_400_000, 300_000
    ok = {"metrics": [{"name": "m", "points": [[NOW - day, 1], [NOW + five_min, 2]]}]}
    assert validate_batch(ok, now_ms=NOW).point_count == 2
    for t in (NOW - day - 1, NOW + five_min + 1):
        with pytest.raises(ValidationError) as info:
            validate_batch({"metrics": [{"name": "m", "points": [[t, 1]]}]}, now_ms=NOW)
        assert info.value.field == "metrics[0].points[0][0]"


# --------------------------------------------------------------------------- series keys


def test_key_text_form_without_labels_is_the_name() -> None:
    """A key with no labels prints as its bare name."""
    assert str(SeriesKey.of("demo.active_users")) == "demo.active_users"


def test_key_text_form_sorts_labels() -> None:
    """Labels print sorted by name in Prometheus style, whatever order they were given in."""
    key = SeriesKey.of("http", {"route": "/api", "method": "GET"})
    assert str(key) == 'http{method="GET",route="/api"}'
    assert key == SeriesKey.of("http", {"method": "GET", "route": "/api"})


@pytest.mark.parametrize(
    ("value", "escaped"),
    [
        ('say "hi"', 'say \\"hi\\"'),
        ("C:\\temp", "C:\\\\temp"),
        ("line1\nline2", "line1\\nline2"),
        ('\\"', '\\\\\\"'),
        ("\\n", "\\\\n"),
    ],
)
def test_key_text_form_escapes_quotes_backslashes_and_newlines(value: str, escaped: str) -> None:
    """Quotes, backslashes and newlines in label values are escaped as in the Prometheus format."""
    assert str(SeriesKey.of("m", {"k": value})) == f'm{{k="{escaped}"}}'


HOSTILE = 'a"b\\c\n}{,='


@pytest.mark.parametrize(
    "key",
    [
        SeriesKey.of("demo.health"),
        SeriesKey.of("demo.health", {"service": "api"}),
        SeriesKey.of("ns:metric_1", {"a": "1", "b": "", "c": "x y"}),
        SeriesKey.of("m", {"k": HOSTILE}),
        SeriesKey.of("m", {"k": HOSTILE, "k2": HOSTILE + "\\", "z": "ok"}),
        SeriesKey.of("m", {"k": "ends with backslash\\"}),
        SeriesKey.of("m", {"k": '",injected="1'}),
        SeriesKey.of("m", {"k": "\\n is not a newline"}),
        SeriesKey.of("m", {"k": "{}", "l": "}"}),
        SeriesKey.of("m", {"k": "ünïcødé ✓"}),
    ],
    ids=str,
)
def test_parse_key_round_trips_the_text_form(key: SeriesKey) -> None:
    """parse_key(str(key)) gives back the very same key, even for hostile label values."""
    assert parse_key(str(key)) == key


def test_parse_key_accepts_surrounding_whitespace() -> None:
    """Whitespace around a key's text is ignored."""
    assert parse_key('  cpu{host="a"}\n') == SeriesKey.of("cpu", {"host": "a"})


@pytest.mark.parametrize("text", ['{k="v"}', "cpu{", "", "cpu}"])
def test_parse_key_refuses_text_that_is_not_a_key(text: str) -> None:
    """Text without a name or with unbalanced braces is refused as a ValidationError."""
    with pytest.raises(ValidationError) as info:
        parse_key(text)
    assert info.value.field == "series"


KEY = SeriesKey.of("cpu", {"host": "a", "zone": "b"})


@pytest.mark.parametrize(
    ("name", "labels", "expected"),
    [
        ("cpu", None, True),
        ("cpu", {}, True),
        ("cpu", {"host": "a"}, True),
        ("cpu", {"zone": "b"}, True),
        ("cpu", {"host": "a", "zone": "b"}, True),
        ("cpu", {"host": "b"}, False),
        ("cpu", {"host": "a", "zone": "c"}, False),
        ("cpu", {"region": "x"}, False),
        ("cpu", {"host": "a", "zone": "b", "extra": "1"}, False),
        ("mem", None, False),
        ("cp", {"host": "a"}, False),
    ],
)
def test_key_matches_a_name_and_a_label_subset(
    name: str, labels: dict[str, str] | None, expected: bool
) -> None:
    """A key matches its own name with any subset of its labels, and nothing else."""
    assert KEY.matches(name, labels) is expected
