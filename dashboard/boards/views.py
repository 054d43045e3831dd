"""``/api/v1/dashboards``: list (searched, by tag, starred), export and import as JSON
(versioned schema), edit, delete, star; ``/api/v1/users/me/home``: the user's home dashboard."""

from __future__ import annotations

import json
from urllib.parse import quote

from flask import Blueprint, Response, redirect, request
from flask.typing import ResponseReturnValue

from dashboard.api.errors import error
from dashboard.auth.guard import current_user, require_role
from dashboard.auth.limits import api_limit, user_key
from dashboard.boards import prefs, service
from dashboard.boards.models import DEFAULT_ID
from dashboard.extensions import current_runtime, limiter
from dashboard.metrics.model import ValidationError

bp = Blueprint("dashboards", __name__, url_prefix="/api/v1/dashboards")
limiter.limit(api_limit, key_func=user_key)(bp)
me = Blueprint("dashboard_home", __name__, url_prefix="/api/v1/users/me")
limiter.limit(api_limit, key_func=user_key)(me)


def _mapped(exc: Exception) -> ResponseReturnValue:
    """The API's answer to a service error."""
    if isinstance(exc, service.DashboardNotFound):
        return error(404, "unknown dashboard", exc.dashboard_id)
    if isinstance(exc, service.DashboardExists):
        return error(409, "dashboard exists", exc.dashboard_id)
    if isinstance(exc, ValidationError):
        return error(400, "invalid dashboard", {"field": exc.field, "message": exc.message})
    return error(403, "forbidden", "needs the editor role")


SERVICE_ERRORS = (
    service.DashboardNotFound,
    service.DashboardExists,
    service.EditRefused,
    ValidationError,
)


def _username() -> str:
    """The signed-in user's name (the guard let only signed-in users through)."""
    user = current_user()
    assert user is not None  # the guard refuses anonymous requests
    return str(user.username)


@bp.get("")
def list_dashboards() -> ResponseReturnValue:
    """The dashboards (id, title, tags, starred, home), narrowed by ``search`` (words of the
    title), ``tag`` and ``starred=1``; starred ones first; every tag in use; the user's home."""
    return prefs.list_for(
        store=current_runtime().dashboards,
        username=_username(),
        search=request.args.get("search", "")[:200],
        tag=request.args.get("tag", "")[:40],
        starred_only=request.args.get("starred", "") in ("1", "true"),
    )


@bp.put("/<dashboard_id>/star")
def star_dashboard(dashboard_id: str) -> ResponseReturnValue:
    """Star a dashboard for the signed-in user (any role)."""
    return _set_star(dashboard_id, starred=True)


@bp.delete("/<dashboard_id>/star")
def unstar_dashboard(dashboard_id: str) -> ResponseReturnValue:
    """Take the signed-in user's star off a dashboard (any role)."""
    return _set_star(dashboard_id, starred=False)


def _set_star(dashboard_id: str, *, starred: bool) -> ResponseReturnValue:
    """Star or unstar, answering ``{"id", "starred"}``."""
    try:
        prefs.set_star(
            store=current_runtime().dashboards,
            username=_username(),
            dashboard_id=dashboard_id,
            starred=starred,
        )
    except service.DashboardNotFound as exc:
        return _mapped(exc)
    return {"id": dashboard_id, "starred": starred}


def open_home() -> ResponseReturnValue | None:
    """``/`` without a query opens the signed-in user's home dashboard, when they chose one (a
    redirect, so the URL names it and range changes keep it)."""
    user = current_user()
    if request.method != "GET" or request.path != "/" or request.query_string or user is None:
        return None
    home = prefs.home_dashboard(store=current_runtime().dashboards, username=user.username)
    if home is None or home == DEFAULT_ID:
        return None
    return redirect("/?dashboard=" + quote(home, safe=""))


@me.get("/home")
def get_home() -> ResponseReturnValue:
    """The signed-in user's home dashboard (``null``: the default one)."""
    return {"home": prefs.home_dashboard(store=current_runtime().dashboards, username=_username())}


@me.put("/home")
def put_home() -> ResponseReturnValue:
    """Choose the signed-in user's home dashboard, the one ``/`` opens (any role);
    ``{"dashboard": null}`` goes back to the default one."""
    body = request.get_json(silent=True)
    wanted = body.get("dashboard", "") if isinstance(body, dict) else ""
    if wanted is not None and (not isinstance(wanted, str) or not wanted):
        return error(400, "invalid body", {"field": "dashboard", "message": "an id or null"})
    try:
        prefs.set_home(
            store=current_runtime().dashboards, username=_username(), dashboard_id=wanted
        )
    except service.DashboardNotFound as exc:
        return _mapped(exc)
    return {"home": wanted}


@bp.get("/<dashboard_id>")
def get_dashboard(dashboard_id: str) -> ResponseReturnValue:
    """A dashboard as JSON; ``?download=1`` makes it a file to save (the export)."""
    try:
        dash = service.get_dashboard(store=current_runtime().dashboards, dashboard_id=dashboard_id)
    except service.DashboardNotFound as exc:
        return _mapped(exc)
    if request.args.get("download"):
        return Response(
            json.dumps(dash, indent=2),
            mimetype="application/json",
            headers={"Content-Disposition": f'attachment; filename="{dashboard_id}.json"'},
        )
    return dash


@bp.post("")
@require_role("editor")
def create_dashboard() -> ResponseReturnValue:
    """Create or import a dashboard (editors and admins)."""
    body = request.get_json(silent=True)
    try:
        saved = service.create_dashboard(
            store=current_runtime().dashboards, body=body, user=current_user()
        )
    except SERVICE_ERRORS as exc:
        return _mapped(exc)
    return saved, 201


@bp.put("/<dashboard_id>")
@require_role("editor")
def update_dashboard(dashboard_id: str) -> ResponseReturnValue:
    """Replace a dashboard (editors and admins)."""
    body = request.get_json(silent=True)
    try:
        saved = service.replace_dashboard(
            store=current_runtime().dashboards,
            dashboard_id=dashboard_id,
            body=body,
            user=current_user(),
        )
    except SERVICE_ERRORS as exc:
        return _mapped(exc)
    return saved, 200


@bp.delete("/<dashboard_id>")
@require_role("editor")
def delete_dashboard(dashboard_id: str) -> ResponseReturnValue:
    """Delete a dashboard (editors and admins)."""
    try:
        service.delete_dashboard(
            store=current_runtime().dashboards, dashboard_id=dashboard_id, user=current_user()
        )
    except SERVICE_ERRORS as exc:
        return _mapped(exc)
    return {"deleted": dashboard_id}
