"""Alert rules on PromQL expressions: validated, evaluated on a schedule, one event a change."""

from __future__ import annotations

import numpy as np
import pytest

from dashboard.alerts.engine import Engine, validate_rule
from dashboard.alerts.runner import AlertService
from dashboard.alerts.store import AlertStore
from dashboard.metrics.model import Batch, SeriesKey, SeriesPoints, ValidationError
from dashboard.metrics.steps import RAW
from dashboard.metrics.stores.hot import HotStore

NOW = 1_764_424_800_000
RATIO = "sum(rate(errs_total[1m])) / sum(rate(reqs_total[1m])) > 0.05"


def test_an_expression_rule_is_validated_and_round_trips():
    """``expr`` replaces ``series``; a bad expression is refused with the parser's words."""
    rule = validate_rule({"id": "ratio", "expr": RATIO, "for_s": 30})
    assert (rule.condition, rule.expr, rule.series_name) == ("present", RATIO, "")
    assert validate_rule(rule.to_json()) == rule
    assert rule.to_json()["series"] is None
    with pytest.raises(ValidationError) as bad:
        validate_rule({"id": "x", "expr": "sum(rate(errs_total[1m])"})
    assert bad.value.field == "expr" and "parse error" in bad.value.message
    with pytest.raises(ValidationError):
        validate_rule({"id": "x", "expr": "up", "condition": "nodata", "threshold": 5})
    with pytest.raises(ValidationError):
        validate_rule({"id": "x", "series": {"name": "a"}, "condition": "present"})
    above = validate_rule({"id": "y", "expr": "sum(up)", "condition": "above", "threshold": 2})
    assert above.breached(3) and not above.breached(2)
    assert not above.selects(SeriesKey.of("up"))  # points never feed it: the schedule does


def test_a_present_rule_fires_per_series_and_resolves_when_it_leaves_the_result():
    """Pending, then firing after ``for_s``; a series gone from the result resolves once."""
    engine = Engine()
    engine.set_rules([validate_rule({"id": "r", "expr": "up == 0", "for_s": 10})])
    a, b = '{job="a"}', '{job="b"}'
    first = engine.evaluated("r", {a: 0.0}, NOW)
    assert [(e.series, e.state) for e in first] == [(a, "pending")]
    assert engine.evaluated("r", {a: 0.0, b: 0.0}, NOW + 5_000)[0].state == "pending"
    fired = engine.evaluated("r", {a: 0.0, b: 0.0}, NOW + 10_000)
    assert [(e.series, e.state) for e in fired] == [(a, "firing")]
    assert engine.evaluated("r", {a: 0.0, b: 0.0}, NOW + 12_000) == []  # one event a change
    gone = engine.evaluated("r", {}, NOW + 20_000)
    assert [(e.series, e.state) for e in gone] == [(a, "resolved")]  # b was only pending
    assert engine.evaluated("r", {}, NOW + 25_000) == []


class Reader:
    """A hot store read as a node reads it."""

    def __init__(self, store: HotStore) -> None:
        """Wrap ``store``."""
        self.store = store

    def series_list(self):
        """Every known series."""
        return self.store.list_series()

    def query(self, key, start_ms, end_ms, step):
        """A range read."""
        return self.store.query(key, start_ms, end_ms, step)


def write(store: HotStore, start: int, end: int, errors_per_s: float) -> None:
    """Requests at 10/s and errors at ``errors_per_s`` as counters, a sample every 5 s."""
    ts = np.arange(start, end + 1, 5_000, dtype=np.int64)
    base = {"reqs_total": 10.0, "errs_total": errors_per_s}
    series = []
    for name, per_s in base.items():
        key = SeriesKey.of(name, {"job": "api"})
        old = store.query(key, 0, start - 1, RAW)
        last = float(old.value[-1]) if len(old) else 0.0
        values = last + per_s * (ts - start + 5_000) / 1000
        series.append(SeriesPoints(key, ts, values, ""))
    store.write(Batch(series))


def test_the_runner_evaluates_the_ratio_of_two_rates_and_records_one_event_each(tmp_path):
    """The error ratio crosses 5 %: one firing event stored and emitted; back under: resolved."""
    hot = HotStore()
    write(hot, NOW - 10 * 60_000, NOW, errors_per_s=1.0)  # 10 % errors
    store = AlertStore(tmp_path / "alerts.db")
    store.put_rule(validate_rule({"id": "ratio", "name": "Error ratio", "expr": RATIO}))
    emitted: list[dict] = []
    clock = [NOW / 1000]
    runner = AlertService(store, emit=emitted.append, clock=lambda: clock[0], reader=Reader(hot))
    runner.evaluate_expressions(NOW)
    runner.evaluate_expressions(NOW)  # the same state again: nothing new
    assert [(e["state"], e["rule"]) for e in emitted] == [("firing", "Error ratio")]
    assert emitted[0]["value"] == pytest.approx(0.1)
    write(hot, NOW + 5_000, NOW + 3 * 60_000, errors_per_s=0.1)  # 1 %
    runner.evaluate_expressions(NOW + 3 * 60_000)
    assert [e["state"] for e in emitted] == ["firing", "resolved"]
    assert [e["state"] for e in store.events(limit=10)] == ["resolved", "firing"]
