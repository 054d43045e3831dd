"""The app factory: a node's Flask server with its extensions, API, Dash UI and sockets.

``create_app`` reads as the list of what a node is made of; the extensions themselves live in
``dashboard.extensions`` and the background tasks in ``dashboard.background``.
"""

from __future__ import annotations

from typing import Any

from dash import Dash
from flask import Blueprint, Flask, Request
from socketio import Manager, RedisManager
from werkzeug.exceptions import BadRequest, HTTPException

from callbacks import login as login_callbacks
from callbacks import register_all
from callbacks.page import page_data
from dashboard.alerts import views as alerts_views
from dashboard.api import observability, openapi
from dashboard.api.errors import json_http_errors
from dashboard.auth import views as auth_views
from dashboard.auth.bootstrap import ensure_first_admin, secret_config
from dashboard.auth.guard import init_auth, security_headers
from dashboard.auth.limits import init_limits, socket_ingest_limit
from dashboard.boards import views as boards_views
from dashboard.delivery.compression import init_compression
from dashboard.delivery.dash_index import LeanDash, finish_setup
from dashboard.delivery.static_build import ASSETS
from dashboard.export import views as export_views
from dashboard.extensions import socketio
from dashboard.live import socket as live
from dashboard.live import transport
from dashboard.live import views as live_views
from dashboard.metrics import views as metrics_views
from dashboard.query import views as query_views
from dashboard.runtime import Runtime
from dashboard.settings import Settings
from ingest import http as ingest_http
from ingest import receivers as ingest_receivers
from ingest.socket_ingest import IngestNamespace
from layouts import login as login_layout
from layouts.page import serve_layout


def create_app(settings: Settings | None = None) -> Flask:
    """Build a node: the Flask server with the API, the Dash UI and the /live namespace."""
    settings = settings or Settings()
    server = Flask(__name__)
    server.request_class = SafeJSONRequest
    server.config.update(secret_config(settings), MAX_CONTENT_LENGTH=settings.max_body_bytes)
    rt = Runtime.open(settings)
    server.extensions["dashboard"] = rt
    ensure_first_admin(rt.users, settings)
    for bp in blueprints():
        server.register_blueprint(bp)
    server.register_error_handler(HTTPException, json_http_errors)
    init_auth(server, settings, rt.users)
    server.before_request(boards_views.open_home)  # after the guard: it knows the user
    # after the guard (a limit keyed by user sees the user) and after the blueprints (ingest's
    # after_app_request puts back the Retry-After the limiter's headers rewrite)
    init_limits(server, settings)
    dash_app, login_app = init_dash(server, rt)
    init_sockets(server, rt, settings)
    init_compression(server, settings.static_cache)
    finish_setup(server, dash_app)
    finish_setup(server, login_app)
    security_headers(server, settings, lambda: [*dash_app.csp_hashes(), *login_app.csp_hashes()])
    return server


def blueprints() -> list[Blueprint]:
    """Every blueprint of a node: the JSON API, ingest, health and metrics."""
    return [
        auth_views.bp,
        auth_views.pages,
        ingest_http.bp,
        ingest_receivers.bp,
        metrics_views.bp,
        query_views.bp,
        live_views.bp,
        observability.bp,
        alerts_views.bp,
        export_views.bp,
        boards_views.bp,
        boards_views.me,
        openapi.bp,
    ]


def init_dash(server: Flask, rt: Runtime) -> tuple[Dash, Dash]:
    """The dashboard's Dash app at ``/`` and the sign-in page's at ``/login/``."""
    dash_app = LeanDash(
        __name__,
        server=False,
        assets_folder=str(ASSETS),
        title="Dashboard",
        update_title=None,
        serve_locally=True,
        compress=False,
        assets_ignore=r"login\.js",  # the sign-in page's own
        preload=True,
    )
    dash_app.layout = lambda: serve_layout(page_data(rt))
    register_all(dash_app, rt)
    dash_app.init_app(server)
    login_app = LeanDash(
        "dashboard_login",
        server=False,
        url_base_pathname="/login/",
        assets_folder=str(ASSETS),
        # the sign-in page draws no chart and has no live feed or widgets
        assets_ignore=r"live\.js|socket\.io|plotly|grid\.js|range\.js|alerts\.js|export\.js|keys\.js|charts\.js",
        title="Sign in · Dashboard",
        update_title=None,
        serve_locally=True,
        compress=False,
    )
    login_app.layout = login_layout.layout
    login_callbacks.register(login_app)
    login_app.init_app(server)
    server.extensions["dash_app"] = dash_app
    server.extensions["login_app"] = login_app
    return dash_app, login_app


def init_sockets(server: Flask, rt: Runtime, settings: Settings) -> None:
    """Socket.IO on ``server``: browsers' ``/live`` and producers' ``/ingest`` namespaces."""
    socketio.init_app(
        server,
        async_mode=async_mode(),
        cors_allowed_origins=settings.cors_allowed_origins or None,
        ping_interval=10,
        ping_timeout=10,
        client_manager=client_manager(settings),
    )
    # one file descriptor and no zlib compressor a viewer (dashboard/live/transport.py)
    plain = transport.without_websocket_compression(server.wsgi_app)
    server.wsgi_app = plain  # type: ignore[method-assign]
    transport.use_single_socket(socketio.server.eio)
    transport.use_ping_timers(socketio.server.eio)
    server.extensions["live_namespace"] = live.register(socketio, rt)
    # this node's browsers only: on a Redis setup every node reads the worker's alerts from
    # the alert stream itself (ingest/redis_bus.py AlertStream), never through Pub/Sub
    rt.alert_sink = lambda payload: socketio.server.manager.emit(
        "alert", payload, namespace=live.NAMESPACE, room=None, ignore_queue=True
    )
    socketio.on_namespace(IngestNamespace(rt, socket_ingest_limit(settings)))


def client_manager(settings: Settings) -> Manager:
    """Socket.IO's rooms: on Redis when configured, so other processes (the worker) reach this
    node's browsers; else in this process.

    Passed explicitly, not as ``message_queue``: the ``SocketIO`` object outlives an app, and
    would keep a former app's queue when the next one names none.
    """
    if not settings.redis_url:
        return Manager()
    return RedisManager(settings.redis_url, channel=f"{settings.redis_prefix}:socketio")


def async_mode() -> str:
    """``gevent`` when the process is monkey-patched (serve, gunicorn), else ``threading``."""
    try:
        from gevent import monkey
    except ImportError:  # pragma: no cover - gevent is a dependency
        return "threading"
    return "gevent" if monkey.is_module_patched("socket") else "threading"


class SafeJSONRequest(Request):
    """A request whose JSON parser answers 400, not 500, to absurdly deep nesting."""

    def get_json(self, force: bool = False, silent: bool = False, cache: bool = True) -> Any:
        """Like Flask's, but a RecursionError is a bad body, not a server error."""
        try:
            return super().get_json(force=force, silent=silent, cache=cache)
        except RecursionError:
            if silent:
                return None
            raise BadRequest("the JSON body is nested too deeply") from None
