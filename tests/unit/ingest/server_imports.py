"""Which web, storage or bus libraries a module of ``ingest`` imports, anywhere in it."""

from __future__ import annotations

from tests.unit.test_layers import imported_modules

SERVER_LIBRARIES = frozenset(
    {
        "flask",
        "dash",
        "plotly",
        "redis",
        "psycopg",
        "psycopg_pool",
        "sqlite3",
        "socketio",
        "flask_socketio",
        "engineio",
        "gevent",
        "requests",
    }
)


def server_libraries(source: str) -> set[str]:
    """The server libraries (top-level names) that a source text of ``ingest`` imports."""
    return {m.split(".")[0] for m in imported_modules(source, "ingest")} & SERVER_LIBRARIES
