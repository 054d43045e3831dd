"""``/api/v1/alerts``: rules (editors change them), events, acknowledge and snooze."""

from __future__ import annotations

from flask import Blueprint, request
from flask.typing import ResponseReturnValue

from dashboard.alerts import service
from dashboard.alerts.runner import AlertService
from dashboard.api.errors import error
from dashboard.auth.guard import current_user, require_role
from dashboard.auth.limits import api_limit, user_key
from dashboard.clock import now_ms
from dashboard.extensions import current_runtime, limiter
from dashboard.metrics.model import ValidationError

bp = Blueprint("alerts", __name__, url_prefix="/api/v1/alerts")
limiter.limit(api_limit, key_func=user_key)(bp)


def runner() -> AlertService:
    """The alert runner of the current app (its store holds the rules and events)."""
    return current_runtime().alerts


def _invalid_rule(exc: ValidationError) -> ResponseReturnValue:
    """The 400 answer for a rule that does not validate."""
    return error(400, "invalid rule", {"field": exc.field, "message": exc.message})


@bp.get("/rules")
def list_rules() -> ResponseReturnValue:
    """Every rule, with when its snooze ends (0: not snoozed)."""
    return {"rules": service.rules_with_snooze(store=runner().store, now_ms=now_ms())}


@bp.get("/rules/<rule_id>")
def get_rule(rule_id: str) -> ResponseReturnValue:
    """One rule."""
    try:
        return service.get_rule(store=runner().store, rule_id=rule_id).to_json()
    except service.RuleNotFound:
        return error(404, "unknown rule", rule_id)


@bp.post("/rules")
@require_role("editor")
def create_rule() -> ResponseReturnValue:
    """Create a rule (editors and admins)."""
    alerts = runner()
    body = request.get_json(silent=True)
    try:
        rule = service.create_rule(store=alerts.store, runner=alerts, body=body)
    except ValidationError as exc:
        return _invalid_rule(exc)
    except service.RuleExists as exc:
        return error(409, "rule exists", exc.rule_id)
    return rule.to_json(), 201


@bp.put("/rules/<rule_id>")
@require_role("editor")
def update_rule(rule_id: str) -> ResponseReturnValue:
    """Replace a rule (editors and admins)."""
    alerts = runner()
    body = request.get_json(silent=True)
    try:
        rule = service.update_rule(store=alerts.store, runner=alerts, rule_id=rule_id, body=body)
    except ValidationError as exc:
        return _invalid_rule(exc)
    except service.RuleNotFound as exc:
        return error(404, "unknown rule", exc.rule_id)
    return rule.to_json(), 200


@bp.delete("/rules/<rule_id>")
@require_role("editor")
def delete_rule(rule_id: str) -> ResponseReturnValue:
    """Delete a rule (editors and admins)."""
    alerts = runner()
    try:
        service.delete_rule(store=alerts.store, runner=alerts, rule_id=rule_id)
    except service.RuleNotFound:
        return error(404, "unknown rule", rule_id)
    return {"deleted": rule_id}


@bp.post("/rules/<rule_id>/snooze")
@require_role("editor")
def snooze_rule(rule_id: str) -> ResponseReturnValue:
    """Silence a rule's toasts, sounds and webhooks for ``minutes`` (0 lifts it)."""
    body = request.get_json(silent=True) or {}
    minutes = body.get("minutes") if isinstance(body, dict) else None
    try:
        until = service.snooze(
            store=runner().store, rule_id=rule_id, minutes=minutes, now_ms=now_ms()
        )
    except ValidationError as exc:
        return error(400, "bad snooze", f"{exc.field}: {exc.message}")
    except service.RuleNotFound:
        return error(404, "unknown rule", rule_id)
    return {"rule_id": rule_id, "snoozed_until": until}


@bp.get("/events")
def list_events() -> ResponseReturnValue:
    """Recent events (newest first) and the pairs firing now."""
    try:
        limit = int(request.args.get("limit", 100))
        since = int(request.args.get("since", 0))
    except ValueError:
        return error(400, "bad parameter", "limit and since are integers")
    store = runner().store
    return {
        "events": service.recent_events(store=store, limit=limit, since_ts=since),
        "firing": service.firing(store=store),
    }


@bp.post("/events/<int:event_id>/ack")
@require_role("editor")
def ack_event(event_id: int) -> ResponseReturnValue:
    """Acknowledge an event (editors and admins)."""
    user = current_user()
    username = user.username if user else "?"
    try:
        service.acknowledge(store=runner().store, event_id=event_id, username=username)
    except service.EventNotFound:
        return error(404, "unknown event", event_id)
    return {"acked": event_id}
