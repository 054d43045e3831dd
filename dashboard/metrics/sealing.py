"""The periodic seal: moves the database store's head into compressed chunks, and every ten
minutes records what the database holds (``/metrics``: ``dashboard_db_*``,
``dashboard_sealed_points_total``).

Like retention, it receives the store and the counters it works with, so it imports neither the
runtime nor the ingest side. Every node and worker may run it: the store lets one sealer at a
time work on a database (PostgreSQL: an advisory lock; SQLite: one process owns the file).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, Protocol

from dashboard.telemetry import Metrics

log = logging.getLogger(__name__)

INTERVAL_S = 60.0
# what the database holds is read less often than the seal runs: it counts every chunk row
STATS_EVERY_S = 600.0
STORED_KEYS = ("series", "head_points", "chunks", "chunk_points", "rollup_chunks")


class SealingStore(Protocol):
    """A database store with a head to seal (SQLite, PostgreSQL)."""

    chunk_faults: int

    def seal(self) -> dict:
        """Seal the head; ``{"series", "points", "chunks"}`` sealed."""
        ...

    def stats(self) -> dict[str, float]:
        """What the store holds."""
        ...


def record_stats(store: SealingStore, metrics: Metrics) -> dict[str, float]:
    """Set the ``dashboard_db_*`` gauges from the store's stats; the stats."""
    stats = store.stats()
    for key in STORED_KEYS:
        if key in stats:
            metrics.db_stored.labels(what=key).set(stats[key])
    for key, value in stats.items():
        if key.endswith("_bytes") and key != "chunk_data_bytes":
            metrics.db_bytes.labels(part=key.removesuffix("_bytes")).set(value)
    if "head_bytes" not in stats:  # sqlite: the file as a whole
        metrics.db_bytes.labels(part="file").set(stats["bytes"])
    metrics.db_compression_ratio.set(stats["compression_ratio"])
    metrics.chunk_faults.set(store.chunk_faults)
    return stats


def seal_once(*, store: SealingStore, metrics: Metrics, stats: bool = True) -> dict:
    """Seal the head once and (with ``stats``) record what the database holds; a failure is
    logged (the next pass retries: the head keeps every point until its chunk is committed)."""
    started = time.perf_counter()
    try:
        done = store.seal()
        metrics.sealed_points.inc(done["points"])
        metrics.seal_seconds.observe(time.perf_counter() - started)
        if stats:
            record_stats(store, metrics)
    except Exception:  # the job must outlive a database outage
        log.exception("seal failed; trying again at the next pass")
        return {}
    if done["points"]:
        log.debug("sealed %(points)d points of %(series)d series into %(chunks)d chunks", done)
    return done


def run_sealer(
    *,
    store: SealingStore,
    metrics: Metrics,
    sleep: Callable[[float], Any],
    interval_s: float = INTERVAL_S,
    stats_every_s: float = STATS_EVERY_S,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """Every ``interval_s`` seconds, seal the head; every ``stats_every_s`` (and at the first
    pass) also read what the database holds, which counts every chunk; runs until killed."""
    last_stats: float | None = None
    while True:
        sleep(interval_s)
        now = clock()
        due = last_stats is None or now - last_stats >= stats_every_s
        if seal_once(store=store, metrics=metrics, stats=due) and due:
            last_stats = now
