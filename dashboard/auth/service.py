"""Signing in, and making users and ingest tokens: one set of rules for the API and the CLI."""

from __future__ import annotations

import hmac

from dashboard.auth import ROLES
from dashboard.auth.passwords import DUMMY_HASH, hash_password, verify_password
from dashboard.auth.users import User, UserStore

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
        return users.create_user(username, hash_password(password), role)
    except ValueError as exc:
        raise Refused(str(exc), exists="exists" in str(exc)) from None


def list_tokens(*, users: UserStore) -> list[dict[str, object]]:
    """Ingest tokens by name and state, never the token."""
    return users.list_tokens()


def create_token(*, users: UserStore, name: str) -> str:
    """A new ingest token (shown once, stored hashed); Refused for a bad or taken name."""
    try:
        return users.create_token(name)
    except ValueError as exc:
        raise Refused(str(exc), exists="exists" in str(exc)) from None


def ingest_token_name(*, users: UserStore, env_tokens: frozenset[str], token: str) -> str | None:
    """The name of a valid ingest token: ``env-N`` for the N-th of DASHBOARD_INGEST_TOKENS
    (sorted), else the stored token's name."""
    found = None
    for i, accepted in enumerate(sorted(env_tokens)):
        # every one compared, in constant time: the answer's timing tells nothing
        if hmac.compare_digest(token.encode(), accepted.encode()):
            found = f"env-{i}"
    return found or users.token_name(token)


def revoke_token(*, users: UserStore, name: str) -> bool:
    """Revoke an ingest token; False when no active token has that name."""
    return users.revoke_token(name)
