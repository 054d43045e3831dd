"""The periodic retention job: drops what is past each tier's retention, logs and counts it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from dashboard.clock import now_ms

log = logging.getLogger(__name__)

INTERVAL_S = 3600.0


def retention_once(rt: Any, now_ms: int) -> dict[str, int]:
    """Run the store's retention once; log and count what it dropped (a failure is logged)."""
    try:
        dropped = rt.store.retention(now_ms)
    except Exception:  # the job must outlive a database outage; the next run catches up
        log.exception("retention failed; trying again at the next run")
        return {}
    if not dropped:
        log.info("retention: another node is running it")
        return {}
    for tier, rows in dropped.items():
        if rows:
            rt.metrics.retention_dropped.labels(tier=tier).inc(rows)
    log.info(
        "retention dropped %s", ", ".join(f"{tier}: {rows} rows" for tier, rows in dropped.items())
    )
    return dropped


def run_retention(
    rt: Any,
    sleep: Callable[[float], Any],
    *,
    interval_s: float = INTERVAL_S,
    clock: Callable[[], int] | None = None,
) -> None:
    """Every ``interval_s`` seconds (the first run at once), apply retention; runs until killed."""
    now = clock or now_ms
    while True:
        retention_once(rt, now())
        sleep(interval_s)
