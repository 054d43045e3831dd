"""WSGI entry for gunicorn (``gunicorn -k gevent -w 1 dashboard.wsgi:app``)."""

from dashboard.app import create_app, start_background

app = create_app()
start_background(app)
