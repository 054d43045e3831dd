"""The layer rules hold, and their checks fail when a rule is broken (``dashboard/__init__.py``).

Two checks share one list of pure modules, the ``pure`` contract in ``pyproject.toml``:
``lint-imports`` (import-linter) checks every contract there, and this file checks, with an
allow-list, that a pure file imports only the standard library, numpy, tsdownsample, pcodec
(reportlab for the PDF report) and other pure files, anywhere in it, even lazily.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("dashboard", "layouts", "callbacks", "ingest")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
CONTRACTS = {
    c["id"]: c
    for c in tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"][
        "contracts"
    ]
}
PURE_MODULES: tuple[str, ...] = tuple(CONTRACTS["pure"]["source_modules"])
THIRD_PARTY = frozenset({"numpy", "tsdownsample", "pcodec", "promql_parser"})
# the ecosystem receivers' decoders: their codec and protocol libraries
_PROTOCOLS = frozenset({"cramjam", "google", "opentelemetry"})
EXTRA = {
    "dashboard.export.report": frozenset({"reportlab"}),
    "ingest.remote_write": _PROTOCOLS,
    "ingest.remote_write_v2": _PROTOCOLS,
    "ingest.otlp": _PROTOCOLS,
}
# standard-library modules that do I/O with the outside world: a pure file does none
IMPURE_STDLIB = frozenset(
    {"sqlite3", "socket", "ssl", "http", "urllib.request", "subprocess", "smtplib", "select"}
)


def imported_modules(source: str, package: str) -> set[str]:
    """Every module a source text imports, anywhere in it, as absolute dotted names."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            module = ".".join(p for p in (base, node.module or "") if p)
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
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


def pure_name(name: str) -> bool:
    """A pure module, a package on the way to one, or a name inside one."""
    if name in PURE_MODULES or any(p.startswith(name + ".") for p in PURE_MODULES):
        return True
    return name.rpartition(".")[0] in PURE_MODULES


def disallowed(source: str, module: str) -> set[str]:
    """The imports of a pure module's source that its allow-list does not cover."""
    allowed_third = THIRD_PARTY | EXTRA.get(module, frozenset())
    bad = set()
    for name in imported_modules(source, module.rpartition(".")[0]):
        top = name.split(".")[0]
        if top in PACKAGES:
            if not pure_name(name):
                bad.add(name)
        elif top == "__future__" or top in allowed_third:
            continue
        elif top in sys.stdlib_module_names:
            if any(name == m or name.startswith(m + ".") for m in IMPURE_STDLIB):
                bad.add(name)
        else:
            bad.add(name)
    return bad


def source_of(module: str) -> str:
    """The source text of a dotted module name of this repository."""
    return (ROOT / (module.replace(".", "/") + ".py")).read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "snippet",
    [
        "import flask",
        "import plotly.graph_objects as go",
        "from dash import html",
        "def f():\n    import sqlite3\n",
        "class C:\n    def m(self):\n        from flask_socketio import emit\n",
        "try:\n    import redis\nexcept ImportError:\n    redis = None\n",
        "if False:\n    import gevent.monkey\n",
        "import importlib\nimportlib.import_module('requests')\n",
        "__import__('engineio')\n",
        "from urllib.request import urlopen\n",
        "from dashboard.metrics.stores import open_store\n",
        "from dashboard import runtime\n",
        "from layouts import ids\n",
    ],
)
def test_allow_list_catches_other_imports_anywhere(snippet: str) -> None:
    """The checker flags an import outside the allow-list at top level, in a function or branch."""
    assert disallowed(snippet, "dashboard.metrics.model")


def test_allow_list_admits_the_pure_core() -> None:
    """The standard library, numpy and other pure modules pass; look-alike names do not."""
    ok = "import numpy as np\nfrom urllib.parse import quote\nfrom dashboard.metrics import steps\n"
    assert disallowed(ok, "dashboard.metrics.model") == set()
    assert disallowed("import numpyx\n", "dashboard.metrics.model") == {"numpyx"}
    assert disallowed("import reportlab\n", "dashboard.export.report") == set()


@pytest.mark.parametrize("module", PURE_MODULES)
def test_pure_module_imports_only_its_allow_list(module: str) -> None:
    """A pure module imports the standard library, numpy, tsdownsample, pcodec and pure modules."""
    bad = disallowed(source_of(module), module)
    assert bad == set(), f"{module} imports {sorted(bad)}"


def lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run import-linter on the tree at ``cwd`` (its pyproject.toml and packages)."""
    env = {**os.environ, "PYTHONPATH": str(cwd)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=cwd, env=env, capture_output=True, text=True
    )


def test_the_layer_rules_hold() -> None:
    """Every import-linter contract is kept by the code as it is."""
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]


@pytest.fixture(scope="module")
def tree_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the packages and pyproject.toml, to break rules in."""
    dest = tmp_path_factory.mktemp("tree")
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package, dest / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(ROOT / "pyproject.toml", dest / "pyproject.toml")
    return dest


BREAKS = [
    ("dashboard/metrics/steps.py", "import flask\n", "Pure files import no web"),
    ("dashboard/metrics/steps.py", "from dashboard.export import csv\n", "metrics at the bottom"),
    ("dashboard/auth/passwords.py", "import dashboard.boards.models\n", "auth imports only db"),
    ("dashboard/boards/views.py", "import ingest.bus\n", "Only the composition root"),
    ("dashboard/alerts/views.py", "import dashboard.alerts.store\n", "Views never reach a store"),
    ("layouts/page.py", "import dashboard.runtime\n", "Layouts receive data"),
    ("ingest/http.py", "import callbacks\n", "ingest never imports"),
]


@pytest.mark.parametrize(("path", "line", "contract"), BREAKS)
def test_a_broken_rule_fails_the_check(
    tree_copy: Path, path: str, line: str, contract: str
) -> None:
    """Each contract fails by name when one import breaks it (the check cannot pass blindly)."""
    target = tree_copy / path
    original = target.read_text()
    target.write_text(original + "\n" + line)
    try:
        result = lint_imports(tree_copy)
    finally:
        target.write_text(original)
    assert result.returncode != 0
    broken = [ln for ln in result.stdout.splitlines() if "BROKEN" in ln]
    assert any(contract in ln for ln in broken), result.stdout[-3000:]


def test_mypy_checks_every_pure_module() -> None:
    """The files mypy checks in `make test` are the pure modules of the import contract."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]
    files = {f.removesuffix(".py").replace("/", ".") for f in config["files"]}
    assert files == set(PURE_MODULES)
