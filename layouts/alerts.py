"""The alerts panel: recent events, the rules, and (for editors) a form for a new rule."""

from __future__ import annotations

import time
from typing import Any

from dash import dcc, html

from dashboard.alerts.engine import CONDITIONS, SEVERITIES

PANEL = "alerts-panel"
EVENTS = "alerts-events"
RULES = "alerts-rules"
FORM_STATUS = "alerts-form-status"
NEW = {
    "name": "alerts-new-name",
    "series": "alerts-new-series",
    "labels": "alerts-new-labels",
    "condition": "alerts-new-condition",
    "threshold": "alerts-new-threshold",
    "resolve": "alerts-new-resolve",
    "for_s": "alerts-new-for",
    "severity": "alerts-new-severity",
}
CREATE = "alerts-new-create"
DELETE = "alert-rule-delete"
ACK = "alert-event-ack"
SNOOZE = "alert-rule-snooze"


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
            id={"type": ACK, "event": event["id"]},
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
        labels = ",".join(f"{k}={v}" for k, v in r["series"]["labels"].items())
        what = f"{r['series']['name']}{'{' + labels + '}' if labels else ''}"
        text = f"{r['name']}: {what} {r['condition']} {r['threshold']}"
        if r["for_s"]:
            text += f" for {r['for_s']:g} s"
        parts: list[Any] = [
            html.Span(text),
            html.Span(r["severity"], className=f"sev sev-{r['severity']}"),
        ]
        if not r["enabled"]:
            parts.append(html.Span("disabled", className="muted"))
        if r.get("snoozed_until", 0) > time.time() * 1000:
            parts.append(html.Span(f"snoozed until {_when(r['snoozed_until'])}", className="muted"))
        elif can_edit:
            parts.append(
                html.Button(
                    "Snooze 1 h",
                    id={"type": SNOOZE, "rule": r["id"]},
                    className="small-button",
                    type="button",
                    **{"aria-label": f"Snooze rule {r['name']} for an hour"},
                )
            )
        if can_edit:
            parts.append(
                html.Button(
                    "Delete",
                    id={"type": DELETE, "rule": r["id"]},
                    className="small-button",
                    type="button",
                    **{"aria-label": f"Delete rule {r['name']}"},
                )
            )
        items.append(html.Li(parts, className="rule-row"))
    return html.Ul(items, className="rule-list")


def new_rule_form(hidden: bool = False) -> html.Div:
    """Inputs for a new rule (shown to editors and admins; the callback checks the role)."""

    def field(label: str, control: Any) -> html.Label:
        return html.Label([html.Span(label), control], className="form-field")

    return html.Div(
        [
            html.H4("New rule"),
            field("Name", dcc.Input(id=NEW["name"], type="text", placeholder="High error rate")),
            field(
                "Metric", dcc.Input(id=NEW["series"], type="text", placeholder="demo.error_rate")
            ),
            field("Labels", dcc.Input(id=NEW["labels"], type="text", placeholder="k=v,k2=v2")),
            field(
                "Condition",
                dcc.Dropdown(
                    id=NEW["condition"], options=list(CONDITIONS), value="above", clearable=False
                ),
            ),
            field(
                "Threshold",
                dcc.Input(
                    id=NEW["threshold"], type="text", placeholder="0.05 (low,high for outside)"
                ),
            ),
            field(
                "Resolve at",
                dcc.Input(id=NEW["resolve"], type="text", placeholder="optional, e.g. 0.04"),
            ),
            field("For (s)", dcc.Input(id=NEW["for_s"], type="number", min=0, value=0)),
            field(
                "Severity",
                dcc.Dropdown(
                    id=NEW["severity"], options=list(SEVERITIES), value="warning", clearable=False
                ),
            ),
            html.Button("Create rule", id=CREATE, type="button", className="small-button"),
            html.Div(id=FORM_STATUS, role="status", className="form-status"),
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
                            html.Div(events_table(events, can_edit), id=EVENTS),
                        ],
                        className="alerts-col",
                    ),
                    html.Div(
                        [
                            html.H4("Rules"),
                            html.Div(rules_list(rules, can_edit), id=RULES),
                            # always in the layout (its callbacks need it), shown to editors
                            new_rule_form(hidden=not can_edit),
                        ],
                        className="alerts-col",
                    ),
                ],
                className="alerts-grid",
            ),
        ],
        id=PANEL,
        className="panel",
        **{"aria-label": "Alerts"},
    )
