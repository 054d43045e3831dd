"""The audit trail's service: rows added and read newest first, who and where an action comes
from, and what the auth, boards and alerts services record (never a secret)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from flask import Flask, g

from dashboard.alerts import service as alerts
from dashboard.alerts.engine import validate_rule
from dashboard.alerts.store import AlertStore
from dashboard.auth import service as auth
from dashboard.auth.users import SQLUserStore
from dashboard.boards import service as boards
from dashboard.boards.models import default_dashboard
from dashboard.boards.store import DashboardStore
from dashboard.db import audit
from dashboard.db.appdb import SQLiteAppDB
from dashboard.db.audit import AuditLog

HOOK = "https://hooks.example.com/services/T000/B000/SECRETsecretSECRET"
RULE = {"id": "r1", "condition": "above", "threshold": 1, "series": {"name": "cpu"}}


class Reloader:
    """A runner that only counts reloads."""

    reloads = 0

    def reload_rules(self) -> None:
        """Count."""
        self.reloads += 1


@pytest.fixture
def db():
    """An in-memory app database."""
    database = SQLiteAppDB(":memory:")
    yield database
    database.close()


def test_events_are_read_newest_first_filtered_and_paged(db):
    """Each filter narrows; ``before_id`` gives the next page; ``limit`` is clamped."""
    log = AuditLog(db)
    ids = [
        log.record("ada", "user.create", "user", "bob", {"role": "viewer"}, "10.0.0.1"),
        log.record("ada", "token.create", "token", "t", {"scope": "read"}, "10.0.0.1"),
        log.record("bob", "dashboard.delete", "dashboard", "ops", None, "10.0.0.2"),
    ]
    assert ids == sorted(ids)
    events = log.events()
    assert [e["id"] for e in events] == ids[::-1]
    assert events[-1] == {
        "id": ids[0],
        "ts_ms": events[-1]["ts_ms"],
        "actor": "ada",
        "action": "user.create",
        "target_kind": "user",
        "target_id": "bob",
        "detail": {"role": "viewer"},
        "source_ip": "10.0.0.1",
    }
    assert events[0]["detail"] == {}
    assert [e["action"] for e in log.events(actor="ada")] == ["token.create", "user.create"]
    assert [e["action"] for e in log.events(target_kind="dashboard")] == ["dashboard.delete"]
    assert [e["id"] for e in log.events(limit=1)] == [ids[2]]
    assert [e["id"] for e in log.events(limit=1, before_id=ids[2])] == [ids[1]]
    assert log.events(before_id=ids[0]) == []
    assert len(log.events(limit=0)) == 1 and len(log.events(limit=10**6)) == 3


def test_a_long_detail_is_cut_and_anything_is_stored_as_json(db):
    """Strings past TEXT_MAX are cut (in lists and dicts too); other values become text."""
    log = AuditLog(db)
    log.record("ada", "export.csv", "series", "", {"queries": ["x" * 5000], "at": object()})
    (event,) = log.events()
    assert len(event["detail"]["queries"][0]) == audit.TEXT_MAX + 1
    assert event["detail"]["at"].startswith("<object object")


def test_the_origin_is_the_request_then_the_pinned_one_then_the_system():
    """Inside a request: its user and remote address; else what ``acting_as`` pinned (reset
    after); else ``system`` from ``local``."""
    assert audit.current_origin() == ("system", "local")
    with audit.acting_as("cli:root", "cli"):
        assert audit.current_origin() == ("cli:root", "cli")
        app = Flask(__name__)
        with app.test_request_context(environ_base={"REMOTE_ADDR": "192.0.2.7"}):
            assert audit.current_origin() == ("anonymous", "192.0.2.7")
            g.user = SimpleNamespace(username="ada", role="admin")
            assert audit.current_origin() == ("ada", "192.0.2.7")
    assert audit.current_origin() == ("system", "local")


def test_note_records_by_the_origin_and_ignores_a_holder_without_a_log(db):
    """``note`` finds the log a store carries; a test double without one records nothing."""
    audit.note(SimpleNamespace(), "user.create", "user", "x")
    holder = SimpleNamespace(audit=AuditLog(db))
    with audit.acting_as("cli:ops", "cli"):
        audit.note(holder, "token.revoke", "token", "t1")
    audit.note(holder, "dashboard.create", "dashboard", "d", actor="system")
    got = [(e["actor"], e["action"], e["target_id"], e["source_ip"]) for e in holder.audit.events()]
    assert got == [
        ("system", "dashboard.create", "d", "local"),
        ("cli:ops", "token.revoke", "t1", "cli"),
    ]


def test_auth_service_records_users_and_tokens_but_never_a_secret(db):
    """A user made, a token made and revoked: three events; no password, token or hash."""
    users = SQLUserStore(db)
    with audit.acting_as("cli:ops", "cli"):
        auth.create_user(users=users, username="eve", password="a-long-password-1", role="editor")
        token = auth.create_token(users=users, name="producer", scope="read")
        assert auth.revoke_token(users=users, name="producer")
        assert not auth.revoke_token(users=users, name="producer")  # nothing to record
        with pytest.raises(auth.Refused):
            auth.create_token(users=users, name="", scope="read")  # refused: not recorded
    events = auth.audit_events(users=users)
    assert [(e["action"], e["target_id"], e["detail"]) for e in events] == [
        ("token.revoke", "producer", {}),
        ("token.create", "producer", {"scope": "read"}),
        ("user.create", "eve", {"role": "editor"}),
    ]
    assert {(e["actor"], e["source_ip"]) for e in events} == {("cli:ops", "cli")}
    dump = str(db.execute("SELECT * FROM audit_events").rows)
    assert token not in dump and "a-long-password-1" not in dump and "argon2" not in dump


def test_boards_service_records_each_change_and_which_edit(db):
    """Create, an editor's save (with its edit), replace, import and delete: one event each."""
    store = DashboardStore(db)
    editor = SimpleNamespace(username="ed", role="editor")
    board = {**default_dashboard(), "id": "ops", "title": "Ops"}
    boards.create_dashboard(store=store, body=board, user=editor)
    boards.save_dashboard(store=store, dashboard=board, user=editor, edit="Placed w at 0,0")
    boards.replace_dashboard(store=store, dashboard_id="ops", body=board, user=editor)
    imported = boards.import_dashboard(store=store, body=board, title="Copy", user=editor)
    boards.delete_dashboard(store=store, dashboard_id="ops", user=editor)
    with pytest.raises(boards.EditRefused):
        boards.delete_dashboard(store=store, dashboard_id=imported["id"], user=None)
    got = [(e["action"], e["target_id"]) for e in store.audit.events()][::-1]
    assert got == [
        ("dashboard.create", "ops"),
        ("dashboard.edit", "ops"),
        ("dashboard.replace", "ops"),
        ("dashboard.import", imported["id"]),
        ("dashboard.delete", "ops"),
    ]
    assert store.audit.events(limit=5)[3]["detail"]["edit"] == "Placed w at 0,0"


def test_alerts_service_records_rules_without_their_webhook(db):
    """Create, update (which fields changed, a new webhook named only), snooze, delete; the
    webhook's URL is in no event, not even masked."""
    store, runner = AlertStore(db), Reloader()
    alerts.create_rule(store=store, runner=runner, body={**RULE, "webhook": HOOK})
    alerts.update_rule(store=store, runner=runner, rule_id="r1", body={**RULE, "threshold": 2})
    alerts.update_rule(
        store=store, runner=runner, rule_id="r1", body={**RULE, "webhook": HOOK + "x"}
    )
    alerts.snooze(store=store, rule_id="r1", minutes=5, now_ms=1_000)
    alerts.delete_rule(store=store, runner=runner, rule_id="r1")
    events = store.audit.events()[::-1]
    assert [e["action"] for e in events] == [
        "alert_rule.create",
        "alert_rule.update",
        "alert_rule.update",
        "alert_rule.snooze",
        "alert_rule.delete",
    ]
    assert events[0]["detail"]["webhook"] == "set"
    # the resolve threshold follows the threshold when not given
    assert events[1]["detail"]["changed"] == ["resolve_threshold", "threshold"]
    assert events[2]["detail"]["changed"] == ["resolve_threshold", "threshold", "webhook"]
    assert events[3]["detail"] == {"minutes": 5, "until": 301_000}
    dump = str(db.execute("SELECT * FROM audit_events").rows)
    assert "SECRET" not in dump and "hooks.example.com" not in dump


def test_an_unchanged_webhook_is_not_a_change():
    """Comparing two rules with the same webhook names no field."""
    rule = validate_rule({**RULE, "webhook": HOOK})
    assert alerts.audit_detail(rule, rule)["changed"] == []
