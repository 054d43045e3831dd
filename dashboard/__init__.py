"""A self-hosted, real-time metrics dashboard.

One folder per domain, each with its pure models and logic, its service, its store and its thin
views side by side; the composition root (``app``, ``runtime``, ``background``, ``cli``,
``wsgi``, ``extensions``) at the top:

- ``metrics/``: the series core (points, steps, rollups, frames, the engine, downsampling,
  summaries), its service and ``/api/v1/series``; ``metrics/stores/``: memory (hot), SQLite,
  PostgreSQL and the history cache
- ``query/``: PromQL (parser, vectorised engine, the Prometheus HTTP API, completion, the numpy
  answers widgets, the live feed, exports and alert rules use)
- ``boards/``: dashboards (schema, edits, URL view state, figures, expression widgets, units,
  annotations, templates), their store, service and API
- ``alerts/``: the pure rule engine, the rules' store, the runner (webhooks), service and API
- ``live/``: the hub (cursor, coalescing), dependency health, the ``/live`` namespace
- ``export/``: the pure CSV and report builders, the kaleido pool, the export service and routes
- ``auth/``: roles, passwords, users and tokens, the request guard, rate-limit keys, sign-in API
- ``api/``: JSON errors, the OpenAPI description, ``/healthz`` and ``/metrics``
- ``db/``: the app database and its migrations; ``delivery/``: the lean Dash index, static files
- ``outbound``: every HTTP request the server makes (webhooks, pollers), within the pure
  ``outbound_policy`` (schemes, checked and pinned addresses, redirects, caps, masked URLs);
  ``secretbox``: secrets kept at rest (webhook URLs), encrypted with a key from the node secret

The layer rules (``pyproject.toml`` holds them as import-linter contracts; ``make test`` runs
``lint-imports``, and ``tests/unit/test_layers.py`` proves each one fails when broken):

1. A pure file (the ``pure`` contract lists them) imports only the standard library, numpy,
   tsdownsample, pcodec (reportlab for ``export.report``) and other pure files; mypy checks them.
2. The domains form a DAG: ``metrics`` at the bottom, ``query`` above it; ``boards`` and
   ``alerts`` may import those; ``live`` and ``export`` may import those; ``auth`` imports
   only ``db`` (and the shared clock, settings, telemetry and extensions).
3. Views and callbacks never reach a store: they parse their input, call their domain's service
   and map its errors.
4. Only the composition root imports ``ingest``, ``layouts`` and ``callbacks``.
5. ``layouts`` receives data as arguments: no flask, runtime, service, store or guard.
6. ``ingest`` never imports the web app, ``layouts`` or ``callbacks``.
"""

__version__ = "0.1.0"
