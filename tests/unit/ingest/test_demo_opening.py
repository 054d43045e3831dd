"""The demo's opening incident: an error spike a minute long from where the live feed starts,
over the demo rule's 5 % for long enough to fire it, and back under 4 % (its resolve value) by
the end; no change anywhere else, so the backfill is the same with or without it."""

from __future__ import annotations

import numpy as np

from dashboard.alerts.engine import Engine, validate_rule
from dashboard.metrics.model import SeriesKey
from ingest.demo import DEMO_RULE
from ingest.demo_data import ERROR_RATE, OPENING_SPIKE_MS, DemoSource

START = 1_764_427_200_000 + 17 * 60_000  # a whole minute, outside the hourly spikes' blocks


def errors(source: DemoSource, ts: np.ndarray) -> np.ndarray:
    """The error rate the source gives at ``ts``."""
    batch = source.generate(ts)
    return next(s.values for s in batch.series if s.key == ERROR_RATE)


def test_the_opening_spike_fires_the_demo_rule_and_resolves_within_two_minutes():
    """Fed a point a second from 15 s before the spike, the demo rule fires and resolves."""
    ts = np.arange(START - 15_000, START + 2 * 60_000, 1000, dtype=np.int64)
    values = errors(DemoSource(opening_spike_ms=START), ts)
    engine = Engine()
    engine.set_rules([validate_rule(DEMO_RULE)])
    events = []
    for t, v in zip(ts.tolist(), values.tolist(), strict=True):
        events += engine.observe(SeriesKey.of("demo.error_rate"), t, v)
    states = [(e.state, (e.ts - START) / 1000) for e in events]
    assert [s for s, _ in states] == ["pending", "firing", "resolved"], states
    fired, resolved = states[1][1], states[2][1]
    assert 0 < fired < 30 and fired < resolved <= OPENING_SPIKE_MS / 1000


def test_without_a_start_the_source_is_unchanged():
    """The spike touches only its minute: before and after it the values are the plain ones."""
    ts = np.arange(START - 60_000, START + 3 * 60_000, 5000, dtype=np.int64)
    plain = errors(DemoSource(seed=3), ts)
    opened = errors(DemoSource(seed=3, opening_spike_ms=START), ts)
    outside = (ts < START) | (ts >= START + OPENING_SPIKE_MS)
    np.testing.assert_array_equal(plain[outside], opened[outside])
    assert (opened[~outside] >= plain[~outside]).all()
