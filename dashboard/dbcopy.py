"""``dashboard db copy``: move an install to another database (the embedded SQLite file to
PostgreSQL, usually) and keep everything.

- **The app's tables** (users with their password hashes, tokens with their hashes and scopes,
  revoked sessions, dashboards with each user's stars and home dashboard, alert rules with their
  snoozes, alert events, metric metadata, and any table a later version adds to both schemas)
  are copied row by row in one transaction,
  each row matched on its natural key (a user by name, a token by name, an event by rule,
  series, state and time, else the table's primary key). Surrogate numeric ids are not copied:
  the destination numbers its rows itself, and nothing refers to them.
- **The history** (``history=True``): the source store is read a series and a time chunk at a
  time and the points are written through the destination store's own ``write``, which builds
  its rollups; a progress line goes to stderr.
- **Again is harmless.** A row already in the destination as the source has it is left alone
  (when it was last written is not compared); a point already stored is not stored twice.
- **Conflicts.** A destination row that differs from the source's under the same key stops the
  copy before anything is written, listing the keys; ``overwrite=True`` replaces such rows with
  the source's instead.
- **Secrets at rest** (sealed webhook URLs) are opened with the source's secret and sealed again
  with the destination's, so the new nodes may use another ``DASHBOARD_SECRET_KEY``.
"""

from __future__ import annotations

import json
import re
import sqlite3
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TextIO

import numpy as np

from dashboard.metrics.model import Batch, SeriesPoints
from dashboard.metrics.steps import RAW
from dashboard.metrics.store_interface import MetricStore
from dashboard.secretbox import SecretBox, is_sealed
from dashboard.settings import Settings

# The history (copied through the stores with ``history``) and each database's own bookkeeping
# (its migrations, its retention horizons): never copied as rows.
NOT_APP_TABLES = frozenset(
    {
        "series",
        "points",
        "incoming",
        "chunks",
        "rollups",
        "retention_horizon",
        "schema_migrations",
    }
)
NOT_APP_PREFIXES = ("points_", "chunks_", "rollup_", "sqlite_")
# The natural key of a table whose primary key is a surrogate number
NATURAL_KEYS: dict[str, tuple[str, ...]] = {
    "users": ("username",),
    "ingest_tokens": ("name",),
    "alert_events": ("rule_id", "series", "state", "ts"),
}
# JSON documents that SQLite keeps as text
JSON_COLUMNS = frozenset({("dashboards", "body"), ("alert_rules", "body")})
# When a row was last written says nothing of what it holds
NOT_COMPARED = frozenset({"updated_at", "updated_ms"})
IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")
CHUNK_MS = 6 * 3_600_000  # history is read a series and six hours at a time at first,
MIN_CHUNK_MS, MAX_CHUNK_MS = 60_000, 90 * 86_400_000  # then a window fitting its density
BATCH_POINTS = 20_000  # and written in batches of about this many points
SHOWN_CONFLICTS = 10


class CopyError(Exception):
    """The copy cannot be done as asked; nothing was written."""


# --- databases ----------------------------------------------------------------------------


@dataclass(frozen=True)
class TableInfo:
    """A table's columns (name to kind: int, float, bool, json or text) and primary key."""

    columns: dict[str, str]
    primary_key: tuple[str, ...]
    surrogate: str | None  # the primary key when it is one number the database assigns


class Database(Protocol):
    """One side of a copy: its tables, their rows, and one transaction of writes."""

    kind: str

    def tables(self) -> list[str]:
        """Names of the tables."""
        ...

    def table(self, name: str) -> TableInfo:
        """A table's columns and keys."""
        ...

    def rows(self, table: str, columns: list[str]) -> list[tuple[Any, ...]]:
        """Every row of a table, these columns."""
        ...

    def write(self, statements: list[tuple[str, list[tuple[Any, ...]]]]) -> None:
        """Run statements (``?`` placeholders), each for many rows, in one transaction."""
        ...

    def close(self) -> None:
        """Close the connection."""
        ...


def _sqlite_kind(declared: str) -> str:
    """A column kind from SQLite's declared type."""
    text = declared.upper()
    if "INT" in text:
        return "int"
    if any(t in text for t in ("REAL", "FLOA", "DOUB")):
        return "float"
    if "BOOL" in text:
        return "bool"
    return "json" if "JSON" in text else "text"


def _pg_kind(data_type: str) -> str:
    """A column kind from PostgreSQL's ``information_schema`` data type."""
    if data_type == "boolean":
        return "bool"
    if data_type in ("json", "jsonb"):
        return "json"
    if data_type in ("smallint", "integer", "bigint"):
        return "int"
    if data_type in ("real", "double precision", "numeric"):
        return "float"
    return "text"


def _quoted(name: str) -> str:
    """An identifier checked against IDENTIFIER, in double quotes."""
    if not IDENTIFIER.match(name):
        raise CopyError(f"unexpected identifier {name!r}")
    return f'"{name}"'


class SQLiteDatabase:
    """The embedded SQLite file: read-only as a source; as a destination its tables are made
    as the stores make them."""

    kind = "sqlite"

    def __init__(self, path: Path, *, write: bool) -> None:
        """Open the file (a source must exist; it is opened read-only)."""
        self.path = path
        if write:
            from dashboard.alerts.store import SCHEMA as ALERTS
            from dashboard.auth.users import SCHEMA as USERS
            from dashboard.boards.store import SCHEMA as BOARDS
            from dashboard.db.audit import SCHEMA as AUDIT
            from dashboard.metrics.stores.sqlite import SCHEMA as METRICS
            from dashboard.metrics.stores.sqlite import connect

            self._conn = connect(path, METRICS + USERS + BOARDS + ALERTS + AUDIT)
        else:
            if not path.is_file():
                raise CopyError(f"{path}: no such database file")
            uri = path.resolve().as_uri() + "?mode=ro"
            self._conn = sqlite3.connect(uri, uri=True, isolation_level=None)

    def tables(self) -> list[str]:
        """Names of the tables."""
        rows = self._conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        return sorted(name for (name,) in rows)

    def table(self, name: str) -> TableInfo:
        """Columns from ``PRAGMA table_info``; an ``INTEGER PRIMARY KEY`` is a surrogate."""
        info = self._conn.execute(f"PRAGMA table_info({_quoted(name)})").fetchall()
        columns = {
            col: "json" if (name, col) in JSON_COLUMNS else _sqlite_kind(decl)
            for _, col, decl, _, _, _ in info
        }
        pk = tuple(col for _, col, _, _, _, pos in sorted(info, key=lambda r: r[5]) if pos)
        decl = {col: d.upper() for _, col, d, _, _, _ in info}
        surrogate = pk[0] if len(pk) == 1 and decl[pk[0]] == "INTEGER" else None
        return TableInfo(columns, pk, surrogate)

    def rows(self, table: str, columns: list[str]) -> list[tuple[Any, ...]]:
        """Every row of a table."""
        cols = ", ".join(_quoted(c) for c in columns)
        query = f"SELECT {cols} FROM {_quoted(table)}"  # nosec B608 # checked identifiers
        return self._conn.execute(query).fetchall()

    def write(self, statements: list[tuple[str, list[tuple[Any, ...]]]]) -> None:
        """All statements in one transaction."""
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            for statement, rows in statements:
                self._conn.executemany(statement, rows)
            self._conn.execute("COMMIT")
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise

    def close(self) -> None:
        """Close the connection."""
        self._conn.close()


class PostgresDatabase:
    """A PostgreSQL database (its schema from the URL's ``search_path``); as a destination it is
    migrated first, which creates every table."""

    kind = "postgres"

    def __init__(self, url: str, *, write: bool) -> None:
        """Connect (and apply pending migrations when written to)."""
        import psycopg

        self._conn = psycopg.connect(url, autocommit=True, connect_timeout=10)
        if write:
            from dashboard.db import migrate

            migrate.upgrade(self._conn)

    def tables(self) -> list[str]:
        """Names of the tables of the current schema."""
        rows = self._conn.execute(
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
        ).fetchall()
        return sorted(name for (name,) in rows)

    def table(self, name: str) -> TableInfo:
        """Columns from ``information_schema``; a one-column numeric primary key with a sequence
        or an identity is a surrogate."""
        info = self._conn.execute(
            "SELECT column_name, data_type, coalesce(column_default, ''), is_identity"
            " FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND table_name = %s ORDER BY ordinal_position",
            (name,),
        ).fetchall()
        pk = tuple(
            col
            for (col,) in self._conn.execute(
                "SELECT a.attname FROM pg_index i JOIN pg_attribute a"
                " ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)"
                " WHERE i.indrelid = to_regclass(%s) AND i.indisprimary"
                " ORDER BY array_position(i.indkey::int2[], a.attnum)",
                (_quoted(name),),
            ).fetchall()
        )
        columns = {col: _pg_kind(data_type) for col, data_type, _, _ in info}
        generated = {
            col
            for col, _, default, identity in info
            if default.startswith("nextval(") or identity == "YES"
        }
        one = pk[0] if len(pk) == 1 else None
        surrogate = one if one in generated and columns.get(one) == "int" else None
        return TableInfo(columns, pk, surrogate)

    def rows(self, table: str, columns: list[str]) -> list[tuple[Any, ...]]:
        """Every row of a table (JSON as Python values, booleans as bool)."""
        cols = ", ".join(_quoted(c) for c in columns)
        query = f"SELECT {cols} FROM {_quoted(table)}"  # nosec B608 # checked identifiers
        return self._conn.execute(query.encode()).fetchall()

    def write(self, statements: list[tuple[str, list[tuple[Any, ...]]]]) -> None:
        """All statements in one transaction."""
        with self._conn.transaction(), self._conn.cursor() as cur:
            for statement, rows in statements:
                cur.executemany(statement.replace("?", "%s").encode(), rows)

    def raw_horizon(self) -> int | None:
        """The first raw timestamp the destination store still accepts (None: all)."""
        if self._conn.execute("SELECT to_regclass('retention_horizon')").fetchone() == (None,):
            return None
        row = self._conn.execute(
            "SELECT max(horizon) FROM retention_horizon WHERE tier = 'raw'"
        ).fetchone()
        return int(row[0]) if row and row[0] is not None else None

    def close(self) -> None:
        """Close the connection."""
        self._conn.close()


def is_postgres(url: str) -> bool:
    """True for a PostgreSQL URL."""
    return url.startswith(("postgresql://", "postgres://"))


def database_url(given: str) -> str:
    """A database URL from what was given: a URL as it is, a data folder (its
    ``dashboard.db``) or a SQLite file path as ``sqlite:///...``."""
    if is_postgres(given) or given.startswith("sqlite:///"):
        return given
    if "://" in given:
        raise CopyError(f"{given.split('://', 1)[0]}: not a database this command knows")
    path = Path(given)
    return f"sqlite:///{(path / 'dashboard.db' if path.is_dir() else path).as_posix()}"


def sqlite_path(url: str) -> Path:
    """The file of a ``sqlite:///`` URL."""
    return Path(url.removeprefix("sqlite:///"))


def open_database(url: str, *, write: bool) -> Database:
    """One side of the copy."""
    if is_postgres(url):
        return PostgresDatabase(url, write=write)
    return SQLiteDatabase(sqlite_path(url), write=write)


def open_metric_store(url: str) -> MetricStore:
    """The metric store on a database, as a node opens it."""
    if is_postgres(url):
        from dashboard.metrics.stores.postgres import PostgresStore

        return PostgresStore(url, max_size=2)
    from dashboard.metrics.stores.sqlite import SQLiteStore

    return SQLiteStore(sqlite_path(url))


def same_database(a: str, b: str) -> bool:
    """True when two URLs name one database (so a copy would read what it writes)."""
    if is_postgres(a) or is_postgres(b):
        return a == b
    return sqlite_path(a).resolve() == sqlite_path(b).resolve()


# --- secrets ------------------------------------------------------------------------------


def _read_secret(path: Path) -> str:
    """A secret kept in a file (as the data folder keeps it)."""
    try:
        secret = path.read_text().strip()
    except OSError as exc:
        raise CopyError(f"{path}: {exc.strerror or exc}") from None
    if not secret:
        raise CopyError(f"{path}: empty")
    return secret


def source_secrets(
    source_url: str, settings: Settings, given: Path | None = None
) -> list[tuple[str, str]]:
    """The secrets the source's sealed values may have been sealed with, as (where, secret):
    the file given, else the ``secret_key`` beside the SQLite file, ``DASHBOARD_SECRET_KEY``
    and the configured data folder's ``secret_key``. The copy uses the one that opens them."""
    if given is not None:
        return [(str(given), _read_secret(given))]
    found: list[tuple[str, str]] = []
    files = [settings.data_dir / "secret_key"]
    if not is_postgres(source_url):
        files.insert(0, sqlite_path(source_url).parent / "secret_key")
    if files[0].is_file():
        found.append((str(files[0]), _read_secret(files[0])))
    if settings.secret_key is not None and settings.secret_key.get_secret_value():
        found.append(("DASHBOARD_SECRET_KEY", settings.secret_key.get_secret_value()))
    if len(files) > 1 and files[1].is_file() and files[1].resolve() != files[0].resolve():
        found.append((str(files[1]), _read_secret(files[1])))
    return found


def destination_secret(settings: Settings, given: Path | None = None) -> tuple[str, str] | None:
    """The secret the new nodes will use, as (where, secret): the file given, else
    ``DASHBOARD_SECRET_KEY``, else the configured data folder's ``secret_key`` when it exists
    (None: unknown; the copy refuses when it has secrets to seal)."""
    if given is not None:
        return str(given), _read_secret(given)
    if settings.secret_key is not None and settings.secret_key.get_secret_value():
        return "DASHBOARD_SECRET_KEY", settings.secret_key.get_secret_value()
    path = settings.data_dir / "secret_key"
    return (str(path), _read_secret(path)) if path.is_file() else None


def _walk(value: Any, fn: Callable[[str], Any]) -> Any:
    """``value`` with ``fn`` applied to every sealed string in it (a JSON value or a text)."""
    if isinstance(value, str):
        return fn(value) if is_sealed(value) else value
    if isinstance(value, dict):
        return {k: _walk(v, fn) for k, v in value.items()}
    if isinstance(value, list):
        return [_walk(v, fn) for v in value]
    return value


def _sealed_in(value: Any) -> list[str]:
    """Every sealed string in a value."""
    found: list[str] = []
    _walk(value, lambda s: found.append(s))
    return found


@dataclass
class Boxes:
    """What opens the source's sealed values and what seals them for the destination."""

    source: SecretBox | None = None
    source_from: str = ""
    destination: SecretBox | None = None
    destination_from: str = ""
    sealed: int = 0  # sealed values found in the source

    def opened_in_source(self, stored: str) -> str:
        """A source value in plain (as it is when it cannot be opened)."""
        plain = self.source.try_open(stored) if self.source else None
        return stored if plain is None else plain

    def opened_in_destination(self, stored: str) -> str:
        """A destination value in plain (as it is when it cannot be opened)."""
        plain = self.destination.try_open(stored) if self.destination else None
        return stored if plain is None else plain

    def resealed(self, stored: str) -> str:
        """A source value sealed for the destination."""
        assert self.destination is not None  # choose_boxes refused otherwise
        return self.destination.seal(self.opened_in_source(stored))


def choose_boxes(
    sealed: list[str],
    candidates: list[tuple[str, str]],
    destination: tuple[str, str] | None,
) -> Boxes:
    """The source secret that opens every sealed value of the source, and the destination's;
    CopyError when sealed values exist and either is missing."""
    boxes = Boxes(sealed=len(sealed))
    if destination is not None:
        boxes.destination, boxes.destination_from = SecretBox(destination[1]), destination[0]
    if not sealed:
        return boxes
    for where, secret in candidates:
        box = SecretBox(secret)
        if all(box.try_open(s) is not None for s in sealed):
            boxes.source, boxes.source_from = box, where
            break
    else:
        tried = ", ".join(w for w, _ in candidates) or "no secret"
        raise CopyError(
            f"{len(sealed)} secret(s) of the source (alert webhooks) were sealed with a secret"
            f" this command does not have (tried: {tried}); give the old install's secret"
            " with --from-secret-file (its data folder's secret_key, or the value its"
            " DASHBOARD_SECRET_KEY had)"
        )
    if boxes.destination is None:
        raise CopyError(
            "the source holds sealed secrets (alert webhooks) and the destination's secret is"
            " unknown: set DASHBOARD_SECRET_KEY as the new nodes will have it (or give"
            " --to-secret-file)"
        )
    return boxes


# --- the app's tables ---------------------------------------------------------------------


@dataclass
class TableResult:
    """What the copy did (or would do) to one table."""

    table: str
    new: int = 0
    same: int = 0
    replaced: int = 0
    conflicts: list[str] = field(default_factory=list)
    note: str = ""

    def line(self) -> str:
        """One line of the summary."""
        if self.note and not (self.new or self.same or self.replaced or self.conflicts):
            return f"{self.table}: {self.note}"
        text = f"{self.table}: {self.new} new, {self.same} unchanged"
        if self.replaced:
            text += f", {self.replaced} replaced"
        if self.conflicts:
            text += f", {len(self.conflicts)} differ"
        return text + (f" ({self.note})" if self.note else "")


@dataclass
class TablePlan:
    """One table's rows to insert and replace."""

    result: TableResult
    columns: list[str]
    key: tuple[str, ...]
    inserts: list[tuple[Any, ...]] = field(default_factory=list)
    updates: list[tuple[Any, ...]] = field(default_factory=list)


def _merged_kind(a: str, b: str) -> str:
    """The kind of a column that is ``a`` on one side and ``b`` on the other (SQLite keeps
    booleans as integers and JSON as text)."""
    for specific in ("json", "bool"):
        if specific in (a, b):
            return specific
    return b


def _plain(kind: str, value: Any) -> Any:
    """A stored value as Python sees it, whichever database held it."""
    if value is None:
        return None
    if kind == "bool":
        return bool(value)
    if kind == "int":
        return int(value)
    if kind == "float":
        return float(value)
    if kind == "json":
        return json.loads(value) if isinstance(value, str | bytes) else value
    return value


def _stored(db_kind: str, kind: str, value: Any) -> Any:
    """A Python value as the destination stores it."""
    if value is None:
        return None
    if kind == "json":
        if db_kind == "postgres":
            from psycopg.types.json import Jsonb

            return Jsonb(value)
        return json.dumps(value)
    if kind == "bool" and db_kind == "sqlite":
        return int(value)
    return value


def app_tables(source: Database) -> list[str]:
    """The source's tables that are the app's (not the history, not bookkeeping)."""
    return [
        t
        for t in source.tables()
        if t not in NOT_APP_TABLES and not t.startswith(NOT_APP_PREFIXES) and IDENTIFIER.match(t)
    ]


def plan_table(
    dest: Database,
    table: str,
    src_rows: list[dict[str, Any]],
    kinds: dict[str, str],
    info: tuple[TableInfo, TableInfo],
    boxes: Boxes,
    overwrite: bool,
) -> TablePlan:
    """Match the source's rows (plain values) with the destination's on the table's key."""
    src_info, dst_info = info
    surrogates = {src_info.surrogate, dst_info.surrogate} - {None}
    columns = [c for c in kinds if c in dst_info.columns and c not in surrogates]
    result = TableResult(table)
    dropped = [c for c in kinds if c not in dst_info.columns and c not in surrogates]
    if dropped:
        result.note = f"not in the destination, not copied: {', '.join(dropped)}"
    key = NATURAL_KEYS.get(table, ())
    if not key or not set(key) <= set(columns):
        key = dst_info.primary_key
        if not key or dst_info.surrogate or not set(key) <= set(columns):
            key = tuple(c for c in columns if c not in NOT_COMPARED)
    compared = [c for c in columns if c not in NOT_COMPARED]
    plan = TablePlan(result, columns, key)

    def opened(row: dict[str, Any], fn: Callable[[str], str]) -> dict[str, Any]:
        return {c: _walk(row[c], fn) for c in compared}

    existing: dict[tuple[Any, ...], dict[str, Any]] = {}
    for values in dest.rows(table, columns):
        row = {c: _plain(kinds[c], v) for c, v in zip(columns, values, strict=True)}
        existing[tuple(_key_part(row[c]) for c in key)] = opened(row, boxes.opened_in_destination)
    rest = [c for c in columns if c not in key]
    for row in src_rows:
        row_key = tuple(_key_part(row[c]) for c in key)
        stored = {c: _stored(dest.kind, kinds[c], _walk(row[c], boxes.resealed)) for c in columns}
        there = existing.get(row_key)
        if there is None:
            plan.inserts.append(tuple(stored[c] for c in columns))
            existing[row_key] = opened(row, boxes.opened_in_source)
        elif there == opened(row, boxes.opened_in_source):
            result.same += 1
        elif overwrite:
            plan.updates.append(tuple(stored[c] for c in (*rest, *key)))
            result.replaced += 1
        else:
            result.conflicts.append(", ".join(f"{c}={row[c]!r}" for c in key))
    result.new = len(plan.inserts)
    return plan


def _key_part(value: Any) -> Any:
    """A value usable in a dict key (JSON documents as their sorted text)."""
    return json.dumps(value, sort_keys=True) if isinstance(value, dict | list) else value


def _statements(plan: TablePlan) -> list[tuple[str, list[tuple[Any, ...]]]]:
    """The INSERT and UPDATE of a table's plan."""
    table = _quoted(plan.result.table)
    out = []
    if plan.inserts:
        cols = ", ".join(_quoted(c) for c in plan.columns)
        marks = ", ".join("?" for _ in plan.columns)
        insert = f"INSERT INTO {table} ({cols}) VALUES ({marks})"  # nosec B608 # checked identifiers
        out.append((insert, plan.inserts))
    if plan.updates:
        rest = [c for c in plan.columns if c not in plan.key]
        sets = ", ".join(f"{_quoted(c)} = ?" for c in rest)
        where = " AND ".join(f"{_quoted(c)} = ?" for c in plan.key)
        update = f"UPDATE {table} SET {sets} WHERE {where}"  # nosec B608 # checked identifiers
        out.append((update, plan.updates))
    return out


def copy_app_tables(
    source: Database,
    dest: Database,
    *,
    source_candidates: list[tuple[str, str]],
    destination: tuple[str, str] | None,
    overwrite: bool = False,
    dry_run: bool = False,
) -> tuple[list[TableResult], Boxes]:
    """Copy every app table in one transaction; CopyError (nothing written) on conflicts
    unless ``overwrite``."""
    dest_tables = set(dest.tables())
    read: list[tuple[str, list[dict[str, Any]], dict[str, str], TableInfo, TableInfo]] = []
    results: list[TableResult] = []
    sealed: list[str] = []
    for table in app_tables(source):
        if table not in dest_tables:
            results.append(TableResult(table, note="not in the destination's schema, skipped"))
            continue
        src_info, dst_info = source.table(table), dest.table(table)
        columns = [c for c in src_info.columns if IDENTIFIER.match(c)]
        kinds = {c: _merged_kind(src_info.columns[c], dst_info.columns.get(c, "")) for c in columns}
        rows = [
            {c: _plain(kinds[c], v) for c, v in zip(columns, values, strict=True)}
            for values in source.rows(table, columns)
        ]
        for row in rows:
            for value in row.values():
                sealed.extend(_sealed_in(value))
        read.append((table, rows, kinds, src_info, dst_info))
    boxes = choose_boxes(sealed, source_candidates, destination)
    plans = [
        plan_table(dest, table, rows, kinds, (s, d), boxes, overwrite)
        for table, rows, kinds, s, d in read
    ]
    results = [p.result for p in plans] + results
    conflicts = [r for r in results if r.conflicts]
    if conflicts:
        lines = []
        for r in conflicts:
            shown = "; ".join(r.conflicts[:SHOWN_CONFLICTS])
            more = len(r.conflicts) - SHOWN_CONFLICTS
            lines.append(f"  {r.table}: {shown}" + (f" (and {more} more)" if more > 0 else ""))
        raise CopyError(
            "the destination holds different rows under the same keys; nothing was written:\n"
            + "\n".join(lines)
            + "\nrerun with --overwrite to replace them with the source's rows"
        )
    if not dry_run:
        dest.write([s for p in plans for s in _statements(p)])
    return results, boxes


# --- the history --------------------------------------------------------------------------


class Progress:
    """A progress line on a stream: redrawn in place on a terminal, else a line every few
    seconds and one at the end."""

    def __init__(self, total: int, stream: TextIO | None = None, label: str = "history") -> None:
        """Progress towards ``total`` units of work."""
        self.total, self.done, self.points = max(total, 1), 0, 0
        self.stream = stream if stream is not None else sys.stderr
        self.label = label
        self.tty = self.stream.isatty()
        self.started = self._shown = time.monotonic()

    def advance(self, units: int, points: int) -> None:
        """Count work done; redraw when it is time."""
        self.done, self.points = self.done + units, self.points + points
        now = time.monotonic()
        if now - self._shown >= (0.2 if self.tty else 5.0):
            self._shown = now
            self._show()

    def finish(self) -> None:
        """The last line."""
        self.done = self.total
        self._show()
        if self.tty:
            self.stream.write("\n")
        self.stream.flush()

    def _show(self) -> None:
        """Write the line."""
        share = min(self.done / self.total, 1.0)
        bar = "#" * int(share * 30)
        elapsed = max(time.monotonic() - self.started, 1e-9)
        line = (
            f"{self.label}: {share * 100:5.1f}% [{bar:<30}] {self.points:,} points"
            f" ({self.points / elapsed:,.0f}/s)"
        )
        self.stream.write(("\r" + line) if self.tty else line + "\n")
        self.stream.flush()


@dataclass
class HistoryResult:
    """What the history copy did."""

    series: int = 0
    points: int = 0
    new: int | None = None  # points the destination did not hold yet (PostgreSQL tells)
    below_horizon: int = 0  # points older than the destination's retention already dropped

    def line(self) -> str:
        """One line of the summary."""
        text = f"history: {self.series} series, {self.points:,} points copied"
        if self.new is not None:
            text += f" ({self.new:,} new in the destination)"
        if self.below_horizon:
            text += (
                f"; {self.below_horizon:,} points are older than what the destination's"
                " retention already dropped and were not stored"
            )
        return text


def copy_history(
    source: MetricStore,
    dest: MetricStore,
    *,
    raw_horizon: int | None = None,
    progress: TextIO | None = None,
) -> HistoryResult:
    """Copy every series' points, a series and a time window at a time (CHUNK_MS at first,
    wider where points are sparse, narrower where they are dense), through the destination's
    ``write`` in batches of about BATCH_POINTS points. Progress counts the time spans read."""
    infos = source.list_series()
    result = HistoryResult(series=len(infos))
    counted = getattr(dest, "write_counted", None)
    if counted is not None:
        result.new = 0
    total = sum(info.last_ts - info.first_ts + 1 for info in infos)
    bar = Progress(total, progress) if progress is not None else None
    pending: list[SeriesPoints] = []

    def flush() -> None:
        if not pending:
            return
        batch = Batch(list(pending))
        pending.clear()
        if counted is not None:
            result.new = (result.new or 0) + int(counted(batch))
        else:
            dest.write(batch)

    size = 0
    for info in infos:
        lo, width = info.first_ts, CHUNK_MS
        while lo <= info.last_ts:
            hi = min(lo + width - 1, info.last_ts)
            frame = source.query(info.key, lo, hi, RAW)
            n = len(frame.ts)
            if n:
                ts = np.asarray(frame.ts, dtype=np.int64)
                if raw_horizon is not None:
                    result.below_horizon += int(np.count_nonzero(ts < raw_horizon))
                values = np.asarray(frame.value, dtype=np.float64)
                pending.append(SeriesPoints(info.key, ts, values, info.unit))
                result.points += n
                size += n
                if size >= BATCH_POINTS:
                    flush()
                    size = 0
            if bar is not None:
                bar.advance(hi - lo + 1, n)
            lo = hi + 1
            if n < BATCH_POINTS // 4:
                width = min(width * 2, MAX_CHUNK_MS)
            elif n > BATCH_POINTS:
                width = max(width // 2, MIN_CHUNK_MS)
    flush()
    seal = getattr(dest, "seal", None)
    if seal is not None:  # the copied history leaves the head for compressed chunks at once
        seal()
    if bar is not None:
        bar.finish()
    return result


# --- the whole copy -----------------------------------------------------------------------


@dataclass
class CopyReport:
    """What one copy did."""

    tables: list[TableResult]
    boxes: Boxes
    history: HistoryResult | None = None
    dry_run: bool = False

    def lines(self) -> list[str]:
        """The summary, a line per table, then the secrets and the history."""
        out = [r.line() for r in self.tables]
        if self.boxes.sealed:
            out.append(
                f"secrets: {self.boxes.sealed} sealed value(s) opened with"
                f" {self.boxes.source_from}, sealed again with {self.boxes.destination_from}"
            )
        if self.history is not None:
            out.append(self.history.line())
        if self.dry_run:
            out.append("dry run: no row was written (the destination's tables exist now)")
        return out


def copy_database(
    source_url: str,
    dest_url: str,
    *,
    source_candidates: Iterable[tuple[str, str]] = (),
    destination: tuple[str, str] | None = None,
    history: bool = False,
    overwrite: bool = False,
    dry_run: bool = False,
    progress: TextIO | None = None,
) -> CopyReport:
    """Copy the app's tables from one database to another, then (``history``) the points."""
    if same_database(source_url, dest_url):
        raise CopyError("the source and the destination are the same database")
    source = open_database(source_url, write=False)
    try:
        # a dry run still migrates the destination (or creates its tables): rows are the data
        dest = open_database(dest_url, write=True)
    except BaseException:
        source.close()
        raise
    try:
        tables, boxes = copy_app_tables(
            source,
            dest,
            source_candidates=list(source_candidates),
            destination=destination,
            overwrite=overwrite,
            dry_run=dry_run,
        )
        horizon = dest.raw_horizon() if isinstance(dest, PostgresDatabase) else None
    finally:
        source.close()
        dest.close()
    report = CopyReport(tables, boxes, dry_run=dry_run)
    if history and not dry_run:
        src_store = open_metric_store(source_url)
        try:
            dst_store = open_metric_store(dest_url)
            try:
                report.history = copy_history(
                    src_store, dst_store, raw_horizon=horizon, progress=progress
                )
            finally:
                dst_store.close()
        finally:
            src_store.close()
    return report
