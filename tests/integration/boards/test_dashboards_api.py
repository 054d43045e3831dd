"""Dashboards as JSON: export, import under a new name, validation, roles."""

from __future__ import annotations

import json

from dashboard.auth.passwords import hash_password
from dashboard.boards.models import validate_dashboard
from tests.conftest import sign_in


def test_export_then_import_under_a_new_name_gives_the_same_layout(client):
    """The exported JSON, renamed, imports as a new dashboard with identical widgets."""
    listed = client.get("/api/v1/dashboards").get_json()["dashboards"]
    assert [d["id"] for d in listed] == ["default"]
    exported = client.get("/api/v1/dashboards/default?download=1")
    assert exported.headers["Content-Disposition"].endswith('default.json"')
    body = json.loads(exported.data)
    assert body["schema_version"] == 1
    copy = {**body, "id": "copy", "title": "My copy"}
    assert client.post("/api/v1/dashboards", json=copy).status_code == 201
    again = client.get("/api/v1/dashboards/copy").get_json()
    assert again["widgets"] == body["widgets"] and again["title"] == "My copy"
    assert client.post("/api/v1/dashboards", json=copy).status_code == 409


def test_invalid_dashboards_are_refused_naming_the_field(client):
    """A bad widget, a duplicate id or an unknown schema version is a 400 saying where."""
    base = client.get("/api/v1/dashboards/default").get_json()
    cases = {
        "schema_version": {**base, "id": "x1", "schema_version": 99},
        "widgets[0].kind": {
            **base,
            "id": "x2",
            "widgets": [{**base["widgets"][0], "kind": "sparkle"}],
        },
        "widgets[1].id": {**base, "id": "x3", "widgets": [base["widgets"][0], base["widgets"][0]]},
        "widgets[0].layout": {
            **base,
            "id": "x4",
            "widgets": [{**base["widgets"][0], "layout": {"x": 11, "w": 6}}],
        },
        "id": {**base, "id": "Not An Id!"},
        "title": {**base, "id": "x5", "title": ""},
    }
    for field, body in cases.items():
        response = client.post("/api/v1/dashboards", json=body)
        assert response.status_code == 400, field
        assert response.get_json()["detail"]["field"] == field
    assert [d["id"] for d in client.get("/api/v1/dashboards").get_json()["dashboards"]] == [
        "default"
    ]


def test_editors_edit_and_viewers_only_read(app, client):
    """Viewers can read and export; only editors and admins create, change or delete."""
    app.extensions["auth_users"].create_user("val", hash_password("val-password-1234"), "viewer")
    viewer = sign_in(app.test_client(), "val", "val-password-1234")
    base = client.get("/api/v1/dashboards/default").get_json()
    assert viewer.get("/api/v1/dashboards/default").status_code == 200
    assert viewer.post("/api/v1/dashboards", json={**base, "id": "v"}).status_code == 403
    assert viewer.put("/api/v1/dashboards/default", json=base).status_code == 403
    assert viewer.delete("/api/v1/dashboards/default").status_code == 403
    changed = {**base, "title": "Renamed"}
    assert client.put("/api/v1/dashboards/default", json=changed).get_json()["title"] == "Renamed"
    assert client.delete("/api/v1/dashboards/nope").status_code == 404


def test_the_default_dashboard_passes_its_own_schema():
    """What the product ships validates (so an export of it always imports)."""
    from dashboard.boards.models import default_dashboard

    assert validate_dashboard(default_dashboard())["widgets"][0]["id"] == "kpi-users"
