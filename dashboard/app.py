"""The app factory: Flask, Dash, Socket.IO and the node's runtime, wired once per app."""

from __future__ import annotations

import logging
from pathlib import Path

from dash import Dash
from flask import Flask
from flask_socketio import SocketIO

from dashboard import api, live, observability
from dashboard.runtime import Runtime, read_or_create_secret
from dashboard.settings import Settings

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
ASSETS = ROOT / "assets"


def async_mode() -> str:
    """``gevent`` when the process is monkey-patched (serve, gunicorn), else ``threading``."""
    try:
        from gevent import monkey
    except ImportError:  # pragma: no cover - gevent is a dependency
        return "threading"
    return "gevent" if monkey.is_module_patched("socket") else "threading"


def create_app(settings: Settings | None = None) -> Flask:
    """Build a node: the Flask server with the API, the Dash UI and the /live namespace."""
    settings = settings or Settings()
    server = Flask(__name__)
    given = settings.secret_key.get_secret_value() if settings.secret_key else ""
    secret = given or read_or_create_secret(settings.data_dir / "secret_key")
    server.config.update(
        SECRET_KEY=secret,
        MAX_CONTENT_LENGTH=settings.max_body_bytes,
        JSON_SORT_KEYS=False,
    )
    rt = Runtime.open(settings)
    server.extensions["dashboard"] = rt

    from ingest import http as ingest_http

    server.register_blueprint(ingest_http.bp)
    server.register_blueprint(api.bp)
    server.register_blueprint(observability.bp)

    dash_app = Dash(
        __name__,
        server=False,
        assets_folder=str(ASSETS),
        title="Dashboard",
        update_title=None,
        serve_locally=True,
        compress=False,
    )
    from callbacks import register_all
    from layouts.shell import serve_layout

    dash_app.layout = lambda: serve_layout(rt)
    register_all(dash_app, rt)
    dash_app.init_app(server)
    server.extensions["dash_app"] = dash_app

    socketio = SocketIO(
        server,
        async_mode=async_mode(),
        cors_allowed_origins=settings.cors_allowed_origins or None,
        ping_interval=10,
        ping_timeout=10,
    )
    live.register(socketio, rt)

    # Dash marks its set-up done before it finishes it; do it now, before any request.
    with server.test_request_context("/"):
        dash_app._setup_server()
    return server


def start_background(server: Flask) -> None:
    """Start the node's background tasks (the demo source when enabled)."""
    rt: Runtime = server.extensions["dashboard"]
    socketio: SocketIO = server.extensions["socketio"]
    if rt.settings.demo:
        from ingest import demo

        def run_demo() -> None:
            rt.tasks["demo"] = "running"
            try:
                demo.run(
                    rt.bus.publish,
                    last_ts=demo.last_demo_ts(rt.series_list()),
                    step_ms=rt.settings.demo_backfill_step_s * 1000,
                    sleep=socketio.sleep,
                )
            finally:
                rt.tasks["demo"] = "stopped"

        socketio.start_background_task(run_demo)
