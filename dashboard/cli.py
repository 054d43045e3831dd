"""The ``dashboard`` command: ``serve`` (a web node) and ``worker`` (ingest worker)."""

from __future__ import annotations

import argparse
import logging
import sys


def _patch_gevent() -> None:
    """Make the standard library cooperative before anything else imports it."""
    from gevent import monkey

    monkey.patch_all()


def serve(args: argparse.Namespace) -> int:
    """Run a web node on gevent: Dash UI, JSON API and Socket.IO on one port."""
    _patch_gevent()
    from gevent.pywsgi import WSGIServer

    from dashboard.app import create_app, start_background
    from dashboard.settings import Settings

    overrides = {k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None}
    settings = Settings(**overrides)
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    app = create_app(settings)
    rt = app.extensions["dashboard"]
    log = logging.getLogger("dashboard")
    if not settings.ingest_tokens:
        log.info("ingest token: see %s", settings.data_dir / "ingest_token")
    start_background(app)
    socketio = app.extensions["socketio"]
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
    """Run the ingest worker (needs the Redis bus)."""
    from dashboard.settings import Settings

    settings = Settings()
    if not settings.redis_url:
        print(
            "dashboard worker: DASHBOARD_REDIS_URL is not set. In the embedded setup the web node"
            " (dashboard serve) runs the demo, the persister and the live feed itself, so no"
            " worker is needed. The Redis bus that a separate worker consumes is not available"
            " in this version yet.",
            file=sys.stderr,
        )
        return 2
    print("dashboard worker: the Redis bus is not available in this version yet", file=sys.stderr)
    return 2


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
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``dashboard`` command."""
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
