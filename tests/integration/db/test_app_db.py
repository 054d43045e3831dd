"""Users, tokens, dashboards and alerts behave the same in SQLite and in PostgreSQL, and nodes
on one PostgreSQL share them whatever their data folders."""

from __future__ import annotations

import pytest

from dashboard.alerts.engine import Event, validate_rule
from dashboard.alerts.store import AlertStore
from dashboard.app import create_app
from dashboard.auth.users import SQLUserStore
from dashboard.boards.models import DEFAULT_ID, default_dashboard
from dashboard.boards.store import DashboardStore
from dashboard.db.appdb import PostgresAppDB, SQLiteAppDB
from tests.conftest import ADMIN_PASSWORD, sign_in
from tests.integration.metrics.test_postgres_store import url_with_schema

RULE = {
    "id": "errors-high",
    "name": "Errors high",
    "condition": "above",
    "threshold": 0.05,
    "series": {"name": "svc.error_rate", "labels": {}},
}


@pytest.fixture(params=["sqlite", "postgres"])
def db(request, tmp_path):
    """The app's database on each engine (PostgreSQL in a schema of this test's own)."""
    if request.param == "sqlite":
        database = SQLiteAppDB(tmp_path / "app.db")
    else:
        url, schema = request.getfixturevalue("postgres_schema")
        database = PostgresAppDB(url_with_schema(url, schema))
    yield database
    database.close()


def test_users_and_tokens(db):
    """A name is taken once; a token is found by its value until it is revoked; a revoked
    session id stays revoked."""
    users = SQLUserStore(db)
    admin = users.create_user("ada", "hash-1", "admin")
    assert (admin.username, admin.role, admin.disabled) == ("ada", "admin", False)
    with pytest.raises(ValueError, match="exists"):
        users.create_user("ada", "hash-2", "viewer")
    users.set_password_hash("ada", "hash-3")
    assert users.get_user("ada").password_hash == "hash-3"
    assert users.count_users() == 1
    token = users.create_token("producer")
    with pytest.raises(ValueError, match="exists"):
        users.create_token("producer")
    assert users.token_name(token) == "producer"
    assert users.revoke_token("producer") and not users.revoke_token("producer")
    assert users.token_name(token) is None
    assert users.list_tokens()[0]["revoked"] is True
    users.revoke_jti("jti-1", 2**40)
    users.revoke_jti("jti-1", 2**40)  # twice is fine
    assert users.is_revoked("jti-1") and not users.is_revoked("jti-2")


def test_dashboards(db):
    """The default dashboard is there at first; a saved one reads back as saved."""
    store = DashboardStore(db)
    assert store.get(DEFAULT_ID) == default_dashboard()
    mine = {**default_dashboard(), "id": "mine", "title": "Mine"}
    store.put(mine, owner="ada")
    store.put({**mine, "title": "Mine, renamed"}, owner="ada")
    assert store.get("mine")["title"] == "Mine, renamed"
    assert [d["id"] for d in store.list()] == ["mine", DEFAULT_ID]
    assert store.delete("mine") and not store.delete("mine")
    assert DashboardStore(db).get(DEFAULT_ID) is not None  # a second open adds nothing


def test_stars_and_homes(db):
    """Stars and homes are per user; a deleted dashboard takes its own with it."""
    store = DashboardStore(db)
    store.put({**default_dashboard(), "id": "ops", "title": "Ops", "tags": ["infra"]}, owner="ada")
    assert [d["tags"] for d in store.list()] == [["infra"], []]
    store.star("ada", "ops")
    store.star("ada", "ops")  # twice is fine
    store.star("bob", DEFAULT_ID)
    assert store.stars("ada") == {"ops"} and store.stars("bob") == {DEFAULT_ID}
    store.unstar("ada", "ops")
    assert store.stars("ada") == set()
    store.star("ada", "ops")
    store.set_home("ada", DEFAULT_ID)
    store.set_home("ada", "ops")
    assert store.home("ada") == "ops" and store.home("bob") is None
    assert store.delete("ops")
    assert store.stars("ada") == set() and store.home("ada") is None
    store.set_home("bob", DEFAULT_ID)
    store.set_home("bob", None)
    assert store.home("bob") is None


def test_alert_rules_and_events(db):
    """An event is stored once whoever reports it; the latest firing pair is listed; a rule
    can be snoozed and an event acknowledged."""
    store = AlertStore(db)
    rule = validate_rule(RULE)
    assert store.put_rule(rule) is True and store.put_rule(rule) is False
    assert store.get_rule("errors-high") == rule and store.rules() == [rule]
    fired = Event("errors-high", "svc.error_rate", "firing", 0.2, 1_000, "warning", "Errors high")
    first = store.record(fired)
    assert isinstance(first, int) and store.record(fired) is None
    assert store.firing() == [
        {"rule_id": "errors-high", "series": "svc.error_rate", "ts": 1_000, "severity": "warning"}
    ]
    assert store.record(Event("errors-high", "svc.error_rate", "resolved", 0.01, 2_000, "warning"))
    assert store.firing() == []
    assert [e["state"] for e in store.events()] == ["resolved", "firing"]
    assert store.ack(first, "ada") and not store.ack(10**9, "ada")
    assert store.events()[1]["acked_by"] == "ada"
    assert store.snooze("errors-high", 5_000) and store.snoozed_until("errors-high") == 5_000
    assert store.delete_rule("errors-high") and store.get_rule("errors-high") is None


def test_webhooks_are_sealed_at_rest_and_old_plain_ones_on_open(db):
    """A plain webhook written before encryption is sealed when a store with a key opens; the
    rows hold no plaintext on either engine and the rule reads back whole."""
    from dashboard.secretbox import SecretBox

    secret = "https://hooks.slack.com/services/T000/B000/PLAINTEXTsecretPLAINTEXT"
    AlertStore(db).put_rule(validate_rule({**RULE, "webhook": secret}))  # written in plain
    store = AlertStore(db, box=SecretBox("a-node-secret"))
    (body,) = [b for (b,) in db.execute("SELECT CAST(body AS TEXT) FROM alert_rules").rows]
    assert "PLAINTEXTsecret" not in body and "enc:v1:" in body
    assert store.get_rule("errors-high").webhook == secret
    store.put_rule(validate_rule({**RULE, "id": "second", "webhook": secret}))
    bodies = [b for (b,) in db.execute("SELECT CAST(body AS TEXT) FROM alert_rules").rows]
    assert len(bodies) == 2 and all("PLAINTEXTsecret" not in b for b in bodies)
    assert [r.webhook for r in store.rules()] == [secret, secret]


def test_nodes_on_one_postgres_share_users_and_dashboards(settings, postgres_schema, tmp_path):
    """Two nodes with their own data folders and one PostgreSQL: a user made on one signs in on
    the other, and a dashboard saved on one opens on the other."""
    url, schema = postgres_schema
    settings.database_url = url_with_schema(url, schema)
    other = settings.model_copy(update={"data_dir": tmp_path / "elsewhere"})
    node_a, node_b = create_app(settings), create_app(other)
    try:
        a = node_a.test_client()
        sign_in(a, "admin", ADMIN_PASSWORD)
        made = a.post(
            "/api/v1/users",
            json={"username": "eve", "password": "a-long-enough-password", "role": "editor"},
        )
        assert made.status_code in (200, 201), made.get_json()
        board = {**default_dashboard(), "id": "shared", "title": "Shared"}
        assert a.post("/api/v1/dashboards", json=board).status_code == 201
        b = node_b.test_client()
        sign_in(b, "eve", "a-long-enough-password")
        assert b.get("/api/v1/dashboards/shared").get_json()["title"] == "Shared"
    finally:
        node_a.extensions["dashboard"].close()
        node_b.extensions["dashboard"].close()
