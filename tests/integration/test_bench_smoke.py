"""Every benchmark still runs (tiny sizes): `make bench` must not rot between measurements."""

from __future__ import annotations

import math

from bench.__main__ import BENCHMARKS, SECTIONS, merge, report, run


def test_every_benchmark_runs_and_reports_finite_figures():
    """A smoke run of each benchmark gives finite figures and a report row for each."""
    results = run(runs=1, smoke=True, names=[n for n in BENCHMARKS if n != "browser"])
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
    # a row a figure, plus the header of the main table and of each benchmark's own section
    headers = 1 + sum(1 for name in results if name in SECTIONS)
    assert text.count("\n| ") == sum(len(f) for f in results.values()) + headers


def test_browser_bench_measures_a_live_dashboard_in_chromium():
    """A tiny browser run gives every figure, each posted point drawn, and a Browser section."""
    results = run(runs=1, smoke=True, names=["browser"])
    figures = results["browser"]
    for name in (
        "ingest_to_pixels_p50_ms",
        "load_all_visible_charts_ms",
        "js_transferred_kb",
        "js_before_first_paint_kb",
        "updating_frame_work_p95_ms",
        "updating_frame_interval_p95_ms",
        "updating_long_tasks",
        "baseline_login_load_event_ms",
    ):
        assert name in figures
    for values in figures.values():
        assert values and all(math.isfinite(v) for v in values)
    assert figures["ingest_to_pixels_delivered"] == [1.0]
    assert figures["load_all_visible_charts_ms"][0] > 0
    assert figures["js_transferred_kb"][0] > 0
    assert 0 < figures["updating_frame_work_p50_ms"][0] <= figures["updating_frame_work_p95_ms"][0]
    text = merge("# Benchmark results\n\n| benchmark | figure |\n", results, 1)
    assert "\n## Browser\n" in text
    assert text.count("\n| ingest_to_pixels_p50_ms |") == 1


def test_soak_runs_samples_and_updates_only_its_section(tmp_path):
    """A few seconds of `make soak`: samples with push latency, a passing verdict, sections kept."""
    from bench import soak

    results = tmp_path / "RESULTS.md"
    results.write_text("# Benchmark results\n\n| a | b |\n\n## Browser\n\nkept\n\n## Soak\n\nold\n")
    argv = ["--duration-s", "6", "--sample-s", "2", "--series", "5", "--rate", "20"]
    argv += ["--viewers", "3", "--p99-floor-ms", "5000", "--results", str(results)]
    # three samples in six seconds of warm-up say nothing of a leak (one run read 4.5 MB/min
    # from 0.3 MB): the memory verdict belongs to the 10-minute soak, as the latency one does
    argv += ["--max-rss-slope-mb-min", "1000"]
    assert soak.main(argv) == 0
    text = results.read_text()
    assert "\n## Browser\n\nkept\n" in text
    assert text.count("## Soak") == 1 and "\nold\n" not in text
    rows = [line for line in text.split("\n") if line.startswith("| ") and line[2].isdigit()]
    assert len(rows) == 3
    assert all(row.split(" | ")[5] != "-" for row in rows)  # every sample got live pushes


def test_soak_verdict_catches_memory_growth_and_latency_drift():
    """Growing RSS or a last p99 over twice the second's fails the soak; steady figures pass."""
    from bench.soak import verdict

    steady = [{"t_s": 60 * i, "rss_mb": 200.0, "p99_ms": 150.0} for i in range(1, 11)]
    assert verdict(steady, max_slope=4, p99_floor_ms=100) == []
    leaking = [dict(s, rss_mb=200.0 + 10 * i) for i, s in enumerate(steady)]
    assert "RSS grows" in verdict(leaking, max_slope=4, p99_floor_ms=100)[0]
    drifting = [*steady[:-1], dict(steady[-1], p99_ms=400.0)]
    assert "p99 drifted" in verdict(drifting, max_slope=4, p99_floor_ms=100)[0]
