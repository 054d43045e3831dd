"""Dashboards saved in the app's database (the default one is created on first use)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from dashboard.boards.models import default_dashboard, validate_dashboard
from dashboard.db.appdb import AppDB, as_app_db
from dashboard.db.audit import AuditLog

SCHEMA = """
CREATE TABLE IF NOT EXISTS dashboards (
    id TEXT PRIMARY KEY,
    owner TEXT,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);
"""


class DashboardStore:
    """Validated dashboards by id."""

    def __init__(self, db: AppDB | str | Path, *, owns_db: bool | None = None) -> None:
        """Open (and create) the table; add the default dashboard when there is none."""
        # a store closes the database it opened from a path, or was handed to keep
        self._owns_db = isinstance(db, str | Path) if owns_db is None else owns_db
        self._db = as_app_db(db)
        self._db.create_tables(SCHEMA)
        self.audit = AuditLog(self._db)  # the services record each change here
        if self._db.execute("SELECT count(*) FROM dashboards").rows[0][0] == 0:
            self.put(default_dashboard(), owner=None)

    def list(self) -> list[dict[str, Any]]:
        """Id, title, owner and update time of every dashboard."""
        rows = self._db.execute(
            "SELECT id, title, owner, updated_at FROM dashboards ORDER BY title, id"
        ).rows
        return [{"id": i, "title": t, "owner": o, "updated_at": u} for i, t, o, u in rows]

    def get(self, dashboard_id: str) -> dict[str, Any] | None:
        """A dashboard by id."""
        row = self._db.execute(
            "SELECT CAST(body AS TEXT) FROM dashboards WHERE id = ?", (dashboard_id,)
        ).fetchone()
        return json.loads(row[0]) if row else None

    def put(self, body: Any, *, owner: str | None) -> dict[str, Any]:
        """Validate and save (create or replace) a dashboard; the saved form."""
        dashboard = validate_dashboard(body)
        self._db.execute(
            "INSERT INTO dashboards (id, owner, title, body, updated_at) VALUES (?,?,?,?,?)"
            " ON CONFLICT (id) DO UPDATE SET title = excluded.title, body = excluded.body,"
            " updated_at = excluded.updated_at",
            (
                dashboard["id"],
                owner,
                dashboard["title"],
                json.dumps(dashboard),
                int(time.time() * 1000),
            ),
        )
        return dashboard

    def delete(self, dashboard_id: str) -> bool:
        """Delete a dashboard; False when there was none."""
        return self._db.execute("DELETE FROM dashboards WHERE id = ?", (dashboard_id,)).rowcount > 0

    def close(self) -> None:
        """Close the database when this store opened it."""
        if self._owns_db:
            self._db.close()
