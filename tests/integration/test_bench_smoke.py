"""Every benchmark still runs (tiny sizes): `make bench` must not rot between measurements."""

from __future__ import annotations

import math

from bench.__main__ import report, run


def test_every_benchmark_runs_and_reports_finite_figures():
    """A smoke run of each benchmark gives finite figures and a report row for each."""
    results = run(runs=1, smoke=True)
    assert {
        "hot_store_write",
        "history_read",
        "ingest_to_push",
        "validate_and_hot_store",
        "http_to_store_embedded",
        "http_to_store_redis",
        "postgres_write",
        "postgres_history_read",
    } <= set(results)
    for figures in results.values():
        for values in figures.values():
            assert values and all(math.isfinite(v) for v in values)
    assert results["ingest_to_push"]["delivered"] == [1.0]
    text = report(results, 1)
    assert text.count("\n| ") == sum(len(f) for f in results.values()) + 1
