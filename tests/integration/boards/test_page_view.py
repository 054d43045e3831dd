"""The page drawn for its URL in one response, charts below the first screen sent when they
scroll near, and the edit controls sent in edit mode only (through Dash's own endpoints)."""

from __future__ import annotations

import json
import re
import time
from typing import Any

from tests.conftest import TOKEN

SLOT = "widget-lazy-slot"


def _post(client, body: dict) -> Any:
    """Ingest through the API."""
    response = client.post(
        "/api/v1/ingest", json=body, headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert response.status_code == 202, response.get_data(as_text=True)


def _make_board(client) -> None:
    """Two series of one metric, and a board with a chart on top and one far below."""
    now = int(time.time() * 1000)
    _post(
        client,
        {
            "metrics": [
                {"name": "req", "labels": {"region": r}, "points": [[now - 60_000 + i, v]]}
                for i, (r, v) in enumerate([("eu", 1.0), ("us", 2.0)])
            ]
        },
    )
    widget = {"kind": "line", "series": [{"name": "req", "labels": {}}]}
    board = {
        "id": "ops",
        "title": "Ops",
        "schema_version": 1,
        "widgets": [
            {**widget, "id": "top", "title": "Top", "layout": {"x": 0, "y": 0, "w": 6, "h": 4}},
            {**widget, "id": "far", "title": "Far", "layout": {"x": 0, "y": 40, "w": 6, "h": 4}},
            {
                "kind": "stat",
                "id": "kpi",
                "title": "KPI",
                "series": [{"name": "req", "labels": {"region": "us"}}],
                "layout": {"x": 6, "y": 40, "w": 3, "h": 3},
            },
        ],
    }
    made = client.post("/api/v1/dashboards", json=board)
    assert made.status_code == 201, made.get_data(as_text=True)


def _find(node: Any, want: Any) -> dict | None:
    """The component of a layout (as JSON) with id ``want``."""
    if isinstance(node, dict):
        if node.get("props", {}).get("id") == want:
            return node
        node = list(node.values())
    if isinstance(node, list):
        for child in node:
            found = _find(child, want)
            if found is not None:
                return found
    return None


def _layout(client, search: str) -> dict:
    """The layout Dash fetches for a page opened at ``/{search}`` (its Referer is that page)."""
    response = client.get("/_dash-layout", headers={"Referer": f"http://localhost/{search}"})
    assert response.status_code == 200
    return response.get_json()


def _callback(client, needle: str, outputs: list, inputs: list, state: list) -> Any:
    """Call the Dash callback whose output names ``needle``, as the renderer does."""
    deps = client.get("/_dash-dependencies").get_json()
    (dep,) = [d for d in deps if needle in d["output"]]
    body = {
        "output": dep["output"],
        "outputs": outputs if len(outputs) > 1 or "..." in dep["output"] else outputs[0],
        "inputs": inputs,
        "state": state,
        "changedPropIds": [
            f"{json.dumps(i['id'], separators=(',', ':'))}.{i['property']}"
            if isinstance(i["id"], dict)
            else f"{i['id']}.{i['property']}"
            for i in inputs
        ],
    }
    return client.post("/_dash-update-component", json=body)


def _edit_on(client, drawn: bool) -> Any:
    """Switch edit mode on for ``/?dashboard=ops`` (``drawn``: its controls already came)."""
    return _callback(
        client,
        "edit-drawn.data@",
        [
            {"id": "widgets-grid", "property": "children"},
            {"id": "live-config", "property": "data"},
            {"id": "edit-drawn", "property": "data"},
        ],
        [{"id": "edit-toggle", "property": "n_clicks", "value": 1}],
        [
            {"id": "edit-drawn", "property": "data", "value": drawn},
            {"id": "page-url", "property": "search", "value": "?dashboard=ops"},
        ],
    )


def _draw_slot(client, widget: str, config: dict, class_name: str) -> Any:
    """What the deferred callback sends for a widget's slot (of that class) on
    ``/?dashboard=ops``."""
    slot_id = {"type": SLOT, "widget": widget}
    answer = _callback(
        client,
        SLOT,
        [{"id": slot_id, "property": "children"}],
        [{"id": slot_id, "property": "n_clicks", "value": 1}],
        [
            {"id": slot_id, "property": "className", "value": class_name},
            {"id": "live-config", "property": "data", "value": config},
            {"id": "page-url", "property": "search", "value": "?dashboard=ops"},
        ],
    )
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return answer.get_json()["response"][json.dumps(slot_id, separators=(",", ":"))]["children"]


def test_a_bookmarked_dashboard_comes_with_the_layout(client):
    """``/?dashboard=ops`` gets Ops in the layout itself; the range callback's first call then
    changes nothing (no second drawing of the grid)."""
    _make_board(client)
    layout = _layout(client, "?dashboard=ops")
    assert _find(layout, "header-title")["props"]["children"] == "Ops"
    assert _find(layout, "widget-top") is not None
    config = _find(layout, "live-config")["props"]["data"]
    assert config["dashboard"] == "ops" and config["search"] == "?dashboard=ops"
    outputs = [
        {"id": cid, "property": prop}
        for cid, prop in [
            ("widgets-grid", "children"),
            ("live-config", "data"),
            ("range-text", "children"),
            ("range-live", "hidden"),
            ("header-title", "children"),
            ("dashboard-select", "value"),
            ("view-breadcrumb", "children"),
            ("view-filter-status", "children"),
            ("view-filter", "value"),
            ("range-select", "value"),
            ("edit-drawn", "data"),
            ("vars-bar", "children"),
        ]
    ]
    state = [
        {"id": "live-config", "property": "data", "value": config},
        {"id": "edit-toggle", "property": "aria-pressed", "value": "false"},
    ]

    def view(search: str, shown: dict) -> Any:
        """The range callback for a page at ``search`` whose feed config is ``shown``."""
        return _callback(
            client,
            "range-text.children",
            outputs,
            [{"id": "page-url", "property": "search", "value": search}],
            [{**state[0], "value": shown}, state[1]],
        )

    first = view("?dashboard=ops", config)
    assert first.status_code == 200
    assert not first.get_json().get("response")  # nothing to update
    # the same URL on a page that shows the default is drawn
    other = {**config, "search": ""}
    again = view("?dashboard=ops", other)
    assert again.status_code == 200
    assert again.get_json()["response"]["header-title"]["children"] == "Ops"
    # an unknown dashboard is said so, in the layout and from the callback
    missing = _layout(client, "?dashboard=nope")
    assert "There is no dashboard 'nope'." in json.dumps(missing)
    said = view("?dashboard=nope", config)
    assert said.status_code == 200
    assert "There is no dashboard" in json.dumps(said.get_json()["response"]["widgets-grid"])
    # without a Referer (or with none of these), the default dashboard
    plain = client.get("/_dash-layout").get_json()
    assert _find(plain, "live-config")["props"]["data"]["dashboard"] == "default"


def test_a_card_below_the_first_screen_is_sent_when_asked_for(client):
    """The far card holds only its slot, which carries no data; asked for, the slot gets the
    card's head and its chart, with the live feed's traces in the feed's order (so each live
    point extends its own trace)."""
    _make_board(client)
    layout = _layout(client, "?dashboard=ops")
    card = _find(layout, "widget-far")
    (slot,) = card["props"]["children"]
    assert slot["props"]["id"] == {"type": SLOT, "widget": "far"}
    assert "figure" not in json.dumps(slot) and slot["props"]["children"] is None
    assert slot["props"]["data-graph-id"] == "widget-far-graph"
    assert slot["props"]["data-title"] == "Far"
    top = _find(layout, "widget-top-graph")
    assert len(top["props"]["figure"]["data"]) == 2  # the first screen's chart comes drawn
    config = _find(layout, "live-config")["props"]["data"]
    far = {
        key: t
        for key, targets in config["targets"].items()
        for t in targets
        if t.get("graph") == "widget-far-graph"
    }
    assert sorted(far) == ['req{region="eu"}', 'req{region="us"}']
    # the feed's order decides the traces' order: reverse it
    for target in far.values():
        target["trace"] = 1 - target["trace"]
    head, graph = _draw_slot(client, "far", config, slot["props"]["className"])
    assert _find(head, None)["props"]["children"][0]["props"]["children"] == "Far"
    traces = graph["props"]["figure"]["data"]
    assert graph["props"]["id"] == "widget-far-graph"
    assert [t["y"] for t in traces] == [[2.0], [1.0]]  # us first, as the feed now has it


def test_a_tile_below_the_first_screen_comes_whole_when_asked_for(client):
    """The far tile's live targets come with the page, its number and sparkline when asked for;
    in edit mode the tile is whole at once and only its sparkline waits."""
    _make_board(client)
    layout = _layout(client, "?dashboard=ops")
    assert _find(layout, "widget-kpi-value") is None
    slot_id = {"type": SLOT, "widget": "kpi"}
    slot = _find(layout, slot_id)
    assert slot["props"]["data-graph-id"] == "widget-kpi-spark"
    config = _find(layout, "live-config")["props"]["data"]
    assert any(t.get("id") == "widget-kpi-value" for t in config["targets"]['req{region="us"}'])
    content = _draw_slot(client, "kpi", config, slot["props"]["className"])
    assert _find(content, "widget-kpi-value")["props"]["children"] == "2"
    assert _find(content, "widget-kpi-spark")["props"]["figure"]["data"][0]["y"] == [2.0]
    # edit mode: the number at once, the sparkline's slot asked for alone
    edit = _edit_on(client, drawn=False).get_json()["response"]["widgets-grid"]["children"]
    assert _find(edit, "widget-kpi-value")["props"]["children"] == "2"
    spark_slot = _find(edit, slot_id)
    graph = _draw_slot(client, "kpi", config, spark_slot["props"]["className"])
    assert graph["props"]["id"] == "widget-kpi-spark"
    assert graph["props"]["figure"]["data"][0]["y"] == [2.0]


def test_edit_controls_come_with_edit_mode(client):
    """An admin's first page has no widget toolbars; switching edit mode on sends them once."""
    _make_board(client)
    layout = _layout(client, "?dashboard=ops")
    assert "widget-edit" not in json.dumps(_find(layout, "widgets-grid"))
    on = _edit_on(client, drawn=False)
    assert on.status_code == 200, on.get_data(as_text=True)
    body = on.get_json()["response"]
    assert body["edit-drawn"]["data"] is True
    assert '"op": "left"' in json.dumps(body["widgets-grid"]["children"])
    again = _edit_on(client, drawn=True)
    assert again.status_code in (200, 204) and not (again.get_json(silent=True) or {}).get(
        "response"
    )


def test_the_page_preloads_what_the_renderer_fetches_next_and_each_preload_answers(client):
    """The page names Dash's layout and callbacks and dcc's lazy chunks in <link rel=preload>,
    so the browser fetches them alongside the scripts; each is a URL that answers (a renamed dcc
    chunk would make the browser fetch a 404 for nothing)."""
    page = client.get("/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    links = re.findall(
        r'<link rel="preload" href="([^"]+)" as="(fetch|script)"( crossorigin)?>', html
    )
    assert {href for href, _, _ in links} == {
        "/_dash-layout",
        "/_dash-dependencies",
        "/_dash-component-suites/dash/dcc/async-graph.js",
        "/_dash-component-suites/dash/dcc/async-dropdown.js",
    }  # not the upload's: Import JSON's file picker comes with edit mode
    for href, kind, crossorigin in links:
        # as Dash's fetches go (credentials same-origin), or the browser fetches twice
        assert bool(crossorigin) == (kind == "fetch"), href
        assert client.get(href).status_code == 200, href
    # the sign-in page has nothing to preload: its own layout is tiny
    assert "preload" not in client.get("/login/").get_data(as_text=True)
