"""Signing in, and making users and scoped tokens: one set of rules for the API and the CLI.

Each change (a user made, a token made or revoked) is recorded in the audit trail
(``dashboard.db.audit``), which admins read with ``audit_events``.
"""

from __future__ import annotations

import hmac
from typing import Any

from dashboard.auth import ROLES, SCOPES
from dashboard.auth.passwords import DUMMY_HASH, hash_password, verify_password
from dashboard.auth.users import TokenGrant, User, UserStore
from dashboard.db import audit

MIN_PASSWORD_LENGTH = 12


class InvalidCredentials(Exception):
    """A refused sign-in: unknown user, wrong password or disabled account, told apart to no one."""


class Refused(ValueError):
    """A user or token that cannot be made; ``exists`` when its name is taken."""

    def __init__(self, message: str, *, exists: bool = False) -> None:
        """A refusal with the store's (or the rule's) message."""
        super().__init__(message)
        self.exists = exists


class WeakPassword(Refused):
    """A password shorter than ``MIN_PASSWORD_LENGTH``."""


class UnknownRole(Refused):
    """A role that is none of ``ROLES``."""


class UnknownScope(Refused):
    """A token scope that is none of ``SCOPES``."""


def sign_in(*, users: UserStore, username: str, password: str) -> User:
    """The user with this password, its hash upgraded when made with older parameters.

    An unknown user costs the same time as a wrong password (``DUMMY_HASH``).
    """
    user = users.get_user(username)
    ok, new_hash = verify_password(user.password_hash if user else DUMMY_HASH, password)
    if user is None or not ok or user.disabled:
        raise InvalidCredentials(username[:64])
    if new_hash:
        users.set_password_hash(user.username, new_hash)
    return user


def active_user(*, users: UserStore, username: str) -> User | None:
    """The user named by a session, unless it no longer exists or was disabled."""
    user = users.get_user(username)
    return None if user is None or user.disabled else user


def revoke_session(*, users: UserStore, jti: str, expires_at: int) -> None:
    """Refuse a session token from now on."""
    users.revoke_jti(jti, expires_at)


def list_users(*, users: UserStore) -> list[User]:
    """Every user, by name."""
    return users.list_users()


def create_user(*, users: UserStore, username: str, password: str, role: str) -> User:
    """A new user with a role; WeakPassword, UnknownRole or Refused (a bad or taken name)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword(f"password: at least {MIN_PASSWORD_LENGTH} characters")
    if role not in ROLES:
        raise UnknownRole(f"role: one of {', '.join(ROLES)}")
    try:
        user = users.create_user(username, hash_password(password), role)
    except ValueError as exc:
        raise Refused(str(exc), exists="exists" in str(exc)) from None
    audit.note(users, "user.create", "user", user.username, {"role": user.role})
    return user


def list_tokens(*, users: UserStore) -> list[dict[str, object]]:
    """Tokens by name, scope and state, never the token."""
    return users.list_tokens()


def create_token(*, users: UserStore, name: str, scope: str = "ingest") -> str:
    """A new token (shown once, stored hashed) that may only ``ingest`` (the default) or only
    ``read``; UnknownScope, or Refused for a bad or taken name."""
    if scope not in SCOPES:
        raise UnknownScope(f"scope: one of {', '.join(SCOPES)}")
    try:
        token = users.create_token(name, scope)
    except ValueError as exc:
        raise Refused(str(exc), exists="exists" in str(exc)) from None
    audit.note(users, "token.create", "token", name, {"scope": scope})  # never the token
    return token


def _env_match(token: str, accepted: frozenset[str], prefix: str) -> str | None:
    """``{prefix}-N`` for the N-th of ``accepted`` (sorted) equal to ``token``, else None."""
    found = None
    for i, candidate in enumerate(sorted(accepted)):
        # every one compared, in constant time: the answer's timing tells nothing
        if hmac.compare_digest(token.encode(), candidate.encode()):
            found = f"{prefix}-{i}"
    return found


def token_grant(
    *,
    users: UserStore,
    env_tokens: frozenset[str],
    env_read_tokens: frozenset[str],
    token: str,
) -> TokenGrant | None:
    """What a bearer token may do: an ingest token of DASHBOARD_INGEST_TOKENS (``env-N``), a
    read token of DASHBOARD_READ_TOKENS (``read-env-N``), else the stored token's name and
    scope; None for an unknown or revoked token."""
    if not token:
        return None
    name = _env_match(token, env_tokens, "env")
    if name is not None:
        return TokenGrant(name, "ingest")
    name = _env_match(token, env_read_tokens, "read-env")
    if name is not None:
        return TokenGrant(name, "read")
    return users.token_grant(token)


def ingest_token_name(*, users: UserStore, env_tokens: frozenset[str], token: str) -> str | None:
    """The name of a valid ingest token: ``env-N`` for the N-th of DASHBOARD_INGEST_TOKENS
    (sorted), else the stored token's name."""
    return _env_match(token, env_tokens, "env") or users.token_name(token)


def revoke_token(*, users: UserStore, name: str) -> bool:
    """Revoke a token of any scope; False when no active token has that name."""
    if not users.revoke_token(name):
        return False
    audit.note(users, "token.revoke", "token", name)
    return True


def audit_events(
    *,
    users: UserStore,
    limit: int = 100,
    before_id: int | None = None,
    actor: str | None = None,
    target_kind: str | None = None,
) -> list[dict[str, Any]]:
    """The audit trail, newest first (``AuditLog.events``); for admins only (the views check)."""
    return users.audit.events(
        limit=limit, before_id=before_id, actor=actor, target_kind=target_kind
    )
