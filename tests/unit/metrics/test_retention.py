"""The retention job with a stand-in store: it counts what is dropped, survives a failing
database and a node that holds the retention lock (the real store: test_postgres_store.py)."""

from __future__ import annotations

import pytest

from dashboard.metrics.retention import retention_once, run_retention
from dashboard.telemetry import Metrics


class FakeStore:
    """Answers ``retention`` with a set result, or raises, and records the times it was given."""

    def __init__(self, result: dict[str, int] | Exception) -> None:
        """A store whose retention returns (or raises) ``result``."""
        self.result = result
        self.calls: list[int] = []

    def retention(self, now_ms: int) -> dict[str, int]:
        """The set result."""
        self.calls.append(now_ms)
        if isinstance(self.result, Exception):
            raise self.result
        return self.result


def dropped(metrics: Metrics, tier: str) -> float | None:
    """The retention counter of one tier."""
    return metrics.registry.get_sample_value("dashboard_retention_dropped_total", {"tier": tier})


def test_what_is_dropped_is_counted_per_tier() -> None:
    """Each tier's rows go to the counter; tiers with nothing dropped are not counted."""
    metrics = Metrics()
    store = FakeStore({"raw": 5, "1m": 0, "5m": 2})
    assert retention_once(store=store, metrics=metrics, now_ms=42) == {"raw": 5, "1m": 0, "5m": 2}
    assert store.calls == [42]
    assert dropped(metrics, "raw") == 5.0 and dropped(metrics, "5m") == 2.0
    assert not dropped(metrics, "1m")


@pytest.mark.parametrize("result", [{}, OSError("database down")])
def test_a_failure_or_another_node_running_it_drops_nothing(result) -> None:
    """A database error is logged and the job goes on; another node's run counts nothing."""
    metrics = Metrics()
    assert retention_once(store=FakeStore(result), metrics=metrics, now_ms=1) == {}
    assert not dropped(metrics, "raw")


def test_the_loop_runs_at_once_then_after_each_interval() -> None:
    """The first run is immediate; each later one follows a sleep of the interval."""
    store = FakeStore({"raw": 1})
    sleeps: list[float] = []
    ticks = iter([100, 200, 300])

    class Stop(Exception):
        """Ends the loop."""

    def sleep(seconds: float) -> None:
        """Record the sleep; stop after the second."""
        sleeps.append(seconds)
        if len(sleeps) == 2:
            raise Stop

    with pytest.raises(Stop):
        run_retention(
            store=store, metrics=Metrics(), sleep=sleep, interval_s=60.0, clock=lambda: next(ticks)
        )
    assert store.calls == [100, 200] and sleeps == [60.0, 60.0]
