"""The ``dashboard`` command: ``serve`` (a web node), ``worker`` (ingest worker) and admin tasks."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dashboard.auth.users import UserStore
    from dashboard.settings import Settings


def _patch_gevent() -> None:
    """Make the standard library cooperative before anything else imports it.

    Greenlets do not record their spawning tree: each would keep ten frames of the stack that
    made it, and a live viewer has four greenlets (its request, websocket reader, writer and
    pinger), a new pinger after each pong.
    """
    from gevent import config, monkey

    config.track_greenlet_tree = False
    monkey.patch_all()


def raise_open_files() -> tuple[int, int]:
    """Lift the open-file soft limit to the hard limit: each live viewer holds one, and the
    usual soft limit is 1,024."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)


# Young collections this rarely let a viewer's per-message objects (a writer's queue timeout
# lives about a second) die young instead of piling up in the old generation, whose every full
# collection walks each viewer's objects and stalls the hub: ~250 ms at 1,000 viewers with the
# default (700, 10, 10).
GC_THRESHOLDS = (20_000, 50, 100)


def tune_gc() -> None:
    """Move everything alive after start-up out of the collector's sight (the app, its
    modules: never garbage) and collect the young generations less often."""
    import gc

    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def serve(args: argparse.Namespace) -> int:
    """Run a web node on gevent: Dash UI, JSON API and Socket.IO on one port."""
    _patch_gevent()
    from gevent.pywsgi import WSGIServer

    from dashboard.app import create_app
    from dashboard.background import start_background
    from dashboard.settings import Settings

    overrides = {k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None}
    settings = Settings(**overrides)
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    app = create_app(settings)
    rt = app.extensions["dashboard"]
    log = logging.getLogger("dashboard")
    if not settings.ingest_tokens and not rt.users.list_tokens():
        log.info("no ingest tokens yet: create one with `dashboard tokens create NAME`")
    start_background(app)
    socketio = app.extensions["socketio"]  # dashboard.extensions.socketio, attached to app
    log.info("open files: %d", raise_open_files()[0])
    tune_gc()
    log.info(
        "serving on http://%s:%d (store: %s, bus: %s, demo: %s)",
        settings.host,
        settings.port,
        rt.store.kind,
        rt.bus.kind,
        "on" if settings.demo else "off",
    )
    # a comparison, not a bind: the address a browser on this machine opens
    wildcard = ("0.0.0.0", "::", "")  # nosec B104 # compared with, never bound to
    shown_host = "127.0.0.1" if settings.host in wildcard else settings.host
    log.info(
        "open http://%s:%d/login and sign in as %r (%s)",
        shown_host,
        settings.port,
        settings.admin_user,
        "the password of DASHBOARD_ADMIN_PASSWORD"
        if settings.admin_password
        else "the password printed at the first start; `dashboard users create` adds users",
    )
    server = WSGIServer(
        listener(settings.host, settings.port), app, log=None, handler_class=small_buffer_handler()
    )
    socketio.wsgi_server = server  # lets socketio.stop() end it
    server.serve_forever()
    return 0


# A connection's read buffer lives as long as the connection: a live viewer's, hours, though
# after its handshake the websocket reads the socket itself. gevent's default is 8 KB.
READ_BUFFER = 1024


def small_buffer_handler() -> type:
    """gevent's WSGI handler reading through a READ_BUFFER buffer (a longer header line or a
    large body is read past it, as before)."""
    from gevent.pywsgi import WSGIHandler

    class SmallBufferHandler(WSGIHandler):
        def __init__(self, sock, address, server, rfile=None):  # type: ignore[no-untyped-def]
            if rfile is None:
                rfile = sock.makefile("rb", READ_BUFFER)
            super().__init__(sock, address, server, rfile)

    return SmallBufferHandler


def listener(host: str, port: int):  # type: ignore[no-untyped-def]
    """A listening socket with TCP_NODELAY, which accepted connections inherit.

    Without it a keep-alive client waits ~40 ms on every response after the first (Nagle's
    algorithm on the server meets delayed ACKs on the client); gunicorn sets it as well.
    """
    from gevent import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    sock.listen(1024)
    return sock


def worker(args: argparse.Namespace) -> int:
    """Run the ingest worker (needs the Redis bus), which also evaluates the alert rules."""
    from dashboard.background import start_worker_alerts
    from ingest.worker import main as worker_main

    return worker_main(extras=[start_worker_alerts])


def _user_store() -> UserStore:
    """The user store of the configured database."""
    from dashboard.auth.users import SQLUserStore
    from dashboard.db.appdb import open_app_db
    from dashboard.settings import Settings

    settings = Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return SQLUserStore(open_app_db(settings.resolved_database_url), owns_db=True)


def users_create(args: argparse.Namespace) -> int:
    """Create a user; the password comes from stdin or is asked for twice."""
    import getpass

    from dashboard.auth import service

    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass(f"Password for {args.name}: ")
        if getpass.getpass("Again: ") != password:
            print("dashboard users create: the passwords differ", file=sys.stderr)
            return 1
    store = _user_store()
    try:
        user = service.create_user(
            users=store, username=args.name, password=password, role=args.role
        )
    except service.WeakPassword:
        print(
            f"dashboard users create: use at least {service.MIN_PASSWORD_LENGTH} characters",
            file=sys.stderr,
        )
        return 1
    except service.Refused as exc:
        print(f"dashboard users create: {exc}", file=sys.stderr)
        return 1
    finally:
        store.close()
    print(f"created {user.role} {user.username!r}")
    return 0


def users_list(args: argparse.Namespace) -> int:
    """Print every user and role."""
    from dashboard.auth import service

    store = _user_store()
    for user in service.list_users(users=store):
        state = "disabled" if user.disabled else "active"
        print(f"{user.username}\t{user.role}\t{state}")
    store.close()
    return 0


def tokens_create(args: argparse.Namespace) -> int:
    """Create a token of one scope and print it once (only its hash is stored): ``ingest``
    tokens send points, ``read`` tokens query /prometheus/api/v1; neither does the other."""
    from dashboard.auth import service

    store = _user_store()
    try:
        token = service.create_token(users=store, name=args.name, scope=args.scope)
    except service.Refused as exc:
        print(f"dashboard tokens create: {exc}", file=sys.stderr)
        return 1
    finally:
        store.close()
    print(token)
    use = "ingest routes" if args.scope == "ingest" else "/prometheus/api/v1 (Grafana)"
    print(
        f"({args.scope} token {args.name!r}: shown this once; send it to the {use} as"
        " 'Authorization: Bearer <token>')",
        file=sys.stderr,
    )
    return 0


def tokens_revoke(args: argparse.Namespace) -> int:
    """Revoke a token (of either scope) by name."""
    from dashboard.auth import service

    store = _user_store()
    try:
        if not service.revoke_token(users=store, name=args.name):
            print(f"dashboard tokens revoke: no active token {args.name!r}", file=sys.stderr)
            return 1
    finally:
        store.close()
    print(f"revoked {args.name!r}")
    return 0


def tokens_list(args: argparse.Namespace) -> int:
    """Print every token's name, scope and state (never the token)."""
    from dashboard.auth import service

    store = _user_store()
    for t in service.list_tokens(users=store):
        print(f"{t['name']}\t{t['scope']}\t{'revoked' if t['revoked'] else 'active'}")
    store.close()
    return 0


def db_upgrade(args: argparse.Namespace) -> int:
    """Apply pending PostgreSQL migrations and print each one applied; then bring the metrics to
    compressed chunks: rollup tables of earlier versions converted, and every point still held
    as a row sealed into chunks, with a progress line (resumable: each batch of series is its
    own transaction), the space freed afterwards."""
    from dashboard.settings import Settings

    settings = Settings()
    url = settings.resolved_database_url
    if url.startswith(("postgresql://", "postgres://")):
        import psycopg

        from dashboard.db import migrate

        try:
            with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
                applied = migrate.upgrade(conn)
                versions = migrate.applied_versions(conn)
        except psycopg.Error as exc:
            print(f"dashboard db upgrade: {exc}".strip(), file=sys.stderr)
            return 1
        for name in applied:
            print(f"applied {name}")
        state = "" if applied else " (up to date)"
        print(f"schema at version {versions[-1] if versions else 'none'}{state}")
    return seal_history(settings)


def seal_history(settings: Settings) -> int:
    """Seal every point the database holds as a row into chunks, with a progress line on
    stderr, then free the space the rows took; print what the database holds."""
    from dashboard.dbcopy import Progress
    from dashboard.metrics.stores import open_store

    try:
        store = open_store(settings)
    except Exception as exc:  # noqa: BLE001 - an unreachable database is reported, not raised
        print(f"dashboard db upgrade: {exc}".strip(), file=sys.stderr)
        return 1
    try:
        before = store.stats()  # type: ignore[attr-defined]
        total = int(before["head_points"])
        if total:
            bar = Progress(total, sys.stderr, label="sealing")
            seen = {"points": 0}

            def advance(done: dict) -> None:
                bar.advance(done["points"] - seen["points"], done["points"] - seen["points"])
                seen["points"] = done["points"]

            done = store.seal(progress=advance)  # type: ignore[attr-defined]
            bar.finish()
            store.vacuum()  # type: ignore[attr-defined]
            print(f"sealed {done['points']:,} points of {done['series']:,} series into chunks")
        print(format_stats(store.stats()))  # type: ignore[attr-defined]
    finally:
        store.close()
    return 0


def format_stats(stats: dict[str, float]) -> str:
    """What ``dashboard db stats`` prints: counts, bytes per part, bytes a point, the ratio."""
    lines = [f"{'series':<22}{stats['series']:>16,.0f}"]
    for key in ("head_points", "chunks", "chunk_points", "rollup_chunks"):
        if key in stats:
            lines.append(f"{key.replace('_', ' '):<22}{stats[key]:>16,.0f}")
    for key, value in stats.items():
        if key.endswith("_bytes") or key == "bytes":
            name = "bytes on disk" if key == "bytes" else key.replace("_", " ")
            lines.append(f"{name:<22}{value:>16,.0f}")
    lines.append(f"{'bytes a point':<22}{stats['bytes_per_point']:>16,.2f}")
    lines.append(f"{'compression ratio':<22}{stats['compression_ratio']:>16,.1f}")
    return "\n".join(lines)


def db_stats(args: argparse.Namespace) -> int:
    """Print what the database holds: series, points in the head and in chunks, chunks,
    bytes on disk per part, bytes a point and the compression ratio."""
    from dashboard.metrics.stores import open_store
    from dashboard.settings import Settings

    try:
        store = open_store(Settings())
    except Exception as exc:  # noqa: BLE001 - an unreachable database is reported, not raised
        print(f"dashboard db stats: {exc}".strip(), file=sys.stderr)
        return 1
    try:
        print(format_stats(store.stats()))  # type: ignore[attr-defined]
    finally:
        store.close()
    return 0


def db_copy(args: argparse.Namespace) -> int:
    """Copy an install's users, tokens, dashboards, alerts and metadata (and, with
    ``--history``, its points) to another database; again copies nothing twice."""
    import sqlite3

    import psycopg

    from dashboard import dbcopy
    from dashboard.settings import Settings

    settings = Settings()
    try:
        source, dest = dbcopy.database_url(args.source), dbcopy.database_url(args.dest)
        report = dbcopy.copy_database(
            source,
            dest,
            source_candidates=dbcopy.source_secrets(source, settings, args.from_secret_file),
            destination=dbcopy.destination_secret(settings, args.to_secret_file),
            history=args.history,
            overwrite=args.overwrite,
            dry_run=args.dry_run,
            progress=sys.stderr,
        )
    except (dbcopy.CopyError, psycopg.Error, sqlite3.Error, OSError) as exc:
        print(f"dashboard db copy: {exc}".strip(), file=sys.stderr)
        return 1
    for line in report.lines():
        print(line)
    if (
        dbcopy.is_postgres(dest)
        and report.boxes.sealed
        and report.boxes.destination_from != "DASHBOARD_SECRET_KEY"
    ):
        print(
            f"note: secrets were sealed with {report.boxes.destination_from}: give every node"
            " on the new database that value as DASHBOARD_SECRET_KEY",
            file=sys.stderr,
        )
    return 0


def build_assets(args: argparse.Namespace) -> int:
    """Brotli-11 every static file into DASHBOARD_STATIC_CACHE, skipping those already there."""
    import time

    from dashboard.delivery.static_build import build, static_files
    from dashboard.settings import Settings

    cache_dir = Settings().static_cache
    started = time.perf_counter()
    results = build(static_files(), cache_dir, workers=args.jobs)
    written = [r for r in results if r.written]
    if args.verbose:
        for r in results:
            state = "written" if r.written else "present"
            print(f"{r.br_size:>9} {r.size:>9} {state}  {r.path}")
    print(
        f"{len(results)} static files in {cache_dir}: {len(written)} compressed,"
        f" {len(results) - len(written)} already there ({time.perf_counter() - started:.1f} s)"
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``dashboard`` command."""
    from dashboard.auth import SCOPES  # imports nothing (gevent patches before any import)

    parser = argparse.ArgumentParser(prog="dashboard", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p_serve = sub.add_parser("serve", help="run a web node")
    p_serve.add_argument("--host", help="interface to listen on (default 127.0.0.1)")
    p_serve.add_argument("--port", type=int, help="port to listen on (default 8050)")
    p_serve.set_defaults(func=serve)
    p_worker = sub.add_parser("worker", help="run the ingest worker")
    p_worker.set_defaults(func=worker)
    p_build = sub.add_parser(
        "build-assets", help="brotli-11 the static files once into DASHBOARD_STATIC_CACHE"
    )
    p_build.add_argument("--jobs", type=int, help="processes to compress with (default: all CPUs)")
    p_build.add_argument("-v", "--verbose", action="store_true", help="list every file")
    p_build.set_defaults(func=build_assets)

    p_users = sub.add_parser("users", help="manage users").add_subparsers(
        dest="action", required=True
    )
    p_create = p_users.add_parser("create", help="create a user")
    p_create.add_argument("name")
    p_create.add_argument("--role", choices=("viewer", "editor", "admin"), default="viewer")
    p_create.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of stdin",
    )
    p_create.set_defaults(func=users_create)
    p_users.add_parser("list", help="list users").set_defaults(func=users_list)

    p_tokens = sub.add_parser("tokens", help="manage bearer tokens").add_subparsers(
        dest="action", required=True
    )
    p_tc = p_tokens.add_parser("create", help="create a token and print it once")
    p_tc.add_argument("name")
    p_tc.add_argument(
        "--scope",
        choices=SCOPES,
        default="ingest",
        help="ingest: send points (default); read: query /prometheus/api/v1 (Grafana)",
    )
    p_tc.set_defaults(func=tokens_create)
    p_tr = p_tokens.add_parser("revoke", help="revoke a token")
    p_tr.add_argument("name")
    p_tr.set_defaults(func=tokens_revoke)
    p_tokens.add_parser("list", help="list tokens with their scope").set_defaults(func=tokens_list)

    p_db = sub.add_parser("db", help="manage the database schema").add_subparsers(
        dest="action", required=True
    )
    p_db.add_parser(
        "upgrade",
        help="apply pending migrations (PostgreSQL) and seal points held as rows into"
        " compressed chunks, with progress",
    ).set_defaults(func=db_upgrade)
    p_db.add_parser(
        "stats", help="series, points, chunks, bytes on disk and the compression ratio"
    ).set_defaults(func=db_stats)
    p_copy = p_db.add_parser(
        "copy",
        help="copy an install (users, tokens, dashboards, alerts; --history: points) to"
        " another database",
        description="Copy every app table (users with their password hashes, tokens, revoked"
        " sessions, dashboards, alert rules and events, metric metadata) from one database to"
        " another, matching rows on their keys; with --history also every series' points."
        " Running it again copies nothing twice. Alert webhooks are opened with the source's"
        " secret and sealed again with the destination's (DASHBOARD_SECRET_KEY, else the"
        " configured data folder's secret_key).",
    )
    p_copy.add_argument(
        "--from",
        dest="source",
        required=True,
        metavar="URL",
        help="the database to copy: sqlite:///data/dashboard.db (or the data folder),"
        " postgresql://...",
    )
    p_copy.add_argument(
        "--to", dest="dest", required=True, metavar="URL", help="the database to copy into"
    )
    p_copy.add_argument(
        "--history", action="store_true", help="copy every series' points too (with progress)"
    )
    p_copy.add_argument(
        "--overwrite",
        action="store_true",
        help="replace destination rows that differ from the source's (default: refuse)",
    )
    p_copy.add_argument(
        "--dry-run", action="store_true", help="say what would be copied, write no row"
    )
    p_copy.add_argument(
        "--from-secret-file",
        type=Path,
        metavar="PATH",
        help="the old install's secret (default: the secret_key beside a SQLite source, then"
        " DASHBOARD_SECRET_KEY, whichever opens its webhooks)",
    )
    p_copy.add_argument(
        "--to-secret-file",
        type=Path,
        metavar="PATH",
        help="the new nodes' secret (default: DASHBOARD_SECRET_KEY, else the data folder's"
        " secret_key)",
    )
    p_copy.set_defaults(func=db_copy)
    return parser


# the commands that change the app's data: the audit trail records them as done by
# ``cli:<os user>`` from ``cli``
AUDITED_COMMANDS = ("users", "tokens", "db")


def cli_actor() -> str:
    """Who runs an admin command, for the audit trail: ``cli:<os user>`` (``cli`` if unknown)."""
    import getpass

    try:
        return f"cli:{getpass.getuser()}"
    except (OSError, KeyError):  # no login name and no passwd entry (a bare container)
        return "cli"


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``dashboard`` command."""
    args = build_parser().parse_args(argv)
    if args.command in AUDITED_COMMANDS:
        from dashboard.db.audit import acting_as

        with acting_as(cli_actor(), "cli"):
            return int(args.func(args))
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
