"""Completion of a query being typed: names, functions, label names and values."""

from __future__ import annotations

from dashboard.query.complete import completions, metric_ref

NAMES = ["demo.active_users", "http_requests_total", "http_errors_total"]
LABELS = {
    "http_requests_total": {"route": {"/api", "/web"}, "code": {"200", "500"}},
    "demo.active_users": {"region": {"eu", "us"}},
}


def complete(text: str) -> list[str]:
    """The proposals for ``text`` over the names and labels above."""
    return completions(text, names=NAMES, labels=LABELS)


def test_metric_names_and_functions_complete_the_last_token():
    """Inside a call the metric name is completed; a name that is no identifier is quoted."""
    assert complete("rate(http_r") == ["rate(http_requests_total"]
    assert complete("sum(http_") == ["sum(http_errors_total", "sum(http_requests_total"]
    assert complete("demo.ac") == ['{"demo.active_users"}']
    assert complete("ra")[0] == "rate("
    assert metric_ref("up") == "up" and metric_ref("a.b") == '{"a.b"}'


def test_label_names_then_values_of_the_selectors_metric():
    """After ``{`` the metric's label names; after ``label="`` its values, closed by a quote."""
    assert complete("sum(rate(http_requests_total{ro") == ['sum(rate(http_requests_total{route="']
    assert complete('http_requests_total{route="/a') == ['http_requests_total{route="/api"']
    assert complete('http_requests_total{code!="') == [
        'http_requests_total{code!="200"',
        'http_requests_total{code!="500"',
    ]
    assert complete('{"demo.active_users", re') == ['{"demo.active_users", region="']
    assert complete("unknown_metric{") == []
