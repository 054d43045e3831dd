"""The computing core imports no web, storage or bus library (see ``dashboard/__init__.py``)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PURE_MODULES = (
    "dashboard/metrics/model",
    "dashboard/metrics/steps",
    "dashboard/metrics/downsample",
    "dashboard/metrics/ringbuffer",
    "dashboard/metrics/timerange",
    "dashboard/live/hub",
    "ingest/demo_data",
    "dashboard/boards/models",
    "dashboard/alerts/engine",
    "dashboard/export/csv",
    "dashboard/boards/view",
    "dashboard/live/health",
)
FORBIDDEN = frozenset(
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


def imported_modules(source: str, package: str = "dashboard") -> set[str]:
    """Every module a source text imports, anywhere in it, as absolute dotted names."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package if node.level == 1 else ""
                module = ".".join(p for p in (base, node.module or "") if p)
                if node.module is None:
                    found.update(f"{module}.{alias.name}" for alias in node.names)
                else:
                    found.add(module)
            else:
                found.add(node.module or "")
        elif (
            isinstance(node, ast.Call)
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
            and (
                (isinstance(node.func, ast.Name) and node.func.id == "__import__")
                or (isinstance(node.func, ast.Attribute) and node.func.attr == "import_module")
            )
        ):
            found.add(node.args[0].value)
    return found


def forbidden_in(source: str) -> set[str]:
    """The imports of a source text whose top-level package is forbidden in the core."""
    return {m for m in imported_modules(source) if m.split(".")[0] in FORBIDDEN}


@pytest.mark.parametrize(
    "snippet",
    [
        "import flask",
        "import plotly.graph_objects as go",
        "from dash import html",
        "from psycopg_pool import ConnectionPool",
        "def f():\n    import sqlite3\n",
        "class C:\n    def m(self):\n        from flask_socketio import emit\n",
        "try:\n    import redis\nexcept ImportError:\n    redis = None\n",
        "if False:\n    import gevent.monkey\n",
        "import importlib\nimportlib.import_module('requests')\n",
        "__import__('engineio')\n",
    ],
)
def test_checker_catches_forbidden_imports_anywhere(snippet: str) -> None:
    """The checker itself flags a forbidden import at top level, inside a function or a branch."""
    assert forbidden_in(snippet)


def test_checker_ignores_allowed_imports() -> None:
    """Names that merely start like a forbidden package (dashboard, requests_x) are not flagged."""
    source = "import numpy\nfrom dashboard.metrics import model\nimport dashing, requests_x\n"
    assert forbidden_in(source) == set()


@pytest.mark.parametrize("module", PURE_MODULES)
def test_pure_module_imports_no_server_library(module: str) -> None:
    """No module of the pure core imports a web, storage or bus library, even lazily."""
    source = (ROOT / f"{module}.py").read_text(encoding="utf-8")
    assert forbidden_in(source) == set(), f"{module}.py imports {forbidden_in(source)}"


@pytest.mark.parametrize("module", PURE_MODULES)
def test_pure_module_imports_only_pure_siblings(module: str) -> None:
    """Inside the package the core imports only other core modules, so purity holds transitively."""
    source = (ROOT / f"{module}.py").read_text(encoding="utf-8")
    internal = {m for m in imported_modules(source) if m.split(".")[0] in ("dashboard", "ingest")}
    allowed = {name.replace("/", ".") for name in PURE_MODULES} | {"dashboard", "dashboard.metrics"}
    assert internal <= allowed, f"{module}.py imports {sorted(internal - allowed)}"


def test_every_pure_module_exists() -> None:
    """The list of pure modules names real files (a renamed module cannot escape the check)."""
    missing = [m for m in PURE_MODULES if not (ROOT / f"{m}.py").is_file()]
    assert missing == []
