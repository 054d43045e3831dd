"""``/api/v1/alerts``: rules (editors change them), events, acknowledge and snooze."""

from __future__ import annotations

import time

from flask import Blueprint, current_app, request
from flask.typing import ResponseReturnValue

from dashboard.alerts.engine import validate_rule
from dashboard.api.errors import error
from dashboard.auth.guard import current_user, require_role
from dashboard.metrics.model import ValidationError

bp = Blueprint("alerts", __name__, url_prefix="/api/v1/alerts")


def service():  # type: ignore[no-untyped-def]
    """The alert service of the current app."""
    return current_app.extensions["dashboard"].alerts


@bp.get("/rules")
def list_rules() -> ResponseReturnValue:
    """Every rule, with whether it is snoozed."""
    store = service().store
    now = time.time() * 1000
    return {
        "rules": [
            {**r.to_json(), "snoozed_until": s if (s := store.snoozed_until(r.id)) > now else 0}
            for r in store.rules()
        ]
    }


@bp.get("/rules/<rule_id>")
def get_rule(rule_id: str) -> ResponseReturnValue:
    """One rule."""
    rule = service().store.get_rule(rule_id)
    return rule.to_json() if rule else error(404, "unknown rule", rule_id)


def _save(rule_id: str | None, creating: bool) -> ResponseReturnValue:
    """Validate and store a rule from the request body."""
    svc = service()
    try:
        rule = validate_rule(request.get_json(silent=True), rule_id=rule_id)
    except ValidationError as exc:
        return error(400, "invalid rule", {"field": exc.field, "message": exc.message})
    exists = svc.store.get_rule(rule.id) is not None
    if creating and exists:
        return error(409, "rule exists", rule.id)
    if not creating and not exists:
        return error(404, "unknown rule", rule.id)
    svc.store.put_rule(rule)
    svc.reload_rules()
    return rule.to_json(), 201 if creating else 200


@bp.post("/rules")
@require_role("editor")
def create_rule() -> ResponseReturnValue:
    """Create a rule (editors and admins)."""
    return _save(None, True)


@bp.put("/rules/<rule_id>")
@require_role("editor")
def update_rule(rule_id: str) -> ResponseReturnValue:
    """Replace a rule (editors and admins)."""
    return _save(rule_id, False)


@bp.delete("/rules/<rule_id>")
@require_role("editor")
def delete_rule(rule_id: str) -> ResponseReturnValue:
    """Delete a rule (editors and admins)."""
    svc = service()
    if not svc.store.delete_rule(rule_id):
        return error(404, "unknown rule", rule_id)
    svc.reload_rules()
    return {"deleted": rule_id}


@bp.post("/rules/<rule_id>/snooze")
@require_role("editor")
def snooze_rule(rule_id: str) -> ResponseReturnValue:
    """Silence a rule's toasts, sounds and webhooks for ``minutes`` (0 lifts it)."""
    body = request.get_json(silent=True) or {}
    minutes = body.get("minutes") if isinstance(body, dict) else None
    if (
        isinstance(minutes, bool)
        or not isinstance(minutes, int | float)
        or not 0 <= minutes <= 10080
    ):
        return error(400, "bad snooze", "minutes: 0 to 10080")
    until = int(time.time() * 1000 + minutes * 60_000) if minutes else 0
    if not service().store.snooze(rule_id, until):
        return error(404, "unknown rule", rule_id)
    return {"rule_id": rule_id, "snoozed_until": until}


@bp.get("/events")
def list_events() -> ResponseReturnValue:
    """Recent events (newest first) and the pairs firing now."""
    try:
        limit = min(max(int(request.args.get("limit", 100)), 1), 1000)
        # clamped: the database's integers stop at 2**63, past which SQLite raises
        since = min(max(int(request.args.get("since", 0)), 0), 2**53 - 1)
    except ValueError:
        return error(400, "bad parameter", "limit and since are integers")
    store = service().store
    return {"events": store.events(limit=limit, since_ts=since), "firing": store.firing()}


@bp.post("/events/<int:event_id>/ack")
@require_role("editor")
def ack_event(event_id: int) -> ResponseReturnValue:
    """Acknowledge an event (editors and admins)."""
    user = current_user()
    # ids past the database's 64-bit integers name no event (and SQLite would raise on them)
    if event_id >= 2**63 or not service().store.ack(event_id, user.username if user else "?"):
        return error(404, "unknown event", event_id)
    return {"acked": event_id}
