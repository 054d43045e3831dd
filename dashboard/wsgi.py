"""WSGI entry for gunicorn (``gunicorn -k gevent -w 1 dashboard.wsgi:app``)."""

from __future__ import annotations

from dashboard.app import create_app
from dashboard.background import start_background

app = create_app()
start_background(app)
