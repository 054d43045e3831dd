"""A self-hosted, real-time metrics dashboard.

The computing core of this package (``model``, ``ringbuffer``, ``steps``, ``downsample``,
``realtime``, ``demo``, ``timerange``, ``dashboards``, ``alerts``) is pure: it imports no flask,
dash, plotly, redis, psycopg, sqlite3 or socketio, does no I/O and is tested without servers
(``tests/unit/test_core_is_pure.py`` enforces it). Web, storage and bus code lives at the edges:
``app``, ``api``, ``live``, ``store/`` and the top-level ``ingest`` package.
"""

__version__ = "0.1.0"
