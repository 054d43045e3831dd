"""``/api/v1/auth/*`` (sign in, refresh, sign out, who am I), users and ingest tokens (admin)."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, current_app, request
from flask.typing import ResponseReturnValue
from flask_jwt_extended import (
    create_access_token,
    create_refresh_token,
    decode_token,
    get_jwt_identity,
    set_access_cookies,
    set_refresh_cookies,
    unset_jwt_cookies,
    verify_jwt_in_request,
)
from flask_jwt_extended.exceptions import JWTExtendedException
from jwt.exceptions import PyJWTError

from dashboard.api.errors import error
from dashboard.auth import ROLES
from dashboard.auth.guard import current_user, public, require_role
from dashboard.auth.passwords import DUMMY_HASH, hash_password, verify_password
from dashboard.auth.users import UserStore

log = logging.getLogger(__name__)

bp = Blueprint("auth", __name__, url_prefix="/api/v1")


def users() -> UserStore:
    """The user store of the current app."""
    return current_app.extensions["auth_users"]


def login_username() -> str:
    """The username a sign-in attempt names (the key of the per-user rate limit)."""
    body = request.get_json(silent=True)
    name = body.get("username") if isinstance(body, dict) else None
    return f"user:{str(name)[:64].lower()}" if name else "user:-"


@bp.post("/auth/login")
@public
def login() -> ResponseReturnValue:
    """Check a username and password; on success set the session cookies."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return error(400, "invalid JSON", 'send {"username": ..., "password": ...}')
    username, password = body.get("username"), body.get("password")
    if not isinstance(username, str) or not isinstance(password, str) or not username:
        return error(400, "invalid credentials format", "username and password are strings")
    user = users().get_user(username)
    ok, new_hash = verify_password(user.password_hash if user else DUMMY_HASH, password)
    if user is None or not ok or user.disabled:
        log.info("sign-in refused for %r from %s", username[:64], request.remote_addr)
        return error(401, "invalid credentials", "wrong username or password")
    if new_hash:
        users().set_password_hash(user.username, new_hash)
    response = current_app.json.response({"user": user.to_json()})
    set_access_cookies(response, create_access_token(identity=user.username))
    set_refresh_cookies(response, create_refresh_token(identity=user.username))
    return response


@bp.post("/auth/refresh")
@public
def refresh() -> ResponseReturnValue:
    """A new access cookie from a valid, unrevoked refresh cookie (CSRF header required)."""
    try:
        verify_jwt_in_request(refresh=True)
    except (JWTExtendedException, PyJWTError) as exc:
        return error(401, "unauthorized", str(exc) or type(exc).__name__)
    user = users().get_user(str(get_jwt_identity()))
    if user is None or user.disabled:
        return error(401, "unauthorized", "unknown or disabled user")
    response = current_app.json.response({"user": user.to_json()})
    set_access_cookies(response, create_access_token(identity=user.username))
    return response


@bp.post("/auth/logout")
@public
def logout() -> ResponseReturnValue:
    """Revoke the session's access and refresh tokens and clear the cookies."""
    # Revoking is safe whoever asks (at worst a forged request signs someone out), so each
    # validly signed token in the cookies is revoked even without the CSRF header.
    store = users()
    for name in ("JWT_ACCESS_COOKIE_NAME", "JWT_REFRESH_COOKIE_NAME"):
        cookie = request.cookies.get(current_app.config[name])
        if not cookie:
            continue
        try:
            claims = decode_token(cookie, allow_expired=True)
        except (JWTExtendedException, PyJWTError):
            continue  # not ours: nothing to revoke
        store.revoke_jti(claims["jti"], int(claims["exp"]))
    response = current_app.json.response({"signed_out": True})
    unset_jwt_cookies(response)
    return response


@bp.get("/auth/me")
def me() -> ResponseReturnValue:
    """The signed-in user."""
    user = current_user()
    assert user is not None  # the guard let the request through
    return {"user": user.to_json()}


@bp.get("/users")
@require_role("admin")
def list_users() -> ResponseReturnValue:
    """Every user (admins only)."""
    return {"users": [u.to_json() for u in users().list_users()]}


@bp.post("/users")
@require_role("admin")
def create_user() -> ResponseReturnValue:
    """Create a user with a role (admins only)."""
    body: Any = request.get_json(silent=True)
    if not isinstance(body, dict):
        return error(400, "invalid JSON", 'send {"username", "password", "role"}')
    username, password, role = body.get("username"), body.get("password"), body.get("role")
    if not isinstance(password, str) or len(password) < 12:
        return error(400, "weak password", "password: at least 12 characters")
    if role not in ROLES:
        return error(400, "bad role", f"role: one of {', '.join(ROLES)}")
    try:
        user = users().create_user(str(username or ""), hash_password(password), role)
    except ValueError as exc:
        return error(409 if "exists" in str(exc) else 400, "cannot create user", str(exc))
    return {"user": user.to_json()}, 201


@bp.get("/tokens")
@require_role("admin")
def list_tokens() -> ResponseReturnValue:
    """Ingest tokens by name and state, never the token (admins only)."""
    return {"tokens": users().list_tokens()}


@bp.post("/tokens")
@require_role("admin")
def create_token() -> ResponseReturnValue:
    """A new ingest token, shown in this answer only (admins only)."""
    body: Any = request.get_json(silent=True)
    name = body.get("name") if isinstance(body, dict) else None
    try:
        token = users().create_token(str(name or ""))
    except ValueError as exc:
        return error(409 if "exists" in str(exc) else 400, "cannot create token", str(exc))
    return {"name": name, "token": token}, 201


@bp.delete("/tokens/<name>")
@require_role("admin")
def revoke_token(name: str) -> ResponseReturnValue:
    """Revoke an ingest token (admins only)."""
    if not users().revoke_token(name):
        return error(404, "unknown token", name)
    return {"revoked": name}
