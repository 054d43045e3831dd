"""``/api/v1/dashboards``: list, export and import as JSON (versioned schema), edit, delete."""

from __future__ import annotations

import json

from flask import Blueprint, Response, request
from flask.typing import ResponseReturnValue

from dashboard.api.errors import error
from dashboard.auth.guard import current_user, require_role
from dashboard.auth.limits import api_limit, user_key
from dashboard.boards import service
from dashboard.extensions import current_runtime, limiter
from dashboard.metrics.model import ValidationError

bp = Blueprint("dashboards", __name__, url_prefix="/api/v1/dashboards")
limiter.limit(api_limit, key_func=user_key)(bp)


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


@bp.get("")
def list_dashboards() -> ResponseReturnValue:
    """Every dashboard's id and title."""
    return {"dashboards": service.list_dashboards(store=current_runtime().dashboards)}


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
