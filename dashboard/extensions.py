"""The Flask extensions, made once here without an app and attached by ``create_app``.

Views import what they need from here (``current_runtime``, ``limiter``), never from the app.
This module imports no project module at run time, so any layer may import it.

Flask-SocketIO and flask-limiter keep their server and storage on the extension object, so
the app ``init_app`` saw last owns them: one node per process, as ``serve`` and gunicorn run
it (tests build one app after another). Flask-Compress too, which is why
``delivery.compression`` makes one per app instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Flask, current_app
from flask_jwt_extended import JWTManager
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_socketio import SocketIO

if TYPE_CHECKING:
    from dashboard.runtime import Runtime


class NodeLimiter(Limiter):
    """A limiter that reads its key prefix afresh from each app it is attached to."""

    def init_app(self, app: Flask) -> None:
        """Attach to ``app`` with the storage and prefix of its config (``RATELIMIT_*``)."""
        # flask-limiter keeps the prefix of the first app and the "Redis is down" mark of the
        # last: a node built later starts from its own settings instead
        self._key_prefix = ""
        self._storage_dead = False
        super().init_app(app)


socketio = SocketIO()
jwt = JWTManager()
limiter = NodeLimiter(
    # every limit of ours names its key (dashboard.auth.limits); this default keys by address
    key_func=get_remote_address,
    headers_enabled=True,
    strategy="fixed-window",
    # Redis down must not take the site down: limits fall back to this node's memory
    swallow_errors=True,
    in_memory_fallback_enabled=True,
)


def current_runtime() -> Runtime:
    """The Runtime of the current app (``create_app`` keeps it in ``extensions["dashboard"]``)."""
    return current_app.extensions["dashboard"]
