"""Versioned schema migrations for PostgreSQL: ordered SQL files, applied once, under a lock.

Each file in ``dashboard/store/migrations`` named ``NNNN_name.sql`` is one migration. ``upgrade``
applies the pending ones in order inside one transaction that first takes a transaction-level
advisory lock, so two nodes starting at once apply them once (the second waits, then finds
nothing pending); a failing migration rolls back with everything before it in that run.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from importlib import resources

import psycopg

MIGRATIONS_PACKAGE = "dashboard.db.migrations"
_FILE_RE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
# Advisory lock class id for migrations ("dbmg"); the object id is a hash of the schema name.
LOCK_CLASS = 0x64626D67


@dataclass(frozen=True)
class Migration:
    """One versioned SQL file."""

    version: str
    name: str
    sql: str


def parse_migration_name(filename: str) -> tuple[str, str] | None:
    """``("0001", "metrics")`` for ``0001_metrics.sql``; None for any other file."""
    match = _FILE_RE.match(filename)
    return (match.group(1), match.group(2)) if match else None


def available_migrations() -> list[Migration]:
    """Every migration shipped with the package, in version order."""
    found = []
    for entry in resources.files(MIGRATIONS_PACKAGE).iterdir():
        parsed = parse_migration_name(entry.name)
        if parsed:
            found.append(Migration(parsed[0], parsed[1], entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise RuntimeError(f"two migrations share a version: {versions}")
    return found


def pending(available: list[Migration], applied: set[str]) -> list[Migration]:
    """The migrations not applied yet, in order."""
    return [m for m in available if m.version not in applied]


def upgrade(conn: psycopg.Connection, migrations: list[Migration] | None = None) -> list[str]:
    """Apply pending migrations in one locked transaction; return ``NNNN_name`` of each applied.

    Tables are created in the connection's current schema (the first of its search_path).
    """
    todo_from = available_migrations() if migrations is None else migrations
    done: list[str] = []
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s, hashtext(current_schema()))", (LOCK_CLASS,))
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version text PRIMARY KEY, name text NOT NULL, applied_at bigint NOT NULL)"
        )
        applied = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
        for migration in pending(todo_from, applied):
            conn.execute(migration.sql.encode())
            conn.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (%s, %s, %s)",
                (migration.version, migration.name, time.time_ns() // 1_000_000),
            )
            done.append(f"{migration.version}_{migration.name}")
    return done


def applied_versions(conn: psycopg.Connection) -> list[str]:
    """Versions recorded in ``schema_migrations`` (empty before the first upgrade)."""
    exists = conn.execute("SELECT to_regclass('schema_migrations') IS NOT NULL").fetchone()
    if not exists or not exists[0]:
        return []
    return [r[0] for r in conn.execute("SELECT version FROM schema_migrations ORDER BY version")]
