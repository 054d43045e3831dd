"""``/api/v1/dashboards``: list, export and import as JSON (versioned schema), edit, delete."""

from __future__ import annotations

import json

from flask import Blueprint, Response, request
from flask.typing import ResponseReturnValue

from dashboard.api.errors import error, runtime
from dashboard.auth.guard import current_user, require_role
from dashboard.metrics.model import ValidationError

bp = Blueprint("dashboards", __name__, url_prefix="/api/v1/dashboards")


@bp.get("")
def list_dashboards() -> ResponseReturnValue:
    """Every dashboard's id and title."""
    return {"dashboards": runtime().dashboards.list()}  # type: ignore[union-attr]


@bp.get("/<dashboard_id>")
def get_dashboard(dashboard_id: str) -> ResponseReturnValue:
    """A dashboard as JSON; ``?download=1`` makes it a file to save (the export)."""
    dash = runtime().dashboard(dashboard_id)
    if dash is None:
        return error(404, "unknown dashboard", dashboard_id)
    if request.args.get("download"):
        return Response(
            json.dumps(dash, indent=2),
            mimetype="application/json",
            headers={"Content-Disposition": f'attachment; filename="{dashboard_id}.json"'},
        )
    return dash


def _save(body: object, *, creating: bool, dashboard_id: str | None) -> ResponseReturnValue:
    """Validate and store a dashboard from a request body."""
    store = runtime().dashboards
    assert store is not None
    if dashboard_id is not None and isinstance(body, dict):
        body = {**body, "id": dashboard_id}
    exists = isinstance(body, dict) and store.get(str(body.get("id"))) is not None
    if creating and exists:
        return error(409, "dashboard exists", body.get("id"))  # type: ignore[union-attr]
    if not creating and not exists:
        return error(404, "unknown dashboard", dashboard_id)
    user = current_user()
    try:
        saved = store.put(body, owner=user.username if user else None)
    except ValidationError as exc:
        return error(400, "invalid dashboard", {"field": exc.field, "message": exc.message})
    return saved, 201 if creating else 200


@bp.post("")
@require_role("editor")
def create_dashboard() -> ResponseReturnValue:
    """Create or import a dashboard (editors and admins)."""
    return _save(request.get_json(silent=True), creating=True, dashboard_id=None)


@bp.put("/<dashboard_id>")
@require_role("editor")
def update_dashboard(dashboard_id: str) -> ResponseReturnValue:
    """Replace a dashboard (editors and admins)."""
    return _save(request.get_json(silent=True), creating=False, dashboard_id=dashboard_id)


@bp.delete("/<dashboard_id>")
@require_role("editor")
def delete_dashboard(dashboard_id: str) -> ResponseReturnValue:
    """Delete a dashboard (editors and admins)."""
    if not runtime().dashboards.delete(dashboard_id):  # type: ignore[union-attr]
        return error(404, "unknown dashboard", dashboard_id)
    return {"deleted": dashboard_id}
