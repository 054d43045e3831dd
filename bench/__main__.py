"""``python -m bench [--smoke]``: run every benchmark several times, write bench/RESULTS.md."""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path

from bench import core, fanout, ingest, live, storage

BENCHMARKS: dict[str, tuple[Callable[..., dict[str, float]], dict, dict]] = {
    # name: (function, full-size kwargs, smoke kwargs)
    "hot_store_write": (core.hot_store_write, {}, {"series": 5, "seconds": 20}),
    "history_read": (core.history_read, {}, {"width": 200}),
    "ingest_to_push": (live.ingest_to_push, {}, {"samples": 5, "interval_s": 0.01}),
    "fanout_vs_naive_dash": (
        fanout.fanout,
        {"viewers": 500, "naive_viewers": 20, "seconds": 15},
        {"viewers": 3, "naive_viewers": 2, "seconds": 1.5},
    ),
    "validate_and_hot_store": (
        ingest.validate_and_hot_store,
        {},
        {"batches": 2, "series": 5, "points": 10},
    ),
    "http_to_store_embedded": (ingest.http_to_store, {}, {"batches": 2, "series": 5, "points": 10}),
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
    "postgres_history_read": (
        storage.postgres_history_read,
        {},
        {"series": 3, "hours": 1, "width": 100},
    ),
}


def run(runs: int, smoke: bool) -> dict[str, dict[str, list[float]]]:
    """Every benchmark ``runs`` times; each figure's values over the runs."""
    results: dict[str, dict[str, list[float]]] = {}
    for name, (fn, full, small) in BENCHMARKS.items():
        for _ in range(runs):
            for figure, value in fn(**(small if smoke else full)).items():
                results.setdefault(name, {}).setdefault(figure, []).append(value)
    return results


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
        for figure, values in figures.items():
            lines.append(
                f"| {name} | {figure} | {statistics.median(values):,.3f} | "
                f"{min(values):,.3f} | {max(values):,.3f} |"
            )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks and write the report (smoke runs write nothing)."""
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, one run, no report")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    runs = 1 if args.smoke else args.runs
    results = run(runs, args.smoke)
    text = report(results, runs)
    print(text)
    if not args.smoke:
        Path(__file__).with_name("RESULTS.md").write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
