"""The alerts panel: refresh on new events, acknowledge, snooze, create and delete rules.

Each callback parses its input, calls ``dashboard.alerts.service`` and turns the service's
errors into the panel's status text; only editors and admins change anything.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from dash import ALL, Dash, Input, Output, State, ctx, no_update

from dashboard.alerts import service
from dashboard.auth import can_edit
from dashboard.auth.guard import current_user
from dashboard.clock import now_ms
from dashboard.metrics.model import ValidationError
from dashboard.runtime import Runtime
from layouts import alerts as ap
from layouts import ids

NOT_EDITOR = "Only editors and admins can change rules."
BAD_LABELS = "Labels: write k=v pairs separated by commas."
SNOOZE_MINUTES = 60
# the new-rule form's inputs, in the order of NewRuleForm's fields
NEW_RULE_FIELDS = (
    ids.ALERTS_NEW_NAME,
    ids.ALERTS_NEW_SERIES,
    ids.ALERTS_NEW_LABELS,
    ids.ALERTS_NEW_CONDITION,
    ids.ALERTS_NEW_THRESHOLD,
    ids.ALERTS_NEW_RESOLVE,
    ids.ALERTS_NEW_FOR,
    ids.ALERTS_NEW_SEVERITY,
    ids.ALERTS_NEW_EXPR,
)


class NewRuleForm(NamedTuple):
    """The new-rule form's values, as its callback receives them."""

    name: str | None
    series: str | None
    labels: str | None
    condition: str | None
    threshold: str | None
    resolve: str | None
    for_s: Any
    severity: str | None
    expr: str | None = None  # a PromQL expression instead of the metric and labels


def register(app: Dash, rt: Runtime) -> None:
    """Register the alert panel's callbacks on ``app``."""
    _register_refresh(app, rt)
    _register_acknowledge(app, rt)
    _register_snooze(app, rt)
    _register_edit_rules(app, rt)


def _events_table(rt: Runtime, editor: bool) -> Any:
    """The panel's table of the newest events."""
    events = service.recent_events(store=rt.alerts.store, limit=ap.EVENTS_SHOWN)
    return ap.events_table(events, editor)


def _rules_list(rt: Runtime) -> Any:
    """The panel's list of rules, as an editor sees it."""
    return ap.rules_list(service.rules_with_snooze(store=rt.alerts.store, now_ms=now_ms()), True)


def _register_refresh(app: Dash, rt: Runtime) -> None:
    """The events table and the badge follow new events and the slow refresh."""

    @app.callback(
        Output(ids.ALERTS_EVENTS, "children"),
        Output(ids.ALERTS_BADGE, "children"),
        Output(ids.ALERTS_BADGE, "hidden"),
        Input(ids.ALERTS_REFRESH, "data"),
        Input(ids.WIDGETS_REFRESH, "n_intervals"),
        prevent_initial_call=True,
    )
    def refresh_events(_stamp: Any, _n: Any) -> tuple[Any, str, bool]:
        """The newest events and the firing count."""
        count = len(service.firing(store=rt.alerts.store))
        return _events_table(rt, can_edit(current_user())), str(count), count == 0


def _register_acknowledge(app: Dash, rt: Runtime) -> None:
    """An event's Ack button acknowledges it."""

    @app.callback(
        Output(ids.ALERTS_EVENTS, "children", allow_duplicate=True),
        Input({"type": ids.ALERT_EVENT_ACK, "event": ALL}, "n_clicks"),
        prevent_initial_call=True,
    )
    def acknowledge(clicks: list[Any]) -> Any:
        """Acknowledge the event whose button was pressed (editors)."""
        trigger = ctx.triggered_id
        user = current_user()
        if not isinstance(trigger, dict) or not any(clicks) or not can_edit(user):
            return no_update
        username = user.username if user else "?"
        try:
            service.acknowledge(
                store=rt.alerts.store, event_id=int(trigger["event"]), username=username
            )
        except service.EventNotFound:
            pass  # gone meanwhile: the table shows what there is
        return _events_table(rt, True)


def _register_snooze(app: Dash, rt: Runtime) -> None:
    """A rule's Snooze button silences it for an hour."""

    @app.callback(
        Output(ids.ALERTS_RULES, "children", allow_duplicate=True),
        Input({"type": ids.ALERT_RULE_SNOOZE, "rule": ALL}, "n_clicks"),
        prevent_initial_call=True,
    )
    def snooze(clicks: list[Any]) -> Any:
        """Snooze the rule whose button was pressed for an hour (editors)."""
        trigger = ctx.triggered_id
        if not isinstance(trigger, dict) or not any(clicks) or not can_edit(current_user()):
            return no_update
        try:
            service.snooze(
                store=rt.alerts.store,
                rule_id=str(trigger["rule"]),
                minutes=SNOOZE_MINUTES,
                now_ms=now_ms(),
            )
        except service.RuleNotFound:
            pass  # deleted meanwhile: the list shows what there is
        return _rules_list(rt)


def _register_edit_rules(app: Dash, rt: Runtime) -> None:
    """The form creates a rule; a rule's Delete button deletes it."""

    @app.callback(
        Output(ids.ALERTS_RULES, "children"),
        Output(ids.ALERTS_FORM_STATUS, "children"),
        Input(ids.ALERTS_NEW_CREATE, "n_clicks"),
        Input({"type": ids.ALERT_RULE_DELETE, "rule": ALL}, "n_clicks"),
        *(State(field_id, "value") for field_id in NEW_RULE_FIELDS),
        prevent_initial_call=True,
    )
    def edit_rules(_create: Any, deletes: list[Any], *values: Any) -> tuple[Any, Any]:
        """Create a rule from the form, or delete the one whose button was pressed."""
        if not can_edit(current_user()):
            return no_update, NOT_EDITOR
        trigger = ctx.triggered_id
        if isinstance(trigger, dict) and trigger.get("type") == ids.ALERT_RULE_DELETE:
            if not any(deletes):
                return no_update, no_update
            return _delete_rule(rt, str(trigger["rule"]))
        return _create_rule(rt, NewRuleForm(*values))


def _delete_rule(rt: Runtime, rule_id: str) -> tuple[Any, str]:
    """Delete a rule; the new list and the status text."""
    runner = rt.alerts
    try:
        service.delete_rule(store=runner.store, runner=runner, rule_id=rule_id)
    except service.RuleNotFound:
        pass  # deleted meanwhile (a second click): the outcome is the same
    return _rules_list(rt), f"Deleted {rule_id}."


def _create_rule(rt: Runtime, form: NewRuleForm) -> tuple[Any, str]:
    """Create a rule from the form; the new list (or no update) and the status text."""
    labels = parse_labels(form.labels)
    if labels is None:
        return no_update, BAD_LABELS
    runner = rt.alerts
    try:
        rule = service.create_rule(
            store=runner.store, runner=runner, body=rule_body(form, labels=labels)
        )
    except ValidationError as exc:
        return no_update, f"Not saved: {exc.field}: {exc.message}"
    except service.RuleExists as exc:
        return no_update, f"Not saved: a rule called {exc.rule_id!r} exists."
    return _rules_list(rt), f"Created {rule.name}."


def parse_labels(text: str | None) -> dict[str, str] | None:
    """``k=v,k2=v2`` from the form as a dict, or None when a part has no ``=``."""
    pairs = {}
    for pair in filter(None, (text or "").split(",")):
        k, sep, v = pair.partition("=")
        if not sep:
            return None
        pairs[k.strip()] = v.strip()
    return pairs


def number_or_band(text: str | None) -> Any:
    """``0.05`` or ``1,5`` (a band) from the form, or None; other text as is (for validation)."""
    if text is None or not str(text).strip():
        return None
    parts = [p.strip() for p in str(text).split(",")]
    try:
        values = [float(p) for p in parts]
    except ValueError:
        return str(text)
    return values if len(values) > 1 else values[0]


def rule_id_from_name(name: str | None) -> str:
    """A rule id made from its name: letters, digits, ``._-``, the rest as ``-``; 64 at most."""
    rule_id = "".join(c if c.isalnum() or c in "._-" else "-" for c in (name or "")).strip("-")
    return rule_id[:64] or "rule"


def rule_body(form: NewRuleForm, *, labels: dict[str, str]) -> dict[str, Any]:
    """A rule's JSON form from the new-rule form's values (the service validates it)."""
    body: dict[str, Any] = {
        "id": rule_id_from_name(form.name),
        "name": form.name or "",
        "series": {"name": (form.series or "").strip(), "labels": labels},
        "condition": form.condition,
        "threshold": number_or_band(form.threshold),
        "for_s": form.for_s or 0,
        "severity": form.severity,
    }
    resolve_threshold = number_or_band(form.resolve)
    if resolve_threshold is not None:
        body["resolve_threshold"] = resolve_threshold
    if (form.expr or "").strip():  # the expression replaces the metric and its labels
        body["expr"] = form.expr.strip()  # type: ignore[union-attr]
        del body["series"]
        if body["condition"] == "present":
            body.pop("threshold")
    return body
