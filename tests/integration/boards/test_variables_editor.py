"""The variables editor's save, as the page posts it: an editor's new variable is saved (the
grid, the bar and the URL follow); a viewer's identical request is refused by the server and
changes nothing, whatever the page hides from a viewer; a bad variable is not saved."""

from __future__ import annotations

import json
from typing import Any

import pytest

from dashboard.auth.passwords import hash_password
from tests.conftest import sign_in

PASSWORD = "a-password-for-variable-editors"
BOARD = {
    "id": "ops",
    "title": "Ops",
    "schema_version": 1,
    "variables": [{"name": "region", "type": "custom", "options": ["eu", "us"]}],
    "widgets": [
        {
            "id": "top",
            "title": "Requests in $region",
            "kind": "line",
            "series": [{"name": "cpu", "labels": {"region": "$region"}}],
            "layout": {"x": 0, "y": 0, "w": 6, "h": 4},
        }
    ],
}


def _user(app, username: str, role: str):
    """A signed-in test client of a new user with ``role``."""
    app.extensions["auth_users"].create_user(username, hash_password(PASSWORD), role)
    return sign_in(app.test_client(), username, PASSWORD)


def _outputs(dependency: dict[str, Any]) -> list[dict[str, str]]:
    """The outputs of a callback as its request lists them (``..id.prop@hash...id.prop..``)."""
    out = []
    for part in dependency["output"].strip(".").split("..."):
        cid, _, prop = part.rpartition(".")
        out.append({"id": cid, "property": prop.split("@")[0]})
    return out


def save(
    client,
    name: str,
    kind: str,
    definition: str,
    remove: str | None = None,
    drawn_anew: tuple[str, ...] = (),
) -> dict:
    """Post the editor's Save (or a variable's Remove) as the page does; the answer's outputs.
    ``drawn_anew``: Remove buttons of the list drawn again in the same call, before the click
    (their ``n_clicks`` None)."""
    deps = client.get("/_dash-dependencies").get_json()
    (dep,) = [d for d in deps if any(i["id"] == "vars-edit-save" for i in d["inputs"])]
    removes = []
    if remove is not None:
        removes = [
            {"id": {"type": "vars-edit-remove", "name": n}, "property": "n_clicks", "value": None}
            for n in drawn_anew
        ]
        removes.append(
            {"id": {"type": "vars-edit-remove", "name": remove}, "property": "n_clicks", "value": 1}
        )
    body = {
        "output": dep["output"],
        "outputs": _outputs(dep),
        "inputs": [
            {"id": "vars-edit-save", "property": "n_clicks", "value": None if remove else 1},
            removes,
        ],
        "state": [
            {"id": "vars-edit-name", "property": "value", "value": name},
            {"id": "vars-edit-type", "property": "value", "value": kind},
            {"id": "vars-edit-definition", "property": "value", "value": definition},
            {"id": "vars-edit-multi", "property": "aria-pressed", "value": "true"},
            {"id": "vars-edit-include-all", "property": "aria-pressed", "value": "false"},
            {"id": "vars-edit-editing", "property": "data", "value": None},
            {"id": "page-url", "property": "search", "value": "?dashboard=ops"},
        ],
        "changedPropIds": [
            json.dumps(r["id"], separators=(",", ":"), sort_keys=True) + ".n_clicks"
            for r in removes
        ]
        or ["vars-edit-save.n_clicks"],
    }
    answer = client.post("/_dash-update-component", json=body)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return answer.get_json()["response"]


def _variables(client) -> list[dict]:
    """The saved dashboard's variables."""
    return client.get("/api/v1/dashboards/ops").get_json().get("variables", [])


@pytest.fixture
def admin(client):
    """The admin's client, with the "ops" dashboard saved."""
    made = client.post("/api/v1/dashboards", json=BOARD)
    assert made.status_code == 201, made.get_json()
    return client


def test_an_editor_adds_a_variable_and_the_page_follows(app, admin):
    """Saved as the form said; the URL takes var-env, the bar gets its dropdown."""
    editor = _user(app, "ed", "editor")
    answer = save(editor, "env", "custom", "prod, staging")
    assert answer["vars-edit-status"]["children"] == "Added $env"
    assert answer["page-url"]["search"] == "?dashboard=ops&var-env=prod"
    assert [v["name"] for v in _variables(admin)] == ["region", "env"]
    assert _variables(admin)[1] == {
        "name": "env",
        "type": "custom",
        "options": ["prod", "staging"],
        "multi": True,
        "include_all": False,
    }
    bar = [item["props"]["data-var"] for item in answer["vars-bar"]["children"]]
    assert bar == ["region", "env"]
    removed = save(editor, "", "custom", "", remove="env")
    assert removed["vars-edit-status"]["children"] == "Removed $env"
    assert [v["name"] for v in _variables(admin)] == ["region"]


def test_a_click_that_comes_with_a_redraw_of_the_list_still_removes_its_variable(app, admin):
    """The list drawn anew (its buttons' n_clicks None) and a click on one of them can reach
    the server in one call, the redraw first: the click counts, and only its variable goes."""
    editor = _user(app, "ed3", "editor")
    assert save(editor, "env", "custom", "prod, staging")["vars-edit-status"]["children"] == (
        "Added $env"
    )
    removed = save(editor, "", "custom", "", remove="env", drawn_anew=("region",))
    assert removed["vars-edit-status"]["children"] == "Removed $env"
    assert [v["name"] for v in _variables(admin)] == ["region"]


def test_a_viewer_posting_the_same_save_is_refused_and_nothing_changes(app, admin):
    """The form is hidden from viewers; the server refuses their save all the same."""
    viewer = _user(app, "vic", "viewer")
    answer = save(viewer, "env", "custom", "prod, staging")
    assert answer["vars-edit-status"]["children"] == (
        "Only editors and admins can change dashboards."
    )
    assert "page-url" not in answer and "vars-bar" not in answer
    refused = save(viewer, "", "custom", "", remove="region")
    assert "Only editors" in refused["vars-edit-status"]["children"]
    assert [v["name"] for v in _variables(admin)] == ["region"]


def test_a_bad_variable_is_not_saved_and_the_error_names_the_field(app, admin):
    """A name that is no identifier, and values that are no intervals."""
    editor = _user(app, "ed2", "editor")
    answer = save(editor, "2env", "custom", "a, b")
    assert "an identifier" in answer["vars-edit-name-error"]["children"]
    answer = save(editor, "window", "interval", "5m, soon")
    assert "no duration" in answer["vars-edit-definition-error"]["children"]
    assert [v["name"] for v in _variables(admin)] == ["region"]
