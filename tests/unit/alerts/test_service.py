"""The alerts service: one meaning of a snooze, save-then-reload, and its domain errors."""

from __future__ import annotations

import pytest

from dashboard.alerts import service
from dashboard.alerts.engine import Event, validate_rule
from dashboard.alerts.store import AlertStore
from dashboard.metrics.model import ValidationError

NOW = 1_700_000_000_000
BODY = {
    "id": "errors-high",
    "name": "Errors high",
    "series": {"name": "svc.errors", "labels": {}},
    "condition": "above",
    "threshold": 10,
    "for_s": 0,
    "severity": "critical",
}


class Runner:
    """Counts how often the rules are read again."""

    def __init__(self) -> None:
        """No reload yet."""
        self.reloads = 0

    def reload_rules(self) -> None:
        """Count one reload."""
        self.reloads += 1


@pytest.fixture
def store(tmp_path):
    """An alert store in a fresh SQLite file."""
    s = AlertStore(tmp_path / "alerts.db")
    yield s
    s.close()


@pytest.fixture
def runner():
    """A runner that counts reloads."""
    return Runner()


def test_a_snooze_that_ends_now_or_before_reads_0():
    """At its end the snooze is over: 0, as before it; a millisecond earlier it is in force."""
    assert service.active_snooze(until_ms=NOW, now_ms=NOW) == 0
    assert service.active_snooze(until_ms=NOW - 1, now_ms=NOW) == 0
    assert service.active_snooze(until_ms=0, now_ms=NOW) == 0
    assert service.active_snooze(until_ms=NOW + 1, now_ms=NOW) == NOW + 1


def test_rules_with_snooze_shows_an_ended_snooze_as_0(store):
    """Every rule with its snooze: the one in force, 0 for an ended one and for none."""
    for rule_id in ("a", "b", "c"):
        store.put_rule(validate_rule({**BODY, "id": rule_id}))
    store.snooze("a", NOW + 60_000)
    store.snooze("b", NOW)
    rules = service.rules_with_snooze(store=store, now_ms=NOW)
    assert [(r["id"], r["snoozed_until"]) for r in rules] == [
        ("a", NOW + 60_000),
        ("b", 0),
        ("c", 0),
    ]
    assert rules[0]["name"] == "Errors high" and rules[0]["threshold"] == 10
    assert service.snoozed_until(store=store, rule_id="a", now_ms=NOW + 60_000) == 0
    assert service.snoozed_until(store=store, rule_id="missing", now_ms=NOW) == 0


def test_snooze_stores_its_end_and_0_minutes_lifts_it(store):
    """``minutes`` from now, in milliseconds; 0 lifts the snooze."""
    store.put_rule(validate_rule(BODY))
    assert service.snooze(store=store, rule_id="errors-high", minutes=10, now_ms=NOW) == (
        NOW + 600_000
    )
    assert store.snoozed_until("errors-high") == NOW + 600_000
    assert service.snooze(store=store, rule_id="errors-high", minutes=0.5, now_ms=NOW) == (
        NOW + 30_000
    )
    assert service.snooze(store=store, rule_id="errors-high", minutes=0, now_ms=NOW) == 0
    assert store.snoozed_until("errors-high") == 0


@pytest.mark.parametrize("minutes", [True, False, -1, 10_081, "5", None, float("nan"), [5]])
def test_snooze_refuses_minutes_outside_a_week(store, minutes):
    """Only numbers from 0 to 10080 minutes (a week); booleans are not numbers here."""
    store.put_rule(validate_rule(BODY))
    with pytest.raises(ValidationError) as caught:
        service.snooze(store=store, rule_id="errors-high", minutes=minutes, now_ms=NOW)
    assert f"{caught.value.field}: {caught.value.message}" == "minutes: 0 to 10080"
    assert store.snoozed_until("errors-high") == 0


def test_snoozing_an_unknown_rule_is_rule_not_found(store):
    """No such rule: RuleNotFound naming it."""
    with pytest.raises(service.RuleNotFound) as caught:
        service.snooze(store=store, rule_id="nope", minutes=5, now_ms=NOW)
    assert caught.value.rule_id == "nope"


def test_create_rule_validates_stores_and_reloads_once(store, runner):
    """A valid body is stored and the runner reloads; a bad one changes nothing."""
    with pytest.raises(ValidationError) as caught:
        service.create_rule(store=store, runner=runner, body={**BODY, "threshold": "high"})
    assert caught.value.field == "threshold" and runner.reloads == 0
    rule = service.create_rule(store=store, runner=runner, body=BODY)
    assert rule.id == "errors-high" and store.get_rule("errors-high") == rule
    assert runner.reloads == 1


def test_create_rule_with_a_taken_id_is_rule_exists(store, runner):
    """The second rule with an id is refused and nothing reloads."""
    service.create_rule(store=store, runner=runner, body=BODY)
    with pytest.raises(service.RuleExists) as caught:
        service.create_rule(store=store, runner=runner, body={**BODY, "name": "Other"})
    assert caught.value.rule_id == "errors-high" and runner.reloads == 1
    assert store.get_rule("errors-high").name == "Errors high"


def test_update_rule_replaces_an_existing_rule_under_its_url_id(store, runner):
    """The id given wins over the body's; an unknown id is RuleNotFound."""
    service.create_rule(store=store, runner=runner, body=BODY)
    rule = service.update_rule(
        store=store, runner=runner, rule_id="errors-high", body={**BODY, "id": "x", "threshold": 5}
    )
    assert rule.id == "errors-high" and store.get_rule("errors-high").threshold == 5
    assert runner.reloads == 2
    with pytest.raises(service.RuleNotFound):
        service.update_rule(store=store, runner=runner, rule_id="other", body=BODY)
    assert store.get_rule("other") is None and runner.reloads == 2


def test_get_and_delete_rule(store, runner):
    """A rule by id, then deleted (with a reload); afterwards both are RuleNotFound."""
    service.create_rule(store=store, runner=runner, body=BODY)
    assert service.get_rule(store=store, rule_id="errors-high").name == "Errors high"
    service.delete_rule(store=store, runner=runner, rule_id="errors-high")
    assert runner.reloads == 2
    with pytest.raises(service.RuleNotFound):
        service.get_rule(store=store, rule_id="errors-high")
    with pytest.raises(service.RuleNotFound):
        service.delete_rule(store=store, runner=runner, rule_id="errors-high")
    assert runner.reloads == 2


def _event(ts: int, state: str = "firing") -> Event:
    """An event of the rule at ``ts``."""
    return Event(
        rule_id="errors-high",
        series="svc.errors",
        state=state,
        value=12.0,
        ts=ts,
        severity="critical",
        rule_name="Errors high",
    )


def test_recent_events_clamp_their_limit_and_since(store):
    """``limit`` to 1..1000, ``since`` to what the database holds; newest first."""
    for ts in (1000, 2000, 3000):
        store.record(_event(ts))
    assert [e["ts"] for e in service.recent_events(store=store)] == [3000, 2000, 1000]
    assert [e["ts"] for e in service.recent_events(store=store, limit=0)] == [3000]
    assert len(service.recent_events(store=store, limit=10**9)) == 3
    assert [e["ts"] for e in service.recent_events(store=store, since_ts=2000)] == [3000, 2000]
    assert len(service.recent_events(store=store, since_ts=-5)) == 3
    assert service.recent_events(store=store, since_ts=2**70) == []
    assert [f["ts"] for f in service.firing(store=store)] == [3000]


def test_acknowledge_marks_the_event_and_refuses_unknown_ids(store):
    """Acknowledged by the user named; unknown ids, and ids past 64 bits, are EventNotFound."""
    event_id = store.record(_event(1000))
    service.acknowledge(store=store, event_id=event_id, username="ada")
    assert service.recent_events(store=store)[0]["acked_by"] == "ada"
    for missing in (event_id + 1, 2**63, 2**70, -1):
        with pytest.raises(service.EventNotFound) as caught:
            service.acknowledge(store=store, event_id=missing, username="ada")
        assert caught.value.event_id == missing
