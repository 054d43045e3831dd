"""Units, thresholds and legends through the dashboards API: a bad one is a 400 naming the
field; good ones, and formats saved before units had ids, are stored as sent."""

from __future__ import annotations

import copy

ERRORS = 2  # the demo's kpi-errors tile


def with_first(base: dict, board_id: str, **fields) -> dict:
    """A copy of the dashboard under ``board_id`` with its kpi-errors tile's fields replaced."""
    board = copy.deepcopy({**base, "id": board_id})
    board["widgets"][ERRORS].update(fields)
    return board


def test_the_demo_carries_a_unit_on_every_number_and_steps_on_its_error_rate(client):
    """Every widget that shows numbers has a unit id; the error rate is green, amber, red."""
    board = client.get("/api/v1/dashboards/default").get_json()
    units = {w["id"]: w.get("format", {}).get("unit") for w in board["widgets"]}
    assert units.pop("status-health") is None  # a status pill shows Up, Degraded or Down
    assert all(units.values()), units
    assert units["kpi-errors"] == "percentunit" and units["bar-revenue"] == "currencyUSD"
    errors = board["widgets"][ERRORS]
    assert errors["id"] == "kpi-errors"
    assert errors["thresholds"] == [
        {"value": 0.02, "color": "amber"},
        {"value": 0.05, "color": "red"},
    ]


def test_bad_formats_thresholds_and_legends_are_refused_naming_the_field(client):
    """Each fault is a 400 whose detail names the widget's field; nothing is stored."""
    base = client.get("/api/v1/dashboards/default").get_json()
    at = f"widgets[{ERRORS}]"
    cases = {
        f"{at}.format.unit": {"format": {"unit": "furlongs"}},
        f"{at}.format.decimals": {"format": {"unit": "percentunit", "decimals": 9}},
        f"{at}.format.suffix": {"format": {"suffix": "x" * 40}},
        f"{at}.format.colour": {"format": {"colour": "red"}},
        f"{at}.format": {"format": "percent"},
        f"{at}.thresholds": {"thresholds": [{"value": i} for i in range(11)]},
        f"{at}.thresholds[1].color": {
            "thresholds": [{"value": 0.02, "color": "amber"}, {"value": 0.05, "color": "pink"}]
        },
        f"{at}.thresholds[0].value": {"thresholds": [{"value": "high"}]},
        f"{at}.legend": {"legend": "table"},
        f"{at}.legend.mode": {"legend": {"mode": "side"}},
        f"{at}.range": {"range": {"from": "soon"}},
    }
    for i, (field, fields) in enumerate(cases.items()):
        response = client.post("/api/v1/dashboards", json=with_first(base, f"bad-{i}", **fields))
        assert response.status_code == 400, field
        assert response.get_json()["detail"]["field"] == field
    listed = client.get("/api/v1/dashboards").get_json()["dashboards"]
    assert [d["id"] for d in listed] == ["default"]


def test_good_settings_and_old_formats_are_stored_as_sent(client):
    """Steps with hex colours, a legend mode, a unit with decimals and a suffix; a format of
    before ids (percent, si) and a host dashboard's old unit label all round-trip."""
    base = client.get("/api/v1/dashboards/default").get_json()
    fields = {
        "format": {"unit": "bytes", "decimals": 1, "suffix": "/s"},
        "thresholds": [{"value": 1024, "color": "#f59e0b"}, {"value": 2**20}],
        "legend": {"mode": "table"},
    }
    assert (
        client.post("/api/v1/dashboards", json=with_first(base, "good", **fields)).status_code
        == 201
    )
    stored = client.get("/api/v1/dashboards/good").get_json()["widgets"][ERRORS]
    assert {k: stored[k] for k in fields} == fields
    old = {"format": {"percent": True, "si": False, "decimals": 2, "prefix": ""}}
    assert client.post("/api/v1/dashboards", json=with_first(base, "old", **old)).status_code == 201
    assert (
        client.get("/api/v1/dashboards/old").get_json()["widgets"][ERRORS]["format"]
        == (old["format"])
    )
    label = {"format": {"unit": "load", "decimals": 2}}
    assert (
        client.post("/api/v1/dashboards", json=with_first(base, "host", **label)).status_code == 201
    )
