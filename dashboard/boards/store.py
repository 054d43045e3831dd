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
CREATE TABLE IF NOT EXISTS dashboard_stars (
    username TEXT NOT NULL,
    dashboard_id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (username, dashboard_id)
);
CREATE TABLE IF NOT EXISTS user_home (
    username TEXT PRIMARY KEY,
    dashboard_id TEXT NOT NULL,
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
        """Id, title, tags, owner and update time of every dashboard."""
        rows = self._db.execute(
            "SELECT id, title, owner, updated_at, CAST(body AS TEXT) FROM dashboards"
            " ORDER BY title, id"
        ).rows
        return [
            {
                "id": i,
                "title": t,
                "tags": json.loads(b).get("tags", []),
                "owner": o,
                "updated_at": u,
            }
            for i, t, o, u, b in rows
        ]

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
        # nothing points at a deleted dashboard
        self._db.execute("DELETE FROM dashboard_stars WHERE dashboard_id = ?", (dashboard_id,))
        self._db.execute("DELETE FROM user_home WHERE dashboard_id = ?", (dashboard_id,))
        return self._db.execute("DELETE FROM dashboards WHERE id = ?", (dashboard_id,)).rowcount > 0

    def stars(self, username: str) -> set[str]:
        """The ids of the dashboards ``username`` starred."""
        rows = self._db.execute(
            "SELECT dashboard_id FROM dashboard_stars WHERE username = ?", (username,)
        ).rows
        return {row[0] for row in rows}

    def star(self, username: str, dashboard_id: str) -> None:
        """Star a dashboard for a user (again is harmless)."""
        self._db.execute(
            "INSERT INTO dashboard_stars (username, dashboard_id, created_at) VALUES (?,?,?)"
            " ON CONFLICT (username, dashboard_id) DO NOTHING",
            (username, dashboard_id, int(time.time() * 1000)),
        )

    def unstar(self, username: str, dashboard_id: str) -> None:
        """Take a user's star off a dashboard (none is harmless)."""
        self._db.execute(
            "DELETE FROM dashboard_stars WHERE username = ? AND dashboard_id = ?",
            (username, dashboard_id),
        )

    def home(self, username: str) -> str | None:
        """The id of a user's home dashboard, None when they chose none."""
        row = self._db.execute(
            "SELECT dashboard_id FROM user_home WHERE username = ?", (username,)
        ).fetchone()
        return str(row[0]) if row else None

    def set_home(self, username: str, dashboard_id: str | None) -> None:
        """Choose a user's home dashboard (None: back to the default one)."""
        if dashboard_id is None:
            self._db.execute("DELETE FROM user_home WHERE username = ?", (username,))
            return
        self._db.execute(
            "INSERT INTO user_home (username, dashboard_id, updated_at) VALUES (?,?,?)"
            " ON CONFLICT (username) DO UPDATE SET dashboard_id = excluded.dashboard_id,"
            " updated_at = excluded.updated_at",
            (username, dashboard_id, int(time.time() * 1000)),
        )

    def close(self) -> None:
        """Close the database when this store opened it."""
        if self._owns_db:
            self._db.close()
