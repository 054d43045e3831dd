"""The request guard: sessions in JWT cookies, CSRF, Origin checks, roles and headers.

Default deny: a request passes without a session only when its path is under a public prefix
or its view is marked ``public`` or ``token_auth`` (it then checks a token itself). Rate limits
are declared next to their routes, with the keys of ``auth.limits``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

from flask import Flask, Response, current_app, g, has_app_context, jsonify, redirect, request
from flask.typing import ResponseReturnValue
from flask_jwt_extended import get_current_user, get_jwt, verify_jwt_in_request
from flask_jwt_extended.exceptions import JWTExtendedException
from jwt.exceptions import PyJWTError
from werkzeug.middleware.proxy_fix import ProxyFix

from dashboard.auth import role_at_least
from dashboard.auth.service import active_user
from dashboard.auth.users import User, UserStore
from dashboard.extensions import jwt
from dashboard.settings import Settings

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])

PUBLIC_PREFIXES = ("/login/", "/assets/", "/_dash-component-suites/", "/socket.io/")
PUBLIC_PATHS = frozenset({"/login", "/_favicon.ico", "/favicon.ico"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
ACCESS_CSRF_COOKIE = "_csrf_token"  # the cookie and header dash-renderer already sends
REFRESH_CSRF_COOKIE = "_csrf_refresh"
CSRF_HEADER = "X-CSRFToken"
REFRESH_COOKIE_PATH = "/api/v1/auth"


def public(view: F) -> F:
    """Mark a view as open to anyone."""
    view._auth = "public"  # type: ignore[attr-defined]
    return view


def token_auth(view: F) -> F:
    """Mark a view that authenticates with a bearer token itself (ingest, scrapes)."""
    view._auth = "token"  # type: ignore[attr-defined]
    return view


def require_role(role: str) -> Callable[[F], F]:
    """Mark a view as needing at least ``role`` (viewer < editor < admin)."""

    def mark(view: F) -> F:
        """Record the role on the view."""
        view._role = role  # type: ignore[attr-defined]
        return view

    return mark


def user_store() -> UserStore:
    """The user store of the current app."""
    return current_app.extensions["auth_users"]


def current_user() -> User | None:
    """The signed-in user of this request, if the guard found one (None outside requests)."""
    return g.get("user") if has_app_context() else None


def bearer_token() -> str:
    """The token of an ``Authorization: Bearer`` header, or an empty string."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def session_role() -> str | None:
    """The role of a signed-in caller on a public route, without requiring a session."""
    try:
        verify_jwt_in_request(optional=True)
        user = get_current_user()
    except (JWTExtendedException, PyJWTError):
        return None
    return user.role if user is not None else None


def json_error(status: int, message: str, detail: Any = None, **headers: str) -> Response:
    """A JSON error in the API's shape, ``{"error": message, "detail": detail}``; each keyword
    is a header (``Retry_After="1"`` sends ``Retry-After: 1``)."""
    response = jsonify({"error": message, "detail": detail})
    response.status_code = status
    for name, value in headers.items():
        response.headers[name.replace("_", "-")] = value
    return response


def origin_allowed(origin: str, host_url: str, extra: list[str]) -> bool:
    """True when ``origin`` is this server's own origin or one configured as allowed."""
    own = urlsplit(host_url)
    allowed = {f"{own.scheme}://{own.netloc}".lower()} | {o.rstrip("/").lower() for o in extra}
    return origin.rstrip("/").lower() in allowed


def _wants_html() -> bool:
    """True for a page navigation (not an API, Dash or asset request)."""
    path = request.path
    if path.startswith(("/api/", "/_dash-", "/_reload-hash")):
        return False
    return request.method == "GET" and "text/html" in request.headers.get("Accept", "")


def jwt_config(settings: Settings) -> dict[str, Any]:
    """flask-jwt-extended's settings: sessions in cookies, CSRF double submit, HS256 only."""
    return {
        "JWT_TOKEN_LOCATION": ["cookies"],
        "JWT_ALGORITHM": "HS256",
        "JWT_DECODE_ALGORITHMS": ["HS256"],
        "JWT_ACCESS_TOKEN_EXPIRES": timedelta(minutes=settings.access_token_minutes),
        "JWT_REFRESH_TOKEN_EXPIRES": timedelta(hours=settings.refresh_token_hours),
        "JWT_COOKIE_SECURE": settings.cookie_secure == "always",
        "JWT_COOKIE_SAMESITE": "Lax",
        "JWT_COOKIE_CSRF_PROTECT": True,
        "JWT_CSRF_IN_COOKIES": True,
        "JWT_ACCESS_CSRF_COOKIE_NAME": ACCESS_CSRF_COOKIE,
        "JWT_ACCESS_CSRF_HEADER_NAME": CSRF_HEADER,
        "JWT_REFRESH_CSRF_COOKIE_NAME": REFRESH_CSRF_COOKIE,
        "JWT_REFRESH_CSRF_HEADER_NAME": CSRF_HEADER,
        "JWT_ACCESS_COOKIE_NAME": "access_token",
        "JWT_REFRESH_COOKIE_NAME": "refresh_token",
        "JWT_REFRESH_COOKIE_PATH": REFRESH_COOKIE_PATH,
        "JWT_ERROR_MESSAGE_KEY": "error",
    }


@jwt.user_lookup_loader
def _load_user(_header: dict, payload: dict) -> User | None:
    """The session's user, unless it no longer exists or was disabled."""
    return active_user(users=user_store(), username=str(payload.get("sub", "")))


@jwt.token_in_blocklist_loader
def _revoked(_header: dict, payload: dict) -> bool:
    """True for a session token revoked at sign-out."""
    return user_store().is_revoked(str(payload.get("jti", "")))


def init_auth(server: Flask, settings: Settings, users: UserStore) -> None:
    """Attach JWT sessions and the default-deny guard to ``server``."""
    if settings.trusted_proxies > 0:
        n = settings.trusted_proxies
        server.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            server.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n
        )
    server.config.update(jwt_config(settings))
    jwt.init_app(server)
    server.extensions["auth_users"] = users
    origins = list(settings.cors_allowed_origins)
    server.before_request(lambda: guard_request(origins))


def guard_request(allowed_origins: list[str]) -> ResponseReturnValue | None:
    """Let a public request through; refuse a cross-origin write; else require a session
    whose user has the view's role."""
    view = current_app.view_functions.get(request.endpoint or "")
    path = request.path
    if path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES):
        return None
    if view is not None and getattr(view, "_auth", None) in ("public", "token"):
        return None
    origin = request.headers.get("Origin")
    if (
        request.method not in SAFE_METHODS
        and origin is not None
        and not origin_allowed(origin, request.host_url, allowed_origins)
    ):
        return json_error(403, "cross-origin request refused", origin[:100])
    return _require_session(getattr(view, "_role", "viewer") if view is not None else "viewer")


def _require_session(needed: str) -> ResponseReturnValue | None:
    """Find the session's user (``g.user``) and check its role; a redirect or JSON error if not."""
    try:
        verify_jwt_in_request()
    except (JWTExtendedException, PyJWTError) as exc:
        if _wants_html():
            return redirect("/login/?next=" + quote(request.full_path.rstrip("?"), safe="/"))
        return json_error(401, "unauthorized", str(exc) or type(exc).__name__)
    user = get_current_user()
    if user is None:
        return json_error(401, "unauthorized", "unknown or disabled user")
    g.user = user
    g.jwt_exp = int(get_jwt().get("exp", 0))
    if not role_at_least(user.role, needed):
        return json_error(403, "forbidden", f"needs the {needed} role")
    return None


SCRIPT_TYPES = frozenset({"application/javascript", "text/javascript"})


def security_headers(
    server: Flask, settings: Settings, script_hashes: Callable[[], list[str]]
) -> None:
    """Add CSP, framing, sniffing, referrer and (over TLS) HSTS headers to every response."""
    cache: dict[str, str] = {}

    def csp() -> str:
        """The policy, built once the Dash apps know their inline scripts' hashes."""
        if "csp" not in cache:
            hashes = " ".join(dict.fromkeys(script_hashes()))  # already quoted by Dash
            cache["csp"] = "; ".join(
                [
                    "default-src 'self'",
                    f"script-src 'self' {hashes}".strip(),
                    "style-src 'self' 'unsafe-inline'",
                    "img-src 'self' data: blob:",
                    "font-src 'self' data:",
                    "connect-src 'self'",
                    "object-src 'none'",
                    "base-uri 'self'",
                    "form-action 'self'",
                    "frame-ancestors 'none'",
                ]
            )
        return cache["csp"]

    @server.after_request
    def _headers(response: Response) -> Response:
        """Set the headers a response does not set itself."""
        h = response.headers
        h.setdefault("X-Content-Type-Options", "nosniff")
        # a script is never a document: CSP, framing and referrer headers do nothing on it, and
        # would add some 600 bytes to each of the page's twenty scripts
        if response.mimetype not in SCRIPT_TYPES:
            h.setdefault("Content-Security-Policy", csp())
            h.setdefault("X-Frame-Options", "DENY")
            h.setdefault("Referrer-Policy", "same-origin")
        secure = settings.cookie_secure == "always" or (
            settings.cookie_secure == "auto" and request.is_secure
        )
        if request.is_secure:
            h.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if secure:
            cookies = h.getlist("Set-Cookie")
            if cookies:
                h.remove("Set-Cookie")
                for c in cookies:
                    h.add("Set-Cookie", c if "; Secure" in c else c + "; Secure")
        return response
