"""Prometheus text exposition to ingest batches: names, labels, timestamps, refusals, limits."""

from __future__ import annotations

from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from dashboard.metrics.model import Limits, SeriesKey, ValidationError
from ingest.prometheus_text import exposition_batch, exposition_body
from tests.unit.ingest.server_imports import server_libraries

NOW = 1_764_345_600_000


def _points(text: str, **kwargs) -> dict[str, list[tuple[int, float]]]:
    """The batch of an exposition as {series text: [(ts, value), ...]}."""
    batch = exposition_batch(text, now_ms=NOW, **kwargs)
    return {
        str(s.key): list(zip(s.ts.tolist(), s.values.tolist(), strict=True)) for s in batch.series
    }


def test_each_sample_becomes_a_point_with_its_name_and_labels():
    """Gauges, counters, histograms and recording-rule names (with ':') all come through."""
    text = """\
# HELP http_requests_total Requests.
# TYPE http_requests_total counter
http_requests_total{code="200",method="get"} 1027
http_requests_total{code="500",method="get"} 3
# TYPE queue_depth gauge
queue_depth 7.5
# TYPE latency_seconds histogram
latency_seconds_bucket{le="0.1"} 2
latency_seconds_bucket{le="+Inf"} 5
latency_seconds_sum 1.25
latency_seconds_count 5
job:http_requests:rate5m{job="api"} 12.5
"""
    assert _points(text) == {
        'http_requests_total{code="200",method="get"}': [(NOW, 1027.0)],
        'http_requests_total{code="500",method="get"}': [(NOW, 3.0)],
        "queue_depth": [(NOW, 7.5)],
        'latency_seconds_bucket{le="+Inf"}': [(NOW, 5.0)],
        'latency_seconds_bucket{le="0.1"}': [(NOW, 2.0)],
        "latency_seconds_count": [(NOW, 5.0)],
        "latency_seconds_sum": [(NOW, 1.25)],
        'job:http_requests:rate5m{job="api"}': [(NOW, 12.5)],
    }


def test_exposition_timestamps_are_kept_to_the_millisecond():
    """A sample's own timestamp (ms in the format) is its point's time; without one, now."""
    text = f"a 1 {NOW - 1234}\na 2 {NOW - 1}\nb 3\n"
    assert _points(text) == {"a": [(NOW - 1234, 1.0), (NOW - 1, 2.0)], "b": [(NOW, 3.0)]}


def test_a_counter_typed_without_the_total_suffix_is_named_with_it():
    """prometheus_client's parser names counter samples ``*_total``; that is the series name."""
    assert _points("# TYPE jobs counter\njobs 4\n") == {"jobs_total": [(NOW, 4.0)]}


def test_the_output_of_prometheus_clients_own_generator_is_read_back():
    """What a real exporter writes (generate_latest) converts sample for sample."""
    registry = CollectorRegistry()
    Gauge("temperature_celsius", "Temperature", registry=registry).set(21.5)
    errors = Counter("errors", "Errors", ["kind"], registry=registry)
    errors.labels("timeout").inc(3)
    Histogram("size_bytes", "Sizes", buckets=(10, 100), registry=registry).observe(42)
    points = _points(generate_latest(registry).decode())
    assert points["temperature_celsius"] == [(NOW, 21.5)]
    assert points['errors_total{kind="timeout"}'] == [(NOW, 3.0)]
    assert points['size_bytes_bucket{le="100.0"}'] == [(NOW, 1.0)]
    assert points['size_bytes_bucket{le="10.0"}'] == [(NOW, 0.0)]
    assert points["size_bytes_sum"] == [(NOW, 42.0)]


def test_the_body_is_the_json_ingest_shape():
    """The pure conversion yields the same ``{"metrics": [...]}`` body the JSON route takes."""
    body, samples = exposition_body('up{job="db"} 1\n', now_ms=NOW)
    assert body == {"metrics": [{"name": "up", "labels": {"job": "db"}, "points": [[NOW, 1]]}]}
    assert [s.name for s in samples] == ["up"]


@pytest.mark.parametrize("value", ["NaN", "+Inf", "-Inf"])
def test_a_non_finite_sample_is_refused_naming_the_sample(value):
    """NaN and infinities are bad values: the error names the sample and its value."""
    text = f'ok 1\nrequest_seconds{{quantile="0.99"}} {value}\n'
    with pytest.raises(ValidationError) as info:
        exposition_batch(text, now_ms=NOW)
    assert info.value.field == 'request_seconds{quantile="0.99"} value'
    assert "finite" in info.value.message


def test_non_finite_samples_can_be_skipped_instead():
    """A poller keeps the finite samples of a scrape (a fresh summary exposes NaN quantiles)."""
    text = 'rpc_seconds{quantile="0.5"} NaN\nrpc_seconds_count 0\nbig 1e999\n'
    assert _points(text, skip_non_finite=True) == {"rpc_seconds_count": [(NOW, 0.0)]}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a{b=1} 2\n", "line 1: "),
        ("good 1\nthis is not a sample\n", "line 2: "),
        ("# TYPE\n", "line 1: "),
        ("a 1 " + "9" * 400 + "\n", "line 1: "),
    ],
    ids=["unquoted-label", "second-line", "bare-type", "overflowing-timestamp"],
)
def test_text_the_parser_refuses_is_a_validation_error_with_its_line(text, message):
    """A parse error carries the parser's message and the first line it refuses."""
    with pytest.raises(ValidationError) as info:
        exposition_batch(text, now_ms=NOW)
    assert info.value.field == "body"
    assert info.value.message.startswith(message) and len(info.value.message) > len(message)


def test_timestamps_outside_the_window_are_refused_naming_the_sample():
    """Points far in the past or future are refused, as through the JSON route."""
    with pytest.raises(ValidationError) as info:
        exposition_batch('old{a="b"} 1 1000\n', now_ms=NOW)
    assert info.value.field == 'old{a="b"} timestamp'
    assert "outside the accepted window" in info.value.message


def test_every_ingest_limit_applies():
    """Label count, label length, control characters and the batch size are checked."""
    limits = Limits(max_labels=2, max_label_value_len=5, max_points=3)
    cases = {
        'm{a="1",b="2",c="3"} 1\n': ('m{a="1",b="2",c="3"} labels', "more than 2 labels"),
        'm{a="123456"} 1\n': ('m{a="123456"} labels.a', "longer than 5 characters"),
        'm{a="x\\ny"} 1\n': ('m{a="x\\ny"} labels.a', "control characters"),
        "a 1\nb 1\nc 1\nd 1\n": ("d", "batch exceeds 3 points"),
    }
    for text, (field, message) in cases.items():
        with pytest.raises(ValidationError) as info:
            exposition_batch(text, now_ms=NOW, limits=limits)
        assert (info.value.field, message in info.value.message) == (field, True), text


def test_an_empty_exposition_is_an_empty_batch():
    """Only comments and blank lines: nothing to store, nothing refused."""
    assert exposition_batch("# just a comment\n\n", now_ms=NOW).series == []


def test_repeated_samples_of_one_series_merge_last_value_wins():
    """The same series twice at one time keeps the last value, as the JSON route does."""
    assert _points("a 1\na 2\n") == {"a": [(NOW, 2.0)]}
    assert SeriesKey.of("a") in {s.key for s in exposition_batch("a 1\n", now_ms=NOW).series}


def test_the_conversion_module_imports_no_web_or_storage_library():
    """ingest/prometheus_text.py stays pure, like the core."""
    source = (Path(__file__).resolve().parents[3] / "ingest" / "prometheus_text.py").read_text()
    assert server_libraries(source) == set()
