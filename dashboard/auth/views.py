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

from dashboard.auth import service
from dashboard.auth.guard import current_user, json_error, public, require_role, user_store
from dashboard.auth.limits import (
    failed,
    login_ip_limit,
    login_limit,
    login_username,
    remote_address,
)
from dashboard.extensions import limiter

log = logging.getLogger(__name__)

bp = Blueprint("auth", __name__, url_prefix="/api/v1")


@bp.post("/auth/login")
@public
@limiter.limit(login_limit, key_func=login_username, deduct_when=failed)
@limiter.limit(login_ip_limit, key_func=remote_address, deduct_when=failed)
def login() -> ResponseReturnValue:
    """Check a username and password; on success set the session cookies."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return json_error(400, "invalid JSON", 'send {"username": ..., "password": ...}')
    username, password = body.get("username"), body.get("password")
    if not isinstance(username, str) or not isinstance(password, str) or not username:
        return json_error(400, "invalid credentials format", "username and password are strings")
    try:
        user = service.sign_in(users=user_store(), username=username, password=password)
    except service.InvalidCredentials:
        log.info("sign-in refused for %r from %s", username[:64], request.remote_addr)
        return json_error(401, "invalid credentials", "wrong username or password")
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
        return json_error(401, "unauthorized", str(exc) or type(exc).__name__)
    user = service.active_user(users=user_store(), username=str(get_jwt_identity()))
    if user is None:
        return json_error(401, "unauthorized", "unknown or disabled user")
    response = current_app.json.response({"user": user.to_json()})
    set_access_cookies(response, create_access_token(identity=user.username))
    return response


@bp.post("/auth/logout")
@public
def logout() -> ResponseReturnValue:
    """Revoke the session's access and refresh tokens and clear the cookies."""
    # Revoking is safe whoever asks (at worst a forged request signs someone out), so each
    # validly signed token in the cookies is revoked even without the CSRF header.
    for name in ("JWT_ACCESS_COOKIE_NAME", "JWT_REFRESH_COOKIE_NAME"):
        cookie = request.cookies.get(current_app.config[name])
        if not cookie:
            continue
        try:
            claims = decode_token(cookie, allow_expired=True)
        except (JWTExtendedException, PyJWTError):
            continue  # not ours: nothing to revoke
        service.revoke_session(users=user_store(), jti=claims["jti"], expires_at=int(claims["exp"]))
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
    return {"users": [u.to_json() for u in service.list_users(users=user_store())]}


@bp.post("/users")
@require_role("admin")
def create_user() -> ResponseReturnValue:
    """Create a user with a role (admins only)."""
    body: Any = request.get_json(silent=True)
    if not isinstance(body, dict):
        return json_error(400, "invalid JSON", 'send {"username", "password", "role"}')
    password, role = body.get("password"), body.get("role")
    try:
        user = service.create_user(
            users=user_store(),
            username=str(body.get("username") or ""),
            password=password if isinstance(password, str) else "",
            role=role if isinstance(role, str) else "",
        )
    except service.WeakPassword as exc:
        return json_error(400, "weak password", str(exc))
    except service.UnknownRole as exc:
        return json_error(400, "bad role", str(exc))
    except service.Refused as exc:
        return json_error(409 if exc.exists else 400, "cannot create user", str(exc))
    return {"user": user.to_json()}, 201


@bp.get("/tokens")
@require_role("admin")
def list_tokens() -> ResponseReturnValue:
    """Ingest tokens by name and state, never the token (admins only)."""
    return {"tokens": service.list_tokens(users=user_store())}


@bp.post("/tokens")
@require_role("admin")
def create_token() -> ResponseReturnValue:
    """A new ingest token, shown in this answer only (admins only)."""
    body: Any = request.get_json(silent=True)
    name = body.get("name") if isinstance(body, dict) else None
    try:
        token = service.create_token(users=user_store(), name=str(name or ""))
    except service.Refused as exc:
        return json_error(409 if exc.exists else 400, "cannot create token", str(exc))
    return {"name": name, "token": token}, 201


@bp.delete("/tokens/<name>")
@require_role("admin")
def revoke_token(name: str) -> ResponseReturnValue:
    """Revoke an ingest token (admins only)."""
    if not service.revoke_token(users=user_store(), name=name):
        return json_error(404, "unknown token", name)
    return {"revoked": name}
