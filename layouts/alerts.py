"""The alerts panel: recent events, the rules, and (for editors) a form for a new rule.

Pure layout: the events and rules come as arguments (from ``dashboard.alerts.service``), each
rule with ``snoozed_until`` already 0 once its snooze has ended.
"""

from __future__ import annotations

import time
from typing import Any

from dash import dcc, html

from dashboard.alerts.engine import CONDITIONS, SEVERITIES
from layouts import ids

EVENTS_SHOWN = 20  # the newest events the panel lists


def _when(ts: int) -> str:
    """A UTC time of day for the events table."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ts / 1000)) + " UTC"


def _ack_cell(event: dict[str, Any], can_edit: bool) -> html.Td:
    """Who acknowledged a firing event, or a button to do it (editors)."""
    if event["state"] != "firing":
        return html.Td("")
    if event.get("acked_by"):
        return html.Td(f"acked by {event['acked_by']}", className="muted")
    if not can_edit:
        return html.Td("")
    return html.Td(
        html.Button(
            "Ack",
            id={"type": ids.ALERT_EVENT_ACK, "event": event["id"]},
            type="button",
            className="small-button",
            **{"aria-label": f"Acknowledge {event['rule'] or event['rule_id']}"},
        )
    )


def events_table(events: list[dict[str, Any]], can_edit: bool = False) -> html.Table | html.P:
    """The newest events as a table (text only), with acknowledgement."""
    if not events:
        return html.P("No alert events yet.", className="muted")
    rows = [
        html.Tr(
            [
                html.Td(_when(e["ts"])),
                html.Td(e["rule"] or e["rule_id"]),
                html.Td(e["series"], className="mono"),
                html.Td(e["state"], className=f"state state-{e['state']}"),
                html.Td("no data" if e["value"] is None else f"{e['value']:g}"),
                html.Td(e["severity"], className=f"sev sev-{e['severity']}"),
                _ack_cell(e, can_edit),
            ]
        )
        for e in events
    ]
    head = html.Tr(
        [html.Th(h) for h in ("Time", "Rule", "Series", "State", "Value", "Severity", "")]
    )
    return html.Table([html.Thead(head), html.Tbody(rows)], className="table")


def rules_list(rules: list[dict[str, Any]], can_edit: bool) -> html.Ul | html.P:
    """The rules, each with a delete button for editors."""
    if not rules:
        return html.P("No rules yet.", className="muted")
    items = []
    for r in rules:
        if r.get("expr"):
            what = r["expr"]
            text = f"{r['name']}: {what}"
            if r["condition"] != "present":
                text += f" {r['condition']} {r['threshold']}"
        else:
            labels = ",".join(f"{k}={v}" for k, v in r["series"]["labels"].items())
            what = f"{r['series']['name']}{'{' + labels + '}' if labels else ''}"
            text = f"{r['name']}: {what} {r['condition']} {r['threshold']}"
        if r["for_s"]:
            text += f" for {r['for_s']:g} s"
        parts: list[Any] = [
            html.Span(text),
            html.Span(r["severity"], className=f"sev sev-{r['severity']}"),
        ]
        if r.get("webhook_set"):  # write-only: the API gives the masked form, never the URL
            parts.append(html.Span(f"webhook {r['webhook']}", className="muted mono"))
        if not r["enabled"]:
            parts.append(html.Span("disabled", className="muted"))
        if r.get("snoozed_until"):  # 0 once the snooze has ended
            parts.append(html.Span(f"snoozed until {_when(r['snoozed_until'])}", className="muted"))
        elif can_edit:
            parts.append(
                html.Button(
                    "Snooze 1 h",
                    id={"type": ids.ALERT_RULE_SNOOZE, "rule": r["id"]},
                    className="small-button",
                    type="button",
                    **{"aria-label": f"Snooze rule {r['name']} for an hour"},
                )
            )
        if can_edit:
            parts.append(
                html.Button(
                    "Delete",
                    id={"type": ids.ALERT_RULE_DELETE, "rule": r["id"]},
                    className="small-button",
                    type="button",
                    **{"aria-label": f"Delete rule {r['name']}"},
                )
            )
        items.append(html.Li(parts, className="rule-row"))
    return html.Ul(items, className="rule-list")


def _field(label: str, control: Any) -> html.Label:
    """A labelled form control."""
    return html.Label([html.Span(label), control], className="form-field")


def _text(component_id: str, placeholder: str) -> dcc.Input:
    """A text input."""
    return dcc.Input(id=component_id, type="text", placeholder=placeholder)


def _choice(component_id: str, options: tuple[str, ...], value: str) -> dcc.Dropdown:
    """A dropdown that always holds one of ``options``."""
    return dcc.Dropdown(id=component_id, options=list(options), value=value, clearable=False)


def new_rule_form(hidden: bool = False) -> html.Div:
    """Inputs for a new rule (shown to editors and admins; the callback checks the role)."""
    return html.Div(
        [
            html.H4("New rule"),
            _field("Name", _text(ids.ALERTS_NEW_NAME, "High error rate")),
            _field("Metric", _text(ids.ALERTS_NEW_SERIES, "demo.error_rate")),
            _field("Labels", _text(ids.ALERTS_NEW_LABELS, "k=v,k2=v2")),
            _field(
                "Or a PromQL expression",
                _text(
                    ids.ALERTS_NEW_EXPR,
                    "sum(rate(errors_total[5m])) / sum(rate(requests_total[5m])) > 0.05",
                ),
            ),
            _field("Condition", _choice(ids.ALERTS_NEW_CONDITION, CONDITIONS, "above")),
            _field("Threshold", _text(ids.ALERTS_NEW_THRESHOLD, "0.05 (low,high for outside)")),
            _field("Resolve at", _text(ids.ALERTS_NEW_RESOLVE, "optional, e.g. 0.04")),
            _field("For (s)", dcc.Input(id=ids.ALERTS_NEW_FOR, type="number", min=0, value=0)),
            _field("Severity", _choice(ids.ALERTS_NEW_SEVERITY, SEVERITIES, "warning")),
            html.Button(
                "Create rule", id=ids.ALERTS_NEW_CREATE, type="button", className="small-button"
            ),
            html.Div(id=ids.ALERTS_FORM_STATUS, role="status", className="form-status"),
        ],
        className="rule-form",
        hidden=hidden,
    )


def panel(
    events: list[dict[str, Any]], rules: list[dict[str, Any]], can_edit: bool
) -> html.Section:
    """The whole panel."""
    return html.Section(
        [
            html.H3("Alerts", className="widget-title"),
            html.Div(
                [
                    html.Div(
                        [
                            html.H4("Recent events"),
                            html.Div(events_table(events, can_edit), id=ids.ALERTS_EVENTS),
                        ],
                        className="alerts-col",
                    ),
                    html.Div(
                        [
                            html.H4("Rules"),
                            html.Div(rules_list(rules, can_edit), id=ids.ALERTS_RULES),
                            # always in the layout (its callbacks need it), shown to editors
                            new_rule_form(hidden=not can_edit),
                        ],
                        className="alerts-col",
                    ),
                ],
                className="alerts-grid",
            ),
        ],
        id=ids.ALERTS_PANEL,
        className="panel",
        **{"aria-label": "Alerts"},
    )
