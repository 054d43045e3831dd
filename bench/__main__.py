"""``python -m bench [--smoke] [NAME ...]``: run benchmarks several times, write bench/RESULTS.md.

Naming benchmarks runs only those and rewrites only their rows (and sections) of RESULTS.md.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path

from bench import (
    browser,
    chunks,
    core,
    engine,
    expressions,
    fanout,
    ingest,
    live,
    query,
    receivers,
    storage,
)

BENCHMARKS: dict[str, tuple[Callable[..., dict[str, float]], dict, dict]] = {
    # name: (function, full-size kwargs, smoke kwargs)
    "hot_store_write": (core.hot_store_write, {}, {"series": 5, "seconds": 20}),
    "history_read": (core.history_read, {}, {"width": 200, "series": 3}),
    "ingest_to_push": (live.ingest_to_push, {}, {"samples": 5, "interval_s": 0.01}),
    "fanout_vs_naive_dash": (
        fanout.fanout,
        {"viewers": 500, "naive_viewers": 20, "seconds": 15},
        {"viewers": 3, "naive_viewers": 2, "seconds": 4},
    ),
    "validate_and_hot_store": (
        ingest.validate_and_hot_store,
        {},
        {"batches": 2, "series": 5, "points": 10},
    ),
    "http_to_store_embedded": (ingest.http_to_store, {}, {"batches": 2, "series": 5, "points": 10}),
    "receivers": (receivers.receivers, {}, {"batches": 2}),
    "http_to_store_redis": (
        ingest.http_to_store,
        {"redis_url": "redis://127.0.0.1:6379/0"},
        {"batches": 2, "series": 5, "points": 10, "redis_url": "redis://127.0.0.1:6379/0"},
    ),
    "postgres_write": (
        storage.postgres_write,
        {},
        {"batches": 2, "batch_points": 200, "series": 10},
    ),
    "disk": (chunks.disk, {}, {"divisor": 100}),
    "postgres_write_live": (storage.postgres_write_live, {}, {"series": 20, "batches": 2}),
    "postgres_history_read": (
        storage.postgres_history_read,
        {},
        {"series": 3, "hours": 1, "width": 100},
    ),
    "promql": (
        query.promql,
        {},
        {"series": 5, "hours": 0.5, "instant_series": 20, "repeat": 1, "prometheus": False},
    ),
    "engine": (engine.engine, {}, {"names": ("fixed_cost",)}),
    "live_expressions": (
        expressions.live_expressions,
        {},
        {"routes": 2, "instances": 5, "rounds": 2, "counts": (1,)},
    ),
    "browser": (
        browser.page_metrics,
        {},
        {"series": 5, "hours": 0.5, "loads": 1, "samples": 3, "update_seconds": 2},
    ),
}
# Benchmarks reported in a section of their own: (title, what it measures).
SECTIONS = {
    "disk": (
        "History on disk (compressed chunks)",
        "`bench/chunks.py`: bytes on disk per raw point, everything counted (head rows, chunks "
        "with heap, TOAST and indexes, series; SQLite: the whole file), PostgreSQL and SQLite "
        "side by side in one run. `1000x15s`: 1,000 series x 24 h at 15 s (+-20 ms scrape "
        "jitter); `100x1s`: 100 series x 24 h at 1 s; each a third integer gauges, counters "
        "with resets, noisy floats. The first 22 h are written in hourly batches (straight "
        "into chunks), the last 2 h live, a batch a minute through the head, each followed by "
        "a seal. `bytes_per_point`: right after the last seal; `_vacuumed`: after a plain "
        "VACUUM (what autovacuum brings it to). `rollup_*`: the day's buckets sealed into "
        "rollup chunks by retention. `projection_*`: the brief's retention (raw 1 day, kept "
        "as whole UTC days so 1.5 on average; 5m 7 days; 1h 30 days; 1d 365 days) for 10,000 "
        "series at 15 s, and a day of raw per 1,000 series, from the measured figures. Before "
        "chunks (2026-12-05): PostgreSQL 175 B a point at 15 s and 128 at 1 s, SQLite 22. "
        "Goals: <= 12 B at 15 s, <= 5 B at 1 s, projection <= 1.5 GB.",
    ),
    "live_expressions": (
        "Live expressions",
        "`bench/expressions.py`: one round of the live feed's PromQL expressions "
        "(`dashboard.live.socket.expression_points`, evaluated once a second per node for the "
        "expressions its viewers' dashboards draw) on an embedded runtime (SQLite, hot store) "
        "holding 1,000 counters (10 routes x 100 instances) over the last hour at 15 s, each "
        "expression selecting all of them. `exprs_<n>_ms`: a round of n expressions (median); "
        "`_core_share`: that once a second as a share of one core.",
    ),
    "promql": (
        "PromQL",
        "`bench/query.py` on 2 cores, Python 3.11, Debian 12, with other work on the machine "
        "(the `_cpu_ms` figures, CPU time a query costs, are the steady ones then). "
        "`range_*`: `sum by (route) (rate(bench_requests_total[5m]))` over 1,000 counters x "
        "24 h at 15 s, step 60 s (5.8 M raw points, all decoded: `rate` needs them); "
        "`instant_*`: `sum(bench_gauge)` over 10,000 series; `rollup_*`: "
        "`max by (route) (max_over_time(bench_requests_total[1h]))` at whole hours over the "
        "1,000 counters, answered from one-hour rollups (chunk headers). `_engine_only`: the "
        "samples already read; `_api`/`instant_sum_10k_series_ms`/`rollup_*_ms`: the API "
        "answer with the store reads (hot store, `query_many`). `prometheus_*`: Debian's "
        "Prometheus over the same data as blocks, an HTTP round trip (its CPU from /proc); "
        "`*_ratio_ours_over_prometheus` < 1 is faster here. Goals: range <= 300 ms, instant "
        "<= 100 ms.",
    ),
    "receivers": (
        "Receivers",
        "Points/s accepted through each receiver into the durable bus (`bench/receivers.py`), "
        "the senders' usual batches: remote write 1.0 and 2.0 of 500 one-sample series, one "
        "OTLP export of 1,000 points (protobuf, and the same as OTLP/JSON), line protocol of "
        "1,000 points (200 lines x 5 fields); each batch from one of 20 sources in turn "
        "(10,000 series for remote write), the node first sent a batch of each source, then "
        "100 measured (`remote_write_500_one_source`: one source, the same 500 series each "
        "batch, so each has 120 points in the SQLite head by the end); beside the JSON API "
        "with the same 500 one-point series (`json_500x1`, "
        "the reference of each `_over_json` ratio, same bus, same run; "
        "each case on a fresh node, so none finds the others' series in the SQLite head) "
        "and its bulk shape (`json_100x100`). `embedded`: a 2xx once SQLite has committed the "
        "batch (then the hot store, live hub and history cache take it in the request); "
        "`redis`: a 2xx once the batch is XADDed, the node's tail and persister working in the "
        "same process. `_points_per_server_cpu_s`: the points over the server's CPU seconds "
        "for them (Redis: until the persisters caught up), steady on a busy machine where "
        "wall-clock rates are not. `decode_`: body to checked batch in-process, no HTTP. "
        "Goal: each receiver >= 100,000 points/s and within 2x of the JSON API.",
    ),
    "engine": (
        "Metrics engine",
        "The hot store (`dashboard/metrics/stores/hot.py`: open heads and pcodec chunks) against "
        "the one-slot-a-second numpy rings it replaced (`bench/baseline_ring.py`, `old`), each "
        "scenario in a process of its own. `fixed_cost`: bytes of a series with one point (goal "
        "<= 4 KiB). `day_at_1s`: 100 series x 24 h at 1 s (goal <= 40 MB of hot store) and read "
        "times of all 100 (ms). `many_at_15s`: 10,000 series x 24 h at 15 s, the whole "
        "process's RSS (goal <= 600 MB; a mix of 40 % counters, 30 % integer gauges, 20 % "
        "rounded and 10 % noisy floats, +-25 ms jitter; `_noisy`: every series noisy floats). "
        "`bytes_per_point`: by kind. `write_rate`: points/s, live shape and backfill.",
    ),
    "browser": (
        "Browser",
        "Headless chromium (Performance API, cache off) on a dashboard of 100 live metrics "
        "(80 line charts, 20 stat tiles) with 24 h of history at 10 s, signed in as admin; the "
        "frame and long-task figures are taken while 100 points are posted each second. A "
        "frame's work is the main thread's time from the frame's start until its rendering is "
        "done (a message posted in its animation-frame callback); its interval is bound below "
        "by the display's 16.7 ms, and a frame counts as dropped past 1.5 intervals. "
        "Baselines: the sign-in page of the same server. Goals: ingest to pixels p50 < 30 ms, "
        "p99 < 100 ms; all visible charts drawn < 1 s; JS < 500 KB, < 300 KB before first "
        "paint; no long task > 50 ms and frame work p95 < 16.7 ms while updating.",
    ),
}


def run(
    runs: int, smoke: bool, names: list[str] | None = None
) -> dict[str, dict[str, list[float]]]:
    """Every benchmark (or those named) ``runs`` times; each figure's values over the runs."""
    results: dict[str, dict[str, list[float]]] = {}
    for name, (fn, full, small) in BENCHMARKS.items():
        if names and name not in names:
            continue
        for _ in range(runs):
            for figure, value in fn(**(small if smoke else full)).items():
                results.setdefault(name, {}).setdefault(figure, []).append(value)
    return results


def _rows(name: str, figures: dict[str, list[float]], with_name: bool) -> list[str]:
    """One table row per figure: median, min and max."""
    lead = f"| {name} " if with_name else ""
    return [
        f"{lead}| {figure} | {statistics.median(values):,.3f} | "
        f"{min(values):,.3f} | {max(values):,.3f} |"
        for figure, values in figures.items()
    ]


def section(name: str, figures: dict[str, list[float]], runs: int) -> str:
    """A benchmark's own section of RESULTS.md (starts with its ``## `` title)."""
    title, about = SECTIONS[name]
    lines = [
        f"## {title}",
        "",
        f"Written on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, median over "
        f"{runs} runs and [min, max]. {about}",
        "",
        "| figure | median | min | max |",
        "|---|---|---|---|",
        *_rows(name, figures, with_name=False),
    ]
    return "\n".join(lines) + "\n"


def report(results: dict[str, dict[str, list[float]]], runs: int) -> str:
    """RESULTS.md: the machine, versions, and each figure's median and spread."""
    lines = [
        "# Benchmark results",
        "",
        f"Written by `make bench` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.",
        f"Machine: {platform.machine()}, {platform.processor() or 'cpu'}, "
        f"Python {platform.python_version()} on {platform.platform()}.",
        "Versions: "
        + ", ".join(
            f"{p} {version(p)}"
            for p in ("dash", "flask-socketio", "gevent", "numpy", "tsdownsample")
        )
        + ".",
        f"Each figure: median over {runs} runs, and [min, max]. Baselines run in the same process.",
        "",
        "| benchmark | figure | median | min | max |",
        "|---|---|---|---|---|",
    ]
    for name, figures in results.items():
        if name not in SECTIONS:
            lines.extend(_rows(name, figures, with_name=True))
    sections = [section(n, f, runs) for n, f in results.items() if n in SECTIONS]
    return "\n".join([*lines, *("\n" + s.rstrip("\n") for s in sections)]) + "\n"


def merge(existing: str, results: dict[str, dict[str, list[float]]], runs: int) -> str:
    """``existing`` RESULTS.md with the rows and sections of the benchmarks in ``results`` new."""
    head, *old_sections = existing.split("\n## ")
    lines = [
        line
        for line in head.rstrip("\n").split("\n")
        if not any(line.startswith(f"| {name} |") for name in results)
    ]
    for name, figures in results.items():
        if name not in SECTIONS:
            lines.extend(_rows(name, figures, with_name=True))
    redone = {SECTIONS[n][0]: section(n, f, runs) for n, f in results.items() if n in SECTIONS}
    kept = []
    for text in old_sections:
        title = text.split("\n", 1)[0]
        kept.append(redone.pop(title, "## " + text).rstrip("\n"))
    kept.extend(s.rstrip("\n") for s in redone.values())
    return "\n".join([*lines, *("\n" + s for s in kept)]) + "\n"


def keep_other_sections(new: str, existing: str) -> str:
    """``new`` with the sections of ``existing`` it does not have (the soak's, say)."""
    titles = {text.split("\n", 1)[0] for text in new.split("\n## ")[1:]}
    others = [t for t in existing.split("\n## ")[1:] if t.split("\n", 1)[0] not in titles]
    return "\n".join([new.rstrip("\n"), *("\n## " + t.rstrip("\n") for t in others)]) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks and write the report (smoke runs write nothing)."""
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("names", nargs="*", help=f"only these, of: {', '.join(BENCHMARKS)}")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, one run, no report")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    unknown = set(args.names) - set(BENCHMARKS)
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    runs = 1 if args.smoke else args.runs
    results = run(runs, args.smoke, args.names)
    path = Path(__file__).with_name("RESULTS.md")
    if args.names and path.exists():
        text = merge(path.read_text(), results, runs)
    elif path.exists():
        text = keep_other_sections(report(results, runs), path.read_text())
    else:
        text = report(results, runs)
    print(text)
    if not args.smoke:
        path.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
