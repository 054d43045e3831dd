"""Users, bearer tokens (stored as SHA-256 hashes, each with its scope) and revoked JWT ids, in
the app's database.

A token's scope says what it may do, and nothing else: ``ingest`` (the default) sends points to
the ingest routes, ``read`` queries ``/prometheus/api/v1`` (Grafana). Neither can do the other.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from dashboard.auth import ROLES, SCOPES
from dashboard.db.appdb import AppDB, Conflict, as_app_db
from dashboard.db.audit import AuditLog

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('viewer', 'editor', 'admin')),
    created_at INTEGER NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS ingest_tokens (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    token_hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER,
    scope TEXT NOT NULL DEFAULT 'ingest' CHECK (scope IN ('ingest', 'read'))
);
CREATE TABLE IF NOT EXISTS revoked_tokens (
    jti TEXT PRIMARY KEY,
    expires_at INTEGER NOT NULL
);
"""


# a SQLite file made before tokens had scopes gets the column (its tokens stay ingest tokens)
SQLITE_SCOPE_COLUMN = (
    "ALTER TABLE ingest_tokens ADD COLUMN scope TEXT NOT NULL DEFAULT 'ingest'"
    " CHECK (scope IN ('ingest', 'read'))"
)


@dataclass(frozen=True)
class TokenGrant:
    """What a valid bearer token is: its name and its scope (``ingest`` or ``read``)."""

    name: str
    scope: str


@dataclass(frozen=True)
class User:
    """A user as the app sees it (the hash stays in the store)."""

    id: int
    username: str
    role: str
    password_hash: str
    disabled: bool = False

    def to_json(self) -> dict[str, object]:
        """The API form (no hash)."""
        return {
            "id": self.id,
            "username": self.username,
            "role": self.role,
            "disabled": self.disabled,
        }


def token_hash(token: str) -> str:
    """The stored form of a token (tokens are random, so a fast hash is enough)."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    """A fresh token."""
    return "dsh_" + secrets.token_urlsafe(32)


class UserStore(Protocol):
    """Where users, tokens and revoked sessions live."""

    audit: AuditLog  # the audit trail in the same database (the services record into it)

    def count_users(self) -> int:
        """How many users exist."""
        ...

    def create_user(self, username: str, password_hash: str, role: str) -> User:
        """A new user (ValueError for a bad or taken name, or a bad role)."""
        ...

    def get_user(self, username: str) -> User | None:
        """A user by name."""
        ...

    def list_users(self) -> list[User]:
        """Every user."""
        ...

    def set_password_hash(self, username: str, password_hash: str) -> None:
        """Replace a user's hash."""
        ...

    def create_token(self, name: str, scope: str = "ingest") -> str:
        """A new token named ``name`` with ``scope``, returned once (ValueError for a bad or
        taken name, or a bad scope)."""
        ...

    def token_name(self, token: str) -> str | None:
        """The name of a valid ingest token."""
        ...

    def token_grant(self, token: str) -> TokenGrant | None:
        """The name and scope of a valid token of any scope."""
        ...

    def revoke_token(self, name: str) -> bool:
        """Revoke a token by name; False when there was none."""
        ...

    def list_tokens(self) -> list[dict[str, object]]:
        """Tokens by name with their state."""
        ...

    def revoke_jti(self, jti: str, expires_at: int) -> None:
        """Refuse a session token from now on."""
        ...

    def is_revoked(self, jti: str) -> bool:
        """True when the session token was revoked."""
        ...

    def close(self) -> None:
        """Close the store."""
        ...


class SQLUserStore:
    """The UserStore in the app's database (SQLite or PostgreSQL)."""

    def __init__(self, db: AppDB | str | Path, *, owns_db: bool | None = None) -> None:
        """Open (and create) the tables."""
        # a store closes the database it opened from a path, or was handed to keep
        self._owns_db = isinstance(db, str | Path) if owns_db is None else owns_db
        self._db = as_app_db(db)
        self._db.create_tables(SCHEMA)
        self.audit = AuditLog(self._db)
        if self._db.kind == "sqlite":
            columns = {row[1] for row in self._db.execute("PRAGMA table_info(ingest_tokens)").rows}
            if "scope" not in columns:
                self._run(SQLITE_SCOPE_COLUMN)

    def _one(self, sql: str, args: tuple = ()) -> tuple | None:
        """The first row of a query."""
        return self._db.execute(sql, args).fetchone()

    def _run(self, sql: str, args: tuple = ()) -> int:
        """Run a statement; the number of rows it changed."""
        return self._db.execute(sql, args).rowcount

    def count_users(self) -> int:
        """How many users exist."""
        row = self._one("SELECT count(*) FROM users")
        return int(row[0]) if row else 0

    def create_user(self, username: str, password_hash: str, role: str) -> User:
        """Add a user; ValueError when the name is taken or the role unknown."""
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}")
        if not username or len(username) > 64 or not username.isprintable():
            raise ValueError("username: 1 to 64 printable characters")
        try:
            self._run(
                "INSERT INTO users (username, password_hash, role, created_at) VALUES (?,?,?,?)",
                (username, password_hash, role, int(time.time())),
            )
        except Conflict:
            raise ValueError(f"user {username!r} exists") from None
        user = self.get_user(username)
        assert user is not None
        return user

    def get_user(self, username: str) -> User | None:
        """A user by name."""
        row = self._one(
            "SELECT id, username, role, password_hash, disabled FROM users WHERE username = ?",
            (username,),
        )
        return User(row[0], row[1], row[2], row[3], bool(row[4])) if row else None

    def list_users(self) -> list[User]:
        """Every user."""
        rows = self._db.execute(
            "SELECT id, username, role, password_hash, disabled FROM users ORDER BY username"
        ).rows
        return [User(r[0], r[1], r[2], r[3], bool(r[4])) for r in rows]

    def set_password_hash(self, username: str, password_hash: str) -> None:
        """Replace a user's hash (after a rehash or a password change)."""
        self._run(
            "UPDATE users SET password_hash = ? WHERE username = ?", (password_hash, username)
        )

    def create_token(self, name: str, scope: str = "ingest") -> str:
        """A new token named ``name`` with ``scope``; only its hash is kept, the token is
        returned once."""
        if not name or len(name) > 64 or not name.isprintable():
            raise ValueError("token name: 1 to 64 printable characters")
        if scope not in SCOPES:
            raise ValueError(f"token scope: one of {', '.join(SCOPES)}")
        token = new_token()
        try:
            self._run(
                "INSERT INTO ingest_tokens (name, token_hash, created_at, scope) VALUES (?,?,?,?)",
                (name, token_hash(token), int(time.time()), scope),
            )
        except Conflict:
            raise ValueError(f"token {name!r} exists") from None
        return token

    def token_name(self, token: str) -> str | None:
        """The name of a valid (not revoked) ingest token, or None (a read token too)."""
        grant = self.token_grant(token)
        return grant.name if grant is not None and grant.scope == "ingest" else None

    def token_grant(self, token: str) -> TokenGrant | None:
        """The name and scope of a valid (not revoked) token, or None."""
        row = self._one(
            "SELECT name, scope FROM ingest_tokens WHERE token_hash = ? AND revoked_at IS NULL",
            (token_hash(token),),
        )
        return TokenGrant(row[0], row[1]) if row else None

    def revoke_token(self, name: str) -> bool:
        """Revoke a token by name; False when there was none to revoke."""
        return (
            self._run(
                "UPDATE ingest_tokens SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL",
                (int(time.time()), name),
            )
            > 0
        )

    def list_tokens(self) -> list[dict[str, object]]:
        """Tokens by name with their scope and state (never the token)."""
        rows = self._db.execute(
            "SELECT name, scope, created_at, revoked_at FROM ingest_tokens ORDER BY name"
        ).rows
        return [
            {"name": n, "scope": s, "created_at": c, "revoked": r is not None}
            for n, s, c, r in rows
        ]

    def revoke_jti(self, jti: str, expires_at: int) -> None:
        """Refuse a session token from now on (kept until it would have expired anyway)."""
        now = int(time.time())
        self._run("DELETE FROM revoked_tokens WHERE expires_at < ?", (now,))
        self._run(
            "INSERT INTO revoked_tokens (jti, expires_at) VALUES (?, ?) ON CONFLICT DO NOTHING",
            (jti, expires_at),
        )

    def is_revoked(self, jti: str) -> bool:
        """True when the session token was revoked."""
        return self._one("SELECT 1 FROM revoked_tokens WHERE jti = ?", (jti,)) is not None

    def close(self) -> None:
        """Close the database when this store opened it."""
        if self._owns_db:
            self._db.close()
