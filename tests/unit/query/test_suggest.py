"""What the widget editor proposes for a metric of each type."""

from __future__ import annotations

import pytest

from dashboard.query.parse import parse
from dashboard.query.suggest import selector, suggest_expression


@pytest.mark.parametrize(
    ("name", "type_", "expected"),
    [
        ("http_requests_total", "counter", "rate(http_requests_total[5m])"),
        ("job:requests:sum", "counter", "rate(job:requests:sum[5m])"),
        ("api.requests", "counter", 'rate({"api.requests"}[5m])'),
        ("sum", "counter", 'rate({"sum"}[5m])'),
        (
            "rpc_seconds_bucket",
            "histogram",
            "histogram_quantile(0.95, sum by (le) (rate(rpc_seconds_bucket[5m])))",
        ),
        (
            "api.latency_bucket",
            "histogram",
            'histogram_quantile(0.95, sum by (le) (rate({"api.latency_bucket"}[5m])))',
        ),
        ("rpc_seconds_count", "histogram", "rate(rpc_seconds_count[5m])"),
        ("rpc_seconds_sum", "summary", "rate(rpc_seconds_sum[5m])"),
        ("rpc_seconds", "summary", None),
        ("queue_depth", "gauge", None),
        ("queue_depth", "unknown", None),
        ("rpc_seconds_bucket", "gauge", None),
    ],
)
def test_a_counter_gets_rate_and_a_histogram_a_quantile(name, type_, expected):
    """rate() for counters, histogram_quantile for buckets, nothing for gauges; all parse."""
    got = suggest_expression(name, type_)
    assert got == expected
    if got is not None:
        parse(got)


def test_selectors_quote_what_is_no_identifier():
    """Labels are escaped; a dotted name goes inside the braces, Prometheus 3's way."""
    assert selector("up", {"job": 'a"b'}) == 'up{job="a\\"b"}'
    assert selector("a.b", {"x": "1"}) == '{"a.b",x="1"}'
    parse(selector("a.b", {"x": "1"}))
