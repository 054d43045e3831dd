"""The demo source as a running task: backfill the last 24 h, then a point a second."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from dashboard.metrics.model import Batch
from dashboard.metrics.steps import DAY, HOUR, SECOND
from ingest.demo_data import ACTIVE_USERS, DemoSource

log = logging.getLogger(__name__)


def backfill(
    source: DemoSource,
    publish: Callable[[Batch], int],
    *,
    last_ts: int,
    now_ms: int,
    step_ms: int,
) -> int:
    """Publish demo history after ``last_ts`` (at most 24 h back) up to now, an hour at a time."""
    start = max(now_ms - DAY + step_ms, last_ts + step_ms)
    total = 0
    while start <= now_ms:
        end = min(start + HOUR - 1, now_ms)
        total += publish(source.backfill(start, end, step_ms))
        start = end + 1
    return total


def run(
    publish: Callable[[Batch], int],
    *,
    last_ts: int,
    step_ms: int,
    sleep: Callable[[float], None],
    clock: Callable[[], float] = time.time,
    should_stop: Callable[[], bool] = lambda: False,
    opening_spike_after_s: float | None = 15.0,
) -> None:
    """Backfill, then publish one point per series at each whole second until told to stop;
    the live feed opens with an error spike ``opening_spike_after_s`` seconds in (None: none),
    so the demo's alert rule fires and resolves while a newcomer watches."""
    now = int(clock() * 1000)
    opening = None if opening_spike_after_s is None else now + int(opening_spike_after_s * 1000)
    source = DemoSource(opening_spike_ms=opening)
    count = backfill(source, publish, last_ts=last_ts, now_ms=now, step_ms=step_ms)
    log.info("demo: backfilled %d points", count)
    while not should_stop():
        now_s = clock()
        sleep(1.0 - (now_s % 1.0))
        ts = int(clock()) * SECOND
        try:
            publish(source.generate([ts]))
        except Exception:  # a failing tick must not end the demo
            log.exception("demo: publishing failed")


def last_demo_ts(series: list, default: int = -1) -> int:
    """The last stored timestamp of the demo, or ``default`` when there is none."""
    for info in series:
        if info.key == ACTIVE_USERS:
            return int(info.last_ts)
    return default


# The demo's alert rule (created when the demo starts, unless a rule has this id): the error
# rate above 5 % for 10 s, back under 4 % to resolve. The opening spike fires it.
DEMO_RULE = {
    "id": "demo-error-rate",
    "name": "Error rate above 5 %",
    "series": {"name": "demo.error_rate", "labels": {}},
    "condition": "above",
    "threshold": 0.05,
    "resolve_threshold": 0.04,
    "for_s": 10,
    "severity": "warning",
}
