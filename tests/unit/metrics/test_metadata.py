"""Metric metadata: merging, families, the JSON API's ``type`` and ``help``, the node's cache."""

from __future__ import annotations

import pytest

from dashboard.metrics.metadata import (
    MetadataCache,
    MetricMetadata,
    entry,
    family_name,
    family_of,
    merge,
    merge_all,
    normal_type,
    select,
    type_of,
)
from dashboard.metrics.model import ValidationError, validate_batch

NOW = 1_800_000_000_000


def test_the_latest_non_empty_value_of_each_field_wins():
    """A later type replaces an earlier one; an empty help or unit keeps what was known."""
    old = MetricMetadata("jobs_total", "gauge", "Jobs done.", "jobs")
    assert merge(old, MetricMetadata("jobs_total", "counter")) == MetricMetadata(
        "jobs_total", "counter", "Jobs done.", "jobs"
    )
    assert merge(old, MetricMetadata("jobs_total", help="New.")).type == "gauge"
    assert merge(None, old) == old
    merged = merge_all([old, MetricMetadata("jobs_total", "counter"), MetricMetadata("x", "gauge")])
    assert merged == {
        "jobs_total": MetricMetadata("jobs_total", "counter", "Jobs done.", "jobs"),
        "x": MetricMetadata("x", "gauge"),
    }


def test_series_map_to_their_family():
    """A histogram's _bucket, _sum and _count, a summary's _sum and _count, a counter's series."""
    known = {
        "rpc_seconds": MetricMetadata("rpc_seconds", "histogram"),
        "lat": MetricMetadata("lat", "summary"),
        "node_cpu_seconds_total": MetricMetadata("node_cpu_seconds_total", "counter"),
        "jobs": MetricMetadata("jobs", "counter"),  # OpenMetrics names a counter without _total
        "queue": MetricMetadata("queue", "gauge"),
    }
    assert type_of("rpc_seconds_bucket", known) == "histogram"
    assert type_of("rpc_seconds_count", known) == "histogram"
    assert type_of("lat_sum", known) == "summary"
    assert type_of("lat", known) == "summary"
    assert type_of("node_cpu_seconds_total", known) == "counter"
    assert type_of("jobs_total", known) == "counter"
    assert type_of("queue_count", known) == "unknown"  # a gauge has no such series
    assert type_of("other", known) == "unknown"
    assert family_of("lat_bucket", known) is None
    assert family_name("rpc_seconds_bucket", "histogram") == "rpc_seconds"
    assert family_name("lat_count", "summary") == "lat"
    assert family_name("http_requests_total", "counter") == "http_requests_total"
    assert family_name("_bucket", "histogram") == "_bucket"


def test_source_types_and_entries_are_cleaned():
    """Other sources' type names map onto the five; bad names and empty entries are dropped."""
    assert [normal_type(t) for t in ("COUNTER", "untyped", "info", "stateset", "nope")] == [
        "counter",
        "unknown",
        "gauge",
        "gauge",
        "unknown",
    ]
    assert entry("a b", "counter") is None
    assert entry("x") is None
    assert entry("x", "gauge", "line\nbreak") == MetricMetadata("x", "gauge", "line break")
    assert len(entry("x", help_="h" * 5000).help) == 1024  # type: ignore[union-attr]


def test_select_is_prometheus_metadata_data():
    """name -> [{type, help, unit}], sorted, one metric or at most ``limit`` of them."""
    known = {n: MetricMetadata(n, "gauge", f"{n}.") for n in ("b", "a", "c")}
    assert list(select(known)) == ["a", "b", "c"]
    assert select(known, metric="b") == {"b": [{"type": "gauge", "help": "b.", "unit": ""}]}
    assert select(known, metric="zz") == {}
    assert list(select(known, limit=2)) == ["a", "b"]
    assert list(select(known, limit=-1)) == ["a", "b", "c"]


def test_the_cache_saves_only_what_changed():
    """Loaded once; a family given again unchanged is not saved again; a change is."""
    stored = {"up": MetricMetadata("up", "gauge", "Up.")}
    saves: list[list[MetricMetadata]] = []
    loads: list[int] = []

    def load() -> dict[str, MetricMetadata]:
        loads.append(1)
        return stored

    cache = MetadataCache(load, saves.append)
    assert cache.record([]) == []
    assert loads == []
    assert cache.record([MetricMetadata("up", "gauge")]) == []
    c = MetricMetadata("jobs_total", "counter", "Jobs.")
    assert cache.record([c, MetricMetadata("up", "gauge", "Up.")]) == [c]
    assert cache.record([c]) == []
    assert cache.record([MetricMetadata("jobs_total", help="Jobs done.")]) == [
        MetricMetadata("jobs_total", "counter", "Jobs done.")
    ]
    assert len(saves) == 2 and loads == [1]


def test_a_failed_save_is_tried_again():
    """Nothing is remembered as stored when the save raises."""
    calls: list[int] = []

    def save(entries: list[MetricMetadata]) -> None:
        calls.append(len(entries))
        if len(calls) == 1:
            raise OSError("down")

    cache = MetadataCache(dict, save)
    with pytest.raises(OSError):
        cache.record([MetricMetadata("x", "gauge")])
    assert cache.record([MetricMetadata("x", "gauge")]) == [MetricMetadata("x", "gauge")]


def _metric(**extra: object) -> dict:
    """A JSON metric entry with one point."""
    return {"name": "http_requests_total", "points": [[NOW, 1.0]], **extra}


def test_the_json_api_takes_a_type_and_help_per_metric():
    """``type`` (one of five) and ``help`` become the batch's metadata, by family."""
    body = {
        "metrics": [
            _metric(type="counter", help="Requests served.", unit="requests"),
            {"name": "rpc_seconds_bucket", "labels": {"le": "1"}, "points": [[NOW, 3]]},
            {
                "name": "rpc_seconds_bucket",
                "labels": {"le": "+Inf"},
                "points": [[NOW, 4]],
                "type": "histogram",
            },
            {"name": "queue", "points": [[NOW, 2]]},
        ]
    }
    batch = validate_batch(body, now_ms=NOW)
    assert batch.metadata == [
        MetricMetadata("http_requests_total", "counter", "Requests served.", "requests"),
        MetricMetadata("rpc_seconds", "histogram"),
    ]
    assert validate_batch({"metrics": [_metric()]}, now_ms=NOW).metadata == []


@pytest.mark.parametrize(
    ("extra", "field", "message"),
    [
        ({"type": "timer"}, "metrics[0].type", "one of counter, gauge, histogram, summary"),
        ({"type": 3}, "metrics[0].type", "one of counter"),
        ({"help": 7}, "metrics[0].help", "a string of at most 1024"),
        ({"help": "x" * 1025}, "metrics[0].help", "a string of at most 1024"),
        ({"help": "a\x00"}, "metrics[0].help", "without control characters"),
    ],
)
def test_a_bad_type_or_help_is_refused_naming_the_field(extra, field, message):
    """A type other than the five, or a help that is no short text, refuses the batch."""
    with pytest.raises(ValidationError) as info:
        validate_batch({"metrics": [_metric(**extra)]}, now_ms=NOW)
    assert info.value.field == field and message in info.value.message
