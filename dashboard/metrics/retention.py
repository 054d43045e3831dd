"""The periodic retention job: drops what is past each tier's retention, logs and counts it.

It receives the store and the counters it works with (the web node and the worker each pass
their own), so it imports neither the runtime nor the ingest side.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol

from dashboard.clock import now_ms as wall_ms
from dashboard.telemetry import Metrics

log = logging.getLogger(__name__)

INTERVAL_S = 3600.0


class RetentionStore(Protocol):
    """A store that drops what is past each tier's retention (PostgreSQL)."""

    def retention(self, now_ms: int) -> dict[str, int]:
        """Rows dropped per tier; an empty dict when another node is running it."""
        ...


def retention_once(*, store: RetentionStore, metrics: Metrics, now_ms: int) -> dict[str, int]:
    """Run the store's retention once; log and count what it dropped (a failure is logged)."""
    try:
        dropped = store.retention(now_ms)
    except Exception:  # the job must outlive a database outage; the next run catches up
        log.exception("retention failed; trying again at the next run")
        return {}
    if not dropped:
        log.info("retention: another node is running it")
        return {}
    for tier, rows in dropped.items():
        if rows:
            metrics.retention_dropped.labels(tier=tier).inc(rows)
    log.info(
        "retention dropped %s", ", ".join(f"{tier}: {rows} rows" for tier, rows in dropped.items())
    )
    return dropped


def run_retention(
    *,
    store: RetentionStore,
    metrics: Metrics,
    sleep: Callable[[float], Any],
    interval_s: float = INTERVAL_S,
    clock: Callable[[], int] = wall_ms,
) -> None:
    """Every ``interval_s`` seconds (the first run at once), apply retention; runs until killed."""
    while True:
        retention_once(store=store, metrics=metrics, now_ms=clock())
        sleep(interval_s)
