"""The ``dashboard`` command: ``serve`` (a web node), ``worker`` (ingest worker) and admin tasks."""

from __future__ import annotations

import argparse
import logging
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dashboard.auth.users import UserStore


def _patch_gevent() -> None:
    """Make the standard library cooperative before anything else imports it."""
    from gevent import monkey

    monkey.patch_all()


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
    log.info(
        "serving on http://%s:%d (store: %s, bus: %s, demo: %s)",
        settings.host,
        settings.port,
        rt.store.kind,
        rt.bus.kind,
        "on" if settings.demo else "off",
    )
    server = WSGIServer(listener(settings.host, settings.port), app, log=None)
    socketio.wsgi_server = server  # lets socketio.stop() end it
    server.serve_forever()
    return 0


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
    """Create an ingest token and print it once (only its hash is stored)."""
    from dashboard.auth import service

    store = _user_store()
    try:
        token = service.create_token(users=store, name=args.name)
    except service.Refused as exc:
        print(f"dashboard tokens create: {exc}", file=sys.stderr)
        return 1
    finally:
        store.close()
    print(token)
    print(
        f"(ingest token {args.name!r}: shown this once; send it as 'Authorization: Bearer"
        " <token>')",
        file=sys.stderr,
    )
    return 0


def tokens_revoke(args: argparse.Namespace) -> int:
    """Revoke an ingest token by name."""
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
    """Print every ingest token's name and state (never the token)."""
    from dashboard.auth import service

    store = _user_store()
    for t in service.list_tokens(users=store):
        print(f"{t['name']}\t{'revoked' if t['revoked'] else 'active'}")
    store.close()
    return 0


def db_upgrade(args: argparse.Namespace) -> int:
    """Apply pending PostgreSQL migrations and print each one applied."""
    from dashboard.settings import Settings

    url = Settings().resolved_database_url
    if not url.startswith(("postgresql://", "postgres://")):
        print("dashboard db upgrade: the SQLite store creates its schema itself; nothing to do")
        return 0
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

    p_tokens = sub.add_parser("tokens", help="manage ingest tokens").add_subparsers(
        dest="action", required=True
    )
    p_tc = p_tokens.add_parser("create", help="create an ingest token and print it once")
    p_tc.add_argument("name")
    p_tc.set_defaults(func=tokens_create)
    p_tr = p_tokens.add_parser("revoke", help="revoke an ingest token")
    p_tr.add_argument("name")
    p_tr.set_defaults(func=tokens_revoke)
    p_tokens.add_parser("list", help="list ingest tokens").set_defaults(func=tokens_list)

    p_db = sub.add_parser("db", help="manage the database schema").add_subparsers(
        dest="action", required=True
    )
    p_db.add_parser(
        "upgrade", help="apply pending migrations to DASHBOARD_DATABASE_URL (PostgreSQL)"
    ).set_defaults(func=db_upgrade)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``dashboard`` command."""
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
