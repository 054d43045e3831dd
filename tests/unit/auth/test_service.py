"""Signing in and making users and tokens: the rules the API and the CLI share."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from dashboard.auth import service
from dashboard.auth.passwords import HASHER
from dashboard.auth.users import SQLUserStore, TokenGrant, token_hash


@pytest.fixture
def users():
    """A user store in an in-memory SQLite database."""
    store = SQLUserStore(":memory:")
    yield store
    store.close()


def test_sign_in_returns_the_user_and_refuses_the_rest_alike(users) -> None:
    """The right password signs in; a wrong one, an unknown user and a disabled one do not."""
    made = service.create_user(
        users=users, username="ann", password="a-long-password", role="editor"
    )
    assert service.sign_in(users=users, username="ann", password="a-long-password") == made
    for name, password in (("ann", "wrong-password"), ("nobody", "a-long-password")):
        with pytest.raises(service.InvalidCredentials):
            service.sign_in(users=users, username=name, password=password)


def test_sign_in_upgrades_an_old_hash(users) -> None:
    """A hash made with weaker parameters is replaced at sign-in."""
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)
    users.create_user("old", weak.hash("an-old-password"), "viewer")
    service.sign_in(users=users, username="old", password="an-old-password")
    assert not HASHER.check_needs_rehash(users.get_user("old").password_hash)


@pytest.mark.parametrize(
    ("password", "role", "error"),
    [
        ("short", "viewer", service.WeakPassword),
        ("x" * (service.MIN_PASSWORD_LENGTH - 1), "viewer", service.WeakPassword),
        ("a-long-password", "owner", service.UnknownRole),
        ("a-long-password", "", service.UnknownRole),
    ],
)
def test_create_user_checks_the_password_then_the_role(users, password, role, error) -> None:
    """A short password or an unknown role is refused before the store is asked."""
    with pytest.raises(error):
        service.create_user(users=users, username="bob", password=password, role=role)
    assert users.count_users() == 0


def test_a_taken_name_is_refused_as_existing(users) -> None:
    """A second user or token of the same name: Refused with ``exists``; a bad name without."""
    service.create_user(users=users, username="cat", password="a-long-password", role="viewer")
    with pytest.raises(service.Refused) as taken:
        service.create_user(users=users, username="cat", password="a-long-password", role="viewer")
    assert taken.value.exists
    service.create_token(users=users, name="ci")
    with pytest.raises(service.Refused) as again:
        service.create_token(users=users, name="ci")
    assert again.value.exists
    with pytest.raises(service.Refused) as bad:
        service.create_token(users=users, name="")
    assert not bad.value.exists


def test_tokens_are_listed_and_revoked_by_name(users) -> None:
    """A token shows by name, never in clear, and is revoked once."""
    token = service.create_token(users=users, name="producer")
    assert users.token_name(token) == "producer"
    listed = service.list_tokens(users=users)
    assert [(t["name"], t["revoked"]) for t in listed] == [("producer", False)]
    assert token not in str(listed)
    assert service.revoke_token(users=users, name="producer")
    assert not service.revoke_token(users=users, name="producer")
    assert users.token_name(token) is None


def test_active_user_ignores_disabled_and_unknown_users(users) -> None:
    """A session names a user that may since have gone."""
    service.create_user(users=users, username="dan", password="a-long-password", role="viewer")
    assert service.active_user(users=users, username="dan").username == "dan"
    assert service.active_user(users=users, username="eve") is None


def test_ingest_tokens_come_from_the_environment_or_the_store(users) -> None:
    """DASHBOARD_INGEST_TOKENS are named ``env-N`` in sorted order; stored ones by their name."""
    stored = service.create_token(users=users, name="producer")
    env = frozenset({"b-token", "a-token"})
    names = [
        service.ingest_token_name(users=users, env_tokens=env, token=t)
        for t in ("a-token", "b-token", stored, "other")
    ]
    assert names == ["env-0", "env-1", "producer", None]


def test_tokens_have_a_scope_ingest_by_default(users) -> None:
    """A token is made for one scope: ingest by default, or read; any other scope is refused."""
    ingest = service.create_token(users=users, name="producer")
    read = service.create_token(users=users, name="grafana", scope="read")
    assert users.token_grant(ingest) == TokenGrant("producer", "ingest")
    assert users.token_grant(read) == TokenGrant("grafana", "read")
    assert users.token_name(ingest) == "producer"
    assert users.token_name(read) is None  # a read token is no ingest token
    listed = {t["name"]: t["scope"] for t in service.list_tokens(users=users)}
    assert listed == {"grafana": "read", "producer": "ingest"}
    with pytest.raises(service.UnknownScope):
        service.create_token(users=users, name="admin", scope="admin")
    with pytest.raises(ValueError, match="scope"):
        users.create_token("admin", "write")
    assert service.revoke_token(users=users, name="grafana")
    assert users.token_grant(read) is None


def test_token_grants_come_from_either_environment_list_or_the_store(users) -> None:
    """DASHBOARD_INGEST_TOKENS grant ingest (``env-N``), DASHBOARD_READ_TOKENS read
    (``read-env-N``), stored tokens their own scope; anything else nothing."""
    stored = service.create_token(users=users, name="grafana", scope="read")
    grants = [
        service.token_grant(
            users=users,
            env_tokens=frozenset({"i-token"}),
            env_read_tokens=frozenset({"r2-token", "r1-token"}),
            token=t,
        )
        for t in ("i-token", "r1-token", "r2-token", stored, "other", "")
    ]
    assert grants == [
        TokenGrant("env-0", "ingest"),
        TokenGrant("read-env-0", "read"),
        TokenGrant("read-env-1", "read"),
        TokenGrant("grafana", "read"),
        None,
        None,
    ]
    assert service.ingest_token_name(users=users, env_tokens=frozenset(), token=stored) is None


def test_a_sqlite_file_from_before_scopes_gets_the_column(tmp_path) -> None:
    """Tokens stored before scopes existed stay ingest tokens once the store reopens the file."""
    import sqlite3

    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.executescript(
        "CREATE TABLE ingest_tokens (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
        " token_hash TEXT NOT NULL UNIQUE, created_at INTEGER NOT NULL, revoked_at INTEGER);"
    )
    conn.execute(
        "INSERT INTO ingest_tokens (name, token_hash, created_at) VALUES (?, ?, 0)",
        ("old", token_hash("old-token")),
    )
    conn.commit()
    conn.close()
    store = SQLUserStore(path)
    try:
        assert store.token_grant("old-token") == TokenGrant("old", "ingest")
        assert [t["scope"] for t in store.list_tokens()] == ["ingest"]
        read = store.create_token("grafana", "read")
        assert store.token_grant(read) == TokenGrant("grafana", "read")
    finally:
        store.close()
    SQLUserStore(path).close()  # a second open finds the column and adds nothing
