"""The alerts panel's callbacks, called as the Dash renderer calls them: the form, the buttons."""

from __future__ import annotations

import json
import time
from typing import Any

from dashboard.auth.passwords import hash_password
from tests.conftest import TOKEN, sign_in

FORM = {
    "alerts-new-name": "High error rate",
    "alerts-new-series": "svc.error_rate",
    "alerts-new-labels": "region=eu",
    "alerts-new-condition": "above",
    "alerts-new-threshold": "0.05",
    "alerts-new-resolve": "",
    "alerts-new-for": 0,
    "alerts-new-severity": "critical",
    "alerts-new-expr": "",
}
RULE_ID = "High-error-rate"


def _prop(component: Any, prop: str) -> str:
    """A changed property as the renderer names it (dict ids as sorted compact JSON)."""
    if isinstance(component, dict):
        component = json.dumps(component, sort_keys=True, separators=(",", ":"))
    return f"{component}.{prop}"


def _call(client, needle: str, outputs: Any, inputs: list, state: list, changed: str) -> Any:
    """Call the callback whose output names ``needle``; its response ({}: no update)."""
    deps = client.get("/_dash-dependencies").get_json()
    (dep,) = [d for d in deps if needle in d["output"]]
    body = {
        "output": dep["output"],
        "outputs": outputs,
        "inputs": inputs,
        "state": state,
        "changedPropIds": [changed],
    }
    response = client.post("/_dash-update-component", json=body)
    if response.status_code == 204:  # PreventUpdate
        return {}
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["response"]


def _edit(client, *, create: int | None = None, delete: str | None = None, **form: Any) -> Any:
    """The form's Create button, or a rule's Delete button."""
    values = {**FORM, **form}
    delete_id = {"type": "alert-rule-delete", "rule": delete or RULE_ID}
    return _call(
        client,
        "alerts-form-status.children",
        [
            {"id": "alerts-rules", "property": "children"},
            {"id": "alerts-form-status", "property": "children"},
        ],
        [
            {"id": "alerts-new-create", "property": "n_clicks", "value": create},
            [{"id": delete_id, "property": "n_clicks", "value": 1 if delete else None}],
        ],
        [{"id": key, "property": "value", "value": value} for key, value in values.items()],
        _prop(delete_id, "n_clicks") if delete else _prop("alerts-new-create", "n_clicks"),
    )


def _button(client, kind: str, key: str, value: Any, output: str) -> Any:
    """Press the pattern-matched button ``{"type": kind, key: value}``."""
    button = {"type": kind, key: value}
    return _call(
        client,
        f"{output}.children@",
        {"id": output, "property": "children"},
        [[{"id": button, "property": "n_clicks", "value": 1}]],
        [],
        _prop(button, "n_clicks"),
    )


def _text(component: Any) -> str:
    """All the text in a rendered component tree."""
    if isinstance(component, dict):
        return _text(component.get("props", {}).get("children"))
    if isinstance(component, list):
        return " ".join(_text(c) for c in component)
    return "" if component is None else str(component)


def test_an_editor_creates_snoozes_and_deletes_a_rule_from_the_panel(app, client):
    """The form makes a rule the API lists; Snooze marks it; Delete removes it."""
    created = _edit(client, create=1)
    assert created["alerts-form-status"]["children"] == "Created High error rate."
    assert "High error rate: svc.error_rate{region=eu} above 0.05" in _text(
        created["alerts-rules"]["children"]
    )
    listed = client.get("/api/v1/alerts/rules").get_json()["rules"]
    assert [(r["id"], r["snoozed_until"]) for r in listed] == [(RULE_ID, 0)]
    again = _edit(client, create=2)
    assert again == {
        "alerts-form-status": {"children": f"Not saved: a rule called {RULE_ID!r} exists."}
    }
    snoozed = _button(client, "alert-rule-snooze", "rule", RULE_ID, "alerts-rules")
    assert "snoozed until" in _text(snoozed["alerts-rules"]["children"])
    (rule,) = client.get("/api/v1/alerts/rules").get_json()["rules"]
    assert rule["snoozed_until"] > time.time() * 1000 + 3_500_000
    deleted = _edit(client, delete=RULE_ID)
    assert deleted["alerts-form-status"]["children"] == f"Deleted {RULE_ID}."
    assert _text(deleted["alerts-rules"]["children"]) == "No rules yet."
    assert client.get("/api/v1/alerts/rules").get_json()["rules"] == []


def test_the_form_reports_what_is_wrong(client):
    """Bad labels and a bad threshold are named in the status; nothing is saved."""
    bad_labels = _edit(client, create=1, **{"alerts-new-labels": "region"})
    assert bad_labels == {
        "alerts-form-status": {"children": "Labels: write k=v pairs separated by commas."}
    }
    bad_threshold = _edit(client, create=1, **{"alerts-new-threshold": "high"})
    status = bad_threshold["alerts-form-status"]["children"]
    assert status.startswith("Not saved: threshold: ")
    assert client.get("/api/v1/alerts/rules").get_json()["rules"] == []


def test_viewers_change_nothing_from_the_panel(app, client):
    """A viewer's Create gets the editors-only status; their Snooze does nothing."""
    assert _edit(client, create=1)["alerts-form-status"]["children"].startswith("Created")
    app.extensions["auth_users"].create_user("vera", hash_password("vera-password-123"), "viewer")
    viewer = sign_in(app.test_client(), "vera", "vera-password-123")
    refused = _edit(viewer, create=1, **{"alerts-new-name": "Other"})
    assert refused == {
        "alerts-form-status": {"children": "Only editors and admins can change rules."}
    }
    assert _button(viewer, "alert-rule-snooze", "rule", RULE_ID, "alerts-rules") == {}
    assert _edit(viewer, delete=RULE_ID)["alerts-form-status"]["children"].startswith("Only")
    (rule,) = client.get("/api/v1/alerts/rules").get_json()["rules"]
    assert rule["snoozed_until"] == 0


def test_the_refresh_shows_events_and_the_badge_and_ack_marks_one(app, client):
    """After a firing, the table lists it with an Ack button; Ack records who."""
    assert _edit(client, create=1)["alerts-form-status"]["children"].startswith("Created")
    body = {"metrics": [{"name": "svc.error_rate", "labels": {"region": "eu"}, "points": []}]}
    body["metrics"][0]["points"] = [[int(time.time() * 1000) - 1000, 0.5]]
    ingest = app.test_client().post(
        "/api/v1/ingest", json=body, headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert ingest.status_code == 202
    refreshed = _call(
        client,
        "alerts-badge.hidden",
        [
            {"id": "alerts-events", "property": "children"},
            {"id": "alerts-badge", "property": "children"},
            {"id": "alerts-badge", "property": "hidden"},
        ],
        [
            {"id": "alerts-refresh", "property": "data", "value": 1},
            {"id": "widgets-refresh", "property": "n_intervals", "value": None},
        ],
        [],
        _prop("alerts-refresh", "data"),
    )
    assert refreshed["alerts-badge"] == {"children": "1", "hidden": False}
    assert "firing" in _text(refreshed["alerts-events"]["children"])
    (event,) = client.get("/api/v1/alerts/events").get_json()["events"]
    acked = _button(client, "alert-event-ack", "event", event["id"], "alerts-events")
    assert "acked by admin" in _text(acked["alerts-events"]["children"])
    assert client.get("/api/v1/alerts/events").get_json()["events"][0]["acked_by"] == "admin"


def test_an_editor_creates_an_expression_rule_from_the_panel(app, client):
    """The form's PromQL field makes a rule on an expression (fires while it gives series);
    a bad expression is refused with the parser's position."""
    ratio = "sum(rate(errs_total[5m])) / sum(rate(reqs_total[5m])) > 0.05"
    made = _edit(
        client,
        create=1,
        **{
            "alerts-new-name": "Error ratio",
            "alerts-new-series": "",
            "alerts-new-labels": "",
            "alerts-new-condition": "present",
            "alerts-new-threshold": "",
            "alerts-new-expr": ratio,
        },
    )
    assert made["alerts-form-status"]["children"] == "Created Error ratio."
    assert f"Error ratio: {ratio}" in _text(made["alerts-rules"]["children"])
    (rule,) = client.get("/api/v1/alerts/rules").get_json()["rules"]
    assert (rule["expr"], rule["condition"], rule["series"]) == (ratio, "present", None)
    bad = _edit(client, create=2, **{"alerts-new-name": "Bad", "alerts-new-expr": "sum(x"})
    assert bad["alerts-form-status"]["children"].startswith("Not saved: expr: parse error at char")
