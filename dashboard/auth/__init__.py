"""Authentication and authorization, in one place.

``passwords`` hashes with Argon2id; ``users`` stores users, scoped tokens and revoked JWTs;
``service`` signs in and makes users and tokens (for the API and the CLI); ``guard`` wires
flask-jwt-extended (cookies, CSRF double submit), the default-deny request guard, the Origin
check and security headers into an app; ``limits`` holds the rate limits' keys and rates;
``views`` is the auth API; ``bootstrap`` the first start. Every route is protected unless
``guard.public`` (or ``guard.token_auth``) marks it. This package imports only ``db`` and the
shared clock, settings, telemetry and extensions.
"""

ROLES = ("viewer", "editor", "admin")
ROLE_RANK = {role: rank for rank, role in enumerate(ROLES)}
# what a bearer token may do: send points (ingest routes) or query (/prometheus/api/v1)
SCOPES = ("ingest", "read")


def role_at_least(role: str | None, needed: str) -> bool:
    """True when ``role`` includes the rights of ``needed`` (viewer < editor < admin)."""
    return role in ROLE_RANK and ROLE_RANK[role] >= ROLE_RANK[needed]


def can_edit(user: object | None) -> bool:
    """True when a signed-in user may edit dashboards and alert rules (an editor or an admin)."""
    return user is not None and role_at_least(getattr(user, "role", None), "editor")
