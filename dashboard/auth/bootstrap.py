"""First start: the session secret kept in the data folder, and an admin (with a password
printed once when none was given)."""

from __future__ import annotations

import hashlib
import secrets
import sys
from pathlib import Path

from dashboard.auth.passwords import hash_password
from dashboard.auth.users import UserStore
from dashboard.db import audit
from dashboard.settings import Settings


def read_or_create_secret(path: Path, nbytes: int = 32) -> str:
    """A secret kept in a file readable only by its owner, created on first use."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(nbytes)
    path.touch(mode=0o600)
    path.write_text(value + "\n")
    return value


def secret_config(settings: Settings) -> dict[str, str]:
    """``SECRET_KEY`` (``DASHBOARD_SECRET_KEY``, else one kept in the data folder) and the
    JWT signing key derived from it."""
    given = settings.secret_key.get_secret_value() if settings.secret_key else ""
    secret = given or read_or_create_secret(settings.data_dir / "secret_key")
    return {
        "SECRET_KEY": secret,
        "JWT_SECRET_KEY": hashlib.sha256(b"jwt:" + secret.encode()).hexdigest(),
    }


def ensure_first_admin(users: UserStore, settings: Settings) -> str | None:
    """Create ``DASHBOARD_ADMIN_USER`` when no user exists; return a password it generated."""
    if users.count_users() > 0:
        return None
    given = settings.admin_password.get_secret_value() if settings.admin_password else ""
    password = given or secrets.token_urlsafe(12)
    users.create_user(settings.admin_user, hash_password(password), "admin")
    audit.note(users, "user.create", "user", settings.admin_user, {"role": "admin", "first": True})
    if given:
        return None
    print(
        "\n" + "=" * 64 + "\n"
        f"  First start: created the admin user {settings.admin_user!r}.\n"
        f"  Password (shown this once): {password}\n"
        "  Sign in at /login and add users with `dashboard users create`.\n" + "=" * 64 + "\n",
        file=sys.stderr,
        flush=True,
    )
    return password
