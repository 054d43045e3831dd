"""Alert rules and events as the HTTP views, the Dash callbacks and the page use them.

One implementation of each rule: a snooze reads 0 once it has ended, wherever it is shown;
saving or deleting a rule makes the runner read the rules again at once (other processes reload
them every few seconds). Errors are domain exceptions (``RuleNotFound``, ``RuleExists``,
``EventNotFound``, ``ValidationError``) that each caller maps to its own answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from dashboard.alerts.engine import Rule, validate_rule
from dashboard.alerts.store import AlertStore
from dashboard.db import audit
from dashboard.metrics.model import ValidationError
from dashboard.outbound_policy import mask_url

SNOOZE_MAX_MINUTES = 10_080  # a week
EVENTS_MAX = 1000
# the database's integers stop at 2**63 (SQLite raises past them)
DB_INT_LIMIT = 2**63
SINCE_MAX = 2**53 - 1


class RuleNotFound(LookupError):
    """No rule has this id."""

    def __init__(self, rule_id: str) -> None:
        """The error for ``rule_id``."""
        super().__init__(rule_id)
        self.rule_id = rule_id


class RuleExists(Exception):
    """A new rule's id is taken."""

    def __init__(self, rule_id: str) -> None:
        """The error for ``rule_id``."""
        super().__init__(rule_id)
        self.rule_id = rule_id


class EventNotFound(LookupError):
    """No event has this id."""

    def __init__(self, event_id: int) -> None:
        """The error for ``event_id``."""
        super().__init__(event_id)
        self.event_id = event_id


class RuleReloader(Protocol):
    """What evaluates the rules and must read them again after a change (the runner)."""

    def reload_rules(self) -> None:
        """Read the rules again."""


def active_snooze(*, until_ms: int, now_ms: int) -> int:
    """When a snooze ends, or 0 when it has ended (at ``now_ms`` itself) or there is none."""
    return until_ms if until_ms > now_ms else 0


def snoozed_until(*, store: AlertStore, rule_id: str, now_ms: int) -> int:
    """Until when a rule is snoozed; 0 when it is not, or no longer."""
    return active_snooze(until_ms=store.snoozed_until(rule_id), now_ms=now_ms)


def rules_with_snooze(*, store: AlertStore, now_ms: int) -> list[dict[str, Any]]:
    """Every rule in its JSON form, with ``snoozed_until`` (0 once the snooze has ended)."""
    return [
        {
            **rule.to_json(),
            "snoozed_until": snoozed_until(store=store, rule_id=rule.id, now_ms=now_ms),
        }
        for rule in store.rules()
    ]


def get_rule(*, store: AlertStore, rule_id: str) -> Rule:
    """A rule by id; RuleNotFound when there is none."""
    rule = store.get_rule(rule_id)
    if rule is None:
        raise RuleNotFound(rule_id)
    return rule


def audit_detail(rule: Rule, before: Rule | None = None) -> dict[str, Any]:
    """What the audit trail says of a saved rule: its settings, the webhook only as whether
    there is one (a credential: never its URL, not even masked), and with ``before`` (the rule
    it replaced) the names of the fields that changed."""
    detail = rule.to_record(lambda _url: "set")
    if before is not None:
        old = before.to_record(lambda _url: "set")
        changed = [k for k in sorted(detail.keys() | old.keys()) if detail.get(k) != old.get(k)]
        if rule.webhook != before.webhook and "webhook" not in changed:
            changed.append("webhook")
        detail["changed"] = changed
    return detail


def save_rule(
    *, store: AlertStore, runner: RuleReloader, rule: Rule, before: Rule | None = None
) -> Rule:
    """Store a rule (new, or replacing ``before``), record it in the audit trail and have the
    runner read the rules again."""
    store.put_rule(rule)
    action = "alert_rule.create" if before is None else "alert_rule.update"
    audit.note(store, action, "alert_rule", rule.id, audit_detail(rule, before))
    runner.reload_rules()
    return rule


def create_rule(*, store: AlertStore, runner: RuleReloader, body: Any) -> Rule:
    """A new rule from its JSON form; ValidationError when invalid, RuleExists when taken."""
    rule = validate_rule(body)
    if store.get_rule(rule.id) is not None:
        raise RuleExists(rule.id)
    return save_rule(store=store, runner=runner, rule=rule)


def update_rule(*, store: AlertStore, runner: RuleReloader, rule_id: str, body: Any) -> Rule:
    """Replace rule ``rule_id`` (which overrides the body's id); RuleNotFound when absent.

    The webhook is write-only: a body without it (or with the masked form the API showed)
    keeps the stored one; ``""`` clears it.
    """
    existing = store.get_rule(rule_id) if isinstance(body, Mapping) else None
    if existing is not None and existing.webhook:
        given = body.get("webhook")
        if given is None or given == mask_url(existing.webhook):
            body = {**body, "webhook": existing.webhook}
    rule = validate_rule(body, rule_id=rule_id)
    before = existing if existing is not None else store.get_rule(rule.id)
    if before is None:
        raise RuleNotFound(rule.id)
    return save_rule(store=store, runner=runner, rule=rule, before=before)


def delete_rule(*, store: AlertStore, runner: RuleReloader, rule_id: str) -> None:
    """Delete a rule and have the runner read the rules again; RuleNotFound when absent."""
    if not store.delete_rule(rule_id):
        raise RuleNotFound(rule_id)
    audit.note(store, "alert_rule.delete", "alert_rule", rule_id)
    runner.reload_rules()


def snooze(*, store: AlertStore, rule_id: str, minutes: Any, now_ms: int) -> int:
    """Silence a rule's toasts, sounds and webhooks for ``minutes`` (0 lifts it); its end."""
    if (
        isinstance(minutes, bool)
        or not isinstance(minutes, int | float)
        or not 0 <= minutes <= SNOOZE_MAX_MINUTES
    ):
        raise ValidationError("minutes", f"0 to {SNOOZE_MAX_MINUTES}")
    until = int(now_ms + minutes * 60_000) if minutes else 0
    if not store.snooze(rule_id, until):
        raise RuleNotFound(rule_id)
    audit.note(
        store, "alert_rule.snooze", "alert_rule", rule_id, {"minutes": minutes, "until": until}
    )
    return until


def recent_events(
    *, store: AlertStore, limit: int = 100, since_ts: int = 0
) -> list[dict[str, Any]]:
    """The newest events first: ``limit`` clamped to 1..1000, from ``since_ts`` (clamped) on."""
    limit = min(max(limit, 1), EVENTS_MAX)
    since_ts = min(max(since_ts, 0), SINCE_MAX)
    return store.events(limit=limit, since_ts=since_ts)


def firing(*, store: AlertStore) -> list[dict[str, Any]]:
    """The (rule, series) pairs firing now."""
    return store.firing()


def acknowledge(*, store: AlertStore, event_id: int, username: str) -> None:
    """Mark an event acknowledged by ``username``; EventNotFound when there is no such event."""
    # ids past the database's 64-bit integers name no event (and SQLite would raise on them)
    if not 0 <= event_id < DB_INT_LIMIT or not store.ack(event_id, username):
        raise EventNotFound(event_id)
    audit.note(store, "alert_event.ack", "alert_event", event_id)
