"""Dashboards saved in the SQLite database (the default one is created on first use)."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

from dashboard.dashboards import default_dashboard, validate_dashboard
from dashboard.store.sqlite import connect

SCHEMA = """
CREATE TABLE IF NOT EXISTS dashboards (
    id TEXT PRIMARY KEY,
    owner TEXT,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);
"""


class SQLiteDashboardStore:
    """Validated dashboards by id."""

    def __init__(self, path: str | Path) -> None:
        """Open (and create) the table; add the default dashboard when there is none."""
        self.path = str(path)
        self._conn = connect(path, SCHEMA)
        self._lock = threading.Lock()
        with self._lock:
            empty = self._conn.execute("SELECT count(*) FROM dashboards").fetchone()[0] == 0
        if empty:
            self.put(default_dashboard(), owner=None)

    def list(self) -> list[dict[str, Any]]:
        """Id, title, owner and update time of every dashboard."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT id, title, owner, updated_at FROM dashboards ORDER BY title, id"
            ).fetchall()
        return [{"id": i, "title": t, "owner": o, "updated_at": u} for i, t, o, u in rows]

    def get(self, dashboard_id: str) -> dict[str, Any] | None:
        """A dashboard by id."""
        with self._lock:
            row = self._conn.execute(
                "SELECT body FROM dashboards WHERE id = ?", (dashboard_id,)
            ).fetchone()
        return json.loads(row[0]) if row else None

    def put(self, body: Any, *, owner: str | None) -> dict[str, Any]:
        """Validate and save (create or replace) a dashboard; the saved form."""
        dashboard = validate_dashboard(body)
        with self._lock:
            self._conn.execute(
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
        with self._lock:
            return (
                self._conn.execute("DELETE FROM dashboards WHERE id = ?", (dashboard_id,)).rowcount
                > 0
            )

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._conn.close()
