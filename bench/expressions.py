"""Live expressions: what evaluating the PromQL expressions of the viewers' dashboards once a
second costs a node (``dashboard.live.socket.expression_points``), on a real embedded runtime
(SQLite store, hot store) holding 1,000 counters (10 routes x 100 instances) over the last hour
at 15 s.

``exprs_<n>_ms``: one round of ``n`` dashboard-style expressions (rates by route, ratios,
quantiles, top-k), median of the rounds; ``exprs_<n>_core_share``: that round once a second as
a share of one core; ``per_expr_ms``: a round divided by its expressions. The feed evaluates
each distinct expression once per node and second, whatever the number of viewers.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from dashboard.live.socket import expression_points
from dashboard.metrics.model import Batch, SeriesKey, SeriesPoints
from dashboard.runtime import Runtime
from dashboard.settings import Settings

EXPRESSIONS = (
    "sum by (route) (rate(bench_requests_total[1m]))",
    "sum(rate(bench_requests_total[5m]))",
    'sum(rate(bench_requests_total{route="/r1"}[5m])) / sum(rate(bench_requests_total[5m]))',
    "topk(5, sum by (instance) (rate(bench_requests_total[5m])))",
    "max by (route) (rate(bench_requests_total[1m]))",
    "avg(rate(bench_requests_total[5m]))",
    "count(rate(bench_requests_total[5m]) > 0)",
    "quantile(0.95, rate(bench_requests_total[5m]))",
    "sum by (route) (increase(bench_requests_total[5m]))",
    "sum by (route) (irate(bench_requests_total[1m]))",
)


def _loaded(folder: Path, routes: int, instances: int, now: int) -> Runtime:
    """An embedded runtime holding an hour of counters at 15 s."""
    settings = Settings(
        _env_file=None,
        data_dir=folder,
        demo=False,
        ingest_tokens=["bench"],
        admin_password="bench-admin-password",
    )
    rt = Runtime.open(settings)
    ts = np.arange(now - 3_600_000, now + 1, 15_000, dtype=np.int64)
    rng = np.random.default_rng(7)
    for r in range(routes):
        series = []
        for i in range(instances):
            key = SeriesKey.of("bench_requests_total", {"route": f"/r{r}", "instance": f"i{i}"})
            values = np.cumsum(rng.poisson(5 + r, len(ts))).astype(np.float64)
            series.append(SeriesPoints(key, ts, values, ""))
        rt.bus.publish(Batch(series))
    return rt


def live_expressions(
    routes: int = 10, instances: int = 100, rounds: int = 10, counts: tuple[int, ...] = (1, 10)
) -> dict[str, float]:
    """The cost of one round of the live feed's expressions, by how many there are."""
    now = int(time.time()) // 15 * 15 * 1000
    with tempfile.TemporaryDirectory() as folder:
        rt = _loaded(Path(folder), routes, instances, now)
        try:
            out: dict[str, float] = {"series": float(routes * instances)}
            for n in counts:
                exprs = list(EXPRESSIONS[:n])
                expression_points(rt, exprs, now)  # warm: the hot store loads, caches fill
                times = []
                for k in range(rounds):
                    started = time.perf_counter()
                    points = expression_points(rt, exprs, now + 1000 * (k + 1))
                    times.append((time.perf_counter() - started) * 1000)
                assert points, "the expressions gave nothing"
                median = statistics.median(times)
                out[f"exprs_{n}_ms"] = round(median, 2)
                out[f"exprs_{n}_core_share"] = round(median / 1000, 4)
                out[f"exprs_{n}_per_expr_ms"] = round(median / n, 2)
            return out
        finally:
            rt.close()


if __name__ == "__main__":
    print(live_expressions())
