"""The alerts panel: refresh on new events, create and delete rules (editors only)."""

from __future__ import annotations

import json
import time
from typing import Any

from dash import ALL, Dash, Input, Output, State, ctx, no_update

from dashboard import auth
from dashboard.alerts.engine import validate_rule
from dashboard.auth.guard import current_user
from dashboard.metrics.model import ValidationError
from dashboard.runtime import Runtime
from layouts import alerts as ap
from layouts import ids


def _rules_json(rt: Runtime) -> list[dict[str, Any]]:
    """Every rule in its JSON form, with when its snooze ends."""
    store = rt.alerts.store  # type: ignore[union-attr]
    return [{**r.to_json(), "snoozed_until": store.snoozed_until(r.id)} for r in store.rules()]


def _can_edit() -> bool:
    """True when the caller may change rules."""
    user = current_user()
    return user is not None and auth.role_at_least(user.role, "editor")


def _number_or_band(text: str | None) -> Any:
    """``0.05`` or ``1,5`` (a band) from the form, or None."""
    if text is None or not str(text).strip():
        return None
    parts = [p.strip() for p in str(text).split(",")]
    try:
        values = [float(p) for p in parts]
    except ValueError:
        return str(text)
    return values if len(values) > 1 else values[0]


def register(app: Dash, rt: Runtime) -> None:
    """Register the alert panel's callbacks on ``app``."""

    @app.callback(
        Output(ap.EVENTS, "children"),
        Output(ids.ALERTS_BADGE, "children"),
        Output(ids.ALERTS_BADGE, "hidden"),
        Input(ids.ALERTS_REFRESH, "data"),
        Input(ids.WIDGETS_REFRESH, "n_intervals"),
        prevent_initial_call=True,
    )
    def refresh_events(_stamp: Any, _n: Any) -> tuple[Any, str, bool]:
        """The newest events and the firing count."""
        store = rt.alerts.store  # type: ignore[union-attr]
        firing = len(store.firing())
        return ap.events_table(store.events(limit=20), _can_edit()), str(firing), firing == 0

    @app.callback(
        Output(ap.EVENTS, "children", allow_duplicate=True),
        Input({"type": ap.ACK, "event": ALL}, "n_clicks"),
        prevent_initial_call=True,
    )
    def acknowledge(clicks: list[Any]) -> Any:
        """Acknowledge the event whose button was pressed (editors)."""
        trigger = ctx.triggered_id
        if not isinstance(trigger, dict) or not any(clicks) or not _can_edit():
            return no_update
        user = current_user()
        store = rt.alerts.store  # type: ignore[union-attr]
        store.ack(int(trigger["event"]), user.username if user else "?")
        return ap.events_table(store.events(limit=20), True)

    @app.callback(
        Output(ap.RULES, "children", allow_duplicate=True),
        Input({"type": ap.SNOOZE, "rule": ALL}, "n_clicks"),
        prevent_initial_call=True,
    )
    def snooze(clicks: list[Any]) -> Any:
        """Snooze the rule whose button was pressed for an hour (editors)."""
        trigger = ctx.triggered_id
        if not isinstance(trigger, dict) or not any(clicks) or not _can_edit():
            return no_update
        store = rt.alerts.store  # type: ignore[union-attr]
        store.snooze(str(trigger["rule"]), int(time.time() * 1000) + 3_600_000)
        return ap.rules_list(_rules_json(rt), True)

    @app.callback(
        Output(ap.RULES, "children"),
        Output(ap.FORM_STATUS, "children"),
        Input(ap.CREATE, "n_clicks"),
        Input({"type": ap.DELETE, "rule": ALL}, "n_clicks"),
        State(ap.NEW["name"], "value"),
        State(ap.NEW["series"], "value"),
        State(ap.NEW["labels"], "value"),
        State(ap.NEW["condition"], "value"),
        State(ap.NEW["threshold"], "value"),
        State(ap.NEW["resolve"], "value"),
        State(ap.NEW["for_s"], "value"),
        State(ap.NEW["severity"], "value"),
        prevent_initial_call=True,
    )
    def edit_rules(
        _create: Any,
        deletes: list[Any],
        name: str,
        series: str,
        labels: str,
        condition: str,
        threshold: str,
        resolve: str,
        for_s: Any,
        severity: str,
    ) -> tuple[Any, str]:
        """Create a rule from the form, or delete the one whose button was pressed."""
        if not _can_edit():
            return no_update, "Only editors and admins can change rules."
        store = rt.alerts.store  # type: ignore[union-attr]
        trigger = ctx.triggered_id
        if isinstance(trigger, dict) and trigger.get("type") == ap.DELETE:
            if not any(deletes):
                return no_update, no_update
            store.delete_rule(str(trigger["rule"]))
            rt.alerts.reload_rules()  # type: ignore[union-attr]
            return ap.rules_list(_rules_json(rt), True), f"Deleted {trigger['rule']}."
        pairs = {}
        for pair in filter(None, (labels or "").split(",")):
            k, sep, v = pair.partition("=")
            if not sep:
                return no_update, "Labels: write k=v pairs separated by commas."
            pairs[k.strip()] = v.strip()
        rule_id = "".join(c if c.isalnum() or c in "._-" else "-" for c in (name or "")).strip("-")
        body = {
            "id": rule_id[:64] or "rule",
            "name": name or "",
            "series": {"name": (series or "").strip(), "labels": pairs},
            "condition": condition,
            "threshold": _number_or_band(threshold),
            "for_s": for_s or 0,
            "severity": severity,
        }
        if _number_or_band(resolve) is not None:
            body["resolve_threshold"] = _number_or_band(resolve)
        try:
            rule = validate_rule(json.loads(json.dumps(body)))
        except ValidationError as exc:
            return no_update, f"Not saved: {exc.field}: {exc.message}"
        if store.get_rule(rule.id) is not None:
            return no_update, f"Not saved: a rule called {rule.id!r} exists."
        store.put_rule(rule)
        rt.alerts.reload_rules()  # type: ignore[union-attr]
        return ap.rules_list(_rules_json(rt), True), f"Created {rule.name}."
