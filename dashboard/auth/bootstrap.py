"""First start: make sure an admin exists, printing a generated password once."""

from __future__ import annotations

import secrets
import sys
from typing import Any

from dashboard.auth.passwords import hash_password
from dashboard.auth.users import UserStore


def ensure_first_admin(users: UserStore, settings: Any) -> str | None:
    """Create ``DASHBOARD_ADMIN_USER`` when no user exists; return a password it generated."""
    if users.count_users() > 0:
        return None
    given = settings.admin_password.get_secret_value() if settings.admin_password else ""
    password = given or secrets.token_urlsafe(12)
    users.create_user(settings.admin_user, hash_password(password), "admin")
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
