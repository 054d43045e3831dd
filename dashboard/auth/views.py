"""``/api/v1/auth/*`` (sign in, refresh, sign out, who am I), users and ingest tokens (admin),
and the audit trail (admin, read only): ``/api/v1/audit`` and the ``/audit`` page."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

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
from markupsafe import escape

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
    """Tokens by name, scope and state, never the token (admins only)."""
    return {"tokens": service.list_tokens(users=user_store())}


@bp.post("/tokens")
@require_role("admin")
def create_token() -> ResponseReturnValue:
    """A new token, of scope ``ingest`` (the default) or ``read``, shown in this answer only
    (admins only)."""
    body: Any = request.get_json(silent=True)
    name = body.get("name") if isinstance(body, dict) else None
    scope = body.get("scope", "ingest") if isinstance(body, dict) else "ingest"
    try:
        token = service.create_token(users=user_store(), name=str(name or ""), scope=str(scope))
    except service.Refused as exc:
        return json_error(409 if exc.exists else 400, "cannot create token", str(exc))
    return {"name": name, "scope": scope, "token": token}, 201


@bp.delete("/tokens/<name>")
@require_role("admin")
def revoke_token(name: str) -> ResponseReturnValue:
    """Revoke a token of either scope (admins only)."""
    if not service.revoke_token(users=user_store(), name=name):
        return json_error(404, "unknown token", name)
    return {"revoked": name}


def _audit_query() -> dict[str, Any]:
    """The audit read's parameters from the query string: ``limit`` (1..1000, default 100),
    ``before`` (an event id: the page after it), ``actor`` and ``kind``; ValueError if bad."""
    limit = int(request.args.get("limit", 100))
    before = request.args.get("before")
    before_id = int(before) if before else None
    if not 1 <= limit <= 1000 or (before_id is not None and not 0 < before_id < 2**63):
        raise ValueError("out of range")
    actor, kind = request.args.get("actor") or None, request.args.get("kind") or None
    if "\x00" in (actor or "") + (kind or ""):  # no stored name has one (PostgreSQL refuses it)
        raise ValueError("NUL character")
    return {"limit": limit, "before_id": before_id, "actor": actor, "target_kind": kind}


@bp.get("/audit")
@require_role("admin")
def audit_trail() -> ResponseReturnValue:
    """The audit trail, newest first (admins only; read only: no route changes it)."""
    try:
        query = _audit_query()
    except ValueError:
        return json_error(400, "bad parameter", "limit: 1 to 1000; before: an event id (integers)")
    events = service.audit_events(users=user_store(), **query)
    full = len(events) == query["limit"]
    return {"events": events, "next_before": events[-1]["id"] if events and full else None}


# --- the admins' audit page (server-rendered, no script) ---------------------------------------

pages = Blueprint("auth_pages", __name__)

AUDIT_COLUMNS = ("Time (UTC)", "Actor", "Action", "Kind", "Target", "Detail", "Source")


def audit_page_html(events: list[dict[str, Any]], query: dict[str, Any], error: str = "") -> str:
    """The audit page: a filter form and the events as a table, every value escaped."""

    def cell(value: Any) -> str:
        """One escaped table cell."""
        return f"<td>{escape(value)}</td>"

    rows = []
    for e in events:
        when = datetime.fromtimestamp(e["ts_ms"] / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")
        detail = json.dumps(e["detail"], sort_keys=True) if e["detail"] else ""
        values = (when, e["actor"], e["action"], e["target_kind"], e["target_id"], detail)
        rows.append("<tr>" + "".join(map(cell, (*values, e["source_ip"]))) + "</tr>")
    head = "".join(f"<th scope='col'>{escape(c)}</th>" for c in AUDIT_COLUMNS)
    older = ""
    if events and len(events) == query["limit"]:
        params = {k: v for k, v in request.args.items() if k != "before"}
        params["before"] = str(events[-1]["id"])
        older = f'<p><a href="/audit?{escape(urlencode(params))}">Older events</a></p>'
    actor, kind = query.get("actor") or "", query.get("target_kind") or ""
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<title>Audit · Dashboard</title>"
        "<link rel='stylesheet' href='/assets/style.css'></head><body>"
        "<main class='audit-page'><h1>Audit trail</h1>"
        "<p><a href='/'>Back to the dashboard</a></p>"
        "<form method='get' action='/audit'>"
        f"<label>Actor <input name='actor' value='{escape(actor)}'></label> "
        f"<label>Kind <input name='kind' value='{escape(kind)}'></label> "
        "<button type='submit'>Filter</button></form>"
        + (f"<p role='alert'>{escape(error)}</p>" if error else "")
        + f"<table class='table'><thead><tr>{head}</tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table>"
        + ("" if events else "<p>No events.</p>")
        + older
        + "</main></body></html>"
    )


@pages.get("/audit")
@require_role("admin")
def audit_page() -> ResponseReturnValue:
    """The audit trail as an HTML table (admins only)."""
    try:
        query = _audit_query()
    except ValueError:
        query = {"limit": 100, "before_id": None, "actor": None, "target_kind": None}
        return audit_page_html([], query, "limit: 1 to 1000; before: an event id"), 400
    events = service.audit_events(users=user_store(), **query)
    return audit_page_html(events, query)
