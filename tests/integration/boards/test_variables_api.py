"""Dashboard variables through the API: a dashboard with variables round-trips, a bad one is a
400 naming the field, viewers cannot change definitions, and the page's view uses the values."""

from __future__ import annotations

from dashboard.auth.passwords import hash_password
from tests.conftest import sign_in

VARIABLES = [
    {
        "name": "route",
        "type": "query",
        "query": "label_values(demo.requests, route)",
        "multi": True,
        "include_all": True,
        "current": ["/api/orders"],
    },
    {"name": "env", "type": "custom", "options": ["prod", "staging"], "include_all": True},
    {"name": "window", "type": "interval", "options": ["1m", "5m"]},
]


def board(**extra):
    """A dashboard of one stored series and one expression, both using variables."""
    return {
        "id": "vars",
        "title": "Variables",
        "variables": VARIABLES,
        "widgets": [
            {
                "id": "by-route",
                "kind": "line",
                "title": "Requests: $route",
                "series": [{"name": "demo.requests", "labels": {"route": "$route"}}],
            },
            {
                "id": "rate",
                "kind": "line",
                "title": "Rate",
                "series": [
                    {
                        "expr": 'sum by (route) (rate({"demo.requests", route=~"$route"}'
                        "[$window]))",
                        "legend": "{{route}} in $env",
                    }
                ],
            },
        ],
        **extra,
    }


def test_a_dashboard_with_variables_round_trips(client):
    """Created, read back and exported, the variables come back as they were sent."""
    created = client.post("/api/v1/dashboards", json=board())
    assert created.status_code == 201, created.get_json()
    again = client.get("/api/v1/dashboards/vars").get_json()
    assert again["variables"] == [
        {**VARIABLES[0]},
        {**VARIABLES[1], "multi": False},
        {**VARIABLES[2], "multi": False, "include_all": False},
    ]
    assert again["widgets"][1]["series"][0]["expr"].endswith("[$window]))")
    replaced = client.put("/api/v1/dashboards/vars", json={**again, "title": "Renamed"})
    assert replaced.status_code == 200
    assert client.get("/api/v1/dashboards/vars").get_json()["variables"] == again["variables"]


def test_bad_variables_are_a_400_naming_the_field(client):
    """A bad name, type, query or size is refused with the field and what it must be."""
    cases = {
        "variables[0].name": [{**VARIABLES[0], "name": "no spaces"}],
        "variables[0].type": [{**VARIABLES[0], "type": "datasource"}],
        "variables[0].query": [{**VARIABLES[0], "query": "up"}],
        "variables[1].name": [VARIABLES[1], VARIABLES[1]],
        "variables[0].options": [{"name": "w", "type": "interval", "options": ["often"]}],
        "variables": [{**VARIABLES[1], "name": f"v{i}"} for i in range(21)],
    }
    for field, variables in cases.items():
        response = client.post("/api/v1/dashboards", json=board(variables=variables))
        assert response.status_code == 400, field
        detail = response.get_json()["detail"]
        assert detail["field"] == field, detail
        assert detail["message"]
    # an expression whose [$window] names no variable does not parse
    response = client.post("/api/v1/dashboards", json=board(variables=VARIABLES[:2]))
    assert response.status_code == 400
    assert response.get_json()["detail"]["field"] == "widgets[1].series[0].expr"


def test_viewers_cannot_change_variables(app, client):
    """Definitions are the dashboard's: a viewer's change is refused like any edit."""
    assert client.post("/api/v1/dashboards", json=board()).status_code == 201
    app.extensions["auth_users"].create_user("val", hash_password("val-password-1234"), "viewer")
    viewer = sign_in(app.test_client(), "val", "val-password-1234")
    body = viewer.get("/api/v1/dashboards/vars").get_json()
    changed = {**body, "variables": body["variables"][:1]}
    assert viewer.put("/api/v1/dashboards/vars", json=changed).status_code == 403
    assert len(client.get("/api/v1/dashboards/vars").get_json()["variables"]) == 3
