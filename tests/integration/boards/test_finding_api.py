"""Boards people can find: search, tags, stars and the home dashboard, per user and per role."""

from __future__ import annotations

from dashboard.auth.passwords import hash_password
from tests.conftest import sign_in

VIEWER_PASSWORD = "viewer-password-1234"


def _viewer(app):
    """A signed-in viewer's client."""
    app.extensions["auth_users"].create_user("vic", hash_password(VIEWER_PASSWORD), "viewer")
    return sign_in(app.test_client(), "vic", VIEWER_PASSWORD)


def _add(client, board_id: str, title: str, tags: list[str]) -> None:
    """A copy of the default dashboard under another id, title and tags."""
    base = client.get("/api/v1/dashboards/default").get_json()
    body = {**base, "id": board_id, "title": title, "tags": tags}
    assert client.post("/api/v1/dashboards", json=body).status_code == 201


def _ids(client, query: str = "") -> list[str]:
    """The listed dashboards' ids."""
    response = client.get(f"/api/v1/dashboards{query}")
    assert response.status_code == 200
    return [d["id"] for d in response.get_json()["dashboards"]]


def test_search_by_title_words_and_by_tag(client):
    """Every word of the search in the title, any case; a tag narrows; tags are kept clean."""
    _add(client, "payments", "Payments API latency", ["Payments", "prod ", "prod"])
    _add(client, "hosts", "Hosts overview", ["infra", "prod"])
    saved = client.get("/api/v1/dashboards/payments").get_json()
    assert saved["tags"] == ["payments", "prod"]
    assert _ids(client, "?search=api%20LATENCY") == ["payments"]
    assert _ids(client, "?search=overview") == ["hosts", "default"]  # by title
    assert _ids(client, "?tag=infra") == ["hosts"]
    assert set(_ids(client, "?tag=prod")) == {"payments", "hosts"}
    listed = client.get("/api/v1/dashboards").get_json()
    assert listed["tags"] == ["infra", "payments", "prod"]
    assert listed["home"] is None


def test_bad_tags_are_refused_naming_the_field(client):
    """Tags are a list of short printable strings."""
    base = client.get("/api/v1/dashboards/default").get_json()
    for tags, field in (
        ("prod", "tags"),
        ([""], "tags[0]"),
        (["x" * 41], "tags[0]"),
        ([3], "tags[0]"),
    ):
        response = client.post("/api/v1/dashboards", json={**base, "id": "t", "tags": tags})
        assert response.status_code == 400
        assert response.get_json()["detail"]["field"] == field


def test_a_viewer_stars_for_themself_and_sees_starred_first(app, client):
    """Stars are per user: a viewer may star; the admin's list is not changed by it."""
    _add(client, "aaa", "A first by title", [])
    viewer = _viewer(app)
    assert _ids(viewer)[0] == "aaa"
    assert viewer.put("/api/v1/dashboards/default/star").get_json() == {
        "id": "default",
        "starred": True,
    }
    assert viewer.put("/api/v1/dashboards/default/star").status_code == 200  # again is fine
    listed = viewer.get("/api/v1/dashboards").get_json()["dashboards"]
    assert [(d["id"], d["starred"]) for d in listed] == [("default", True), ("aaa", False)]
    assert _ids(viewer, "?starred=1") == ["default"]
    assert _ids(client, "?starred=1") == []
    assert viewer.put("/api/v1/dashboards/nope/star").status_code == 404
    assert viewer.delete("/api/v1/dashboards/default/star").get_json()["starred"] is False
    assert _ids(viewer, "?starred=1") == []


def test_a_viewer_may_not_edit_tags(app, client):
    """Tags are part of the dashboard: changing them needs the editor role."""
    viewer = _viewer(app)
    base = client.get("/api/v1/dashboards/default").get_json()
    response = viewer.put("/api/v1/dashboards/default", json={**base, "tags": ["mine"]})
    assert response.status_code == 403


def test_home_dashboard_is_per_user_and_opened_at_the_root(app, client):
    """``/`` redirects to the user's home (others still get the default); null goes back."""
    _add(client, "ops", "Ops", ["infra"])
    viewer = _viewer(app)
    assert viewer.get("/api/v1/users/me/home").get_json() == {"home": None}
    assert viewer.put("/api/v1/users/me/home", json={"dashboard": "nope"}).status_code == 404
    assert viewer.put("/api/v1/users/me/home", json={"dashboard": 5}).status_code == 400
    assert viewer.put("/api/v1/users/me/home", json={}).status_code == 400
    assert viewer.put("/api/v1/users/me/home", json={"dashboard": "ops"}).get_json() == {
        "home": "ops"
    }
    root = viewer.get("/", headers={"Accept": "text/html"})
    assert root.status_code == 302 and root.headers["Location"].endswith("/?dashboard=ops")
    assert viewer.get("/?range=1h").status_code == 200  # a URL with a view opens that view
    assert client.get("/").status_code == 200  # the admin chose no home
    listed = viewer.get("/api/v1/dashboards").get_json()
    assert listed["home"] == "ops"
    assert [d["id"] for d in listed["dashboards"] if d["home"]] == ["ops"]
    # a deleted dashboard takes its stars and homes with it
    viewer.put("/api/v1/dashboards/ops/star")
    assert client.delete("/api/v1/dashboards/ops").status_code == 200
    assert viewer.get("/api/v1/users/me/home").get_json() == {"home": None}
    assert viewer.get("/").status_code == 200
    assert viewer.put("/api/v1/users/me/home", json={"dashboard": None}).status_code == 200


def test_anonymous_requests_are_refused(anon_client):
    """Every new route wants a session."""
    assert anon_client.get("/api/v1/dashboards").status_code == 401
    assert anon_client.put("/api/v1/dashboards/default/star").status_code == 401
    assert anon_client.delete("/api/v1/dashboards/default/star").status_code == 401
    assert anon_client.get("/api/v1/users/me/home").status_code == 401
    assert (
        anon_client.put("/api/v1/users/me/home", json={"dashboard": "default"}).status_code == 401
    )
