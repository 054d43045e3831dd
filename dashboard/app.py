"""The app factory: Flask, Dash, Socket.IO, auth and the node's runtime, wired once per app."""

from __future__ import annotations

import hashlib
import logging
import os
import re
import socket
from pathlib import Path
from typing import Any

from dash import Dash
from flask import Flask, Request
from flask_socketio import SocketIO
from werkzeug.exceptions import BadRequest, HTTPException

from dashboard.alerts import views as alerts_api
from dashboard.api import observability
from dashboard.api import openapi as openapi_api
from dashboard.api.errors import json_http_errors
from dashboard.auth import guard
from dashboard.auth import views as auth_routes
from dashboard.auth.bootstrap import ensure_first_admin
from dashboard.boards import views as dashboards_api
from dashboard.delivery.compression import init_compression
from dashboard.delivery.static_build import REGENERATOR_RUNTIME
from dashboard.export import views as export_api
from dashboard.live import socket as live
from dashboard.metrics import views as api
from dashboard.metrics.retention import run_retention
from dashboard.runtime import Runtime, read_or_create_secret
from dashboard.settings import Settings
from ingest.redis_bus import RedisBus
from ingest.socket_ingest import IngestNamespace

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
ASSETS = ROOT / "assets"


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


def async_mode() -> str:
    """``gevent`` when the process is monkey-patched (serve, gunicorn), else ``threading``."""
    try:
        from gevent import monkey
    except ImportError:  # pragma: no cover - gevent is a dependency
        return "threading"
    return "gevent" if monkey.is_module_patched("socket") else "threading"


def _finish_dash_setup(server: Flask, dash_app: Dash) -> None:
    """Dash marks its set-up done before it finishes it; do it now, before any request."""
    with server.test_request_context(dash_app.config.routes_pathname_prefix):
        dash_app._setup_server()


# Dash always lists the DataTable component's script (9 KB compressed); these pages never use it
# (tables are plain HTML).
UNUSED_SCRIPTS = re.compile(r'<script src="[^"]*/dash_table/[^"]*"></script>\s*')
# Dash always ships @babel/polyfill (33 KB compressed) before React. In Chromium the only part of
# it that anything on these pages uses is the global regeneratorRuntime (dcc's and the renderer's
# lazy-component loader call it once a lazy chunk has loaded; core-js's other additions are
# native, non-standard, or feature-tested first), so the page gets regenerator-runtime alone
# (6 KB), in the polyfill's place, as a script of our package served by Dash's component-suites
# route (fingerprinted, public, allowed by the CSP's 'self').
POLYFILL_SCRIPT = re.compile(r'<script src="[^"]*/dash/deps/polyfill@[^"]*"></script>')
OWN_NAMESPACE = "dashboard"


# What Dash's renderer fetches only once its scripts have run (the layout and callbacks) and dcc
# only once the layout shows a graph, a dropdown or an upload (its lazy chunks): a page that
# names them in <link rel=preload> has them fetched alongside its scripts instead of after them.
PRELOAD_FETCHES = ("_dash-layout", "_dash-dependencies")
PRELOAD_CHUNKS = tuple(
    f"_dash-component-suites/dash/dcc/async-{name}.js" for name in ("graph", "dropdown", "upload")
)


class LeanDash(Dash):
    """A Dash app whose pages leave out ``UNUSED_SCRIPTS`` and swap the polyfill for less, and
    (with ``preload``) start fetching what the renderer asks for next while its scripts load."""

    def __init__(self, *args: Any, preload: bool = False, **kwargs: Any) -> None:
        """A Dash app that serves regenerator-runtime from the start, before any page is built."""
        super().__init__(*args, **kwargs)
        self.registered_paths[OWN_NAMESPACE].add(REGENERATOR_RUNTIME)
        self.preload = preload

    def _preload_tags(self) -> str:
        """<link rel=preload> for ``PRELOAD_FETCHES`` (as Dash fetches them: same-origin
        credentials, hence ``crossorigin``) and ``PRELOAD_CHUNKS``."""
        prefix = self.config.requests_pathname_prefix
        fetches = [
            f'<link rel="preload" href="{prefix}{p}" as="fetch" crossorigin>'
            for p in PRELOAD_FETCHES
        ]
        chunks = [f'<link rel="preload" href="{prefix}{p}" as="script">' for p in PRELOAD_CHUNKS]
        return "\n".join(fetches + chunks)

    def _regenerator_tag(self) -> str:
        """The script tag of regenerator-runtime, at its fingerprinted URL."""
        resource = {"relative_package_path": REGENERATOR_RUNTIME, "namespace": OWN_NAMESPACE}
        (src,) = self._collect_and_register_resources([resource])
        return f'<script src="{src}"></script>'

    def interpolate_index(self, **kwargs: Any) -> str:
        """The page, without the unused script tags and with the polyfill swapped."""
        scripts = UNUSED_SCRIPTS.sub("", kwargs["scripts"])
        kwargs["scripts"] = POLYFILL_SCRIPT.sub(lambda _: self._regenerator_tag(), scripts, 1)
        if self.preload:  # after the stylesheets: the first paint waits for those, not these
            kwargs["css"] = kwargs["css"] + "\n" + self._preload_tags()
        return super().interpolate_index(**kwargs)


def create_app(settings: Settings | None = None) -> Flask:
    """Build a node: the Flask server with the API, the Dash UI and the /live namespace."""
    settings = settings or Settings()
    server = Flask(__name__)
    server.request_class = SafeJSONRequest
    given = settings.secret_key.get_secret_value() if settings.secret_key else ""
    secret = given or read_or_create_secret(settings.data_dir / "secret_key")
    server.config.update(
        SECRET_KEY=secret,
        JWT_SECRET_KEY=hashlib.sha256(b"jwt:" + secret.encode()).hexdigest(),
        MAX_CONTENT_LENGTH=settings.max_body_bytes,
    )
    rt = Runtime.open(settings)
    server.extensions["dashboard"] = rt
    ensure_first_admin(rt.users, settings)

    from ingest import http as ingest_http

    server.register_blueprint(auth_routes.bp)
    server.register_blueprint(ingest_http.bp)
    server.register_blueprint(api.bp)
    server.register_blueprint(observability.bp)
    server.register_blueprint(alerts_api.bp)
    server.register_blueprint(export_api.bp)
    server.register_blueprint(dashboards_api.bp)
    server.register_blueprint(openapi_api.bp)
    server.register_error_handler(HTTPException, json_http_errors)
    limiter = guard.init_auth(server, settings, rt.users)
    _apply_limits(server, limiter, settings)

    from callbacks import login as login_callbacks
    from callbacks import register_all
    from layouts import login as login_layout
    from layouts.page import serve_layout

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
    dash_app.layout = lambda: serve_layout(rt)
    register_all(dash_app, rt)
    dash_app.init_app(server)
    login_app = LeanDash(
        "dashboard_login",
        server=False,
        url_base_pathname="/login/",
        assets_folder=str(ASSETS),
        # the sign-in page draws no chart and has no live feed or widgets
        assets_ignore=r"live\.js|socket\.io|plotly|grid\.js|range\.js|alerts\.js|export\.js",
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

    socketio = SocketIO(
        server,
        async_mode=async_mode(),
        cors_allowed_origins=settings.cors_allowed_origins or None,
        ping_interval=10,
        ping_timeout=10,
        # other processes (the worker) reach this node's browsers through Redis
        message_queue=settings.redis_url or None,
        channel=f"{settings.redis_prefix}:socketio",
    )
    server.extensions["live_namespace"] = live.register(socketio, rt)
    rt.alert_sink = lambda payload: socketio.emit("alert", payload, namespace=live.NAMESPACE)
    socketio.on_namespace(IngestNamespace(rt, _socket_ingest_limit(limiter, settings)))

    init_compression(server, settings.static_cache)
    _finish_dash_setup(server, dash_app)
    _finish_dash_setup(server, login_app)
    guard.security_headers(
        server, settings, lambda: [*dash_app.csp_hashes(), *login_app.csp_hashes()]
    )
    return server


def _apply_limits(server: Flask, limiter, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    """Rate limits: sign-in per address and per user, ingest per token, the API per user."""
    from ingest.http import bearer_token

    def token_key() -> str:
        token = bearer_token()
        return "token:" + hashlib.sha256(token.encode()).hexdigest()[:16] if token else "token:-"

    views = server.view_functions

    def failed(response) -> bool:  # type: ignore[no-untyped-def]
        return response.status_code >= 400  # only failed sign-ins spend the budget

    login = views["auth.login"]
    login = limiter.limit(
        settings.login_ip_rate_limit, key_func=guard.remote_address, deduct_when=failed
    )(login)
    login = limiter.limit(
        settings.login_rate_limit, key_func=auth_routes.login_username, deduct_when=failed
    )(login)
    views["auth.login"] = login
    views["ingest.ingest"] = limiter.limit(settings.ingest_rate_limit, key_func=token_key)(
        views["ingest.ingest"]
    )
    views["ingest.ingest_prometheus"] = limiter.limit(
        settings.ingest_rate_limit, key_func=token_key
    )(views["ingest.ingest_prometheus"])
    limiter.limit(settings.api_rate_limit, key_func=guard.user_key)(api.bp)
    limiter.limit(settings.api_rate_limit, key_func=guard.user_key)(alerts_api.bp)
    limiter.limit(settings.api_rate_limit, key_func=guard.user_key)(export_api.bp)
    limiter.limit(settings.api_rate_limit, key_func=guard.user_key)(dashboards_api.bp)


def _socket_ingest_limit(limiter, settings: Settings):  # type: ignore[no-untyped-def]
    """The per-token ingest limit for Socket.IO producers, in the limiter's storage."""
    from limits import parse

    item = parse(settings.ingest_rate_limit)

    def allow(token_name: str) -> bool:
        return bool(limiter.limiter.hit(item, "socket-ingest", token_name))

    return allow


def start_background(server: Flask) -> None:
    """Start the node's background tasks: session sweeps, pollers and the demo when enabled."""
    rt: Runtime = server.extensions["dashboard"]
    socketio: SocketIO = server.extensions["socketio"]
    socketio.start_background_task(
        live.run_session_sweeper, socketio, server.extensions["live_namespace"]
    )
    socketio.start_background_task(
        live.run_health_watch, socketio, server.extensions["live_namespace"]
    )
    if hasattr(rt.store, "retention"):
        socketio.start_background_task(run_retention, rt, socketio.sleep)
        rt.tasks["retention"] = "running"
    if isinstance(rt.bus, RedisBus):
        bus = rt.bus
        socketio.start_background_task(
            bus.run_tail, sleep=socketio.sleep, on_state=_task_state(rt, "stream_tail")
        )
        rt.tasks["stream_tail"] = "running"
        if rt.settings.persist_in_web:
            name = f"web-{socket.gethostname()}-{os.getpid()}"
            socketio.start_background_task(
                bus.run_persister,
                rt.store.write,
                name,
                sleep=socketio.sleep,
                on_state=_task_state(rt, "persister"),
            )
            rt.tasks["persister"] = "running"
    if rt.alerts is not None and not isinstance(rt.bus, RedisBus):
        socketio.start_background_task(rt.alerts.run_ticks, socketio.sleep)
        if rt.alerts.notifier is not None:
            socketio.start_background_task(rt.alerts.notifier.run)
    # with Redis and dedicated workers (persist_in_web off) the worker polls, not every web node
    if rt.settings.poll_targets and (
        not isinstance(rt.bus, RedisBus) or rt.settings.persist_in_web
    ):
        start_node_pollers(rt, socketio)
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


def start_node_pollers(rt: Runtime, socketio: SocketIO) -> None:
    """Start one poller per DASHBOARD_POLL_TARGETS entry; a bad target stops the start."""
    from ingest.pollers import TargetError, start_pollers

    try:
        start_pollers(
            rt.settings,
            publish=rt.bus.publish,
            spawn=lambda _name, run: socketio.start_background_task(run),
            sleep=socketio.sleep,
            metrics=rt.metrics,
            tasks=rt.tasks,
            limits=rt.limits,
        )
    except TargetError as exc:
        raise SystemExit(f"DASHBOARD_POLL_TARGETS: {exc}") from None


def _task_state(rt: Runtime, name: str):  # type: ignore[no-untyped-def]
    """A callback that records a task's state for /healthz."""

    def record(state: str) -> None:
        rt.tasks[name] = state

    return record
