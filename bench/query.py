"""PromQL benchmarks: a range query over 1,000 series x 24 h and an instant ``sum`` over
10,000 series, read through the hot store, and the same queries on Debian's Prometheus; and
``max_over_time(...[1h])`` at whole hours over the same 1,000 series (``rollup_*``: answered
from one-hour rollups, the chunks' headers).

Figures are milliseconds for the evaluation alone (``*_engine_only``: the samples already
read), for the store's read alone (``range_store_read_ms``: decoding the chunks), for the
engine with its store reads (``StoreQuerier`` over a
``HotStore``) and for the whole API answer (JSON-ready data); Prometheus' figure is an HTTP
round trip to a private server over the same data backfilled as blocks (its JSON included), so
the ratio slightly favours the dashboard by the HTTP hop.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bench.promserver import PromServer, Series, binaries
from dashboard.metrics.frame import SeriesFrame, SeriesInfo
from dashboard.metrics.model import Batch, SeriesKey, SeriesPoints
from dashboard.metrics.steps import HOUR, Step
from dashboard.metrics.stores.hot import HotStore
from dashboard.query import service
from dashboard.query.engine import Engine
from dashboard.query.parse import Matcher
from dashboard.query.samples import RawSeries

RANGE_QUERY = "sum by (route) (rate(bench_requests_total[5m]))"
INSTANT_QUERY = "sum(bench_gauge)"
ROLLUP_QUERY = "max by (route) (max_over_time(bench_requests_total[1h]))"
LIMITS = service.QueryLimits(max_samples=500_000_000, timeout_s=600)


class HotReader:
    """The hot store as a SeriesReader."""

    def __init__(self, store: HotStore) -> None:
        """Wrap ``store``."""
        self.store = store

    def series_list(self) -> list[SeriesInfo]:
        """Every series held."""
        return self.store.list_series()

    def query(self, key: SeriesKey, start_ms: int, end_ms: int, step: Step) -> SeriesFrame:
        """One series' points or buckets."""
        return self.store.query(key, start_ms, end_ms, step)

    def query_many(
        self, keys: Sequence[SeriesKey], start_ms: int, end_ms: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Many series' raw points in one read (flat arrays and offsets)."""
        return self.store.query_many(keys, start_ms, end_ms)

    def newest_many(
        self, keys: Sequence[SeriesKey], start_ms: int, end_ms: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Many series' newest raw point in the range (an instant selector's read)."""
        return self.store.newest_many(keys, start_ms, end_ms)

    def series_version(self) -> object:
        """Changes when a series is added or removed."""
        return self.store.series_version()

    def hour_buckets_many(
        self, keys: Sequence[SeriesKey], start_ms: int, end_ms: int
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """Many series' one-hour buckets (None when they cannot stand for the raw points)."""
        return self.store.hour_buckets_many(keys, start_ms, end_ms)


class _Held:
    """A querier that reads each selection once and then serves it from memory (to time the
    evaluation without the store's reads)."""

    def __init__(self, inner: service.StoreQuerier) -> None:
        """Wrap ``inner``."""
        self.inner = inner
        self.held: dict[tuple, list] = {}

    def select(self, matchers: Sequence[Matcher], start_ms: int, end_ms: int) -> list[RawSeries]:
        """The selection, read on first use."""
        key = (tuple(matchers), start_ms, end_ms)
        if key not in self.held:
            self.held[key] = self.inner.select(matchers, start_ms, end_ms)
        return self.held[key]


def _counters(series: int, hours: float, interval_s: int, end_ms: int) -> list[Series]:
    """Counters over ``hours`` at ``interval_s``, ten routes."""
    rng = np.random.default_rng(3)
    count = int(hours * 3600 / interval_s)
    ts = end_ms - (count - np.arange(count, dtype=np.int64)) * interval_s * 1000 + 137
    out: list[Series] = []
    for i in range(series):
        values = np.cumsum(rng.integers(0, 10, count)).astype(np.float64)
        labels = {"route": f"/r{i % 10}", "instance": f"i{i}"}
        out.append(("bench_requests_total", labels, ts, values))
    return out


def _gauges(series: int, end_ms: int) -> list[Series]:
    """Gauges with ten points each over the last 150 s."""
    ts = end_ms - np.arange(10, 0, -1, dtype=np.int64) * 15_000 + 211
    return [("bench_gauge", {"i": str(i)}, ts, np.full(10, float(i))) for i in range(series)]


def _store(data: list[Series]) -> HotReader:
    """A hot store holding ``data``."""
    store = HotStore()
    points = [
        SeriesPoints(SeriesKey.of(name, labels), ts, values) for name, labels, ts, values in data
    ]
    for a in range(0, len(points), 500):
        store.write(Batch(points[a : a + 500]))
    return HotReader(store)


def _best_ms(fn: object, repeat: int) -> float:
    """The fastest of ``repeat`` calls, ms."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        fn()  # type: ignore[operator]
        best = min(best, time.perf_counter() - started)
    return best * 1000


def _cpu_ms(fn: object, runs: int, pid: int | None = None) -> float:
    """CPU ms a call of ``fn`` costs, the mean of ``runs`` calls: this process's, or the
    process ``pid``'s (from /proc, in clock ticks); steadier than wall time on a busy machine."""

    def used() -> float:
        """CPU seconds used so far."""
        if pid is None:
            return time.process_time()
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    before = used()
    for _ in range(runs):
        fn()  # type: ignore[operator]
    return (used() - before) / runs * 1000


def promql(
    series: int = 1_000,
    hours: float = 24,
    interval_s: int = 15,
    instant_series: int = 10_000,
    step_s: int = 60,
    repeat: int = 3,
    prometheus: bool = True,
) -> dict[str, float]:
    """The range and instant queries' times (ms) here and, when installed, on Prometheus."""
    end = int(time.time() * 1000) // 60_000 * 60_000
    start = end - int(hours * 3600 * 1000) + 10 * 60_000
    counters, gauges = _counters(series, hours, interval_s, end), _gauges(instant_series, end)
    reader = _store(counters + gauges)

    def engine_range() -> object:
        """The range query: store reads and evaluation."""
        querier = service.StoreQuerier(reader)
        return Engine(querier).range(RANGE_QUERY, start, end, step_s * 1000)

    def api_range() -> object:
        """The range query's API answer."""
        return service.range_query(
            reader=reader,
            query=RANGE_QUERY,
            start_ms=start,
            end_ms=end,
            step_ms=step_s * 1000,
            limits=LIMITS,
        )

    def api_instant() -> object:
        """The instant sum's API answer."""
        return service.instant_query(reader=reader, query=INSTANT_QUERY, at_ms=end, limits=LIMITS)

    hour_end = end // HOUR * HOUR  # whole hours over the data: the rollups answer
    hour_start = min(hour_end - int(hours * HOUR) + HOUR, hour_end)

    def api_rollup() -> object:
        """The whole-hour ``max_over_time`` range query's API answer (one-hour rollups)."""
        return service.range_query(
            reader=reader,
            query=ROLLUP_QUERY,
            start_ms=hour_start,
            end_ms=hour_end,
            step_ms=HOUR,
            limits=LIMITS,
        )

    keys = [SeriesKey.of(name, labels) for name, labels, _, _ in counters]
    window_start = start - 5 * 60_000 + 1  # what ``rate(...[5m])`` reads from

    def store_read() -> object:
        """The range query's store read alone: every counter's raw points, decoded."""
        return reader.query_many(keys, window_start, end)

    held = _Held(service.StoreQuerier(reader))
    out = {
        "range_engine_only_ms": _best_ms(
            lambda: Engine(held).range(RANGE_QUERY, start, end, step_s * 1000), repeat
        ),
        "instant_engine_only_ms": _best_ms(
            lambda: Engine(held).instant(INSTANT_QUERY, end), repeat
        ),
        "range_store_read_ms": _best_ms(store_read, repeat),
        "range_1k_series_24h_ms": _best_ms(engine_range, repeat),
        "range_api_ms": _best_ms(api_range, repeat),
        "instant_sum_10k_series_ms": _best_ms(api_instant, repeat),
        "range_api_cpu_ms": _cpu_ms(api_range, repeat),
        "instant_cpu_ms": _cpu_ms(api_instant, 4 * repeat),
        "rollup_max_over_time_1h_ms": _best_ms(api_rollup, repeat),
    }
    if prometheus and binaries() is not None:
        hourly = (hour_start, hour_end)
        out.update(_prometheus(counters + gauges, start, end, step_s, repeat, out, hourly))
    return out


def _prometheus(
    data: list[Series],
    start: int,
    end: int,
    step_s: int,
    repeat: int,
    ours: dict[str, float],
    rollup: tuple[int, int],
) -> dict[str, float]:
    """The same queries over HTTP on a private Prometheus, and our time over theirs."""
    with tempfile.TemporaryDirectory() as folder:
        prom = PromServer(Path(folder), data)
        try:
            rng = {"query": RANGE_QUERY, "start": start / 1000, "end": end / 1000, "step": step_s}
            one = {"query": INSTANT_QUERY, "time": end / 1000}
            prom.get("query_range", **rng)  # warm the block caches as ours are warm
            range_ms = _best_ms(lambda: prom.get("query_range", **rng), repeat)
            instant_ms = _best_ms(lambda: prom.get("query", **one), repeat)
            hourly = {
                "query": ROLLUP_QUERY,
                "start": rollup[0] / 1000,
                "end": rollup[1] / 1000,
                "step": HOUR // 1000,
            }
            rollup_ms = _best_ms(lambda: prom.get("query_range", **hourly), repeat)
            pid = prom.proc.pid
            range_cpu = _cpu_ms(lambda: prom.get("query_range", **rng), repeat, pid)
            instant_cpu = _cpu_ms(lambda: prom.get("query", **one), 4 * repeat, pid)
        finally:
            prom.stop()
    return {
        "prometheus_range_ms": range_ms,
        "prometheus_instant_ms": instant_ms,
        "prometheus_rollup_max_over_time_1h_ms": rollup_ms,
        "range_ratio_ours_over_prometheus": ours["range_api_ms"] / range_ms,
        "instant_ratio_ours_over_prometheus": ours["instant_sum_10k_series_ms"] / instant_ms,
        "rollup_ratio_ours_over_prometheus": ours["rollup_max_over_time_1h_ms"] / rollup_ms,
        "prometheus_range_cpu_ms": range_cpu,
        "prometheus_instant_cpu_ms": instant_cpu,
        "range_cpu_ratio_ours_over_prometheus": ours["range_api_cpu_ms"] / max(range_cpu, 1e-3),
        "instant_cpu_ratio_ours_over_prometheus": ours["instant_cpu_ms"] / max(instant_cpu, 1e-3),
    }
