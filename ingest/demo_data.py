"""Simulated SaaS metrics that look real (pure: numpy only).

Active users follow a daily curve with noise; revenue per hour follows the users; the error
rate idles near 1 % with spikes that cross 5 % about once an hour; four services are up,
now and then degraded or down (the API degrades during error spikes); requests per second
split by route. Everything is a function of time plus noise, so a backfill and the live feed
join without a seam.
"""

from __future__ import annotations

import numpy as np

from dashboard.metrics.model import Batch, SeriesKey, make_points
from dashboard.metrics.steps import DAY, HOUR, MINUTE

SERVICES = ("api", "db", "cache", "queue")
ROUTES = {"/": 0.35, "/api/orders": 0.25, "/api/search": 0.3, "/login": 0.1}
ERROR_THRESHOLD = 0.05
SPIKE_BLOCK_MS = 30 * MINUTE

ACTIVE_USERS = SeriesKey.of("demo.active_users")
REVENUE = SeriesKey.of("demo.revenue_usd")
ERROR_RATE = SeriesKey.of("demo.error_rate")


def _block_random(block: np.ndarray, salt: int) -> np.ndarray:
    """A stable pseudo-random number in [0, 1) per time block (a cheap integer hash)."""
    x = (block.astype(np.uint64) * np.uint64(2654435761) + np.uint64(salt)) & np.uint64(0xFFFFFFFF)
    x ^= x >> np.uint64(15)
    x = (x * np.uint64(2246822519)) & np.uint64(0xFFFFFFFF)
    x ^= x >> np.uint64(13)
    return x.astype(np.float64) / 2**32


def daily_users(ts: np.ndarray) -> np.ndarray:
    """The noiseless daily curve of active users: low at 04:00 UTC, high at 16:00 UTC."""
    day_frac = (ts % DAY) / DAY
    return 1500.0 + 900.0 * np.sin(2 * np.pi * (day_frac - 0.417))


def spike_level(ts: np.ndarray) -> np.ndarray:
    """0 outside error spikes, up to 1 inside: a 40-160 s spike in about half the half hours."""
    block = ts // SPIKE_BLOCK_MS
    happens = _block_random(block, 3) < 0.5
    start = _block_random(block, 1) * (SPIKE_BLOCK_MS - 3 * MINUTE)
    length = 40_000 + _block_random(block, 2) * 120_000
    offset = ts % SPIKE_BLOCK_MS - start
    inside = happens & (offset >= 0) & (offset < length)
    shape = np.sin(np.pi * np.clip(offset / length, 0, 1))
    return np.where(inside, shape, 0.0)


OPENING_SPIKE_MS = 60_000  # the opening incident's length (see DemoSource)


def opening_spike(ts: np.ndarray, start_ms: int | None) -> np.ndarray:
    """The demo's opening incident: an error spike of a minute from ``start_ms`` (a sine, as
    the hourly ones), 0 elsewhere and everywhere without a start."""
    if start_ms is None:
        return np.zeros(ts.shape)
    offset = ts - start_ms
    inside = (offset >= 0) & (offset < OPENING_SPIKE_MS)
    return np.where(inside, np.sin(np.pi * np.clip(offset / OPENING_SPIKE_MS, 0, 1)), 0.0)


class DemoSource:
    """Generates a batch of demo points at any timestamps.

    ``opening_spike_ms``: when the live demo starts, an error spike of a minute begins there,
    so a newcomer sees the demo's alert rule fire (toast, sound, panel) and resolve within a
    couple of minutes of ``make run``, not at the next hourly spike.
    """

    def __init__(self, seed: int = 7, opening_spike_ms: int | None = None) -> None:
        """A generator with its own noise stream."""
        self._rng = np.random.default_rng(seed)
        self.opening_spike_ms = opening_spike_ms

    def keys(self) -> list[SeriesKey]:
        """Every series the demo produces."""
        return (
            [ACTIVE_USERS, REVENUE, ERROR_RATE]
            + [SeriesKey.of("demo.health", {"service": s}) for s in SERVICES]
            + [SeriesKey.of("demo.requests", {"route": r}) for r in ROUTES]
        )

    def generate(self, ts: np.ndarray) -> Batch:
        """Demo points at the given millisecond timestamps (one point per series each)."""
        ts = np.asarray(ts, dtype=np.int64)
        n = ts.size
        rng = self._rng
        users = daily_users(ts) * (1 + 0.012 * rng.standard_normal(n))
        users = np.maximum(np.round(users), 0)
        revenue = users * 1.15 * (1 + 0.04 * rng.standard_normal(n))
        spike = np.maximum(spike_level(ts), opening_spike(ts, self.opening_spike_ms))
        errors = np.clip(0.008 + 0.004 * rng.standard_normal(n) + 0.14 * spike, 0, 1)
        out = [
            make_points(ACTIVE_USERS, ts, users, "users"),
            make_points(REVENUE, ts, np.round(np.maximum(revenue, 0), 2), "USD/h"),
            make_points(ERROR_RATE, ts, np.round(errors, 4), "ratio"),
        ]
        for i, service in enumerate(SERVICES):
            state = np.ones(n)
            hour_block = ts // HOUR
            episode = _block_random(hour_block, 10 + i)
            minute_in_hour = (ts % HOUR) / MINUTE
            degraded = (episode < 0.3) & (np.abs(minute_in_hour - episode * 180) < 3)
            down = (episode < 0.08) & (np.abs(minute_in_hour - episode * 180) < 1)
            if service == "api":
                degraded |= spike > 0.5
            state = np.where(degraded, 0.5, state)
            state = np.where(down, 0.0, state)
            out.append(make_points(SeriesKey.of("demo.health", {"service": service}), ts, state))
        total_rps = users * 0.4
        for route, share in ROUTES.items():
            rps = total_rps * share * (1 + 0.04 * rng.standard_normal(n))
            key = SeriesKey.of("demo.requests", {"route": route})
            out.append(make_points(key, ts, np.round(np.maximum(rps, 0), 1), "req/s"))
        return Batch(out)

    def backfill(self, start_ms: int, end_ms: int, step_ms: int) -> Batch:
        """Points every ``step_ms`` from ``start_ms`` up to ``end_ms`` (inclusive)."""
        first = -(-start_ms // step_ms) * step_ms
        return self.generate(np.arange(first, end_ms + 1, step_ms, dtype=np.int64))
