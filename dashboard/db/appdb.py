"""The application's own tables (users, tokens, dashboards, alerts) in SQLite or PostgreSQL.

The stores of those tables speak one small dialect that both databases understand: ``?``
placeholders, ``ON CONFLICT ... DO NOTHING/UPDATE``, ``RETURNING`` and ``CAST(x AS TEXT)``.
``AppDB`` runs a statement and hands back its rows and row count, so a store neither knows nor
cares which database holds it; a unique-key clash is ``Conflict`` on both.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

CONNECT_TIMEOUT_S = 3  # a new connection to a database that does not answer fails this fast


class Conflict(Exception):
    """A row with the same unique key exists."""


@dataclass
class Rows:
    """What a statement gave back: its rows (for a query or ``RETURNING``) and its row count."""

    rows: list[tuple[Any, ...]] = field(default_factory=list)
    rowcount: int = 0

    def fetchone(self) -> tuple[Any, ...] | None:
        """The first row, or None."""
        return self.rows[0] if self.rows else None

    def fetchall(self) -> list[tuple[Any, ...]]:
        """Every row."""
        return self.rows


class AppDB(Protocol):
    """One database for the app's own tables."""

    kind: str

    def create_tables(self, sqlite_schema: str) -> None:
        """Create the tables of a schema written for SQLite, when they do not exist."""
        ...

    def execute(self, sql: str, args: tuple[Any, ...] = ()) -> Rows:
        """Run one statement with ``?`` placeholders; its rows and the rows it changed."""
        ...

    def close(self) -> None:
        """Close the connection (or the pool)."""
        ...


class SQLiteAppDB:
    """The app's tables in the embedded SQLite file (one connection, used under a lock)."""

    kind = "sqlite"

    def __init__(self, path: str | Path) -> None:
        """Open the file (created with its folder)."""
        from dashboard.metrics.stores.sqlite import connect

        self._conn = connect(path, "")
        self._lock = threading.Lock()

    def create_tables(self, sqlite_schema: str) -> None:
        """Create a store's tables where missing."""
        with self._lock:
            self._conn.executescript(sqlite_schema)

    def execute(self, sql: str, args: tuple[Any, ...] = ()) -> Rows:
        """Run one statement."""
        with self._lock:
            try:
                cur = self._conn.execute(sql, args)
            except sqlite3.IntegrityError as exc:
                raise Conflict(str(exc)) from None
            return Rows(cur.fetchall(), cur.rowcount)

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._conn.close()


class PostgresAppDB:
    """The app's tables in PostgreSQL, created by the store's migrations, through a small pool.

    Nodes and workers on one database share users, tokens, dashboards and alerts this way.
    """

    kind = "postgres"

    def __init__(self, url: str, *, max_size: int = 4, timeout: float = 10.0) -> None:
        """Open a pool on ``url`` and apply pending migrations (they create the tables)."""
        from psycopg_pool import ConnectionPool

        from dashboard.db import migrate

        self._pool = ConnectionPool(
            url,
            min_size=1,
            max_size=max_size,
            timeout=timeout,
            kwargs={"autocommit": True, "connect_timeout": CONNECT_TIMEOUT_S},
            check=ConnectionPool.check_connection,
            name="dashboard-app",
            open=False,
        )
        self._pool.open(wait=True, timeout=timeout)
        try:
            with self._pool.connection() as conn:
                migrate.upgrade(conn)
        except BaseException:
            self._pool.close()
            raise

    def create_tables(self, sqlite_schema: str) -> None:
        """Nothing to do: the migrations created every table (``sqlite_schema`` is SQLite's)."""

    def execute(self, sql: str, args: tuple[Any, ...] = ()) -> Rows:
        """Run one statement (``?`` placeholders become psycopg's ``%s``)."""
        import psycopg

        with self._pool.connection() as conn:
            try:
                cur = conn.execute(sql.replace("?", "%s").encode(), args)
            except psycopg.errors.UniqueViolation as exc:
                raise Conflict(str(exc)) from None
            rows = cur.fetchall() if cur.description else []
            return Rows(rows, cur.rowcount)

    def close(self) -> None:
        """Close the pool."""
        self._pool.close()


def open_app_db(database_url: str) -> AppDB:
    """The app's database: the same database as the metrics (``sqlite:///path`` or PostgreSQL)."""
    if database_url.startswith(("postgresql://", "postgres://")):
        return PostgresAppDB(database_url)
    if database_url.startswith("sqlite:///"):
        return SQLiteAppDB(database_url.removeprefix("sqlite:///"))
    return SQLiteAppDB(":memory:")


def as_app_db(db: AppDB | str | Path) -> AppDB:
    """``db`` itself, or the SQLite file at that path."""
    return SQLiteAppDB(db) if isinstance(db, str | Path) else db
