"""The runner tells browsers whether a rule is snoozed, and calls no webhook while it is."""

from __future__ import annotations

from typing import Any

from dashboard.alerts.engine import validate_rule
from dashboard.alerts.runner import AlertService
from dashboard.alerts.store import AlertStore
from dashboard.metrics.model import Batch, SeriesKey, make_points

NOW_S = 1_700_000_000.0
RULE = {
    "id": "errors-high",
    "name": "Errors high",
    "series": {"name": "svc.errors", "labels": {}},
    "condition": "above",
    "threshold": 10,
    "resolve_threshold": 10,
    "for_s": 0,
    "severity": "critical",
    "webhook": "https://hooks.example.com/x",
}


class Notifier:
    """Records the webhooks it is asked to send."""

    def __init__(self) -> None:
        """Nothing sent yet."""
        self.sent: list[str] = []

    def enqueue(self, url: str, payload: dict[str, Any]) -> bool:
        """Record one delivery."""
        self.sent.append(url)
        return True


def _runner(tmp_path, snoozed_until: int) -> tuple[AlertService, list[dict], Notifier]:
    """A runner over one rule snoozed until ``snoozed_until``, at a fixed clock."""
    store = AlertStore(tmp_path / "alerts.db")
    store.put_rule(validate_rule(RULE))
    store.snooze("errors-high", snoozed_until)
    emitted: list[dict] = []
    notifier = Notifier()
    runner = AlertService(
        store,
        emit=emitted.append,
        notifier=notifier,  # type: ignore[arg-type]
        clock=lambda: NOW_S,
    )
    key = SeriesKey.of("svc.errors")
    t0 = int(NOW_S * 1000) - 2000
    runner.on_batch(Batch([make_points(key, [t0, t0 + 1000], [50.0, 1.0])]))
    return runner, emitted, notifier


def test_while_snoozed_events_are_flagged_and_no_webhook_is_sent(tmp_path):
    """A snooze in force: both transitions reach the browsers as snoozed, no webhook goes out."""
    _, emitted, notifier = _runner(tmp_path, int(NOW_S * 1000) + 1)
    assert [(e["state"], e["snoozed"]) for e in emitted] == [
        ("firing", True),
        ("resolved", True),
    ]
    assert notifier.sent == []


def test_a_snooze_that_ended_now_no_longer_silences(tmp_path):
    """A snooze ending at this very millisecond is over: webhooks go out again."""
    _, emitted, notifier = _runner(tmp_path, int(NOW_S * 1000))
    assert [(e["state"], e["snoozed"]) for e in emitted] == [
        ("firing", False),
        ("resolved", False),
    ]
    assert notifier.sent == [RULE["webhook"]] * 2
