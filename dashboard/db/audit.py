"""The audit trail: who created, changed or deleted users, tokens, dashboards and alert rules,
and who exported what, with the time and the source address, in the app's database.

The services record their actions (so the API, the CLI and the Dash callbacks are all
covered) with ``note``: the actor and the source address come from where the action runs, the
signed-in user and the request's remote address (as Flask sees it, after ProxyFix) inside a
request, what ``acting_as`` pinned (the CLI: ``cli:<os user>`` from ``cli``) or ``system``
from ``local`` otherwise (background tasks). Nothing but ``record`` writes the table: the API
only reads it (admins), and no route changes or deletes an event. A detail never holds a
secret: the services pass no password, token or webhook URL.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from flask import g, has_request_context, request

from dashboard.db.appdb import AppDB, as_app_db

# PostgreSQL's table is made by migrations/0006_audit.sql (the same columns)
SCHEMA = """
CREATE TABLE IF NOT EXISTS audit_events (
    id INTEGER PRIMARY KEY,
    ts_ms INTEGER NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target_kind TEXT NOT NULL,
    target_id TEXT NOT NULL,
    detail TEXT NOT NULL,
    source_ip TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_events_actor ON audit_events (actor, id);
CREATE INDEX IF NOT EXISTS audit_events_kind ON audit_events (target_kind, id);
"""

SYSTEM = "system"  # the actor of what no user and no command did (background tasks)
LIMIT_MAX = 1000  # the most events one read returns
TEXT_MAX = 1000  # a detail's longer strings are cut to this many characters
_ORIGIN: ContextVar[tuple[str, str] | None] = ContextVar("audit_origin", default=None)


@contextmanager
def acting_as(actor: str, source: str) -> Iterator[None]:
    """Record what runs inside as done by ``actor`` from ``source`` (the CLI's commands)."""
    token = _ORIGIN.set((actor, source))
    try:
        yield
    finally:
        _ORIGIN.reset(token)


def current_origin() -> tuple[str, str]:
    """Who acts and from where: inside a request its signed-in user (set by the auth guard)
    and remote address, else the origin ``acting_as`` pinned, else ``system`` from ``local``."""
    if has_request_context():
        name = getattr(g.get("user"), "username", None)
        return (str(name) if name else "anonymous", request.remote_addr or "unknown")
    pinned = _ORIGIN.get()
    return pinned if pinned is not None else (SYSTEM, "local")


def _bounded(value: Any) -> Any:
    """``value`` with every string cut to TEXT_MAX characters (in lists and dicts too)."""
    if isinstance(value, str):
        return value if len(value) <= TEXT_MAX else value[:TEXT_MAX] + "…"
    if isinstance(value, dict):
        return {str(k): _bounded(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_bounded(v) for v in value]
    return value


class AuditLog:
    """The ``audit_events`` table: rows are added, and read newest first; never changed."""

    def __init__(self, db: AppDB | str | Path) -> None:
        """Open (and create) the table (PostgreSQL's migrations made it already)."""
        self._db = as_app_db(db)
        self._db.create_tables(SCHEMA)

    def record(
        self,
        actor: str,
        action: str,
        target_kind: str,
        target_id: str,
        detail: dict[str, Any] | None = None,
        source_ip: str = "",
    ) -> int:
        """Add one event (now); its id."""
        text = json.dumps(_bounded(detail or {}), default=str, sort_keys=True)
        row = self._db.execute(
            "INSERT INTO audit_events"
            " (ts_ms, actor, action, target_kind, target_id, detail, source_ip)"
            " VALUES (?,?,?,?,?,?,?) RETURNING id",
            (
                time.time_ns() // 1_000_000,
                str(actor)[:200],
                action,
                target_kind,
                str(target_id)[:TEXT_MAX],
                text,
                str(source_ip)[:100],
            ),
        ).fetchone()
        assert row is not None
        return int(row[0])

    def events(
        self,
        *,
        limit: int = 100,
        before_id: int | None = None,
        actor: str | None = None,
        target_kind: str | None = None,
    ) -> list[dict[str, Any]]:
        """The newest events first: at most ``limit`` (clamped to 1..1000), with ids below
        ``before_id`` (the next page), by ``actor`` and on ``target_kind`` when given."""
        where: list[str] = []
        args: list[Any] = []
        if before_id is not None:
            where.append("id < ?")
            args.append(before_id)
        if actor:
            where.append("actor = ?")
            args.append(actor)
        if target_kind:
            where.append("target_kind = ?")
            args.append(target_kind)
        # only the fixed conditions above are joined in; every value is a ``?`` parameter
        condition = " WHERE " + " AND ".join(where) if where else ""
        columns = (
            "id, ts_ms, actor, action, target_kind, target_id, CAST(detail AS TEXT), source_ip"
        )
        sql = f"SELECT {columns} FROM audit_events{condition} ORDER BY id DESC LIMIT ?"  # nosec B608 # constants only
        rows = self._db.execute(sql, (*args, min(max(int(limit), 1), LIMIT_MAX))).rows
        return [
            {
                "id": int(i),
                "ts_ms": int(ts),
                "actor": who,
                "action": act,
                "target_kind": kind,
                "target_id": target,
                "detail": json.loads(detail) if detail else {},
                "source_ip": source,
            }
            for i, ts, who, act, kind, target, detail, source in rows
        ]


def log_of(holder: object) -> AuditLog | None:
    """The audit log a store (or a node) carries as ``audit``, if any (test doubles: none)."""
    found = getattr(holder, "audit", None)
    return found if isinstance(found, AuditLog) else None


def note(
    holder: object,
    action: str,
    target_kind: str,
    target_id: Any,
    detail: dict[str, Any] | None = None,
    *,
    actor: str | None = None,
) -> None:
    """Record an action in the audit log of ``holder`` (a store or a node carrying one), by
    the current origin's actor (or ``actor``) from its source address."""
    log = log_of(holder)
    if log is None:
        return
    who, source = current_origin()
    log.record(actor or who, action, target_kind, str(target_id), detail, source)
