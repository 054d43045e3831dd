"""Rate limits: who a limit counts (address, user, token, sign-in name) and how much it allows.

Each limit is declared next to its route with ``dashboard.extensions.limiter``, reading its
rate from the app's settings at request time (``login_limit`` and the like), for instance::

    bp = Blueprint("api", __name__, url_prefix="/api/v1")
    limiter.limit(api_limit, key_func=user_key)(bp)

``init_limits`` attaches the limiter to an app: after the guard, so a limit keyed by user
sees the signed-in user.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from flask import Flask, Response, current_app, request
from limits import parse

from dashboard.auth.guard import bearer_token, current_user
from dashboard.extensions import limiter
from dashboard.settings import Settings

RATE_LIMITS = "DASHBOARD_RATE_LIMITS"  # the app config's key of the settings' rates


def remote_address() -> str:
    """The client's address (after ProxyFix, when proxies are trusted)."""
    return f"ip:{request.remote_addr or 'unknown'}"


def user_key() -> str:
    """The signed-in user, else the address: the key of per-user limits."""
    user = current_user()
    return f"user:{user.username}" if user is not None else remote_address()


def token_key() -> str:
    """A digest of the request's bearer token: the key of per-token ingest limits."""
    token = bearer_token()
    return "token:" + hashlib.sha256(token.encode()).hexdigest()[:16] if token else "token:-"


def login_username() -> str:
    """The username a sign-in attempt names (the key of the per-user sign-in limit)."""
    body = request.get_json(silent=True)
    name = body.get("username") if isinstance(body, dict) else None
    return f"user:{str(name)[:64].lower()}" if name else "user:-"


def failed(response: Response) -> bool:
    """True for a failed answer: only failed sign-ins spend the sign-in budget."""
    return response.status_code >= 400


def rates(settings: Settings) -> dict[str, str]:
    """The rates of each kind of limit, from the settings."""
    return {
        "login": settings.login_rate_limit,
        "login_ip": settings.login_ip_rate_limit,
        "ingest": settings.ingest_rate_limit,
        "api": settings.api_rate_limit,
    }


def login_limit() -> str:
    """Failed sign-ins per username (``DASHBOARD_LOGIN_RATE_LIMIT``)."""
    return current_app.config[RATE_LIMITS]["login"]


def login_ip_limit() -> str:
    """Failed sign-ins per address (``DASHBOARD_LOGIN_IP_RATE_LIMIT``)."""
    return current_app.config[RATE_LIMITS]["login_ip"]


def ingest_limit() -> str:
    """Ingest requests per token (``DASHBOARD_INGEST_RATE_LIMIT``)."""
    return current_app.config[RATE_LIMITS]["ingest"]


def api_limit() -> str:
    """API requests per user (``DASHBOARD_API_RATE_LIMIT``)."""
    return current_app.config[RATE_LIMITS]["api"]


def init_limits(server: Flask, settings: Settings) -> None:
    """Attach the limiter to ``server``: counts in Redis when configured, else in memory."""
    server.config.update(
        {
            RATE_LIMITS: rates(settings),
            "RATELIMIT_STORAGE_URI": settings.redis_url or "memory://",
            "RATELIMIT_KEY_PREFIX": settings.ratelimit_prefix,
        }
    )
    limiter.init_app(server)


def socket_ingest_limit(settings: Settings) -> Callable[[str], bool]:
    """The per-token ingest limit for Socket.IO producers, in the limiter's storage."""
    item = parse(settings.ingest_rate_limit)

    def allow(token_name: str) -> bool:
        """True when the producer ``token_name`` may send one more batch now."""
        return bool(limiter.limiter.hit(item, "socket-ingest", token_name))

    return allow
